package vae

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestDenseOpsMatchDefinitionsAndFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 1))
	x, w, b := randVec(rng, 4*5), randVec(rng, 5*3), randVec(rng, 3)
	got := applyOnce(t, linearOp{}, dense(x, 4, 5), dense(w, 5, 3), dense(b, 3))
	want := make([]float64, 4*3)
	for r := range 4 {
		for j := range 3 {
			want[r*3+j] = b[j]
			for k := range 5 {
				want[r*3+j] += x[r*5+k] * w[k*3+j]
			}
		}
	}
	assertClose(t, "linear", got, want, 1e-12)
	for _, tc := range []struct {
		name   string
		build  func(in G.Nodes) (*G.Node, error)
		inputs []*tensor.Dense
	}{
		{"linear", func(in G.Nodes) (*G.Node, error) { return G.ApplyOp(linearOp{}, in...) }, []*tensor.Dense{dense(x, 4, 5), dense(w, 5, 3), dense(b, 3)}},
		{"relu 2-D", func(in G.Nodes) (*G.Node, error) { return G.ApplyOp(reluOp{dims: 2}, in...) }, []*tensor.Dense{dense(x, 4, 5)}},
		{"relu 4-D", func(in G.Nodes) (*G.Node, error) { return G.ApplyOp(reluOp{dims: 4}, in...) }, []*tensor.Dense{dense(x, 1, 4, 5, 1)}},
	} {
		t.Run(tc.name, func(t *testing.T) { checkGradients(t, tc.build, tc.inputs...) })
	}
}
