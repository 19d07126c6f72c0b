package vae

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/vaelab/vaelab/data"
)

// The iwae training loss on fixed weights and ε is minus Model.IWAE's
// bound on the same images and ε, for each prior and k (k = 1 is the
// one-draw Monte-Carlo ELBO).
func TestIWAELossEqualsEvaluationBound(t *testing.T) {
	const n, k = 5, 4
	for _, prior := range []string{"standard", "mog", "vamp"} {
		t.Run(prior, func(t *testing.T) {
			cfg := ModelConfig{Architecture: "mlp", Hidden: []int{6}, Latent: 3, Activation: "tanh", Likelihood: "bernoulli", Prior: prior}
			if prior != "standard" {
				cfg = cfg.With("prior_components", 2)
			}
			m, err := NewModel(cfg, Shape{2, 3, 1}, tensor.Float64, rand.New(rand.NewPCG(4, 1)))
			if err != nil {
				t.Fatal(err)
			}
			x, _ := testInputs(rand.New(rand.NewPCG(5, 1)), n, 6, 0)
			im := data.Images{N: n, Height: 2, Width: 3, Channels: 1, Pix: x}
			for _, k := range []int{1, k} {
				eps := normals(rand.New(rand.NewPCG(6, 1)), n*k*cfg.Latent)
				o, err := m.newObjective(n, ObjectiveConfig{Type: "iwae", Set: Values{"beta": 1.0, "k": k}}, true, 0)
				if err != nil {
					t.Fatal(err)
				}
				loss := forward(t, o, x, eps)
				bound, err := m.IWAE(context.Background(), im, k, n, rand.New(rand.NewPCG(6, 1)))
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(loss+bound) > 1e-9*math.Abs(bound) {
					t.Errorf("k=%d: training loss %.12g, evaluation bound %.12g", k, loss, bound)
				}
			}
		})
	}
}

func TestIWAEGradientsMatchFiniteDifferences(t *testing.T) {
	c := ObjectiveConfig{Type: "iwae", Set: Values{"beta": 1.0, "k": 3}}
	checkModelGradients(t, ModelConfig{Architecture: "mlp", Hidden: []int{4}, Latent: 2, Activation: "tanh", Likelihood: "gaussian", Set: Values{"sigma": 0.5}}, Shape{1, 5, 1}, c)
	checkModelGradients(t, ModelConfig{Architecture: "mlp", Hidden: []int{4}, Latent: 2, Activation: "tanh", Likelihood: "bernoulli", Prior: "mog", Set: Values{"prior_components": 2}}, Shape{1, 5, 1}, c)
	checkModelGradients(t, convCase("transpose", "none", "relu", "bernoulli"), Shape{8, 8, 1}, c)
}

func TestIWAESettings(t *testing.T) {
	for _, tc := range []struct {
		c   ObjectiveConfig
		key string
	}{
		{ObjectiveConfig{Type: "iwae", Set: Values{"beta": 1.0, "k": -2}}, "objective.k: -2 importance samples"}, // 0 (left out) is the default, 5
		{ObjectiveConfig{Type: "iwae", Set: Values{"beta": 1.0, "k": 1001}}, "objective.k: 1001 importance samples"},
		{ObjectiveConfig{Type: "iwae", Set: Values{"beta": 2.0, "k": 5}}, "objective.beta: the iwae objective does not take it"},
		{ObjectiveConfig{Set: Values{"beta": 1.0, "k": 5}}, "objective.k: the elbo objective does not take it (it belongs to iwae)"},
	} {
		if err := tc.c.Validate(); err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%+v: error %v, want one naming %q", tc.c, err, tc.key)
		}
	}
}
