package vae

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

func capacityConfig() ObjectiveConfig {
	return ObjectiveConfig{Type: "capacity", Set: Values{"beta": 1.0, "gamma": 7.0, "capacity_max": 2.0, "capacity_steps": 4}}
}

// The capacity loss is −log p(x|z) + γ·|KL − C| of batch means, against the
// direct formula on the reference model's terms, on both sides of C.
func TestCapacityLossMatchesFormula(t *testing.T) {
	const batch = 4
	cfg := ModelConfig{Architecture: "mlp", Hidden: []int{5}, Latent: 3, Activation: "tanh", Likelihood: "bernoulli"}
	rng := rand.New(rand.NewPCG(3, 9))
	m, err := NewModel(cfg, Shape{1, 6, 1}, tensor.Float64, rng)
	if err != nil {
		t.Fatal(err)
	}
	x, eps := testInputs(rng, batch, 6, cfg.Latent)
	x64 := make([]float64, len(x))
	for i, v := range x {
		x64[i] = float64(v)
	}
	logpx, kl := reference(m, x64, eps, batch)
	recon, klMean := 0.0, 0.0
	for i := range batch {
		recon -= logpx[i] / batch
		klMean += kl[i] / batch
	}
	c := capacityConfig()
	for _, target := range []float64{0, klMean / 2, klMean * 3} {
		o, err := m.newObjective(batch, c, true, 0)
		if err != nil {
			t.Fatal(err)
		}
		got := forward(t, o, x, eps, target)
		want := recon + c.Float("gamma")*math.Abs(klMean-target)
		if math.Abs(got-want) > 1e-9*math.Max(1, want) {
			t.Errorf("C = %v: loss %.12g, formula %.12g", target, got, want)
		}
		if ev := (capacity{}).evalLoss(c, []float64{target}, recon, klMean); math.Abs(ev-want) > 1e-12*want {
			t.Errorf("C = %v: evaluation loss %v, formula %v", target, ev, want)
		}
	}
}

func TestCapacityGradientsMatchFiniteDifferences(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  ModelConfig
		sh   Shape
	}{
		{"mlp", ModelConfig{Architecture: "mlp", Hidden: []int{4}, Latent: 2, Activation: "tanh", Likelihood: "gaussian", Set: Values{"sigma": 0.5}}, Shape{1, 5, 1}},
		{"conv", convCase("transpose", "none", "elu", "bernoulli"), Shape{8, 8, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// C far from the KL on both sides, away from the kink of |·|
			// (the conv model on one side: its check is the slow one).
			checkModelGradients(t, tc.cfg, tc.sh, capacityConfig(), 0)
			if tc.name == "mlp" {
				checkModelGradients(t, tc.cfg, tc.sh, capacityConfig(), 50)
			}
		})
	}
}

// C(t) rises linearly to capacity_max over capacity_steps, is recorded under
// train/capacity, and a schedule longer than training or a missing setting
// is an error naming its key.
func TestCapacitySchedule(t *testing.T) {
	c, obj := capacityConfig(), capacity{}
	if !slices.Equal(obj.Scalars(), []string{KeyCapacity}) {
		t.Fatalf("scalars %v", obj.Scalars())
	}
	for step, want := range map[int]float64{1: 0.5, 2: 1, 4: 2, 10: 2} {
		if got := obj.at(c, step, 10); got[0] != want {
			t.Errorf("step %d: C = %v, want %v", step, got[0], want)
		}
	}
	if err := c.CheckSteps(3); err == nil || !strings.Contains(err.Error(), "objective.capacity_steps") {
		t.Errorf("4 capacity steps in 3 training steps: %v", err)
	}
	if err := c.CheckSteps(4); err != nil {
		t.Errorf("4 capacity steps in 4 training steps: %v", err)
	}
	for _, tc := range []struct {
		edit func(*ObjectiveConfig)
		key  string
	}{
		{func(c *ObjectiveConfig) { *c = c.With("gamma", 0.0) }, "objective.gamma"},
		{func(c *ObjectiveConfig) { *c = c.With("capacity_max", -1.0) }, "objective.capacity_max"},
		{func(c *ObjectiveConfig) { *c = c.With("capacity_steps", 0) }, "objective.capacity_steps"},
		{func(c *ObjectiveConfig) { *c = c.With("free_bits", 0.5) }, "free_bits"},
		{func(c *ObjectiveConfig) { c.Type = "" }, "the elbo objective does not take it (it belongs to capacity)"}, // capacity keys on the elbo
	} {
		bad := capacityConfig()
		tc.edit(&bad)
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("want an error naming %s, got %v", tc.key, err)
		}
	}
}
