package ops

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Gorgonia has no transposed convolution, and its Conv2d, Upsample2D and
// normalisation ops copy, allocate or log more than a training loop can
// afford, so the convolutional models use the ops below. Each is a plain
// G.Op over NCHW tensors of float32 or float64; each differentiable one
// returns its gradient as other ops of this file, and every gradient is
// checked against central finite differences in convops_test.go.
//
//	convOp          y = conv(x, w) + b            x (N,C,H,W), w (O,C,k,k), b (O)
//	deconvOp        y = conv_transpose(x, w) + b  x (N,C,h,w), w (C,O,k,k), b (O)
//	filterGradOp    ∂/∂w of both                  (input, output gradient) → w's shape
//	channelSumOp    Σ over N, H, W per channel    the bias gradient
//	upsampleOp      nearest-neighbour ×s          its gradient is blockSumOp
//	normOp          batch or group normalisation  its gradient is normGradOp
//	chanAffineOp    y = γ[c]·x + β[c]             the normalisations' scale and shift
//
// A transposed convolution is the adjoint of the convolution with the same
// weights (PyTorch's ConvTranspose2d layout), so each one's input gradient is
// the other and both share filterGradOp.

func shapesOf(in []G.DimSizer) ([]tensor.Shape, error) {
	out := make([]tensor.Shape, len(in))
	for i, d := range in {
		s, ok := d.(tensor.Shape)
		if !ok {
			return nil, fmt.Errorf("input %d: shape of type %T", i, d)
		}
		out[i] = s
	}
	return out, nil
}

func valueShapes(in []G.Value) []tensor.Shape {
	out := make([]tensor.Shape, len(in))
	for i, v := range in {
		out[i] = v.Shape()
	}
	return out
}

// do makes the output of shape out in the inputs' dtype, zeroed, and lets f
// fill it; f receives the output and the inputs' backing slices. The output
// is the op's buffer when it has one, else new memory.
func (b opBase) do(name string, in []G.Value, out tensor.Shape, f func(y any, src []any)) (G.Value, error) {
	return b.run(true, name, in, out, f)
}

// overwrite is do for an f that writes every output value: a kept buffer is
// not cleared first.
func (b opBase) overwrite(name string, in []G.Value, out tensor.Shape, f func(y any, src []any)) (G.Value, error) {
	return b.run(false, name, in, out, f)
}

func (b opBase) run(zero bool, name string, in []G.Value, out tensor.Shape, f func(y any, src []any)) (G.Value, error) {
	dt := in[0].Dtype()
	src := make([]any, len(in))
	for i, v := range in {
		if v.Dtype() != dt {
			return nil, fmt.Errorf("%s: input %d is %v, input 0 %v", name, i, v.Dtype(), dt)
		}
		src[i] = v.Data()
	}
	var y any
	switch dt {
	case tensor.Float32:
		y = b.out.float32s(out.TotalSize(), zero)
	case tensor.Float64:
		y = b.out.float64s(out.TotalSize(), zero)
	default:
		return nil, fmt.Errorf("%s: dtype %v (want float32 or float64)", name, dt)
	}
	f(y, src)
	return tensor.New(tensor.WithShape(out...), tensor.WithBacking(y)), nil
}

// outBuf is an op's output memory, kept from one run of a training graph to
// the next: a step then neither allocates it (nor leaves it to the collector)
// nor takes page faults on it, and it is likely still in cache. The previous
// step's value is overwritten, which is safe because values are read during
// the run (readouts), from root nodes, which are Gorgonia's, or between one
// run and the next (the gradients Adam reads).
type outBuf struct {
	f32 []float32
	f64 []float64
	// tmp are working buffers of the op's kernels, in its dtype, numbered
	// by each kernel for its workers (the direct forms use 2w and 2w+1, the
	// Winograd forms theirs after their shared ones, winograd.go). A
	// parallel kernel reserves its slots before its workers start: scratch
	// grows the list for a missing one, which would race.
	tmp []any
}

// reserve makes room for slots working buffers before workers take theirs
// (growing the list while they run would race).
func (b *outBuf) reserve(slots int) {
	if b != nil && len(b.tmp) < slots {
		b.tmp = append(b.tmp, make([]any, slots-len(b.tmp))...)
	}
}

// scratch returns working memory of n values, not zeroed: the op's buffer
// number slot if it has one (grown as needed), else new memory.
func scratch[T float](b *outBuf, slot, n int) []T {
	if b == nil {
		return make([]T, n)
	}
	b.reserve(slot + 1)
	if t, ok := b.tmp[slot].([]T); ok && cap(t) >= n {
		return t[:n]
	}
	t := make([]T, n)
	b.tmp[slot] = t
	return t
}

// float32s and float64s return n values, zeroed if zero is set: the
// buffer's if it has room, else (and without a buffer) new, zeroed ones.
func (b *outBuf) float32s(n int, zero bool) []float32 {
	if b == nil {
		return make([]float32, n)
	}
	return reuse(&b.f32, n, zero)
}

func (b *outBuf) float64s(n int, zero bool) []float64 {
	if b == nil {
		return make([]float64, n)
	}
	return reuse(&b.f64, n, zero)
}

func reuse[T float](buf *[]T, n int, zero bool) []T {
	if cap(*buf) < n {
		*buf = make([]T, n)
		return *buf
	}
	*buf = (*buf)[:n]
	if zero {
		clear(*buf)
	}
	return *buf
}

// typed converts do's inputs to one slice type.
func typed[T float](src []any) [][]T {
	out := make([][]T, len(src))
	for i, s := range src {
		out[i] = s.([]T)
	}
	return out
}

// grads applies each op to its inputs and returns the results in order: the
// gradients a SymDiff returns, one per input; a step without an op gives nil,
// for an input that is not differentiated.
func grads(steps ...gradStep) (G.Nodes, error) {
	out := make(G.Nodes, 0, len(steps))
	for _, st := range steps {
		if st.op == nil {
			out = append(out, nil)
			continue
		}
		n, err := apply(st.op, true, st.in...)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// reluGradOf is the gradient before a fused ReLU, from the op's output (> 0
// exactly where its input was), or grad itself without one.
func reluGradOf(relu bool, output, grad *G.Node) (*G.Node, error) {
	if !relu {
		return grad, nil
	}
	return apply(reluGradOp{dims: output.Dims()}, true, output, grad)
}

type gradStep struct {
	op kernel
	in G.Nodes
}

// ---- convolution ----

// convOp's dataInput marks a layer whose input is the images, whose gradient
// is never needed (as linearOp's).
type convOp struct {
	opBase
	g         geom
	bias      bool
	dataInput bool
	relu      bool // followed by ReLU, in the same pass as the bias
}

func (op convOp) String() string {
	return fmt.Sprintf("vaeConv(k=%d,s=%d,p=%d,bias=%t,data=%t,relu=%t)", op.g.k, op.g.s, op.g.p, op.bias, op.dataInput, op.relu)
}
func (op convOp) DiffWRT(n int) []bool {
	d := trues(n)
	d[0] = !op.dataInput
	return d
}
func (op convOp) signature() (int, []int) {
	if op.bias {
		return 4, []int{4, 4, 1}
	}
	return 4, []int{4, 4}
}

func (op convOp) outShape(s []tensor.Shape) (tensor.Shape, error) {
	x, w := s[0], s[1]
	if x.Dims() != 4 || w.Dims() != 4 || w[1] != x[1] || w[2] != op.g.k || w[3] != op.g.k {
		return nil, fmt.Errorf("%v: input %v and weights %v do not fit", op, x, w)
	}
	if op.bias && (s[2].TotalSize() != w[0]) {
		return nil, fmt.Errorf("%v: bias %v for %d channels", op, s[2], w[0])
	}
	oh, ow := op.g.out(x[2]), op.g.out(x[3])
	if oh < 1 || ow < 1 {
		return nil, fmt.Errorf("%v: input %v is smaller than the kernel", op, x)
	}
	return tensor.Shape{x[0], w[0], oh, ow}, nil
}

func (op convOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	return op.outShape(s)
}

func (op convOp) Do(in ...G.Value) (G.Value, error) {
	s := valueShapes(in)
	out, err := op.outShape(s)
	if err != nil {
		return nil, err
	}
	return op.overwrite(op.String(), in, out, func(y any, src []any) {
		switch y := y.(type) {
		case []float32:
			convForward(op, s[0], out, y, typed[float32](src))
		case []float64:
			convForward(op, s[0], out, y, typed[float64](src))
		}
	})
}

func convForward[T float](op convOp, x, out tensor.Shape, y []T, src [][]T) {
	N, C, H, W := x[0], x[1], x[2], x[3]
	O := out[1]
	if single[T]() && wino4Fits(op.g, C, O, H, W) {
		wino4Forward(op.out, src[0], N, C, H, W, src[1], O, y, biasOf(op.bias, src), op.relu)
		return
	}
	if single[T]() && winogradFits(op.g, C, O, H, W) {
		winoForward(op.out, src[0], N, C, H, W, src[1], O, y, biasOf(op.bias, src), op.relu)
		return
	}
	convDirect(op, x, out, y, src)
}

// convDirect is convForward through im2row and one matrix product.
func convDirect[T float](op convOp, x, out tensor.Shape, y []T, src [][]T) {
	N, C, H, W := x[0], x[1], x[2], x[3]
	O, oh, ow := out[1], out[2], out[3]
	ckk, n := C*op.g.k*op.g.k, oh*ow
	per := imagesPerProduct(N, n)
	// Each block of per images' rows is laid out and used while in cache.
	// (Kept for the whole batch, for the filter gradient, they would cross
	// main memory twice; making them again there costs less.)
	inBlocks(op.out, N, per, func(worker, i0, m int, inner bool) {
		rows := scratch[T](op.out, 2*worker, m*n*ckk)
		loop(inner, m, func(j int) {
			i := i0 + j
			im2row(src[0][i*C*H*W:(i+1)*C*H*W], C, H, W, op.g, oh, ow, rows[j*n*ckk:(j+1)*n*ckk])
		})
		// y = w · rowsᵀ, w seen as O × (C·k·k).
		if m == 1 {
			gemmOn(inner, false, true, O, n, ckk, src[1], ckk, rows, ckk, 0, y[i0*O*n:(i0+1)*O*n], n)
		} else {
			prod := scratch[T](op.out, 2*worker+1, O*m*n)
			gemmOn(inner, false, true, O, m*n, ckk, src[1], ckk, rows, ckk, 0, prod, m*n)
			unpackImages(inner, prod, y[i0*O*n:], O, n, m)
		}
		loop(inner, m, func(j int) {
			i := i0 + j
			biasReLU(y[i*O*n:(i+1)*O*n], biasOf(op.bias, src), n, op.relu)
		})
	})
}

// biasOf is an op's bias input, nil without one.
func biasOf[T float](bias bool, src [][]T) []T {
	if bias {
		return src[2]
	}
	return nil
}

func (op convOp) SymDiff(in G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	x, w := in[0], in[1]
	grad, err := reluGradOf(op.relu, output, grad)
	if err != nil {
		return nil, err
	}
	steps := []gradStep{
		{deconvOp{g: op.g, outH: x.Shape()[2], outW: x.Shape()[3]}, G.Nodes{grad, w}},
		{filterGradOp{g: op.g}, G.Nodes{x, grad}},
	}
	if op.dataInput {
		steps[0] = gradStep{}
	}
	if op.bias {
		steps = append(steps, gradStep{channelSumOp{}, G.Nodes{grad}})
	}
	return grads(steps...)
}

// ---- transposed convolution ----

// deconvOp's output size is given, since several sizes convolve to the same
// input size (PyTorch's output_padding).
type deconvOp struct {
	opBase
	g          geom
	bias       bool
	relu       bool // followed by ReLU, in the same pass as the bias
	outH, outW int
}

func (op deconvOp) String() string {
	return fmt.Sprintf("vaeConvTranspose(k=%d,s=%d,p=%d,bias=%t,relu=%t,out=%dx%d)", op.g.k, op.g.s, op.g.p, op.bias, op.relu, op.outH, op.outW)
}
func (op deconvOp) signature() (int, []int) {
	if op.bias {
		return 4, []int{4, 4, 1}
	}
	return 4, []int{4, 4}
}

func (op deconvOp) outShape(s []tensor.Shape) (tensor.Shape, error) {
	x, w := s[0], s[1]
	if x.Dims() != 4 || w.Dims() != 4 || w[0] != x[1] || w[2] != op.g.k || w[3] != op.g.k {
		return nil, fmt.Errorf("%v: input %v and weights %v do not fit", op, x, w)
	}
	if op.g.out(op.outH) != x[2] || op.g.out(op.outW) != x[3] {
		return nil, fmt.Errorf("%v: output %dx%d does not convolve back to the input %v", op, op.outH, op.outW, x)
	}
	if op.bias && s[2].TotalSize() != w[1] {
		return nil, fmt.Errorf("%v: bias %v for %d channels", op, s[2], w[1])
	}
	return tensor.Shape{x[0], w[1], op.outH, op.outW}, nil
}

func (op deconvOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	return op.outShape(s)
}

func (op deconvOp) Do(in ...G.Value) (G.Value, error) {
	s := valueShapes(in)
	out, err := op.outShape(s)
	if err != nil {
		return nil, err
	}
	// The direct form clears each image's output in the thread that adds its
	// rows onto it; the Winograd form writes every value.
	return op.overwrite(op.String(), in, out, func(y any, src []any) {
		switch y := y.(type) {
		case []float32:
			deconvForward(op, s[0], out, y, typed[float32](src))
		case []float64:
			deconvForward(op, s[0], out, y, typed[float64](src))
		}
	})
}

func deconvForward[T float](op deconvOp, x, out tensor.Shape, y []T, src [][]T) {
	N, C := x[0], x[1]
	O, H, W := out[1], out[2], out[3]
	if single[T]() && wino4Fits(op.g, O, C, H, W) {
		wino4Adjoint(op.out, src[0], N, C, H, W, src[1], O, y, biasOf(op.bias, src), op.relu)
		return
	}
	if single[T]() && winogradFits(op.g, O, C, H, W) {
		winoAdjoint(op.out, src[0], N, C, H, W, src[1], O, y, biasOf(op.bias, src), op.relu)
		return
	}
	deconvDirect(op, x, out, y, src)
}

// deconvDirect is deconvForward through one matrix product and row2im.
func deconvDirect[T float](op deconvOp, x, out tensor.Shape, y []T, src [][]T) {
	N, C, h, w := x[0], x[1], x[2], x[3]
	O, H, W := out[1], out[2], out[3]
	okk, n := O*op.g.k*op.g.k, h*w
	inBlocks(op.out, N, imagesPerProduct(N, n), func(worker, i0, m int, inner bool) {
		// rows = xᵀ·w with w seen as C × (O·k·k) and x the m images side by
		// side; row2im scatters each image's rows into its output.
		rows := scratch[T](op.out, 2*worker, m*n*okk)
		in := src[0][i0*C*n : (i0+1)*C*n]
		if m > 1 {
			in = scratch[T](op.out, 2*worker+1, C*m*n)
			packImages(inner, src[0][i0*C*n:], in, C, n, m)
		}
		gemmOn(inner, true, false, m*n, okk, C, in, m*n, src[1], okk, 0, rows, okk)
		loop(inner, m, func(j int) {
			yi := y[(i0+j)*O*H*W : (i0+j+1)*O*H*W]
			clear(yi)
			row2im(rows[j*n*okk:(j+1)*n*okk], O, H, W, op.g, h, w, yi)
			biasReLU(yi, biasOf(op.bias, src), H*W, op.relu)
		})
	})
}

func (op deconvOp) SymDiff(in G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	x, w := in[0], in[1]
	grad, err := reluGradOf(op.relu, output, grad)
	if err != nil {
		return nil, err
	}
	dx, err := apply(convOp{g: op.g}, true, grad, w)
	if err != nil {
		return nil, err
	}
	steps := []gradStep{{filterGradOp{g: op.g}, G.Nodes{grad, x}}}
	if op.bias {
		steps = append(steps, gradStep{channelSumOp{}, G.Nodes{grad}})
	}
	rest, err := grads(steps...)
	return append(G.Nodes{dx}, rest...), err
}

// ---- filter gradient ----

// filterGradOp computes Σ_n g_n · im2row(x_n): for a convolution from x
// (N,A,H,W) to g's shape (N,B,h,w) it is the gradient of its weights (B,A,k,k).
type filterGradOp struct {
	opBase
	g geom
}

func (op filterGradOp) String() string {
	return fmt.Sprintf("vaeFilterGrad(k=%d,s=%d,p=%d)", op.g.k, op.g.s, op.g.p)
}
func (op filterGradOp) signature() (int, []int) { return 4, []int{4, 4} }

func (op filterGradOp) outShape(s []tensor.Shape) (tensor.Shape, error) {
	x, g := s[0], s[1]
	if x.Dims() != 4 || g.Dims() != 4 || x[0] != g[0] || op.g.out(x[2]) != g[2] || op.g.out(x[3]) != g[3] {
		return nil, fmt.Errorf("%v: input %v and gradient %v do not fit", op, x, g)
	}
	return tensor.Shape{g[1], x[1], op.g.k, op.g.k}, nil
}

func (op filterGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	return op.outShape(s)
}

func (op filterGradOp) Do(in ...G.Value) (G.Value, error) {
	s := valueShapes(in)
	out, err := op.outShape(s)
	if err != nil {
		return nil, err
	}
	return op.do(op.String(), in, out, func(y any, src []any) {
		switch y := y.(type) {
		case []float32:
			filterGrad(op, s[0], s[1], y, typed[float32](src))
		case []float64:
			filterGrad(op, s[0], s[1], y, typed[float64](src))
		}
	})
}

func filterGrad[T float](op filterGradOp, x, gs tensor.Shape, dw []T, src [][]T) {
	N, A, H, W := x[0], x[1], x[2], x[3]
	B := gs[1]
	if single[T]() && wino4Fits(op.g, A, B, H, W) {
		wino4FilterGrad(op.out, src[0], N, A, H, W, src[1], B, dw)
		return
	}
	if single[T]() && winogradFits(op.g, A, B, H, W) {
		winoFilterGrad(op.out, src[0], N, A, H, W, src[1], B, dw)
		return
	}
	filterGradDirect(op, x, gs, dw, src)
}

// filterGradDirect is filterGrad through im2row and matrix products.
func filterGradDirect[T float](op filterGradOp, x, gs tensor.Shape, dw []T, src [][]T) {
	g := op.g
	N, A, H, W := x[0], x[1], x[2], x[3]
	B, h, w := gs[1], gs[2], gs[3]
	kk, n := g.k*g.k, h*w
	if A < fewChannels {
		filterGradByImages(op, x, gs, dw, src)
		return
	}
	per := imagesPerProduct(N, n)
	// gr holds g's blocks of per images, each laid out as one B × (m·n) matrix.
	gr := scratch[T](op.out, 0, B*N*n)
	parallel((N+per-1)/per, 1, func(lo, hi int) {
		for i0 := lo * per; i0 < min(hi*per, N); i0 += per {
			packImages(false, src[1][i0*B*n:], gr[i0*B*n:], B, n, min(per, N-i0))
		}
	})
	// Threads take whole input channels: the columns of dw that they own,
	// from the rows of their channels alone, so every sum keeps its order.
	inChannels(op.out, A, func(worker, a0, a1 int, inner bool) {
		cols := (a1 - a0) * kk
		rows := scratch[T](op.out, 2*worker+1, per*n*cols)
		for i0 := 0; i0 < N; i0 += per {
			m := min(per, N-i0)
			loop(inner, m, func(j int) {
				i := i0 + j
				im2row(src[0][(i*A+a0)*H*W:(i*A+a1)*H*W], a1-a0, H, W, g, h, w, rows[j*n*cols:(j+1)*n*cols])
			})
			gemmOn(inner, false, false, B, cols, m*n, gr[i0*B*n:(i0+m)*B*n], m*n, rows[:m*n*cols], cols, 1, dw[a0*kk:], A*kk)
		}
	})
}

// fewChannels is the input channel count below which filterGradDirect splits
// the images between threads rather than the channels: with 3 (a colour
// image) and 2 threads, whole channels split 1 to 2.
const fewChannels = 8

// filterGradByImages is filterGradDirect for inputs of few channels: blocks
// of images (per fixed by the shapes) each sum into a gradient of their own,
// threads take whole blocks, and the blocks' gradients are added in order,
// so the bits do not depend on the thread count. The gradients are small:
// the size of dw for each block.
func filterGradByImages[T float](op filterGradOp, x, gs tensor.Shape, dw []T, src [][]T) {
	g := op.g
	N, A, H, W := x[0], x[1], x[2], x[3]
	B, h, w := gs[1], gs[2], gs[3]
	cols, n := A*g.k*g.k, h*w
	if N == 0 {
		clear(dw)
		return
	}
	per := imagesPerProduct(N, n)
	blocks := (N + per - 1) / per
	parts := scratch[T](op.out, 0, blocks*B*cols)
	inBlocks(op.out, N, per, func(worker, i0, m int, inner bool) {
		rows := scratch[T](op.out, 1+2*worker, m*n*cols)
		gy := src[1][i0*B*n : (i0+m)*B*n]
		if m > 1 { // the block's gradient as one B × (m·n) matrix
			gr := scratch[T](op.out, 2+2*worker, m*B*n)
			packImages(inner, gy, gr, B, n, m)
			gy = gr
		}
		loop(inner, m, func(j int) {
			i := i0 + j
			im2row(src[0][i*A*H*W:(i+1)*A*H*W], A, H, W, g, h, w, rows[j*n*cols:(j+1)*n*cols])
		})
		gemmOn(inner, false, false, B, cols, m*n, gy, m*n, rows, cols, 0, parts[i0/per*B*cols:][:B*cols], cols)
	})
	rest := make([][]T, blocks-1)
	for blk := range rest {
		rest[blk] = parts[(blk+1)*B*cols:][:B*cols]
	}
	copy(dw, parts[:B*cols])
	addBlocks(dw, rest)
}

// addBlocks adds the blocks' sums to dst, which holds the first block's,
// block after block: each value's sum keeps one order whatever the thread
// count.
func addBlocks[T float](dst []T, blocks [][]T) {
	for _, p := range blocks {
		elementwise(len(dst), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				dst[i] += p[i]
			}
		})
	}
}

// imagesPerProduct is how many of N images one matrix product covers, each
// contributing n columns: enough for about productColumns columns. OpenBLAS
// runs narrow products (a 4×4 map gives 16 columns) far below its peak, and
// wider ones than needed only add memory traffic.
func imagesPerProduct(N, n int) int { return max(1, min(N, productColumns/n)) }

const productColumns = 512

// packImages lays m images of c planes of n values (x, image after image) side
// by side into xs: plane ch of image j goes to xs[ch·m·n + j·n:].
// With inner set, the images are split between threads.
func packImages[T float](inner bool, x, xs []T, c, n, m int) {
	loop(inner, m, func(j int) {
		for ch := range c {
			copy(xs[(ch*m+j)*n:][:n], x[(j*c+ch)*n:][:n])
		}
	})
}

// unpackImages is packImages' inverse.
func unpackImages[T float](inner bool, xs, x []T, c, n, m int) {
	loop(inner, m, func(j int) {
		for ch := range c {
			copy(x[(j*c+ch)*n:][:n], xs[(ch*m+j)*n:][:n])
		}
	})
}

// ---- channel sum ----

type channelSumOp struct{ opBase }

func (op channelSumOp) String() string          { return "vaeChannelSum" }
func (op channelSumOp) signature() (int, []int) { return 1, []int{4} }
func (op channelSumOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	if s[0].Dims() != 4 {
		return nil, fmt.Errorf("%v: input %v is not NCHW", op, s[0])
	}
	return tensor.Shape{s[0][1]}, nil
}

func (op channelSumOp) Do(in ...G.Value) (G.Value, error) {
	s := in[0].Shape()
	if s.Dims() != 4 {
		return nil, fmt.Errorf("%v: input %v is not NCHW", op, s)
	}
	return op.do(op.String(), in, tensor.Shape{s[1]}, func(y any, src []any) {
		switch y := y.(type) {
		case []float32:
			channelSums(s, y, src[0].([]float32), channelRange32)
		case []float64:
			channelSums(s, y, src[0].([]float64), channelRange[float64])
		}
	})
}

// sum16 is Σ v in sixteen running sums (value i to sum i mod 16), added
// pairwise at the end (sums j and j+8, then j and j+4, j+2, j+1): chains of
// additions the CPU runs side by side, one vector register's lanes in the C
// copies, which keep this order.
func sum16[T float](v []T) T {
	var s [16]T
	i := 0
	for ; i+16 <= len(v); i += 16 {
		for j, x := range v[i : i+16] {
			s[j] += x
		}
	}
	for j, x := range v[i:] {
		s[j] += x
	}
	for w := 8; w >= 1; w /= 2 {
		for j := range w {
			s[j] += s[j+w]
		}
	}
	return s[0]
}

// channelSums adds each channel's values of x (NCHW, shape s) into y, the
// threads taking whole channels so that each channel's sum keeps its order;
// add sums a range of channels (channelRange, or its C copy).
func channelSums[T float](s tensor.Shape, y, x []T, add func(y, x []T, images, C, c0, c1, n int)) {
	C, n := s[1], s[2]*s[3]
	parallel(C, max(1, 4096/max(n*s[0], 1)), func(lo, hi int) { add(y, x, s[0], C, lo, hi, n) })
}

// channelRange adds the sums of channels c0..c1-1 of x (images×C×n) into y,
// image after image.
func channelRange[T float](y, x []T, images, C, c0, c1, n int) {
	for i := range images {
		for c := c0; c < c1; c++ {
			y[c] += sum16(x[(i*C+c)*n : (i*C+c+1)*n])
		}
	}
}

// ---- nearest-neighbour upsampling and its adjoint ----

type upsampleOp struct {
	opBase
	s int
}

func (op upsampleOp) String() string          { return fmt.Sprintf("vaeUpsample(%d)", op.s) }
func (op upsampleOp) signature() (int, []int) { return 4, []int{4} }
func (op upsampleOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{s[0][0], s[0][1], s[0][2] * op.s, s[0][3] * op.s}, nil
}

func (op upsampleOp) Do(in ...G.Value) (G.Value, error) {
	s := in[0].Shape()
	out := tensor.Shape{s[0], s[1], s[2] * op.s, s[3] * op.s}
	return op.do(op.String(), in, out, func(y any, src []any) {
		switch y := y.(type) {
		case []float32:
			upsample(op.s, s, y, src[0].([]float32), false)
		case []float64:
			upsample(op.s, s, y, src[0].([]float64), false)
		}
	})
}

func (op upsampleOp) SymDiff(in G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := apply(blockSumOp{s: op.s}, true, grad)
	return G.Nodes{dx}, err
}

// upsample copies each value of small (shape s) into an f×f block of big; with
// adjoint set it instead sums each block of big into small.
func upsample[T float](f int, s tensor.Shape, big, small []T, adjoint bool) {
	h, w := s[2], s[3]
	W := w * f
	for p := range s[0] * s[1] {
		sp, bp := small[p*h*w:(p+1)*h*w], big[p*h*w*f*f:(p+1)*h*w*f*f]
		for y := range h * f {
			row := bp[y*W : (y+1)*W]
			src := sp[(y/f)*w : (y/f+1)*w]
			for x := range W {
				if adjoint {
					src[x/f] += row[x]
				} else {
					row[x] = src[x/f]
				}
			}
		}
	}
}

type blockSumOp struct {
	opBase
	s int
}

func (op blockSumOp) String() string          { return fmt.Sprintf("vaeBlockSum(%d)", op.s) }
func (op blockSumOp) signature() (int, []int) { return 4, []int{4} }
func (op blockSumOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{s[0][0], s[0][1], s[0][2] / op.s, s[0][3] / op.s}, nil
}

func (op blockSumOp) Do(in ...G.Value) (G.Value, error) {
	b := in[0].Shape()
	s := tensor.Shape{b[0], b[1], b[2] / op.s, b[3] / op.s}
	return op.do(op.String(), in, s, func(y any, src []any) {
		switch y := y.(type) {
		case []float32:
			upsample(op.s, s, src[0].([]float32), y, true)
		case []float64:
			upsample(op.s, s, src[0].([]float64), y, true)
		}
	})
}

func trues(n int) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = true
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ---- layout ----

// layoutOp reorders images between rows in height-width-channel order (B×D,
// as datasets store them) and planar B×C×H×W (planar set); the opposite
// reordering is its gradient.
type layoutOp struct {
	opBase
	shape  ImageShape
	planar bool
}

func (op layoutOp) String() string {
	return fmt.Sprintf("vaeLayout(%dx%dx%d,planar=%t)", op.shape.Height, op.shape.Width, op.shape.Channels, op.planar)
}
func (op layoutOp) signature() (int, []int) {
	if op.planar {
		return 4, []int{2}
	}
	return 2, []int{4}
}

func (op layoutOp) out(in tensor.Shape) tensor.Shape {
	if op.planar {
		return tensor.Shape{in[0], op.shape.Channels, op.shape.Height, op.shape.Width}
	}
	return tensor.Shape{in[0], op.shape.Dim()}
}

func (op layoutOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	if s[0].TotalSize() != s[0][0]*op.shape.Dim() {
		return nil, fmt.Errorf("%v: input %v", op, s[0])
	}
	return op.out(s[0]), nil
}

func (op layoutOp) Do(in ...G.Value) (G.Value, error) {
	return op.overwrite(op.String(), in, op.out(in[0].Shape()), func(y any, src []any) {
		switch y := y.(type) {
		case []float32:
			relayout(op, y, src[0].([]float32))
		case []float64:
			relayout(op, y, src[0].([]float64))
		}
	})
}

func relayout[T float](op layoutOp, y, x []T) {
	C, HW := op.shape.Channels, op.shape.Height*op.shape.Width
	D := C * HW
	parallel(len(x)/D, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			xs, ys := x[b*D:(b+1)*D], y[b*D:(b+1)*D]
			// One channel's plane at a time: a plain loop over the plane
			// and a strided one over the image, which stays in cache.
			for c := range C {
				if op.planar {
					plane := ys[c*HW : (c+1)*HW]
					for p := range plane {
						plane[p] = xs[p*C+c]
					}
				} else {
					for p, v := range xs[c*HW : (c+1)*HW] {
						ys[p*C+c] = v
					}
				}
			}
		}
	})
}

func (op layoutOp) SymDiff(in G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := apply(layoutOp{shape: op.shape, planar: !op.planar}, true, grad)
	return G.Nodes{dx}, err
}
