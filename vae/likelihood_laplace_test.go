package vae

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

func laplaceCase(arch string) ModelConfig {
	if arch == "conv" {
		c := convCase("transpose", "none", "elu", "laplace")
		c = c.With("sigma", 0.2)
		return c
	}
	return ModelConfig{Architecture: "mlp", Hidden: []int{4, 3}, Latent: 2, Activation: "tanh", Likelihood: "laplace", Set: Values{"sigma": 0.2}}
}

// TestLaplaceLossMatchesItsFormula: the loss of a laplace model equals
// mean(β·KL + Σ|x − m|/b + D·log 2b) computed directly from an independent
// forward pass's decoder means and KL.
func TestLaplaceLossMatchesItsFormula(t *testing.T) {
	const batch, beta = 4, 0.7
	for _, arch := range []string{"mlp", "conv"} {
		cfg := laplaceCase(arch)
		shape := Shape{1, 6, 1}
		if arch == "conv" {
			shape = Shape{8, 6, 3}
		}
		rng := rand.New(rand.NewPCG(5, 9))
		m, err := NewModel(cfg, shape, tensor.Float64, rng)
		if err != nil {
			t.Fatal(err)
		}
		x, eps := testInputs(rng, batch, shape.Dim(), cfg.Latent)
		o, err := m.newObjective(batch, ObjectiveConfig{Set: Values{"beta": 1.0}}, true, 0)
		if err != nil {
			t.Fatal(err)
		}
		got := forward(t, o, x, eps, beta)
		x64 := make([]float64, len(x))
		for i, v := range x {
			x64[i] = float64(v)
		}
		_, kl, means := referenceWithMeans(m, x64, eps, batch)
		D, b, want := shape.Dim(), cfg.Float("sigma"), 0.0
		for r := range batch {
			logp := -float64(D) * math.Log(2*b)
			for d := range D {
				logp -= math.Abs(x64[r*D+d]-means[r*D+d]) / b
			}
			want += (beta*kl[r] - logp) / batch
		}
		if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("%s: loss %.12g, the formula gives %.12g", arch, got, want)
		}
	}
}

// TestLaplaceGradientsMatchFiniteDifferences: every parameter's gradient of a
// laplace model against central differences, in float64.
func TestLaplaceGradientsMatchFiniteDifferences(t *testing.T) {
	checkModelGradients(t, laplaceCase("mlp"), Shape{1, 5, 1}, ObjectiveConfig{Set: Values{"beta": 1.0}}, 1)
	checkModelGradients(t, laplaceCase("conv"), Shape{8, 6, 3}, ObjectiveConfig{Set: Values{"beta": 0.5}}, 0.5)
}

func TestLaplaceNeedsAScale(t *testing.T) {
	cfg := laplaceCase("mlp")
	cfg = cfg.With("sigma", 0.0)
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "scale b") {
		t.Errorf("laplace without a scale: %v", err)
	}
	if l, err := LikelihoodNamed("laplace"); err != nil || !l.Continuous() {
		t.Errorf("laplace: %v, continuous %v", err, l != nil && l.Continuous())
	}
}
