package ops

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/vaelab/vaelab/internal/numtest"
)

func TestDenseOpsMatchDefinitionsAndFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 1))
	x, w, b := numtest.RandVec(rng, 4*5), numtest.RandVec(rng, 5*3), numtest.RandVec(rng, 3)
	got := applyOnce(t, linearOp{}, numtest.Dense(x, 4, 5), numtest.Dense(w, 5, 3), numtest.Dense(b, 3))
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
		{"linear", func(in G.Nodes) (*G.Node, error) { return apply(linearOp{}, false, in...) }, []*tensor.Dense{numtest.Dense(x, 4, 5), numtest.Dense(w, 5, 3), numtest.Dense(b, 3)}},
		{"relu 2-D", func(in G.Nodes) (*G.Node, error) { return apply(reluOp{dims: 2}, false, in...) }, []*tensor.Dense{numtest.Dense(x, 4, 5)}},
		{"relu 4-D", func(in G.Nodes) (*G.Node, error) { return apply(reluOp{dims: 4}, false, in...) }, []*tensor.Dense{numtest.Dense(x, 1, 4, 5, 1)}},
	} {
		t.Run(tc.name, func(t *testing.T) { numtest.Check(t, tc.build, tc.inputs...) })
	}
}
