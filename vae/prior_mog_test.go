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

func mogCase() ModelConfig {
	return ModelConfig{Architecture: "mlp", Hidden: []int{5}, Latent: 2, Activation: "tanh", Likelihood: "bernoulli", Prior: "mog", Set: Values{"prior_components": 3}}
}

// newMoGModel is a float64 model with the mog prior's parameters moved off
// their start (random means, log-variances and logits).
func newMoGModel(t *testing.T, rng *rand.Rand) (*Model, *mogPrior) {
	t.Helper()
	m, err := NewModel(mogCase(), Shape{1, 6, 1}, tensor.Float64, rng)
	if err != nil {
		t.Fatal(err)
	}
	p := m.prior.(*mogPrior)
	for i := p.means; i < p.means+3; i++ {
		v := m.params[i].Value.Data().([]float64)
		for j := range v {
			v[j] += 0.5 * rng.NormFloat64()
		}
	}
	return m, p
}

// log p(z) of the mixture against the direct log-sum-exp of the components'
// densities, at given codes (some far from every component, where a naive
// sum of densities would underflow in float32). The KL estimate composes it
// with log q(z|x); the gradient check covers that composition.
func TestMoGPriorLogProbIsTheDirectFormula(t *testing.T) {
	m, p := newMoGModel(t, rand.New(rand.NewPCG(21, 22)))
	codes := []float64{0, 0, 1.4, -1.3, -0.8, 0.5, 0.6, -3.4, 9, 9, -12, 4}
	got := mixtureLogProbAt(t, m, p.parts, codes)
	means, vars, weights := p.values()
	for b := range len(codes) / 2 {
		z := codes[b*2 : b*2+2]
		if want := directMixtureLogProb(z, means, stddevs(vars), weights); math.Abs(got[b]-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("log p(%v) = %.12g, direct %.12g", z, got[b], want)
		}
	}
}

func TestMoGPriorGradientsMatchFiniteDifferences(t *testing.T) {
	checkModelGradients(t, mogCase(), Shape{1, 5, 1}, ObjectiveConfig{Set: Values{"beta": 1.0}}, 1)
}

// Draws follow the mixture; the traversal range covers every component.
func TestMoGPriorSampleAndRange(t *testing.T) {
	m, p := newMoGModel(t, rand.New(rand.NewPCG(5, 5)))
	means, vars, weights := p.values()
	z := m.prior.Sample(rand.New(rand.NewPCG(1, 1)), 40000, 2)
	for j := range 2 {
		got, want := 0.0, 0.0
		for i := range 40000 {
			got += z[i*2+j] / 40000
		}
		for k := range 3 {
			want += weights[k] * means[k*2+j]
		}
		if math.Abs(got-want) > 0.03 {
			t.Errorf("dimension %d: draws' mean %v, mixture's %v", j, got, want)
		}
	}
	lo, hi := m.prior.TraversalRange()
	for i, mu := range means {
		if mu-3*math.Sqrt(vars[i]) < lo-1e-12 || mu+3*math.Sqrt(vars[i]) > hi+1e-12 {
			t.Errorf("component value %d (%v ± 3·%v) outside the traversal range [%v, %v]", i, mu, math.Sqrt(vars[i]), lo, hi)
		}
	}
}

func TestMoGPriorSettings(t *testing.T) {
	for _, tc := range []struct {
		edit func(*ModelConfig)
		key  string
	}{
		{func(c *ModelConfig) { *c = c.With("prior_components", -1) }, "model.prior_components"},
		{func(c *ModelConfig) { *c = c.With("prior_components", 1001) }, "model.prior_components"},
		{func(c *ModelConfig) { c.Prior = "" }, "model.prior_components: the standard prior does not take it (it belongs to mog, vamp)"},
	} {
		c := mogCase()
		tc.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("want an error naming %s, got %v", tc.key, err)
		}
	}
	m, _ := newMoGModel(t, rand.New(rand.NewPCG(1, 1)))
	if _, err := m.newObjective(3, ObjectiveConfig{Set: Values{"beta": 1.0, "free_bits": 0.5}}, true, 0); err == nil || !strings.Contains(err.Error(), "free_bits") {
		t.Errorf("free bits with the mog prior: %v", err)
	}
}

// mixtureLogProbAt runs a mixture prior's log p(z) on given codes (n × L) in
// a training graph of m; the node is consumed by nothing, so its value
// survives the run (Gorgonia overwrites consumed values in place).
func mixtureLogProbAt(t *testing.T, m *Model, parts mixtureParts, codes []float64) []float64 {
	t.Helper()
	L := m.cfg.Latent
	n := len(codes) / L
	o, err := m.newObjective(n, ObjectiveConfig{Set: Values{"beta": 1.0}}, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	zq := o.input("zq", n, L)
	lp := mixtureLogProb(o, zq, parts)
	if err := o.let(zq, nil, codes); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(o.g)
	defer vm.Close()
	if err := o.feed(make([]float32, n*m.inDim), make([]float64, n*L), 1); err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	return ops.Values64(lp.Value())
}

// directMixtureLogProb is log Σ_k w_k Π_j N(z_j; m_kj, sd_kj²) written out,
// with a max-shifted log-sum-exp.
func directMixtureLogProb(z, means, sd, weights []float64) float64 {
	L := len(z)
	terms := make([]float64, len(weights))
	hi := math.Inf(-1)
	for k, w := range weights {
		terms[k] = math.Log(w)
		for j := range L {
			v, d := sd[k*L+j]*sd[k*L+j], z[j]-means[k*L+j]
			terms[k] += -d*d/(2*v) - 0.5*math.Log(2*math.Pi*v)
		}
		hi = math.Max(hi, terms[k])
	}
	sum := 0.0
	for _, x := range terms {
		sum += math.Exp(x - hi)
	}
	return hi + math.Log(sum)
}
