package vae

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/vaelab/vaelab/vae/internal/ops"
)

// directMMD is the unbiased MMD² with the IMQ kernel of C = 2L, written as a
// double loop over pairs i ≠ j.
func directMMD(z, e []float64, n, L int) float64 {
	c := 2 * float64(L)
	k := func(a, b []float64, i, j int) float64 {
		d := 0.0
		for l := range L {
			d += (a[i*L+l] - b[j*L+l]) * (a[i*L+l] - b[j*L+l])
		}
		return c / (c + d)
	}
	s := 0.0
	for i := range n {
		for j := range n {
			if i != j {
				s += k(z, z, i, j) + k(e, e, i, j) - 2*k(z, e, i, j)
			}
		}
	}
	return s / float64(n*(n-1))
}

// The mmd loss is recon + β·KL + λ·MMD², its MMD² the direct double loop
// over the step's codes and ε.
func TestMMDLossMatchesDirectDoubleLoop(t *testing.T) {
	const batch = 5
	cfg := ModelConfig{Architecture: "mlp", Hidden: []int{5}, Latent: 3, Activation: "tanh", Likelihood: "bernoulli"}
	rng := rand.New(rand.NewPCG(8, 2))
	m, err := NewModel(cfg, Shape{1, 6, 1}, tensor.Float64, rng)
	if err != nil {
		t.Fatal(err)
	}
	x, eps := testInputs(rng, batch, 6, cfg.Latent)
	c := ObjectiveConfig{Type: "mmd", Set: Values{"beta": 0.5, "lambda": 30.0}}
	o, err := m.newObjective(batch, c, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := forward(t, o, x, eps)
	z := ops.Values64(o.z.Value())
	want := scalarValue(o.recon) + c.Float("beta")*scalarValue(o.klm) + c.Float("lambda")*directMMD(z, eps, batch, cfg.Latent)
	if math.Abs(got-want) > 1e-9*math.Max(1, want) {
		t.Errorf("loss %.12g, direct formula %.12g", got, want)
	}
	// The U-statistic of a sample against itself is exactly 0: every pair cancels.
	if d := directMMD(eps, eps, batch, cfg.Latent); math.Abs(d) > 1e-12 {
		t.Errorf("MMD² of a sample with itself %v", d)
	}
}

func TestMMDGradientsMatchFiniteDifferences(t *testing.T) {
	cfg := ModelConfig{Architecture: "mlp", Hidden: []int{4}, Latent: 2, Activation: "tanh", Likelihood: "gaussian", Set: Values{"sigma": 0.5}}
	checkModelGradients(t, cfg, Shape{1, 5, 1}, ObjectiveConfig{Type: "mmd", Set: Values{"beta": 1.0, "lambda": 20.0}})
	checkModelGradients(t, convCase("transpose", "none", "relu", "bernoulli"), Shape{8, 8, 1}, ObjectiveConfig{Type: "mmd", Set: Values{"beta": 0.0, "lambda": 5.0}})
}

func TestMMDSettings(t *testing.T) {
	for _, tc := range []struct {
		c   ObjectiveConfig
		key string
	}{
		{ObjectiveConfig{Type: "mmd", Set: Values{"beta": 1.0}}, "objective.lambda"},
		{ObjectiveConfig{Type: "mmd", Set: Values{"beta": -1.0, "lambda": 1.0}}, "objective.beta"},
		{ObjectiveConfig{Type: "mmd", Set: Values{"beta": 1.0, "lambda": 1.0, "warmup_steps": 3}}, "objective.warmup_steps: the mmd objective does not take it (it belongs to elbo)"},
		{ObjectiveConfig{Set: Values{"beta": 1.0, "lambda": 1.0}}, "objective.lambda: the elbo objective does not take it (it belongs to mmd)"},
	} {
		if err := tc.c.Validate(); err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%+v: want an error naming %s, got %v", tc.c, tc.key, err)
		}
	}
}
