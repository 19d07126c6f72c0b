package vae

import (
	"context"
	"math/rand/v2"
)

// Codes are the training images' posteriors q(z|x) = N(Mu, exp(LogVar)),
// n × latent values each, row-major: what post-hoc samplers are fitted on.
type Codes struct {
	Mu, LogVar []float64
}

// A Sampler draws latent codes for generation once a model is trained (post
// hoc: no retraining), fitted on the model and its training images'
// posteriors. Evaluation decodes its draws (Model.Decode) for the sample-quality
// metrics. Each lives in a file of its own (sampler_*.go) and is named for
// eval.samplers by one line of samplers.
type Sampler interface {
	// Fit fits the sampler to m and the training images' codes; rng serves
	// fitting that draws.
	Fit(ctx context.Context, m *Model, codes Codes, rng *rand.Rand) error
	// Draw returns n latent codes (n × latent values, row-major).
	Draw(ctx context.Context, rng *rand.Rand, n int) ([]float64, error)
	// NeedsLatents tells whether Fit reads the codes, so that evaluation encodes
	// the training images only when some sampler does.
	NeedsLatents() bool
	// Key names the settings the fit depends on besides the model, its
	// codes and the generator ("components=10"), so that a stored fit is
	// reused only under the same ones.
	Key() string
	// MarshalFit encodes the fit; UnmarshalFit restores it, for model m,
	// so that it draws exactly as the fit did.
	MarshalFit() ([]byte, error)
	UnmarshalFit(m *Model, b []byte) error
}

// samplers names every sampler for eval.samplers; each call makes a new,
// unfitted one with the evaluation's settings.
func samplers() map[string]func(EvalConfig) Sampler {
	return map[string]func(EvalConfig) Sampler{
		"prior": func(EvalConfig) Sampler { return &priorSampler{} },
		"gmm":   func(c EvalConfig) Sampler { return &gmmSampler{components: c.WithDefaults().GMMComponents} },
		"two_stage": func(c EvalConfig) Sampler {
			c = c.WithDefaults()
			return &twoStageSampler{epochs: c.TwoStageEpochs, hidden: c.TwoStageHidden}
		},
		"aggregate": func(EvalConfig) Sampler { return &aggregateSampler{} },
	}
}

// NewSampler returns a new sampler called name, set up by c.
func NewSampler(name string, c EvalConfig) (Sampler, error) {
	mk, err := lookup(samplers(), "eval.samplers", name)
	if err != nil {
		return nil, err
	}
	return mk(c), nil
}
