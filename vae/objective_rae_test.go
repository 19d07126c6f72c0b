package vae

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/vaelab/vaelab/data"
)

// The rae loss is, in closed form, the Gaussian reconstruction error of the
// decoder means at z = μ(x) (what Reconstruct gives, with ε = 0), plus
// β·½‖μ‖² of the encoder's means (Encode) and λ times the sum of the squared
// decoder weights and biases, read from the parameters by name; and it does
// not depend on ε.
func TestRAELossMatchesClosedForm(t *testing.T) {
	const batch, dim, sigma = 4, 6, 0.5
	const beta, decay = 0.3, 0.01
	cfg := ModelConfig{Architecture: "mlp", Hidden: []int{5, 3}, Latent: 2, Activation: "tanh", Likelihood: "gaussian", Set: Values{"sigma": sigma}}
	rng := rand.New(rand.NewPCG(3, 9))
	m, err := NewModel(cfg, Shape{1, dim, 1}, tensor.Float64, rng)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.params { // non-zero biases, so that every term counts
		for i, v := range p.Value.Data().([]float64) {
			p.Value.Data().([]float64)[i] = v + 0.2*rng.NormFloat64()
		}
	}
	x, eps := testInputs(rng, batch, dim, cfg.Latent)
	c := ObjectiveConfig{Type: "rae", Set: Values{"beta": beta, "decoder_decay": decay}}
	o, err := m.newObjective(batch, c, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := forward(t, o, x, eps)
	if again := forward(t, o, x, normals(rng, len(eps))); again != got {
		t.Errorf("loss %v with other noise, %v before: the codes are not deterministic", again, got)
	}

	ctx := context.Background()
	im := data.Images{N: batch, Height: 1, Width: dim, Channels: 1, Pix: x}
	rec, err := m.Reconstruct(ctx, im, batch)
	if err != nil {
		t.Fatal(err)
	}
	mu, _, err := m.Encode(ctx, im, batch)
	if err != nil {
		t.Fatal(err)
	}
	recon, codes := 0.0, 0.0
	for i := range batch * dim {
		d := float64(x[i]) - float64(rec.Pix[i])
		recon += d*d/(2*sigma*sigma) + math.Log(sigma) + 0.5*math.Log(2*math.Pi)
	}
	for _, v := range mu {
		codes += 0.5 * v * v
	}
	weights := 0.0
	for _, p := range m.params {
		if strings.HasPrefix(p.Name, "dec") || strings.HasPrefix(p.Name, "out.") {
			for _, v := range p.Value.Data().([]float64) {
				weights += v * v
			}
		}
	}
	want := recon/batch + beta*codes/batch + decay*weights
	if math.Abs(got-want) > 1e-5*math.Max(1, math.Abs(want)) { // Reconstruct's means are float32
		t.Errorf("loss %.10g, closed form %.10g", got, want)
	}
}

func TestRAEGradientsMatchFiniteDifferences(t *testing.T) {
	c := ObjectiveConfig{Type: "rae", Set: Values{"beta": 0.5, "decoder_decay": 0.05}}
	checkModelGradients(t, ModelConfig{Architecture: "mlp", Hidden: []int{4}, Latent: 2, Activation: "tanh", Likelihood: "gaussian", Set: Values{"sigma": 0.5}}, Shape{1, 5, 1}, c)
	checkModelGradients(t, convCase("transpose", "none", "relu", "bernoulli"), Shape{8, 8, 1}, c)
	checkModelGradients(t, convCase("upsample", "none", "relu", "gaussian_learned"), Shape{8, 8, 1}, ObjectiveConfig{Type: "rae"})
}

func TestRAESettings(t *testing.T) {
	for _, tc := range []struct {
		c    ObjectiveConfig
		want string // "" for valid
	}{
		{ObjectiveConfig{Type: "rae"}, ""},
		{ObjectiveConfig{Type: "rae", Set: Values{"beta": 1.0, "decoder_decay": 0.0}}, ""},
		{ObjectiveConfig{Type: "rae", Set: Values{"beta": -1.0}}, "objective.beta: -1 must be between 0 and 1e6"},
		{ObjectiveConfig{Type: "rae", Set: Values{"decoder_decay": 2.0}}, "objective.decoder_decay: 2 must be between 0 and 1"},
		{ObjectiveConfig{Type: "rae", Set: Values{"kappa": 0.01}}, "objective.kappa: the rae objective does not take it (it belongs to geco)"},
		{ObjectiveConfig{Set: Values{"decoder_decay": 1e-7}}, "objective.decoder_decay: the elbo objective does not take it (it belongs to rae)"},
	} {
		err := tc.c.Validate()
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: error %v, want %q", tc.c, err, tc.want)
		}
	}
	// Left out, the paper's weights are in effect, and the run's identity
	// says so (β is always written).
	c := ObjectiveConfig{Type: "rae"}
	if c.Float("beta") != 1e-4 || c.Float("decoder_decay") != 1e-7 {
		t.Errorf("defaults β %v, λ %v; want 1e-4 and 1e-7", c.Float("beta"), c.Float("decoder_decay"))
	}
	b, err := json.Marshal(c.With("decoder_decay", 1e-6))
	if err != nil || string(b) != `{"type":"rae","beta":0.0001,"decoder_decay":0.000001}` {
		t.Errorf("identity %s (%v)", b, err)
	}
}
