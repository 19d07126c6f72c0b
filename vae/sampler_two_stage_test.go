package vae

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gorgonia.org/tensor"
)

// blobDensity is the log density of threeBlobs' mixture at a 2-d point.
func blobDensity(weights []float64, means, covs [][]float64, z []float64) float64 {
	p := 0.0
	for k, w := range weights {
		a, b, c := covs[k][0], covs[k][1], covs[k][2]
		det := a*b - c*c
		dx, dy := z[0]-means[k][0], z[1]-means[k][1]
		q := (b*dx*dx - 2*c*dx*dy + a*dy*dy) / det
		p += w * math.Exp(-q/2) / (2 * math.Pi * math.Sqrt(det))
	}
	return math.Log(p)
}

// On codes from three separated blobs, the second VAE's draws land where the
// codes are: their mean log density under the true mixture is far above that
// of draws from the Gaussian with the codes' mean and per-dimension spread
// (what N(0, I) becomes after the same standardisation). The fit is
// reproducible from its generator, and its draws leave [0, 1].
func TestTwoStageSamplerModelsTheCodes(t *testing.T) {
	cfg := ModelConfig{Architecture: "mlp", Hidden: []int{6}, Latent: 2, Activation: "relu", Likelihood: "bernoulli"}
	m, err := NewModel(cfg, Shape{4, 3, 1}, tensor.Float32, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	x, weights, means, covs := threeBlobs(1500, rand.New(rand.NewPCG(3, 4)))
	fit := func() (Sampler, []float64) {
		s, err := NewSampler("two_stage", EvalConfig{Set: Values{"two_stage_epochs": 60, "two_stage_hidden": 64}})
		if err != nil || !s.NeedsLatents() {
			t.Fatalf("two_stage sampler: %v", err)
		}
		if err := s.Fit(context.Background(), m, Codes{Mu: x}, rand.New(rand.NewPCG(5, 6))); err != nil {
			t.Fatal(err)
		}
		z, err := s.Draw(context.Background(), rand.New(rand.NewPCG(7, 8)), 2000)
		if err != nil {
			t.Fatal(err)
		}
		return s, z
	}
	s, z := fit()
	if _, again := fit(); !slices.Equal(z, again) {
		t.Fatal("two fits from the same generator drew different codes")
	}
	ts := s.(*twoStageSampler)
	rng := rand.New(rand.NewPCG(9, 9))
	meanLogDensity := func(points []float64) float64 {
		sum := 0.0
		for i := 0; i < len(points); i += 2 {
			sum += blobDensity(weights, means, covs, points[i:i+2])
		}
		return sum / float64(len(points)/2)
	}
	g := make([]float64, len(z))
	for i := range g {
		g[i] = ts.center[i%2] + ts.scale[i%2]*rng.NormFloat64()
	}
	twoStage, gaussian, data := meanLogDensity(z), meanLogDensity(g), meanLogDensity(x)
	t.Logf("mean log density under the true mixture: data %.3f, two-stage draws %.3f, moment-matched Gaussian %.3f", data, twoStage, gaussian)
	if !(twoStage > gaussian+1) {
		t.Errorf("two-stage draws %.3f, moment-matched Gaussian %.3f: the second VAE did not model the blobs", twoStage, gaussian)
	}
	if lo, hi := slices.Min(z), slices.Max(z); lo > -1 || hi < 2 {
		t.Errorf("draws span [%v, %v]: the codes span about [-6, 10]; the decoder mean is bounded", lo, hi)
	}
}
