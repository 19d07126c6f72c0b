package vae

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// The geco loss is KL + λ·D·(MSE − κ), its MSE computed from the reference
// forward pass's decoder means.
func TestGECOLossMatchesDirectFormula(t *testing.T) {
	const batch, lambda = 4, 2.5
	cfg := ModelConfig{Architecture: "mlp", Hidden: []int{5}, Latent: 3, Activation: "tanh", Likelihood: "gaussian", Set: Values{"sigma": 0.3}}
	rng := rand.New(rand.NewPCG(2, 8))
	m, err := NewModel(cfg, Shape{1, 6, 1}, tensor.Float64, rng)
	if err != nil {
		t.Fatal(err)
	}
	x, eps := testInputs(rng, batch, 6, cfg.Latent)
	c := ObjectiveConfig{Type: "geco", Set: Values{"beta": 1.0, "kappa": 0.05}}
	o, err := m.newObjective(batch, c, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := forward(t, o, x, eps, lambda)
	x64 := make([]float64, len(x))
	for i, v := range x {
		x64[i] = float64(v)
	}
	_, kl, means := referenceWithMeans(m, x64, eps, batch)
	mse, klMean := 0.0, 0.0
	for i, v := range means {
		mse += (x64[i] - v) * (x64[i] - v) / float64(len(means))
	}
	for _, v := range kl {
		klMean += v / batch
	}
	if want := klMean + lambda*6*(mse-c.Float("kappa")); math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("loss %.12g, KL + λ·D·(MSE − κ) = %.12g", got, want)
	}
	if len(o.estimates) != 1 || o.estimates[0].key != KeyGECOMSE {
		t.Fatalf("estimates %v, want the batch MSE", o.estimates)
	}
}

// λ grows while the reconstruction misses its target and shrinks once it
// is met, through the moving average of the relative constraint.
func TestGECOUpdate(t *testing.T) {
	g, c := geco{}, ObjectiveConfig{Type: "geco", Set: Values{"kappa": 0.01, "geco_alpha": 0.5, "geco_rate": 0.1}}
	s := g.initial(c)
	s = g.update(c, s, []Metric{{KeyGECOMSE, 0.03}}) // c = 2: m starts there
	if want := math.Exp(0.1 * 2); s[1] != 2 || math.Abs(s[0]-want) > 1e-15 {
		t.Fatalf("after the first step λ %v, m %v; want %v, 2", s[0], s[1], want)
	}
	s = g.update(c, s, []Metric{{KeyGECOMSE, 0.005}}) // c = −0.5: m = 0.5·2 + 0.5·(−0.5) = 0.75
	if want := math.Exp(0.1*2) * math.Exp(0.1*0.75); s[1] != 0.75 || math.Abs(s[0]-want) > 1e-15 {
		t.Fatalf("after the second step λ %v, m %v; want %v, 0.75", s[0], s[1], want)
	}
	for range 200 {
		s = g.update(c, s, []Metric{{KeyGECOMSE, 0.001}})
	}
	if s[0] >= 1 || s[1] >= 0 {
		t.Errorf("met constraint for 200 steps: λ %v, m %v; want λ < 1, m < 0", s[0], s[1])
	}
}

func TestGECOGradientsMatchFiniteDifferences(t *testing.T) {
	c := ObjectiveConfig{Type: "geco", Set: Values{"beta": 1.0, "kappa": 0.02}}
	checkModelGradients(t, ModelConfig{Architecture: "mlp", Hidden: []int{4}, Latent: 2, Activation: "tanh", Likelihood: "bernoulli"}, Shape{1, 5, 1}, c, 3.0)
	checkModelGradients(t, ModelConfig{Architecture: "mlp", Hidden: []int{4}, Latent: 2, Activation: "tanh", Likelihood: "bernoulli", Prior: "mog", Set: Values{"prior_components": 2}}, Shape{1, 5, 1}, c, 0.7)
	checkModelGradients(t, convCase("transpose", "none", "relu", "bernoulli"), Shape{8, 8, 1}, c, 1.5)
	// A likelihood with parameters of its own, which the Lagrangian leaves alone.
	checkModelGradients(t, ModelConfig{Architecture: "mlp", Hidden: []int{4}, Latent: 2, Activation: "tanh", Likelihood: "gaussian_optimal"}, Shape{1, 5, 1}, c, 2.0)
}

// Training records λ at every step and moves it from 1.
func TestGECOTrainingRecordsLambda(t *testing.T) {
	train, test := smallFaces(t)
	s := smallSetup(3)
	s.Objective = ObjectiveConfig{Type: "geco", Set: Values{"beta": 1.0, "kappa": 0.001, "geco_rate": 0.05}}
	rec := &recording{}
	if _, _, err := Train(context.Background(), s, train, test, rec); err != nil {
		t.Fatal(err)
	}
	first, last := metricValue(rec.steps[0], KeyGECOLambda), metricValue(rec.steps[len(rec.steps)-1], KeyGECOLambda)
	if first != 1 || !(last > first) || math.IsNaN(metricValue(rec.steps[0], KeyGECOMA)) {
		t.Errorf("λ at the first step %v, at the last %v (κ far below the MSE: λ must grow); moving average %v", first, last, metricValue(rec.steps[0], KeyGECOMA))
	}
}

func TestGECOSettings(t *testing.T) {
	for _, tc := range []struct {
		c   ObjectiveConfig
		key string
	}{
		{ObjectiveConfig{Type: "geco", Set: Values{"beta": 1.0}}, "objective.kappa: required"},
		{ObjectiveConfig{Type: "geco", Set: Values{"beta": 1.0, "kappa": -0.1}}, "objective.kappa: -0.1"},
		{ObjectiveConfig{Type: "geco", Set: Values{"beta": 1.0, "kappa": 0.01, "geco_alpha": 1.0}}, "objective.geco_alpha"},
		{ObjectiveConfig{Type: "geco", Set: Values{"beta": 1.0, "kappa": 0.01, "geco_rate": -1.0}}, "objective.geco_rate"},
		{ObjectiveConfig{Type: "geco", Set: Values{"beta": 3.0, "kappa": 0.01}}, "objective.beta: the geco objective does not take it"},
	} {
		if err := tc.c.Validate(); err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%+v: error %v, want one naming %q", tc.c, err, tc.key)
		}
	}
}
