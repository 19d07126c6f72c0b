package vae

import (
	"context"
	"math/rand/v2"
)

// priorSampler draws from the model's prior p(z): the VAE's own generative
// model, and the default sampler.
type priorSampler struct {
	prior  Prior
	latent int
}

func (s *priorSampler) Fit(_ context.Context, m *Model, _ Codes, _ *rand.Rand) error {
	s.prior, s.latent = m.prior, m.cfg.Latent
	return nil
}

func (s *priorSampler) Draw(_ context.Context, rng *rand.Rand, n int) ([]float64, error) {
	return s.prior.Sample(rng, n, s.latent), nil
}

func (s *priorSampler) NeedsLatents() bool { return false }

func (s *priorSampler) Key() string { return "" }

// The prior sampler has nothing fitted: it reads the model's prior.
func (s *priorSampler) MarshalFit() ([]byte, error) { return []byte("{}"), nil }

func (s *priorSampler) UnmarshalFit(m *Model, _ []byte) error {
	return s.Fit(context.Background(), m, Codes{}, nil)
}
