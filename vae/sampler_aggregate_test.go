package vae

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

func aggregateModel(t *testing.T, latent int) *Model {
	t.Helper()
	cfg := ModelConfig{Architecture: "mlp", Hidden: []int{6}, Latent: latent, Activation: "relu", Likelihood: "bernoulli"}
	m, err := NewModel(cfg, Shape{4, 3, 1}, tensor.Float32, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The aggregate posterior of two images with q(z|x) = N(±3, 0.5²) in one
// dimension has mean 0, variance 3² + 0.5² = 9.25 and half its mass on each
// side; its draws must show that.
func TestAggregateSamplerDrawsTheMixtureOfPosteriors(t *testing.T) {
	m := aggregateModel(t, 1)
	s, err := NewSampler("aggregate", EvalConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.NeedsLatents() {
		t.Fatal("the aggregate sampler must ask for the training codes")
	}
	lv := 2 * math.Log(0.5)
	if err := s.Fit(context.Background(), m, Codes{Mu: []float64{-3, 3}, LogVar: []float64{lv, lv}}, rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
	const n = 200000
	z, err := s.Draw(context.Background(), rand.New(rand.NewPCG(2, 3)), n)
	if err != nil || len(z) != n {
		t.Fatalf("%d draws, %v", len(z), err)
	}
	var sum, sq float64
	positive := 0
	for _, v := range z {
		sum += v
		sq += v * v
		if v > 0 {
			positive++
		}
	}
	mean, variance := sum/n, sq/n-(sum/n)*(sum/n)
	// Standard errors: √(9.25/n) ≈ 0.0068 for the mean; the variance's is
	// about √((E z⁴ − σ⁴)/n) ≈ 0.04 here.
	if math.Abs(mean) > 0.03 || math.Abs(variance-9.25) > 0.15 || math.Abs(float64(positive)/n-0.5) > 0.005 {
		t.Errorf("mean %.4f (want 0), variance %.4f (want 9.25), share above 0 %.4f (want 0.5)", mean, variance, float64(positive)/n)
	}
}

// Each draw comes from one image's posterior: with tiny variances every
// draw lies next to one of the means, in every dimension at once.
func TestAggregateSamplerKeepsImagesWhole(t *testing.T) {
	m := aggregateModel(t, 3)
	mu := []float64{1, 2, 3, -1, -2, -3}
	lv := make([]float64, 6)
	for i := range lv {
		lv[i] = -20
	}
	s, _ := NewSampler("aggregate", EvalConfig{})
	if err := s.Fit(context.Background(), m, Codes{Mu: mu, LogVar: lv}, rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
	z, _ := s.Draw(context.Background(), rand.New(rand.NewPCG(4, 5)), 100)
	for k := range 100 {
		row := z[3*k : 3*k+3]
		near := func(c []float64) bool {
			for j := range 3 {
				if math.Abs(row[j]-c[j]) > 1e-3 {
					return false
				}
			}
			return true
		}
		if !near(mu[:3]) && !near(mu[3:]) {
			t.Fatalf("draw %d = %v mixes images or strays from both means", k, row)
		}
	}
}

func TestAggregateSamplerRefusesBadCodes(t *testing.T) {
	m := aggregateModel(t, 2)
	for _, tc := range []struct {
		name string
		c    Codes
	}{
		{"no codes", Codes{}},
		{"means only", Codes{Mu: []float64{1, 2}}},
		{"lengths differ", Codes{Mu: []float64{1, 2}, LogVar: []float64{0, 0, 0, 0}}},
	} {
		s, _ := NewSampler("aggregate", EvalConfig{})
		if err := s.Fit(context.Background(), m, tc.c, rand.New(rand.NewPCG(1, 1))); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	s, _ := NewSampler("aggregate", EvalConfig{})
	if err := s.UnmarshalFit(m, []byte(`{"latent":3,"mu":[1,2,3],"sigma":[1,1,1]}`)); err == nil {
		t.Error("a fit of 3-dimensional codes was restored into a 2-dimensional model")
	}
}

// More training images than the cap: a seeded subset of whole images is
// kept, the same for the same generator.
func TestAggregateSamplerCapsTheImagesKept(t *testing.T) {
	m := aggregateModel(t, 1)
	n := aggregateMaxImages + 500
	mu, lv := make([]float64, n), make([]float64, n)
	for i := range mu {
		mu[i] = float64(i)
	}
	fit := func() *aggregateSampler {
		s := &aggregateSampler{}
		if err := s.Fit(context.Background(), m, Codes{Mu: mu, LogVar: lv}, rand.New(rand.NewPCG(9, 9))); err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := fit(), fit()
	if len(a.mu) != aggregateMaxImages || len(a.sigma) != aggregateMaxImages {
		t.Fatalf("kept %d images, want %d", len(a.mu), aggregateMaxImages)
	}
	for i := range a.mu {
		if a.mu[i] != b.mu[i] || a.sigma[i] != 1 || (i > 0 && a.mu[i] <= a.mu[i-1]) {
			t.Fatalf("kept images differ between two fits with one seed, or are not distinct training images (at %d)", i)
		}
	}
}
