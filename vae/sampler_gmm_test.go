package vae

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// threeBlobs draws n points of a known 2-D mixture: weights, means and
// covariances [[a, c], [c, b]].
func threeBlobs(n int, rng *rand.Rand) (x []float64, weights []float64, means, covs [][]float64) {
	weights = []float64{0.5, 0.3, 0.2}
	means = [][]float64{{0, 0}, {6, 1}, {-3, 7}}
	covs = [][]float64{{1, 0.5, 0.3}, {0.3, 2, -0.4}, {0.6, 0.6, 0}} // a, b, c
	for range n {
		k, u := 2, rng.Float64()
		for i, w := range weights {
			if u -= w; u < 0 {
				k = i
				break
			}
		}
		a, b, c := covs[k][0], covs[k][1], covs[k][2]
		// Cholesky of [[a, c], [c, b]] by hand.
		l11 := math.Sqrt(a)
		l21 := c / l11
		l22 := math.Sqrt(b - l21*l21)
		e1, e2 := rng.NormFloat64(), rng.NormFloat64()
		x = append(x, means[k][0]+l11*e1, means[k][1]+l21*e1+l22*e2)
	}
	return x, weights, means, covs
}

// EM never decreases its objective and recovers a known 3-component mixture.
func TestMixtureEMRecoversAKnownMixture(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	x, weights, means, covs := threeBlobs(4000, rng)
	g, history, err := fitMixture(context.Background(), x, 2, 3, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(history); i++ {
		if history[i] < history[i-1]-1e-9*math.Abs(history[i-1]) {
			t.Fatalf("EM objective fell at iteration %d: %v → %v", i, history[i-1], history[i])
		}
	}
	if len(history) < 2 || len(history) == emMaxIter {
		t.Errorf("EM ran %d iterations", len(history))
	}
	for k, want := range means {
		c := slices.IndexFunc(g.means, func(m []float64) bool { return sqDist(m, want) < 0.1 })
		if c < 0 {
			t.Fatalf("no fitted mean near %v: %v", want, g.means)
		}
		if math.Abs(g.weights[c]-weights[k]) > 0.03 {
			t.Errorf("component at %v: weight %.3f, want %.3f", want, g.weights[c], weights[k])
		}
		var cov [2][2]float64 // Cholesky.At reads the factorised covariance
		for i := range 2 {
			for j := range 2 {
				cov[i][j] = g.chol[c].At(i, j)
			}
		}
		for _, p := range []struct{ got, want float64 }{{cov[0][0], covs[k][0]}, {cov[1][1], covs[k][1]}, {cov[0][1], covs[k][2]}} {
			if math.Abs(p.got-p.want) > 0.15*math.Max(1, math.Abs(p.want)) {
				t.Errorf("component at %v: covariance %v, want a=%v b=%v c=%v", want, cov, covs[k][0], covs[k][1], covs[k][2])
			}
		}
	}
	// Draws follow the fitted mixture: their mean is the mixture's.
	z := g.sample(rand.New(rand.NewPCG(3, 3)), 20000)
	var mean [2]float64
	for i := range 20000 {
		mean[0] += z[2*i] / 20000
		mean[1] += z[2*i+1] / 20000
	}
	var want [2]float64
	for c := range 3 {
		want[0] += g.weights[c] * g.means[c][0]
		want[1] += g.weights[c] * g.means[c][1]
	}
	if math.Hypot(mean[0]-want[0], mean[1]-want[1]) > 0.1 {
		t.Errorf("draws' mean %v, mixture's %v", mean, want)
	}
}

// log p(z) of a fitted mixture against a direct log-sum-exp of 2-D Gaussian
// densities written from their definition.
func TestMixtureLogProbIsTheDirectFormula(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 5))
	x, _, _, _ := threeBlobs(600, rng)
	g, _, err := fitMixture(context.Background(), x, 2, 3, rand.New(rand.NewPCG(2, 2)))
	if err != nil {
		t.Fatal(err)
	}
	for _, z := range [][]float64{{0, 0}, {5, 2}, {-3, 6}, {20, -20}} {
		sum := 0.0
		for c := range 3 {
			a, b, off := g.chol[c].At(0, 0), g.chol[c].At(1, 1), g.chol[c].At(0, 1)
			det := a*b - off*off
			dx, dy := z[0]-g.means[c][0], z[1]-g.means[c][1]
			maha := (b*dx*dx - 2*off*dx*dy + a*dy*dy) / det
			sum += g.weights[c] * math.Exp(-maha/2) / (2 * math.Pi * math.Sqrt(det))
		}
		if got := g.logProb(z); math.Abs(got-math.Log(sum)) > 1e-9*math.Max(1, math.Abs(got)) {
			t.Errorf("log p(%v) = %v, direct %v", z, got, math.Log(sum))
		}
	}
}

func TestGMMSamplerSettings(t *testing.T) {
	cfg := ModelConfig{Architecture: "mlp", Hidden: []int{6}, Latent: 2, Activation: "relu", Likelihood: "bernoulli"}
	m, err := NewModel(cfg, Shape{4, 3, 1}, tensor.Float32, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSampler("gmm", EvalConfig{Set: Values{"gmm_components": 5}})
	if err != nil || !s.NeedsLatents() {
		t.Fatalf("gmm sampler: %v, needs latents %v", err, s.NeedsLatents())
	}
	err = s.Fit(context.Background(), m, Codes{Mu: make([]float64, 2*4)}, rand.New(rand.NewPCG(1, 1)))
	if err == nil || !strings.Contains(err.Error(), "eval.gmm_components") {
		t.Errorf("5 components for 4 images: %v", err)
	}
	rng := rand.New(rand.NewPCG(6, 6))
	mu, _, _, _ := threeBlobs(300, rng)
	if err := s.Fit(context.Background(), m, Codes{Mu: mu}, rng); err != nil {
		t.Fatal(err)
	}
	if z, err := s.Draw(context.Background(), rng, 7); err != nil || len(z) != 14 {
		t.Errorf("7 draws of 2 dimensions gave %d values", len(z))
	}
	if err := (EvalConfig{BatchSize: 10, GridImages: 8, Set: Values{"gmm_components": -1}}).Validate(); err == nil || !strings.Contains(err.Error(), "eval.gmm_components") {
		t.Errorf("eval.gmm_components -1: %v", err)
	}
}
