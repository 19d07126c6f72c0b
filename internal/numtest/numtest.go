// Package numtest holds the numerical references the tests of ops and models
// share: finite-difference gradient checks and convolutions from their definitions.
package numtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// RandVec is n standard normal values.
func RandVec(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

// Dense is a float64 tensor of shape holding a copy of v.
func Dense(v []float64, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), v...)))
}

// Check compares the gradients Gorgonia computes for
// L = Σ r ⊙ build(inputs), with r fixed random weights, against central
// finite differences in every input coordinate.
func Check(t testing.TB, build func(in G.Nodes) (*G.Node, error), inputs ...*tensor.Dense) {
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
	r := G.NewConstant(Dense(RandVec(rng, out.Shape().TotalSize()), out.Shape()...), G.WithName("r"))
	loss := G.Must(G.Sum(G.Must(G.HadamardProd(out, r))))
	grads, err := G.Grad(loss, nodes...)
	if err != nil {
		t.Fatal(err)
	}
	// The gradient nodes' values, as training reads them (no dual values).
	vm := G.NewTapeMachine(g)
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
	for _, n := range grads {
		analytic = append(analytic, append([]float64(nil), n.Value().Data().([]float64)...))
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

// Geom is a convolution's kernel size, stride and padding.
type Geom struct{ K, S, P int }

// Out is the output size over n input positions.
func (g Geom) Out(n int) int {
	if n+2*g.P < g.K {
		return 0
	}
	return (n+2*g.P-g.K)/g.S + 1
}

// DirectConv is a convolution written from its definition, one output at a time.
func DirectConv(x []float64, N, C, H, W int, w []float64, O int, b []float64, g Geom) (y []float64, oh, ow int) {
	oh, ow = g.Out(H), g.Out(W)
	y = make([]float64, N*O*oh*ow)
	for n := range N {
		for o := range O {
			for i := range oh {
				for j := range ow {
					s := b[o]
					for c := range C {
						for u := range g.K {
							for v := range g.K {
								yy, xx := i*g.S+u-g.P, j*g.S+v-g.P
								if yy >= 0 && yy < H && xx >= 0 && xx < W {
									s += w[((o*C+c)*g.K+u)*g.K+v] * x[((n*C+c)*H+yy)*W+xx]
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

// DirectDeconv is a transposed convolution written as its definition: every
// input value scatters its kernel, scaled, onto the output.
func DirectDeconv(x []float64, N, C, h, w int, wt []float64, O int, b []float64, g Geom, H, W int) []float64 {
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
						for u := range g.K {
							for v := range g.K {
								yy, xx := i*g.S+u-g.P, j*g.S+v-g.P
								if yy >= 0 && yy < H && xx >= 0 && xx < W {
									y[((n*O+o)*H+yy)*W+xx] += xv * wt[((c*O+o)*g.K+u)*g.K+v]
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

// MeanVar is the mean and (population) variance of v.
func MeanVar(v []float64) (mean, variance float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		variance += (x - mean) * (x - mean)
	}
	return mean, variance / float64(len(v))
}
