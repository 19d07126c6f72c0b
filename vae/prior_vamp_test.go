package vae

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

func vampCase() ModelConfig {
	return ModelConfig{Architecture: "mlp", Hidden: []int{5}, Latent: 2, Activation: "tanh", Likelihood: "bernoulli", Prior: "vamp", Set: Values{"prior_components": 3}}
}

// log p(z) in the training graph against a direct log-sum-exp over the
// posteriors of the pseudo-inputs, which Model.Encode computes in a graph
// of its own.
func TestVampPriorLogProbIsTheDirectFormula(t *testing.T) {
	for name, tc := range map[string]struct {
		cfg   ModelConfig
		shape Shape
	}{"mlp": {vampCase(), Shape{1, 6, 1}}, "conv": {vampConvCase(), Shape{8, 8, 1}}} {
		t.Run(name, func(t *testing.T) { checkVampLogProb(t, tc.cfg, tc.shape) })
	}
}

func vampConvCase() ModelConfig {
	c := convCase("transpose", "group", "relu", "bernoulli")
	c.Prior = "vamp"
	c = c.With("prior_components", 3)
	return c
}

func checkVampLogProb(t *testing.T, cfg ModelConfig, shape Shape) {
	m, err := NewModel(cfg, shape, tensor.Float64, rand.New(rand.NewPCG(31, 32)))
	if err != nil {
		t.Fatal(err)
	}
	p := m.prior.(*vampPrior)
	codes := []float64{0, 0, 1.4, -1.3, -0.8, 0.5, 4, -3}
	got := mixtureLogProbAt(t, m, p.parts, codes)
	mu, sd := p.components()
	for b := range len(codes) / 2 {
		z := codes[b*2 : b*2+2]
		want := directMixtureLogProb(z, mu, sd, []float64{1.0 / 3, 1.0 / 3, 1.0 / 3})
		// Encode takes images as float32, so the direct side sees the
		// pseudo-inputs rounded to float32: agreement to about 1e-8.
		if math.Abs(got[b]-want) > 1e-6*math.Max(1, math.Abs(want)) {
			t.Errorf("log p(%v) = %.12g, direct %.12g", z, got[b], want)
		}
	}
}

// Gradients reach the pseudo-inputs as well as the encoder and decoder.
func TestVampPriorGradientsMatchFiniteDifferences(t *testing.T) {
	checkModelGradients(t, vampCase(), Shape{1, 5, 1}, ObjectiveConfig{Set: Values{"beta": 1.0}}, 1)
	checkModelGradients(t, vampConvCase(), Shape{8, 8, 1}, ObjectiveConfig{Set: Values{"beta": 1.0}}, 1)
}

func TestVampPriorSettings(t *testing.T) {
	conv := convCase("transpose", "batch", "relu", "bernoulli")
	conv.Prior = "vamp"
	if err := conv.Validate(); err == nil || !strings.Contains(err.Error(), "model.norm: the vamp prior") {
		t.Errorf("vamp on a conv model with batch norm: %v", err)
	}
	if err := vampCase().CheckTrainImages(2); err == nil || !strings.Contains(err.Error(), "model.prior_components: 3 pseudo-inputs for 2 training images") {
		t.Errorf("3 pseudo-inputs for 2 images: %v", err)
	}
	if err := vampCase().CheckTrainImages(3); err != nil {
		t.Errorf("3 pseudo-inputs for 3 images: %v", err)
	}
	m, err := NewModel(vampCase(), Shape{1, 6, 1}, tensor.Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if z := m.prior.Sample(rand.New(rand.NewPCG(2, 2)), 5, 2); len(z) != 10 {
		t.Errorf("5 draws of 2 dimensions gave %d values", len(z))
	}
	if lo, hi := m.prior.TraversalRange(); !(lo < hi) {
		t.Errorf("traversal range [%v, %v]", lo, hi)
	}
}
