package vae

import (
	"cmp"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/vaelab/vaelab/vae/internal/ops"
)

var objectiveCases = []struct {
	name     string
	cfg      ModelConfig
	beta     float64
	freeBits float64 // used by the gradient check only
	shape    Shape   // zero: 1×6 (loss) or 1×5 (gradients) grayscale
}{
	{"bernoulli relu β=1", ModelConfig{Architecture: "mlp", Hidden: []int{5, 4}, Latent: 3, Activation: "relu", Likelihood: "bernoulli"}, 1, 0, Shape{}},
	{"bernoulli tanh β=4", ModelConfig{Architecture: "mlp", Hidden: []int{5}, Latent: 2, Activation: "tanh", Likelihood: "bernoulli"}, 4, 0, Shape{}},
	{"gaussian tanh β=0.5", ModelConfig{Architecture: "mlp", Hidden: []int{4, 3}, Latent: 3, Activation: "tanh", Likelihood: "gaussian", Set: Values{"sigma": 0.3}}, 0.5, 0, Shape{}},
	{"gaussian relu no hidden β=0", ModelConfig{Architecture: "mlp", Hidden: nil, Latent: 2, Activation: "relu", Likelihood: "gaussian", Set: Values{"sigma": 1.0}}, 0, 0, Shape{}},
	{"bernoulli tanh free bits", ModelConfig{Architecture: "mlp", Hidden: []int{5}, Latent: 3, Activation: "tanh", Likelihood: "bernoulli"}, 2, 0.3, Shape{}},
	{"learned σ relu", ModelConfig{Architecture: "mlp", Hidden: []int{4}, Latent: 2, Activation: "relu", Likelihood: "gaussian_learned", Set: Values{"sigma": 0.4}}, 1, 0, Shape{}},
	{"per-pixel σ tanh", ModelConfig{Architecture: "mlp", Hidden: []int{4}, Latent: 2, Activation: "tanh", Likelihood: "gaussian_pixel"}, 1, 0, Shape{}},
	{"logvar clamp", ModelConfig{Architecture: "mlp", Hidden: []int{4}, Latent: 2, Activation: "relu", Likelihood: "bernoulli", LogvarClamp: 1.5}, 1, 0, Shape{}},
	{"optimal σ relu", ModelConfig{Architecture: "mlp", Hidden: []int{4}, Latent: 2, Activation: "relu", Likelihood: "gaussian_optimal", Set: Values{"sigma": 0.4}}, 1, 0, Shape{}},
	{"leaky relu", ModelConfig{Architecture: "mlp", Hidden: []int{4}, Latent: 2, Activation: "leaky_relu", Likelihood: "bernoulli"}, 1, 0, Shape{}},
	{"elu", ModelConfig{Architecture: "mlp", Hidden: []int{4}, Latent: 2, Activation: "elu", Likelihood: "bernoulli"}, 1, 0, Shape{}},
	{"conv transpose gray", convCase("transpose", "none", "relu", "bernoulli"), 1, 0, Shape{8, 8, 1}},
	{"conv transpose RGB elu gaussian", convCase("transpose", "none", "elu", "gaussian"), 1, 0, Shape{8, 6, 3}},
	{"conv upsample leaky", convCase("upsample", "none", "leaky_relu", "bernoulli"), 2, 0, Shape{8, 8, 1}},
	{"conv batch norm", convCase("transpose", "batch", "relu", "bernoulli"), 1, 0, Shape{8, 8, 1}},
	{"conv group norm tanh RGB", convCase("upsample", "group", "tanh", "gaussian_learned"), 1, 0, Shape{8, 8, 3}},
	{"conv per-pixel σ", convCase("transpose", "group", "relu", "gaussian_pixel"), 1, 0, Shape{8, 8, 2}},
}

// convCase is a small conv model: 8×8 → 4×4 → 2×2 with 2 and 4 channels, one
// hidden layer of 5, 2 latents.
func convCase(decoder, norm, act, likelihood string) ModelConfig {
	c := ModelConfig{Architecture: "conv", Channels: []int{2, 4}, Kernel: 4, Stride: 2, Decoder: decoder, Norm: norm,
		Hidden: []int{5}, Latent: 2, Activation: act, Likelihood: likelihood}
	if decoder == "upsample" {
		c.Kernel = 3
	}
	if norm == ops.NormGroup {
		c.Groups = 2
	}
	if likelihood == "gaussian" {
		c = c.With("sigma", 0.5)
	}
	return c
}

// testInputs draws a batch of images in [0,1] and standard normal ε.
func testInputs(rng *rand.Rand, batch, dim, latent int) ([]float32, []float64) {
	x := make([]float32, batch*dim)
	for i := range x {
		x[i] = rng.Float32()
	}
	return x, normals(rng, batch*latent)
}

func TestLossMatchesReferenceFormula(t *testing.T) {
	const batch = 4
	for _, tc := range objectiveCases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 7))
			shape := cmp.Or(tc.shape, Shape{1, 6, 1})
			dim := shape.Dim()
			m, err := NewModel(tc.cfg, shape, tensor.Float64, rng)
			if err != nil {
				t.Fatal(err)
			}
			x, eps := testInputs(rng, batch, dim, tc.cfg.Latent)
			o, err := m.newObjective(batch, ObjectiveConfig{Set: Values{"beta": 1.0}}, true, 0)
			if err != nil {
				t.Fatal(err)
			}
			got := forward(t, o, x, eps, tc.beta)
			x64 := make([]float64, len(x))
			for i, v := range x {
				x64[i] = float64(v)
			}
			logpx, kl := reference(m, x64, eps, batch)
			want, recon, klMean := 0.0, 0.0, 0.0
			for i := range batch {
				want += (tc.beta*kl[i] - logpx[i]) / batch
				recon -= logpx[i] / batch
				klMean += kl[i] / batch
			}
			for _, c := range []struct {
				what      string
				got, want float64
			}{{"loss", got, want}, {"recon", scalarValue(o.recon), recon}, {"kl", scalarValue(o.klm), klMean}} {
				if math.Abs(c.got-c.want) > 1e-9*math.Max(1, math.Abs(c.want)) {
					t.Errorf("%s = %.12g, reference formula gives %.12g", c.what, c.got, c.want)
				}
			}
		})
	}
}

// TestGradientsMatchFiniteDifferences checks every parameter's gradient from
// Gorgonia's backward pass against central differences of the loss, in float64.
func TestGradientsMatchFiniteDifferences(t *testing.T) {
	for _, tc := range objectiveCases {
		t.Run(tc.name, func(t *testing.T) {
			checkModelGradients(t, tc.cfg, cmp.Or(tc.shape, Shape{1, 5, 1}), ObjectiveConfig{Set: Values{"beta": tc.beta, "free_bits": tc.freeBits}}, tc.beta)
		})
	}
}

// checkModelGradients compares the backward pass of a model of cfg with central
// differences of its loss under objective c, fed the scalars fed, on a batch
// of 3, in float64.
func checkModelGradients(t *testing.T, cfg ModelConfig, shape Shape, c ObjectiveConfig, fed ...float64) {
	t.Helper()
	const batch, h = 3, 1e-6
	rng := rand.New(rand.NewPCG(11, 3))
	dim := shape.Dim()
	m, err := NewModel(cfg, shape, tensor.Float64, rng)
	if err != nil {
		t.Fatal(err)
	}
	// Random non-zero biases so ReLUs are not all at their kinks.
	for _, p := range m.params {
		for i, v := range p.Value.Data().([]float64) {
			p.Value.Data().([]float64)[i] = v + 0.3*rng.NormFloat64()
		}
	}
	obj, err := ObjectiveNamed(c.Type)
	if err != nil {
		t.Fatal(err)
	}
	x, eps := testInputs(rng, batch, dim, cfg.Latent*samplesPerImage(obj, c))
	o, err := m.newObjective(batch, c, true, 100)
	if err != nil {
		t.Fatal(err)
	}
	learn := o.used()
	grads, err := G.Grad(o.loss, learn...)
	if err != nil {
		t.Fatal(err)
	}
	// Read as the trainer reads them: the gradient nodes' values, no dual values.
	vm := G.NewTapeMachine(o.g)
	if err := o.feed(x, eps, fed...); err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	analytic := make([][]float64, len(learn))
	for i, n := range grads {
		analytic[i] = append([]float64(nil), ops.Values64(n.Value())...)
	}
	vm.Close()

	fwd, err := m.newObjective(batch, c, true, 100)
	if err != nil {
		t.Fatal(err)
	}
	// Central differences lose about ε·|loss|/h to cancellation; large
	// losses (a per-pixel σ near its floor) raise that floor.
	floor := 1e3 * 0x1p-52 * math.Abs(forward(t, fwd, x, eps, fed...)) / h
	checked, worst := 0, 0.0
	for i, n := range learn {
		w := n.Value().Data().([]float64)
		for j := range w {
			orig := w[j]
			w[j] = orig + h
			up := forward(t, fwd, x, eps, fed...)
			w[j] = orig - h
			down := forward(t, fwd, x, eps, fed...)
			w[j] = orig
			numeric := (up - down) / (2 * h)
			diff := math.Abs(numeric - analytic[i][j])
			worst = math.Max(worst, diff)
			if diff > 1e-5*math.Max(1, math.Abs(numeric))+floor {
				t.Errorf("%s[%d]: backward %.9g, finite difference %.9g", n.Name(), j, analytic[i][j], numeric)
			}
			checked++
		}
	}
	if checked != m.NumParams() {
		t.Fatalf("checked %d gradients, model has %d parameters", checked, m.NumParams())
	}
	t.Logf("%d gradients, largest |backward − finite difference| = %.2g", checked, worst)
}

// TestSoftplusIsStable guards the Bernoulli likelihood against overflow: with
// saturated logits the loss must stay finite and exact.
func TestSoftplusIsStable(t *testing.T) {
	cfg := ModelConfig{Architecture: "mlp", Latent: 1, Activation: "relu", Likelihood: "bernoulli"}
	m, err := NewModel(cfg, Shape{1, 2, 1}, tensor.Float32, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	// Output logits = z·w + b with w = 0 and b = (200, −200): image (1, 0) has
	// log p = 1·200 − softplus(200) + 0 − softplus(−200) ≈ 0.
	m.params[m.out.w].Value.Data().([]float32)[0] = 0
	m.params[m.out.w].Value.Data().([]float32)[1] = 0
	copy(m.params[m.out.b].Value.Data().([]float32), []float32{200, -200})
	o, err := m.newObjective(1, ObjectiveConfig{Set: Values{"beta": 1.0}}, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	loss := forward(t, o, []float32{1, 0}, []float64{0}, 0)
	if math.IsNaN(loss) || math.IsInf(loss, 0) || math.Abs(loss) > 1e-6 {
		t.Fatalf("loss with saturated logits = %v, want ≈ 0", loss)
	}
}
