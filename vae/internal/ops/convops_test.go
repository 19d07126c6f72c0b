package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/vaelab/vaelab/internal/numtest"
)

// applyOnce runs op on constant inputs and returns its output.
func applyOnce(t *testing.T, op kernel, inputs ...*tensor.Dense) []float64 {
	t.Helper()
	g := G.NewGraph()
	var nodes G.Nodes
	for i, in := range inputs {
		nodes = append(nodes, G.NewTensor(g, tensor.Float64, in.Dims(), G.WithShape(in.Shape()...), G.WithValue(in), G.WithName(fmt.Sprint("in", i))))
	}
	out, err := apply(op, false, nodes...)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	return append([]float64(nil), out.Value().Data().([]float64)...)
}

var convGeoms = []struct {
	name       string
	g          geom
	H, W, C, O int
}{
	{"k4s2p1", geom{4, 2, 1}, 8, 8, 2, 3},
	// As many input channels as fewChannels: the filter gradient splits the
	// channels between threads (fewer split the images).
	{"k4s2p1-c8", geom{4, 2, 1}, 6, 6, fewChannels, 2},
	{"k3s1p1", geom{3, 1, 1}, 5, 6, 3, 2},
	{"k3s2p1-odd", geom{3, 2, 1}, 7, 9, 2, 2},
	{"k5s2p2", geom{5, 2, 2}, 6, 6, 1, 3},
	{"k2s2p0", geom{2, 2, 0}, 4, 6, 2, 1},
	// 196 output positions: products cover 2 images, so 3 images leave a
	// product of 1 (imagesPerProduct).
	{"k3s1p1-14x14", geom{3, 1, 1}, 14, 14, 2, 2},
}

func TestConvMatchesDirectLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range convGeoms {
		t.Run(tc.name, func(t *testing.T) {
			N, g := 3, tc.g
			x := numtest.RandVec(rng, N*tc.C*tc.H*tc.W)
			w := numtest.RandVec(rng, tc.O*tc.C*g.k*g.k)
			b := numtest.RandVec(rng, tc.O)
			want, oh, ow := numtest.DirectConv(x, N, tc.C, tc.H, tc.W, w, tc.O, b, numtest.Geom{K: g.k, S: g.s, P: g.p})
			got := applyOnce(t, convOp{g: g, bias: true}, numtest.Dense(x, N, tc.C, tc.H, tc.W), numtest.Dense(w, tc.O, tc.C, g.k, g.k), numtest.Dense(b, tc.O))
			assertClose(t, "conv", got, want, 1e-12)

			// The transposed convolution maps (O, oh, ow) back to (C, H, W).
			xt := numtest.RandVec(rng, N*tc.O*oh*ow)
			bt := numtest.RandVec(rng, tc.C)
			want = numtest.DirectDeconv(xt, N, tc.O, oh, ow, w, tc.C, bt, numtest.Geom{K: g.k, S: g.s, P: g.p}, tc.H, tc.W)
			got = applyOnce(t, deconvOp{g: g, bias: true, outH: tc.H, outW: tc.W}, numtest.Dense(xt, N, tc.O, oh, ow), numtest.Dense(w, tc.O, tc.C, g.k, g.k), numtest.Dense(bt, tc.C))
			assertClose(t, "conv transpose", got, want, 1e-12)
		})
	}
}

func assertClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol*(1+math.Abs(want[i])) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

func TestConvGradientsMatchFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range convGeoms {
		g, N := tc.g, 3
		oh, ow := g.out(tc.H), g.out(tc.W)
		t.Run("conv/"+tc.name, func(t *testing.T) {
			numtest.Check(t, func(in G.Nodes) (*G.Node, error) { return apply(convOp{g: g, bias: true}, false, in...) },
				numtest.Dense(numtest.RandVec(rng, N*tc.C*tc.H*tc.W), N, tc.C, tc.H, tc.W), numtest.Dense(numtest.RandVec(rng, tc.O*tc.C*g.k*g.k), tc.O, tc.C, g.k, g.k), numtest.Dense(numtest.RandVec(rng, tc.O), tc.O))
		})
		t.Run("deconv/"+tc.name, func(t *testing.T) {
			numtest.Check(t, func(in G.Nodes) (*G.Node, error) {
				return apply(deconvOp{g: g, bias: true, outH: tc.H, outW: tc.W}, false, in...)
			}, numtest.Dense(numtest.RandVec(rng, N*tc.O*oh*ow), N, tc.O, oh, ow), numtest.Dense(numtest.RandVec(rng, tc.O*tc.C*g.k*g.k), tc.O, tc.C, g.k, g.k), numtest.Dense(numtest.RandVec(rng, tc.C), tc.C))
		})
		// ReLU fused into the bias pass.
		t.Run("conv+relu/"+tc.name, func(t *testing.T) {
			numtest.Check(t, func(in G.Nodes) (*G.Node, error) { return apply(convOp{g: g, bias: true, relu: true}, false, in...) },
				numtest.Dense(numtest.RandVec(rng, N*tc.C*tc.H*tc.W), N, tc.C, tc.H, tc.W), numtest.Dense(numtest.RandVec(rng, tc.O*tc.C*g.k*g.k), tc.O, tc.C, g.k, g.k), numtest.Dense(numtest.RandVec(rng, tc.O), tc.O))
		})
		t.Run("deconv+relu/"+tc.name, func(t *testing.T) {
			numtest.Check(t, func(in G.Nodes) (*G.Node, error) {
				return apply(deconvOp{g: g, bias: true, relu: true, outH: tc.H, outW: tc.W}, false, in...)
			}, numtest.Dense(numtest.RandVec(rng, N*tc.O*oh*ow), N, tc.O, oh, ow), numtest.Dense(numtest.RandVec(rng, tc.O*tc.C*g.k*g.k), tc.O, tc.C, g.k, g.k), numtest.Dense(numtest.RandVec(rng, tc.C), tc.C))
		})
	}
}

func TestLayerGradientsMatchFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := func() *tensor.Dense { return numtest.Dense(numtest.RandVec(rng, 3*4*3*2), 3, 4, 3, 2) }
	vec := func() *tensor.Dense { return numtest.Dense(numtest.RandVec(rng, 4), 4) }
	cases := []struct {
		name   string
		build  func(in G.Nodes) (*G.Node, error)
		inputs []*tensor.Dense
	}{
		{"upsample", func(in G.Nodes) (*G.Node, error) { return apply(upsampleOp{s: 2}, false, in...) }, []*tensor.Dense{x()}},
		{"batch norm", func(in G.Nodes) (*G.Node, error) { return apply(normOp{kind: normBatch, name: "t"}, false, in...) }, []*tensor.Dense{x()}},
		{"group norm", func(in G.Nodes) (*G.Node, error) {
			return apply(normOp{kind: normGroup, groups: 2, name: "t"}, false, in...)
		}, []*tensor.Dense{x()}},
		{"channel affine", func(in G.Nodes) (*G.Node, error) { return apply(chanAffineOp{bias: true}, false, in...) }, []*tensor.Dense{x(), vec(), vec()}},
		{"norm then affine", func(in G.Nodes) (*G.Node, error) {
			n, err := apply(normOp{kind: normGroup, groups: 4, name: "t"}, false, in[0])
			if err != nil {
				return nil, err
			}
			return apply(chanAffineOp{bias: true}, false, n, in[1], in[2])
		}, []*tensor.Dense{x(), vec(), vec()}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { numtest.Check(t, tc.build, tc.inputs...) })
	}
}

func TestNormalisationStatistics(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	N, C, H, W := 4, 4, 3, 3
	xs := numtest.RandVec(rng, N*C*H*W)
	for i := range xs {
		xs[i] = 3*xs[i] + 5
	}
	// Batch norm: every channel has mean 0 and variance 1 over (N, H, W).
	stats := &runningStats{mean: numtest.Dense(make([]float64, C), C), variance: numtest.Dense(slices.Repeat([]float64{1}, C), C)}
	y := applyOnce(t, normOp{kind: normBatch, name: "bn", stats: stats}, numtest.Dense(xs, N, C, H, W))
	for c := range C {
		var vals []float64
		for n := range N {
			vals = append(vals, y[(n*C+c)*H*W:(n*C+c+1)*H*W]...)
		}
		m, v := numtest.MeanVar(vals)
		if math.Abs(m) > 1e-9 || math.Abs(v-1) > 1e-3 {
			t.Errorf("batch norm channel %d: mean %v variance %v", c, m, v)
		}
	}
	// Running statistics moved 10% of the way to the batch's (unbiased) ones.
	for c := range C {
		var vals []float64
		for n := range N {
			for _, v := range xs[(n*C+c)*H*W : (n*C+c+1)*H*W] {
				vals = append(vals, v)
			}
		}
		m, v := numtest.MeanVar(vals)
		unbiased := v * float64(len(vals)) / float64(len(vals)-1)
		if got := Values64(stats.mean)[c]; math.Abs(got-0.1*m) > 1e-12 {
			t.Errorf("running mean %d = %v, want %v", c, got, 0.1*m)
		}
		if got := Values64(stats.variance)[c]; math.Abs(got-(0.9+0.1*unbiased)) > 1e-12 {
			t.Errorf("running variance %d = %v, want %v", c, got, 0.9+0.1*unbiased)
		}
	}
	// Evaluation uses the running statistics, image by image.
	ye := applyOnce(t, normOp{kind: normBatch, name: "bn", stats: stats, eval: true}, numtest.Dense(xs[:C*H*W], 1, C, H, W))
	rm, rv := Values64(stats.mean), Values64(stats.variance)
	for c := range C {
		want := (xs[c*H*W] - rm[c]) / math.Sqrt(rv[c]+normEps)
		if math.Abs(ye[c*H*W]-want) > 1e-12 {
			t.Errorf("eval batch norm channel %d = %v, want %v", c, ye[c*H*W], want)
		}
	}
	// Group norm: every image's group of channels has mean 0 and variance 1.
	y = applyOnce(t, normOp{kind: normGroup, groups: 2, name: "gn"}, numtest.Dense(xs, N, C, H, W))
	per := C / 2 * H * W
	for s := range N * 2 {
		m, v := numtest.MeanVar(y[s*per : (s+1)*per])
		if math.Abs(m) > 1e-9 || math.Abs(v-1) > 1e-3 {
			t.Errorf("group norm set %d: mean %v variance %v", s, m, v)
		}
	}
}

// BenchmarkFilterGradFewChannels times the filter gradient of the conv VAE's
// first convolution (64 images of 64×64×3 to 32 channels of 32×32), which
// splits the images between threads (filterGradByImages).
func BenchmarkFilterGradFewChannels(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	xs, gs := tensor.Shape{64, 3, 64, 64}, tensor.Shape{64, 32, 32, 32}
	x, gy := randVec32(rng, xs.TotalSize()), randVec32(rng, gs.TotalSize())
	dw := make([]float32, 32*3*16)
	op := filterGradOp{opBase: opBase{out: &outBuf{}}, g: geom{4, 2, 1}}
	for b.Loop() {
		filterGradDirect(op, xs, gs, dw, [][]float32{x, gy})
	}
}

// BenchmarkFewChannelPasses times the three passes of the conv VAE's layers
// next to the image (64 images of 64×64×3 and 32 channels of 32×32): the
// first convolution, the last transposed one, and their filter gradient.
//
//	go test ./vae/internal/ops -run XXX -bench FewChannelPasses
func BenchmarkFewChannelPasses(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	const N, A, B, H = 64, 3, 32, 64
	xs, ys := tensor.Shape{N, A, H, H}, tensor.Shape{N, B, H / 2, H / 2}
	x, gy := randVec32(rng, xs.TotalSize()), randVec32(rng, ys.TotalSize())
	w := randVec32(rng, B*A*16)
	y, dx, dw := make([]float32, len(gy)), make([]float32, len(x)), make([]float32, len(w))
	conv := convOp{opBase: opBase{out: &outBuf{}}, g: winogradGeom}
	deconv := deconvOp{opBase: opBase{out: &outBuf{}}, g: winogradGeom, outH: H, outW: H}
	fgrad := filterGradOp{opBase: opBase{out: &outBuf{}}, g: winogradGeom}
	flops := float64(2 * N * B * (H / 2) * (H / 2) * A * 16)
	for _, p := range []struct {
		name string
		f    func()
	}{
		{"forward", func() { convForward(conv, xs, ys, y, [][]float32{x, w}) }},
		{"adjoint", func() { deconvForward(deconv, ys, xs, dx, [][]float32{gy, w}) }},
		{"filter", func() { filterGrad(fgrad, xs, ys, dw, [][]float32{x, gy}) }},
	} {
		b.Run(p.name, func(b *testing.B) {
			p.f()
			for b.Loop() {
				p.f()
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestSum16 checks sum16 against the sum in float64: exact on small
// integers, within float32 rounding on random values, for lengths around the
// 16 lanes.
func TestSum16(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 16))
	for _, n := range []int{0, 1, 15, 16, 17, 33, 1000} {
		ints, vals := make([]float32, n), make([]float32, n)
		var wantInts, want, abs float64
		for i := range n {
			ints[i] = float32(rng.IntN(201) - 100)
			vals[i] = float32(rng.NormFloat64())
			wantInts += float64(ints[i])
			want += float64(vals[i])
			abs += math.Abs(float64(vals[i]))
		}
		if got := sum16(ints); float64(got) != wantInts {
			t.Errorf("n=%d: sum16 of integers %v, want %v", n, got, wantInts)
		}
		if got := float64(sum16(vals)); math.Abs(got-want) > 8*float64(n)*0x1p-24*abs {
			t.Errorf("n=%d: sum16 %v, float64 sum %v", n, got, want)
		}
	}
}

// BenchmarkChannelSums times the conv bias gradient's channel sums on the
// bench conv model's largest maps: the kernels (C under cgo) against the Go
// reference.
//
//	go test ./vae/internal/ops -run XXX -bench ChannelSums
func BenchmarkChannelSums(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, s := range []tensor.Shape{{64, 32, 32, 32}, {64, 64, 16, 16}, {64, 3, 64, 64}} {
		x, y := randVec32(rng, s.TotalSize()), make([]float32, s[1])
		for _, impl := range []struct {
			name string
			add  func(y, x []float32, images, C, c0, c1, n int)
		}{{"kernel", channelRange32}, {"go", channelRange[float32]}} {
			b.Run(fmt.Sprintf("%s/%dx%dx%d", impl.name, s[1], s[2], s[3]), func(b *testing.B) {
				b.SetBytes(int64(4 * len(x)))
				for range b.N {
					channelSums(s, y, x, impl.add)
				}
			})
		}
	}
}
