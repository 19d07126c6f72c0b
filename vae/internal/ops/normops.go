package ops

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Normalisation without Gorgonia's BatchNorm (whose train/eval mode lives in
// the op and which resets its statistics with every new machine) and GroupNorm
// (which prints its gradient on every backward pass). normOp standardises, and
// chanAffineOp applies the learned per-channel scale γ and shift β.
//
// Batch norm standardises each channel over (N, H, W). In training it uses the
// batch's statistics and folds them into running ones (momentum 0.1, unbiased
// variance, as PyTorch does); evaluation graphs use the running statistics
// instead, so a model's outputs at test time do not depend on the batch.
// Group norm standardises each image's groups of C/groups channels over
// (C/groups, H, W) and behaves the same in training and evaluation.

const (
	normEps        = 1e-5
	normMomentum   = 0.1
	normBatch      = "batch"
	normGroup      = "group"
	defaultGroupsN = 8
)

// runningStats are a batch-norm layer's running mean and variance, held in two
// of the model's buffers so that checkpoints carry them.
type runningStats struct{ mean, variance *tensor.Dense }

type normOp struct {
	opBase
	kind   string
	groups int
	name   string        // the layer, so that ops of different layers never hash alike
	stats  *runningStats // batch norm only
	eval   bool          // batch norm: standardise with the running statistics
}

func (op normOp) String() string {
	return fmt.Sprintf("vaeNorm(%s,%s,groups=%d,eval=%t)", op.name, op.kind, op.groups, op.eval)
}
func (op normOp) signature() (int, []int) { return 4, []int{4} }
func (op normOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	if s[0].Dims() != 4 || (op.kind == normGroup && s[0][1]%op.groups != 0) {
		return nil, fmt.Errorf("%v: input %v", op, s[0])
	}
	return s[0].Clone(), nil
}

func (op normOp) Do(in ...G.Value) (G.Value, error) {
	s := in[0].Shape()
	return op.do(op.String(), in, s.Clone(), func(y any, src []any) {
		switch y := y.(type) {
		case []float32:
			op.forward(s, y, src[0].([]float32))
		case []float64:
			op.forward(s, y, src[0].([]float64))
		}
	})
}

func (op normOp) SymDiff(in G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.eval {
		return nil, fmt.Errorf("%v: an evaluation graph is not differentiated", op)
	}
	dx, err := apply(normGradOp{kind: op.kind, groups: op.groups, name: op.name}, true, in[0], grad)
	return G.Nodes{dx}, err
}

// normSets says which statistics set each (image, channel) plane belongs to.
type normSets struct {
	n, c, groups int
	batch        bool
}

func (s normSets) count() int {
	if s.batch {
		return s.c
	}
	return s.n * s.groups
}

func (s normSets) of(i, c int) int {
	if s.batch {
		return c
	}
	return i*s.groups + c/(s.c/s.groups)
}

func (op normOp) sets(s tensor.Shape) normSets {
	return normSets{n: s[0], c: s[1], groups: op.groups, batch: op.kind == normBatch}
}

// moments returns each set's mean and (biased) variance, and its size.
func moments[T float](ns normSets, plane int, x []T) (mean, variance []float64, size int) {
	k := ns.count()
	mean, variance = make([]float64, k), make([]float64, k)
	for i := range ns.n {
		for c := range ns.c {
			set := ns.of(i, c)
			for _, v := range x[(i*ns.c+c)*plane : (i*ns.c+c+1)*plane] {
				mean[set] += float64(v)
			}
		}
	}
	size = ns.n * ns.c * plane / k
	for j := range mean {
		mean[j] /= float64(size)
	}
	for i := range ns.n {
		for c := range ns.c {
			set := ns.of(i, c)
			for _, v := range x[(i*ns.c+c)*plane : (i*ns.c+c+1)*plane] {
				d := float64(v) - mean[set]
				variance[set] += d * d
			}
		}
	}
	for j := range variance {
		variance[j] /= float64(size)
	}
	return mean, variance, size
}

func (op normOp) forward(s tensor.Shape, y, x any) {
	switch x := x.(type) {
	case []float32:
		normalize(op, s, y.([]float32), x)
	case []float64:
		normalize(op, s, y.([]float64), x)
	}
}

func normalize[T float](op normOp, s tensor.Shape, y, x []T) {
	ns, plane := op.sets(s), s[2]*s[3]
	var mean, variance []float64
	if op.eval {
		mean, variance = Values64(op.stats.mean), Values64(op.stats.variance)
	} else {
		var size int
		mean, variance, size = moments(ns, plane, x)
		if op.stats != nil {
			op.stats.update(mean, variance, size)
		}
	}
	for i := range ns.n {
		for c := range ns.c {
			set := ns.of(i, c)
			m, inv := mean[set], 1/math.Sqrt(variance[set]+normEps)
			off := (i*ns.c + c) * plane
			for j, v := range x[off : off+plane] {
				y[off+j] = T((float64(v) - m) * inv)
			}
		}
	}
}

// update folds one batch's moments into the running statistics.
func (r *runningStats) update(mean, variance []float64, size int) {
	unbias := float64(size) / float64(max(1, size-1))
	rm, rv := Values64(r.mean), Values64(r.variance)
	for c := range rm {
		rm[c] = (1-normMomentum)*rm[c] + normMomentum*mean[c]
		rv[c] = (1-normMomentum)*rv[c] + normMomentum*variance[c]*unbias
	}
	setValues(r.mean, rm)
	setValues(r.variance, rv)
}

// setValues writes v into a float32 or float64 tensor.
func setValues(t *tensor.Dense, v []float64) {
	switch d := t.Data().(type) {
	case []float64:
		copy(d, v)
	case []float32:
		for i, x := range v {
			d[i] = float32(x)
		}
	}
}

// normGradOp is normOp's input gradient (in training mode):
// dx = (g − mean(g) − x̂·mean(g·x̂)) / σ, means taken over each set.
type normGradOp struct {
	opBase
	kind   string
	groups int
	name   string
}

func (op normGradOp) String() string {
	return fmt.Sprintf("vaeNormGrad(%s,%s,groups=%d)", op.name, op.kind, op.groups)
}
func (op normGradOp) signature() (int, []int) { return 4, []int{4, 4} }
func (op normGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	return s[0].Clone(), nil
}

func (op normGradOp) Do(in ...G.Value) (G.Value, error) {
	s := in[0].Shape()
	return op.do(op.String(), in, s.Clone(), func(y any, src []any) {
		switch y := y.(type) {
		case []float32:
			normBackward(op, s, y, src[0].([]float32), src[1].([]float32))
		case []float64:
			normBackward(op, s, y, src[0].([]float64), src[1].([]float64))
		}
	})
}

func normBackward[T float](op normGradOp, s tensor.Shape, dx, x, g []T) {
	ns := normOp{kind: op.kind, groups: op.groups}.sets(s)
	plane := s[2] * s[3]
	mean, variance, size := moments(ns, plane, x)
	k := ns.count()
	gMean, gxMean := make([]float64, k), make([]float64, k)
	for i := range ns.n {
		for c := range ns.c {
			set := ns.of(i, c)
			inv := 1 / math.Sqrt(variance[set]+normEps)
			off := (i*ns.c + c) * plane
			for j := range plane {
				gv := float64(g[off+j])
				gMean[set] += gv
				gxMean[set] += gv * (float64(x[off+j]) - mean[set]) * inv
			}
		}
	}
	for j := range k {
		gMean[j] /= float64(size)
		gxMean[j] /= float64(size)
	}
	for i := range ns.n {
		for c := range ns.c {
			set := ns.of(i, c)
			inv := 1 / math.Sqrt(variance[set]+normEps)
			off := (i*ns.c + c) * plane
			for j := range plane {
				xhat := (float64(x[off+j]) - mean[set]) * inv
				dx[off+j] = T((float64(g[off+j]) - gMean[set] - xhat*gxMean[set]) * inv)
			}
		}
	}
}

// chanAffineOp computes γ[c]·x + β[c] over NCHW x (β optional).
type chanAffineOp struct {
	opBase
	bias bool
}

func (op chanAffineOp) String() string { return fmt.Sprintf("vaeChanAffine(bias=%t)", op.bias) }
func (op chanAffineOp) signature() (int, []int) {
	if op.bias {
		return 4, []int{4, 1, 1}
	}
	return 4, []int{4, 1}
}
func (op chanAffineOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	if s[0].Dims() != 4 || s[1].TotalSize() != s[0][1] {
		return nil, fmt.Errorf("%v: input %v, scale %v", op, s[0], s[1])
	}
	return s[0].Clone(), nil
}

func (op chanAffineOp) Do(in ...G.Value) (G.Value, error) {
	s := in[0].Shape()
	return op.do(op.String(), in, s.Clone(), func(y any, src []any) {
		switch y := y.(type) {
		case []float32:
			chanAffine(s, y, typed[float32](src))
		case []float64:
			chanAffine(s, y, typed[float64](src))
		}
	})
}

func chanAffine[T float](s tensor.Shape, y []T, src [][]T) {
	C, plane := s[1], s[2]*s[3]
	for i := range s[0] {
		for c := range C {
			off := (i*C + c) * plane
			var b T
			if len(src) > 2 {
				b = src[2][c]
			}
			for j, v := range src[0][off : off+plane] {
				y[off+j] = src[1][c]*v + b
			}
		}
	}
}

func (op chanAffineOp) SymDiff(in G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	steps := []gradStep{{chanAffineOp{}, G.Nodes{grad, in[1]}}, {chanDotOp{}, G.Nodes{grad, in[0]}}}
	if op.bias {
		steps = append(steps, gradStep{channelSumOp{}, G.Nodes{grad}})
	}
	return grads(steps...)
}

// chanDotOp sums a·b over N, H and W for each channel.
type chanDotOp struct{ opBase }

func (op chanDotOp) String() string          { return "vaeChanDot" }
func (op chanDotOp) signature() (int, []int) { return 1, []int{4, 4} }
func (op chanDotOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{s[0][1]}, nil
}

func (op chanDotOp) Do(in ...G.Value) (G.Value, error) {
	s := in[0].Shape()
	return op.do(op.String(), in, tensor.Shape{s[1]}, func(y any, src []any) {
		switch y := y.(type) {
		case []float32:
			chanDot(s, y, typed[float32](src))
		case []float64:
			chanDot(s, y, typed[float64](src))
		}
	})
}

func chanDot[T float](s tensor.Shape, y []T, src [][]T) {
	C, plane := s[1], s[2]*s[3]
	for i := range s[0] {
		for c := range C {
			off := (i*C + c) * plane
			var sum T
			for j := range plane {
				sum += src[0][off+j] * src[1][off+j]
			}
			y[c] += sum
		}
	}
}
