package vae

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"

	"gorgonia.org/tensor"

	"github.com/vaelab/vaelab/data"
)

func twoStageSettings() []Setting {
	return []Setting{
		IntSetting("two_stage_epochs", 200, "training epochs of the second VAE over the codes", intBetween(1, 100000)),
		IntSetting("two_stage_hidden", 256, "width of the second VAE's two hidden layers", intBetween(2, 8192)),
	}
}

func newTwoStageSampler(c EvalConfig) Sampler {
	return &twoStageSampler{epochs: c.Int("two_stage_epochs"), hidden: c.Int("two_stage_hidden")}
}

// twoStageSampler is the two-stage VAE of Dai & Wipf 2019 ("Diagnosing and
// enhancing VAE models"): a second, small VAE trained on the training
// images' posterior means, whose samples the first decoder decodes. It
// models the aggregate posterior, which the first stage leaves away from
// N(0, I). The second VAE is an MLP with two hidden layers of
// eval.two_stage_hidden units, as many latent dimensions as the codes, and
// a Gaussian likelihood with one learned σ (the paper's γ), its decoder mean
// unbounded; it trains for eval.two_stage_epochs with Adam (lr 1e-3,
// batches of 64) on the codes standardised per dimension (an affine map,
// undone on drawing).
type twoStageSampler struct {
	epochs, hidden int
	stage2         *Model
	center, scale  []float64
}

func (s *twoStageSampler) NeedsLatents() bool { return true }

const twoStageBatch = 64

func (s *twoStageSampler) Fit(ctx context.Context, m *Model, c Codes, rng *rand.Rand) error {
	mu := c.Mu
	L := m.cfg.Latent
	n := len(mu) / L
	if n < 2 {
		return fmt.Errorf("two_stage: %d codes; the second VAE needs at least 2", n)
	}
	codes := s.standardise(mu, n, L)
	cfg := s.stage2Config(L)
	m2, err := NewModel(cfg, Shape{1, L, 1}, tensor.Float32, rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64())))
	if err != nil {
		return err
	}
	m2.linearMean = true
	setup := Setup{Model: cfg, Objective: DefaultObjectiveConfig(), Train: DefaultTrainConfig()}
	setup.Train.BatchSize = min(twoStageBatch, n)
	t, err := newTrainer(m2, setup, n)
	if err != nil {
		return err
	}
	defer t.vm.Close()
	im := data.Images{N: n, Height: 1, Width: L, Channels: 1, Pix: codes}
	b := setup.Train.BatchSize
	total := s.epochs * (n / b)
	for step, epoch := 0, 0; epoch < s.epochs; epoch++ {
		order := rng.Perm(n)
		for start := 0; start+b <= n; start += b {
			if err := ctx.Err(); err != nil {
				return err
			}
			step++
			vals, err := t.step(gather(im, order[start:start+b]), normals(rng, b*L), t.scalars(step, total), setup.Train.LearningRate)
			if err != nil {
				return fmt.Errorf("two_stage: step %d: %w", step, err)
			}
			if bad := firstNonFinite(vals); bad != "" {
				return fmt.Errorf("two_stage: the second VAE diverged at step %d (%s is not finite)", step, bad)
			}
		}
	}
	s.stage2 = m2
	return nil
}

// standardise returns the codes (n × L) centred and scaled per dimension,
// as float32, keeping the map to undo it.
func (s *twoStageSampler) standardise(mu []float64, n, L int) []float32 {
	s.center, s.scale = make([]float64, L), make([]float64, L)
	for d := range L {
		sum, sq := 0.0, 0.0
		for i := range n {
			sum += mu[i*L+d]
		}
		mean := sum / float64(n)
		for i := range n {
			sq += (mu[i*L+d] - mean) * (mu[i*L+d] - mean)
		}
		s.center[d], s.scale[d] = mean, max(math.Sqrt(sq/float64(n)), 1e-6)
	}
	out := make([]float32, n*L)
	for i := range out {
		d := i % L
		out[i] = float32((mu[i] - s.center[d]) / s.scale[d])
	}
	return out
}

// Draw samples u ~ N(0, I), decodes them with the second VAE (its means:
// Dai & Wipf decode without the second stage's noise) and undoes the
// standardisation.
func (s *twoStageSampler) Draw(ctx context.Context, rng *rand.Rand, n int) ([]float64, error) {
	L := len(s.center)
	codes, err := s.stage2.Decode(ctx, normals(rng, n*L), data.Images{Height: 1, Width: L, Channels: 1})
	if err != nil {
		return nil, fmt.Errorf("two_stage: %w", err)
	}
	z := make([]float64, n*L)
	for i, v := range codes.Pix {
		d := i % L
		z[i] = float64(v)*s.scale[d] + s.center[d]
	}
	return z, nil
}

func (s *twoStageSampler) Key() string { return fmt.Sprintf("epochs=%d hidden=%d", s.epochs, s.hidden) }

// twoStageFit is the stored form of a fit: the standardisation and the
// second VAE's weights in parameter order.
type twoStageFit struct {
	Center  []float64   `json:"center"`
	Scale   []float64   `json:"scale"`
	Weights [][]float32 `json:"weights"`
}

func (s *twoStageSampler) MarshalFit() ([]byte, error) {
	f := twoStageFit{Center: s.center, Scale: s.scale}
	for _, p := range s.stage2.params {
		f.Weights = append(f.Weights, p.Value.Data().([]float32))
	}
	return json.Marshal(f)
}

func (s *twoStageSampler) UnmarshalFit(m *Model, b []byte) error {
	var f twoStageFit
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	L := m.cfg.Latent
	if len(f.Center) != L || len(f.Scale) != L {
		return fmt.Errorf("two_stage fit: %d dimensions, the model has %d", len(f.Center), L)
	}
	m2, err := NewModel(s.stage2Config(L), Shape{1, L, 1}, tensor.Float32, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return err
	}
	m2.linearMean = true
	if len(f.Weights) != len(m2.params) {
		return fmt.Errorf("two_stage fit: %d tensors, the second VAE has %d", len(f.Weights), len(m2.params))
	}
	for i, p := range m2.params {
		w := p.Value.Data().([]float32)
		if len(f.Weights[i]) != len(w) {
			return fmt.Errorf("two_stage fit: tensor %s has %d values, want %d", p.Name, len(f.Weights[i]), len(w))
		}
		copy(w, f.Weights[i])
	}
	s.stage2, s.center, s.scale = m2, f.Center, f.Scale
	return nil
}

func (s *twoStageSampler) stage2Config(latent int) ModelConfig {
	return ModelConfig{Architecture: "mlp", Hidden: []int{s.hidden, s.hidden}, Latent: latent, Activation: "relu", Likelihood: "gaussian_learned"}
}
