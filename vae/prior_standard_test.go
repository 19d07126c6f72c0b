package vae

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/vaelab/vaelab/vae/internal/ops"
)

func TestPriorTable(t *testing.T) {
	for _, tc := range []struct{ name, wantErr string }{
		{"", ""}, {"standard", ""}, {"vamp_typo", `model.prior: "vamp_typo" is not supported (supported: mog, standard, vamp)`},
	} {
		_, err := PriorNamed(tc.name)
		if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("PriorNamed(%q): %v, want %q", tc.name, err, tc.wantErr)
		}
	}
	if lo, hi := (standardNormal{}).TraversalRange(); lo != -3 || hi != 3 {
		t.Errorf("standard normal traversal range [%v, %v], want [−3, 3]", lo, hi)
	}
}

// TestStandardPriorSamplesAreStandardNormal: mean 0 and variance 1 per
// dimension, within 5 standard errors.
func TestStandardPriorSamplesAreStandardNormal(t *testing.T) {
	const n, L = 20000, 3
	z := (standardNormal{}).Sample(rand.New(rand.NewPCG(3, 3)), n, L)
	for j := range L {
		var s, s2 float64
		for i := range n {
			s += z[i*L+j]
			s2 += z[i*L+j] * z[i*L+j]
		}
		mean, v := s/n, s2/n-(s/n)*(s/n)
		if math.Abs(mean) > 5/math.Sqrt(n) || math.Abs(v-1) > 5*math.Sqrt(2.0/n) {
			t.Errorf("dimension %d: mean %.4f, variance %.4f", j, mean, v)
		}
	}
}

// TestStandardPriorLogRatio: the graph's log p(z) − log q(z|x) equals the two
// Gaussian log densities computed directly at the same z.
func TestStandardPriorLogRatio(t *testing.T) {
	const batch = 5
	cfg := ModelConfig{Architecture: "mlp", Hidden: []int{4}, Latent: 3, Activation: "tanh", Likelihood: "bernoulli"}
	rng := rand.New(rand.NewPCG(2, 8))
	m, err := NewModel(cfg, Shape{1, 6, 1}, tensor.Float64, rng)
	if err != nil {
		t.Fatal(err)
	}
	x, eps := testInputs(rng, batch, 6, cfg.Latent)
	o, err := m.newObjective(batch, ObjectiveConfig{Set: Values{"beta": 1.0}}, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	r, err := o.addReadouts()
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(o.g)
	defer vm.Close()
	if err := o.feed(x, eps, 1); err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	mu, lv, got := ops.Values64(r.mu), ops.Values64(r.logvar), ops.Values64(r.logRatio)
	L := cfg.Latent
	for i := range batch {
		want := 0.0
		for j := range L {
			k := i*L + j
			z := mu[k] + math.Exp(lv[k]/2)*eps[k]
			logp := -0.5*z*z - 0.5*math.Log(2*math.Pi)
			logq := -0.5*(z-mu[k])*(z-mu[k])/math.Exp(lv[k]) - 0.5*lv[k] - 0.5*math.Log(2*math.Pi)
			want += logp - logq
		}
		if math.Abs(got[i]-want) > 1e-10*math.Max(1, math.Abs(want)) {
			t.Errorf("image %d: log ratio %.12g, direct %.12g", i, got[i], want)
		}
	}
}
