package vae

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// aggregateSampler draws from the aggregate posterior, the mixture
// q(z) = (1/n) Σᵢ q(z|xᵢ) of the training images' posteriors: an image
// chosen uniformly, then z ~ N(μᵢ, diag σᵢ²). It is the density the prior is
// trained to match, so decoding its draws against the prior's shows how much
// of the gap between samples and reconstructions is the prior's (holes in
// q(z) where p(z) has mass) — at the price of keeping the training codes.
// At most aggregateMaxImages images are kept (a seeded uniform subset), so
// that its stored fit stays small on CelebA-size data.
type aggregateSampler struct {
	latent    int
	mu, sigma []float64 // the kept images' means and standard deviations
}

const aggregateMaxImages = 10000

func (s *aggregateSampler) NeedsLatents() bool { return true }

func (s *aggregateSampler) Fit(_ context.Context, m *Model, c Codes, rng *rand.Rand) error {
	d := m.cfg.Latent
	n := len(c.Mu) / d
	if n == 0 || len(c.LogVar) != len(c.Mu) {
		return fmt.Errorf("aggregate: %d means and %d log-variances of %d-dimensional codes; want the same positive number of each", len(c.Mu), len(c.LogVar), d)
	}
	keep := make([]int, n)
	for i := range keep {
		keep[i] = i
	}
	if n > aggregateMaxImages {
		keep = rng.Perm(n)[:aggregateMaxImages]
		slices.Sort(keep)
	}
	s.latent, s.mu, s.sigma = d, make([]float64, 0, len(keep)*d), make([]float64, 0, len(keep)*d)
	for _, i := range keep {
		s.mu = append(s.mu, c.Mu[i*d:(i+1)*d]...)
		for _, lv := range c.LogVar[i*d : (i+1)*d] {
			s.sigma = append(s.sigma, math.Exp(0.5*lv))
		}
	}
	return nil
}

func (s *aggregateSampler) Draw(_ context.Context, rng *rand.Rand, n int) ([]float64, error) {
	d := s.latent
	images := len(s.mu) / d
	z := make([]float64, 0, n*d)
	for range n {
		i := rng.IntN(images)
		for j := range d {
			z = append(z, s.mu[i*d+j]+s.sigma[i*d+j]*rng.NormFloat64())
		}
	}
	return z, nil
}

func (s *aggregateSampler) Key() string { return fmt.Sprintf("max_images=%d", aggregateMaxImages) }

type aggregateFit struct {
	Latent int       `json:"latent"`
	Mu     []float64 `json:"mu"`
	Sigma  []float64 `json:"sigma"`
}

func (s *aggregateSampler) MarshalFit() ([]byte, error) {
	return json.Marshal(aggregateFit{Latent: s.latent, Mu: s.mu, Sigma: s.sigma})
}

func (s *aggregateSampler) UnmarshalFit(m *Model, b []byte) error {
	var f aggregateFit
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("aggregate fit: %w", err)
	}
	if f.Latent != m.cfg.Latent || len(f.Mu) == 0 || len(f.Mu)%f.Latent != 0 || len(f.Sigma) != len(f.Mu) {
		return fmt.Errorf("aggregate fit: %d means and %d deviations of %d dimensions do not fit a model with %d latent dimensions", len(f.Mu), len(f.Sigma), f.Latent, m.cfg.Latent)
	}
	s.latent, s.mu, s.sigma = f.Latent, f.Mu, f.Sigma
	return nil
}
