package vae

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/vaelab/vaelab/internal/numtest"
)

// Every activation's gradient matches central finite differences (float64).
func TestActivationGradientsMatchFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := numtest.Dense(numtest.RandVec(rng, 2*3*4*4), 2, 3, 4, 4)
	for _, act := range []string{"relu", "leaky_relu", "elu", "tanh"} {
		t.Run(act, func(t *testing.T) {
			numtest.Check(t, func(in G.Nodes) (*G.Node, error) {
				return activation(in[0], act, func(v float64) *G.Node { return G.NewConstant(v) }, true), nil
			}, x)
		})
	}
}
