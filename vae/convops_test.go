package vae

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// directConv is a convolution written from its definition, one output at a time.
func directConv(x []float64, N, C, H, W int, w []float64, O int, b []float64, g geom) (y []float64, oh, ow int) {
	oh, ow = g.out(H), g.out(W)
	y = make([]float64, N*O*oh*ow)
	for n := range N {
		for o := range O {
			for i := range oh {
				for j := range ow {
					s := b[o]
					for c := range C {
						for u := range g.k {
							for v := range g.k {
								yy, xx := i*g.s+u-g.p, j*g.s+v-g.p
								if yy >= 0 && yy < H && xx >= 0 && xx < W {
									s += w[((o*C+c)*g.k+u)*g.k+v] * x[((n*C+c)*H+yy)*W+xx]
								}
							}
						}
					}
					y[((n*O+o)*oh+i)*ow+j] = s
				}
			}
		}
	}
	return y, oh, ow
}

// directDeconv is a transposed convolution written as its definition: every
// input value scatters its kernel, scaled, onto the output.
func directDeconv(x []float64, N, C, h, w int, wt []float64, O int, b []float64, g geom, H, W int) []float64 {
	y := make([]float64, N*O*H*W)
	for n := range N {
		for o := range O {
			for i := range H * W {
				y[(n*O+o)*H*W+i] = b[o]
			}
		}
		for c := range C {
			for i := range h {
				for j := range w {
					xv := x[((n*C+c)*h+i)*w+j]
					for o := range O {
						for u := range g.k {
							for v := range g.k {
								yy, xx := i*g.s+u-g.p, j*g.s+v-g.p
								if yy >= 0 && yy < H && xx >= 0 && xx < W {
									y[((n*O+o)*H+yy)*W+xx] += xv * wt[((c*O+o)*g.k+u)*g.k+v]
								}
							}
						}
					}
				}
			}
		}
	}
	return y
}

func randVec(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

func dense(v []float64, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), v...)))
}

// applyOnce runs op on constant inputs and returns its output.
func applyOnce(t *testing.T, op G.Op, inputs ...*tensor.Dense) []float64 {
	t.Helper()
	g := G.NewGraph()
	var nodes G.Nodes
	for i, in := range inputs {
		nodes = append(nodes, G.NewTensor(g, tensor.Float64, in.Dims(), G.WithShape(in.Shape()...), G.WithValue(in), G.WithName(fmt.Sprint("in", i))))
	}
	out, err := G.ApplyOp(op, nodes...)
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
			x := randVec(rng, N*tc.C*tc.H*tc.W)
			w := randVec(rng, tc.O*tc.C*g.k*g.k)
			b := randVec(rng, tc.O)
			want, oh, ow := directConv(x, N, tc.C, tc.H, tc.W, w, tc.O, b, g)
			got := applyOnce(t, convOp{g: g, bias: true}, dense(x, N, tc.C, tc.H, tc.W), dense(w, tc.O, tc.C, g.k, g.k), dense(b, tc.O))
			assertClose(t, "conv", got, want, 1e-12)

			// The transposed convolution maps (O, oh, ow) back to (C, H, W).
			xt := randVec(rng, N*tc.O*oh*ow)
			bt := randVec(rng, tc.C)
			want = directDeconv(xt, N, tc.O, oh, ow, w, tc.C, bt, g, tc.H, tc.W)
			got = applyOnce(t, deconvOp{g: g, bias: true, outH: tc.H, outW: tc.W}, dense(xt, N, tc.O, oh, ow), dense(w, tc.O, tc.C, g.k, g.k), dense(bt, tc.C))
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

// checkGradients compares the gradients Gorgonia computes for
// L = Σ r ⊙ build(inputs), with r fixed random weights, against central
// finite differences in every input coordinate.
func checkGradients(t *testing.T, build func(in G.Nodes) (*G.Node, error), inputs ...*tensor.Dense) {
	t.Helper()
	g := G.NewGraph()
	var nodes G.Nodes
	for i, in := range inputs {
		nodes = append(nodes, G.NewTensor(g, tensor.Float64, in.Dims(), G.WithShape(in.Shape()...), G.WithValue(in), G.WithName(fmt.Sprint("in", i))))
	}
	out, err := build(nodes)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	r := G.NewConstant(dense(randVec(rng, out.Shape().TotalSize()), out.Shape()...), G.WithName("r"))
	loss := G.Must(G.Sum(G.Must(G.HadamardProd(out, r))))
	if _, err := G.Grad(loss, nodes...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(nodes...))
	defer vm.Close()
	run := func() float64 {
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		return loss.Value().Data().(float64)
	}
	run()
	var analytic [][]float64
	for _, n := range nodes {
		gr, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		analytic = append(analytic, append([]float64(nil), gr.Data().([]float64)...))
	}
	const h = 1e-6
	worst := 0.0
	for i, in := range inputs {
		v := in.Data().([]float64)
		for j := range v {
			orig := v[j]
			v[j] = orig + h
			up := run()
			v[j] = orig - h
			down := run()
			v[j] = orig
			fd := (up - down) / (2 * h)
			rel := math.Abs(fd-analytic[i][j]) / math.Max(1, math.Abs(fd))
			worst = math.Max(worst, rel)
			if rel > 1e-5 {
				t.Fatalf("input %d[%d]: gradient %v, finite difference %v", i, j, analytic[i][j], fd)
			}
		}
	}
	t.Logf("largest relative error %.2g", worst)
}

func TestConvGradientsMatchFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range convGeoms {
		g, N := tc.g, 3
		oh, ow := g.out(tc.H), g.out(tc.W)
		t.Run("conv/"+tc.name, func(t *testing.T) {
			checkGradients(t, func(in G.Nodes) (*G.Node, error) { return G.ApplyOp(convOp{g: g, bias: true}, in...) },
				dense(randVec(rng, N*tc.C*tc.H*tc.W), N, tc.C, tc.H, tc.W), dense(randVec(rng, tc.O*tc.C*g.k*g.k), tc.O, tc.C, g.k, g.k), dense(randVec(rng, tc.O), tc.O))
		})
		t.Run("deconv/"+tc.name, func(t *testing.T) {
			checkGradients(t, func(in G.Nodes) (*G.Node, error) {
				return G.ApplyOp(deconvOp{g: g, bias: true, outH: tc.H, outW: tc.W}, in...)
			}, dense(randVec(rng, N*tc.O*oh*ow), N, tc.O, oh, ow), dense(randVec(rng, tc.O*tc.C*g.k*g.k), tc.O, tc.C, g.k, g.k), dense(randVec(rng, tc.C), tc.C))
		})
		// ReLU fused into the bias pass.
		t.Run("conv+relu/"+tc.name, func(t *testing.T) {
			checkGradients(t, func(in G.Nodes) (*G.Node, error) { return G.ApplyOp(convOp{g: g, bias: true, relu: true}, in...) },
				dense(randVec(rng, N*tc.C*tc.H*tc.W), N, tc.C, tc.H, tc.W), dense(randVec(rng, tc.O*tc.C*g.k*g.k), tc.O, tc.C, g.k, g.k), dense(randVec(rng, tc.O), tc.O))
		})
		t.Run("deconv+relu/"+tc.name, func(t *testing.T) {
			checkGradients(t, func(in G.Nodes) (*G.Node, error) {
				return G.ApplyOp(deconvOp{g: g, bias: true, relu: true, outH: tc.H, outW: tc.W}, in...)
			}, dense(randVec(rng, N*tc.O*oh*ow), N, tc.O, oh, ow), dense(randVec(rng, tc.O*tc.C*g.k*g.k), tc.O, tc.C, g.k, g.k), dense(randVec(rng, tc.C), tc.C))
		})
	}
}

func TestLayerGradientsMatchFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := func() *tensor.Dense { return dense(randVec(rng, 3*4*3*2), 3, 4, 3, 2) }
	vec := func() *tensor.Dense { return dense(randVec(rng, 4), 4) }
	cases := []struct {
		name   string
		build  func(in G.Nodes) (*G.Node, error)
		inputs []*tensor.Dense
	}{
		{"upsample", func(in G.Nodes) (*G.Node, error) { return G.ApplyOp(upsampleOp{s: 2}, in...) }, []*tensor.Dense{x()}},
		{"batch norm", func(in G.Nodes) (*G.Node, error) { return G.ApplyOp(normOp{kind: normBatch, name: "t"}, in...) }, []*tensor.Dense{x()}},
		{"group norm", func(in G.Nodes) (*G.Node, error) {
			return G.ApplyOp(normOp{kind: normGroup, groups: 2, name: "t"}, in...)
		}, []*tensor.Dense{x()}},
		{"channel affine", func(in G.Nodes) (*G.Node, error) { return G.ApplyOp(chanAffineOp{bias: true}, in...) }, []*tensor.Dense{x(), vec(), vec()}},
		{"norm then affine", func(in G.Nodes) (*G.Node, error) {
			n, err := G.ApplyOp(normOp{kind: normGroup, groups: 4, name: "t"}, in[0])
			if err != nil {
				return nil, err
			}
			return G.ApplyOp(chanAffineOp{bias: true}, n, in[1], in[2])
		}, []*tensor.Dense{x(), vec(), vec()}},
	}
	for _, act := range []string{"relu", "leaky_relu", "elu", "tanh"} {
		cases = append(cases, struct {
			name   string
			build  func(in G.Nodes) (*G.Node, error)
			inputs []*tensor.Dense
		}{"activation " + act, func(in G.Nodes) (*G.Node, error) {
			return activation(in[0], act, func(v float64) *G.Node { return G.NewConstant(v) }, true), nil
		}, []*tensor.Dense{x()}})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkGradients(t, tc.build, tc.inputs...) })
	}
}

func TestNormalisationStatistics(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	N, C, H, W := 4, 4, 3, 3
	xs := randVec(rng, N*C*H*W)
	for i := range xs {
		xs[i] = 3*xs[i] + 5
	}
	// Batch norm: every channel has mean 0 and variance 1 over (N, H, W).
	stats := &runningStats{mean: dense(make([]float64, C), C), variance: dense(onesOf(C), C)}
	y := applyOnce(t, normOp{kind: normBatch, name: "bn", stats: stats}, dense(xs, N, C, H, W))
	for c := range C {
		var vals []float64
		for n := range N {
			vals = append(vals, y[(n*C+c)*H*W:(n*C+c+1)*H*W]...)
		}
		m, v := meanVar(vals)
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
		m, v := meanVar(vals)
		unbiased := v * float64(len(vals)) / float64(len(vals)-1)
		if got := values64(stats.mean)[c]; math.Abs(got-0.1*m) > 1e-12 {
			t.Errorf("running mean %d = %v, want %v", c, got, 0.1*m)
		}
		if got := values64(stats.variance)[c]; math.Abs(got-(0.9+0.1*unbiased)) > 1e-12 {
			t.Errorf("running variance %d = %v, want %v", c, got, 0.9+0.1*unbiased)
		}
	}
	// Evaluation uses the running statistics, image by image.
	ye := applyOnce(t, normOp{kind: normBatch, name: "bn", stats: stats, eval: true}, dense(xs[:C*H*W], 1, C, H, W))
	rm, rv := values64(stats.mean), values64(stats.variance)
	for c := range C {
		want := (xs[c*H*W] - rm[c]) / math.Sqrt(rv[c]+normEps)
		if math.Abs(ye[c*H*W]-want) > 1e-12 {
			t.Errorf("eval batch norm channel %d = %v, want %v", c, ye[c*H*W], want)
		}
	}
	// Group norm: every image's group of channels has mean 0 and variance 1.
	y = applyOnce(t, normOp{kind: normGroup, groups: 2, name: "gn"}, dense(xs, N, C, H, W))
	per := C / 2 * H * W
	for s := range N * 2 {
		m, v := meanVar(y[s*per : (s+1)*per])
		if math.Abs(m) > 1e-9 || math.Abs(v-1) > 1e-3 {
			t.Errorf("group norm set %d: mean %v variance %v", s, m, v)
		}
	}
}

func meanVar(v []float64) (mean, variance float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		variance += (x - mean) * (x - mean)
	}
	return mean, variance / float64(len(v))
}
