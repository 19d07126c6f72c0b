package vae

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
)

// reference is an independent float64 forward pass of an MLP VAE, written from
// the formulas, not from the graph code: it returns log p(x|z) and KL per image.
func reference(m *Model, x []float64, eps []float64, batch int) (logpx, kl []float64) {
	p := func(l layer) (w, b []float64) { return values64(m.params[l.w].Value), values64(m.params[l.b].Value) }
	affine := func(in []float64, nIn int, l layer) ([]float64, int) {
		w, b := p(l)
		nOut := len(b)
		out := make([]float64, batch*nOut)
		for r := range batch {
			for j := range nOut {
				s := b[j]
				for k := range nIn {
					s += in[r*nIn+k] * w[k*nOut+j]
				}
				out[r*nOut+j] = s
			}
		}
		return out, nOut
	}
	act := func(v []float64) []float64 {
		for i := range v {
			if m.cfg.Activation == "tanh" {
				v[i] = math.Tanh(v[i])
			} else {
				v[i] = math.Max(0, v[i])
			}
		}
		return v
	}
	h, n := x, m.inDim
	for _, l := range m.enc {
		h, n = affine(h, n, l)
		act(h)
	}
	mu, L := affine(h, n, m.mu)
	lv, _ := affine(h, n, m.logvar)
	if c := m.cfg.LogvarClamp; c > 0 {
		for i := range lv {
			lv[i] = c * math.Tanh(lv[i]/c)
		}
	}
	z := make([]float64, len(mu))
	for i := range z {
		z[i] = mu[i] + math.Exp(lv[i]/2)*eps[i]
	}
	h, n = z, L
	for _, l := range m.dec {
		h, n = affine(h, n, l)
		act(h)
	}
	out, D := affine(h, n, m.out)
	var rawSigma []float64
	if m.cfg.Likelihood == "gaussian_pixel" {
		rawSigma, _ = affine(h, n, m.pixelSigma)
	}
	logpx, kl = make([]float64, batch), make([]float64, batch)
	for r := range batch {
		for d := range D {
			xv, l := x[r*D+d], out[r*D+d]
			mean := 1 / (1 + math.Exp(-l))
			gauss := func(s float64) float64 { return -0.5*math.Log(2*math.Pi*s*s) - (xv-mean)*(xv-mean)/(2*s*s) }
			switch m.cfg.Likelihood {
			case "bernoulli":
				logpx[r] += xv*math.Log(mean) + (1-xv)*math.Log(1-mean)
			case "gaussian":
				logpx[r] += gauss(m.cfg.Sigma)
			case "gaussian_learned":
				logpx[r] += gauss(math.Exp(values64(m.params[m.logSigma].Value)[0]))
			case "gaussian_pixel":
				sig := 1 / (1 + math.Exp(-rawSigma[r*D+d]))
				logpx[r] += gauss(math.Exp(LogSigmaMin + (LogSigmaMax-LogSigmaMin)*sig))
			}
		}
		for j := range L {
			i := r*L + j
			kl[r] += 0.5 * (mu[i]*mu[i] + math.Exp(lv[i]) - lv[i] - 1)
		}
	}
	return logpx, kl
}

// forward runs a forward-only pass of o on x and eps and returns the loss.
func forward(t *testing.T, o *objective, x []float32, eps []float64, beta float64) float64 {
	t.Helper()
	vm := G.NewTapeMachine(o.g)
	defer vm.Close()
	if err := o.feed(x, eps, beta); err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	return scalarValue(o.loss)
}

type recording struct {
	steps, epochs [][]Metric
}

func (r *recording) Step(step, epoch int, v []Metric) error {
	r.steps = append(r.steps, append([]Metric(nil), v...))
	return nil
}

func (r *recording) Epoch(step, epoch int, v []Metric) error {
	r.epochs = append(r.epochs, append([]Metric(nil), v...))
	return nil
}

func (r *recording) last(key string) float64 {
	for i := len(r.epochs) - 1; i >= 0; i-- {
		for _, m := range r.epochs[i] {
			if m.Key == key {
				return m.Value
			}
		}
	}
	return math.NaN()
}
