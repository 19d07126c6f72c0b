package vae

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/vaelab/vaelab/internal/numtest"
	"github.com/vaelab/vaelab/vae/internal/ops"
)

// reference is an independent float64 forward pass of an MLP VAE, written from
// the formulas, not from the graph code: it returns log p(x|z) and KL per
// image (log p(x|z) for the likelihoods it knows), and the decoder means.
func reference(m *Model, x []float64, eps []float64, batch int) (logpx, kl []float64) {
	logpx, kl, _ = referenceWithMeans(m, x, eps, batch)
	return logpx, kl
}

func referenceWithMeans(m *Model, x []float64, eps []float64, batch int) (logpx, kl, means []float64) {
	p := func(l layer) (w, b []float64) {
		return ops.Values64(m.params[l.w].Value), ops.Values64(m.params[l.b].Value)
	}
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
			v[i] = refActivation(m.cfg.Activation, v[i])
		}
		return v
	}
	h, n := x, m.inDim
	if m.conv != nil {
		h, n = refConvEncode(m, x, batch)
	}
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
	var out, rawSigma []float64
	D := m.inDim
	if m.conv != nil {
		fm, _ := affine(h, n, m.conv.toMap)
		act(fm)
		out, rawSigma = refConvDecode(m, fm, batch)
	} else {
		out, _ = affine(h, n, m.out)
		if m.cfg.Likelihood == "gaussian_pixel" {
			rawSigma, _ = affine(h, n, m.pixelSigma)
		}
	}
	logpx, kl, means = make([]float64, batch), make([]float64, batch), make([]float64, batch*D)
	for r := range batch {
		for d := range D {
			xv, l := x[r*D+d], out[r*D+d]
			mean := 1 / (1 + math.Exp(-l))
			means[r*D+d] = mean
			gauss := func(s float64) float64 { return -0.5*math.Log(2*math.Pi*s*s) - (xv-mean)*(xv-mean)/(2*s*s) }
			switch m.cfg.Likelihood {
			case "bernoulli":
				logpx[r] += xv*math.Log(mean) + (1-xv)*math.Log(1-mean)
			case "gaussian":
				logpx[r] += gauss(m.cfg.Float("sigma"))
			case "gaussian_learned", "gaussian_optimal":
				logpx[r] += gauss(math.Exp(ops.Values64(m.params[m.logSigma].Value)[0]))
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
	return logpx, kl, means
}

// forward runs a forward-only pass of o on x and eps and returns the loss.
func forward(t *testing.T, o *objective, x []float32, eps []float64, fed ...float64) float64 {
	t.Helper()
	vm := G.NewTapeMachine(o.g)
	defer vm.Close()
	if err := o.feed(x, eps, fed...); err != nil {
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

func refActivation(name string, v float64) float64 {
	switch name {
	case "tanh":
		return math.Tanh(v)
	case "leaky_relu":
		if v < 0 {
			return LeakySlope * v
		}
		return v
	case "elu":
		if v < 0 {
			return math.Exp(v) - 1
		}
		return v
	}
	return math.Max(0, v)
}

// refMap is a batch of feature maps in NCHW order.
type refMap struct {
	v          []float64
	n, c, h, w int
}

// refConvEncode runs the conv encoder with the direct loops of convops_test.go
// and returns the flattened last feature map.
func refConvEncode(m *Model, x []float64, batch int) ([]float64, int) {
	s := m.shape
	f := refMap{v: make([]float64, len(x)), n: batch, c: s.Channels, h: s.Height, w: s.Width}
	for b := range batch {
		for p := range s.Height * s.Width {
			for c := range s.Channels {
				f.v[(b*s.Channels+c)*s.Height*s.Width+p] = x[(b*s.Height*s.Width+p)*s.Channels+c]
			}
		}
	}
	for _, l := range m.conv.enc {
		f = refConvLayer(m, f, l, true)
	}
	return f.v, f.c * f.h * f.w
}

// refConvDecode maps the fully connected output fm to image logits (and the
// per-pixel σ head's output) in height-width-channel order.
func refConvDecode(m *Model, fm []float64, batch int) (out, sigma []float64) {
	c := m.conv
	f := refMap{v: fm, n: batch, c: c.mapC, h: c.mapH, w: c.mapW}
	for _, l := range c.dec {
		f = refConvLayer(m, f, l, true)
	}
	out = refToHWC(refConvLayer(m, f, c.out, false))
	if m.cfg.Likelihood == "gaussian_pixel" {
		sigma = refToHWC(refConvLayer(m, f, c.sigma, false))
	}
	return out, sigma
}

func refToHWC(f refMap) []float64 {
	out := make([]float64, len(f.v))
	hw := f.h * f.w
	for b := range f.n {
		for c := range f.c {
			for p := range hw {
				out[(b*hw+p)*f.c+c] = f.v[(b*f.c+c)*hw+p]
			}
		}
	}
	return out
}

// refGeom is a layer's geometry for the reference convolutions.
func refGeom(g ops.Geom) numtest.Geom {
	return numtest.Geom{K: g.Kernel(), S: g.Stride(), P: g.Padding()}
}

func refConvLayer(m *Model, f refMap, l convLayer, hidden bool) refMap {
	w, b := ops.Values64(m.params[l.w].Value), ops.Values64(m.params[l.b].Value)
	ws := m.params[l.w].Value.Shape()
	var y refMap
	if l.deconv {
		y = refMap{v: numtest.DirectDeconv(f.v, f.n, f.c, f.h, f.w, w, ws[1], b, refGeom(l.g), l.outH, l.outW), n: f.n, c: ws[1], h: l.outH, w: l.outW}
	} else {
		if l.up > 1 {
			up := refMap{v: make([]float64, len(f.v)*l.up*l.up), n: f.n, c: f.c, h: f.h * l.up, w: f.w * l.up}
			for p := range f.n * f.c {
				for i := range up.h {
					for j := range up.w {
						up.v[(p*up.h+i)*up.w+j] = f.v[(p*f.h+i/l.up)*f.w+j/l.up]
					}
				}
			}
			f = up
		}
		v, oh, ow := numtest.DirectConv(f.v, f.n, f.c, f.h, f.w, w, ws[0], b, refGeom(l.g))
		y = refMap{v: v, n: f.n, c: ws[0], h: oh, w: ow}
	}
	if !hidden {
		return y
	}
	if l.norm != nil {
		refNormalise(m, y, l.norm)
	}
	for i := range y.v {
		y.v[i] = refActivation(m.cfg.Activation, y.v[i])
	}
	return y
}

// refNormalise standardises y in place with batch (training) or group
// statistics, then applies γ and β.
func refNormalise(m *Model, y refMap, nl *normLayer) {
	gamma, beta := ops.Values64(m.params[nl.gamma].Value), ops.Values64(m.params[nl.beta].Value)
	hw := y.h * y.w
	// members lists the offsets of each statistics set's planes.
	var sets [][]int
	if m.cfg.Norm == ops.NormBatch {
		for c := range y.c {
			var planes []int
			for b := range y.n {
				planes = append(planes, (b*y.c+c)*hw)
			}
			sets = append(sets, planes)
		}
	} else {
		per := y.c / m.cfg.Groups
		for b := range y.n {
			for g := range m.cfg.Groups {
				var planes []int
				for c := g * per; c < (g+1)*per; c++ {
					planes = append(planes, (b*y.c+c)*hw)
				}
				sets = append(sets, planes)
			}
		}
	}
	for _, planes := range sets {
		var vals []float64
		for _, off := range planes {
			vals = append(vals, y.v[off:off+hw]...)
		}
		mean, variance := numtest.MeanVar(vals)
		for _, off := range planes {
			c := (off / hw) % y.c
			for i := off; i < off+hw; i++ {
				y.v[i] = gamma[c]*(y.v[i]-mean)/math.Sqrt(variance+ops.NormEps) + beta[c]
			}
		}
	}
}
