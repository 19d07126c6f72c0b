package vae

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gorgonia.org/tensor"
)

// Param is one named weight tensor of a model.
type Param struct {
	Name  string
	Value *tensor.Dense
}

// layer indexes the weight and bias of one affine map in Model.params.
type layer struct{ w, b int }

// Model is a VAE's architecture and weights. Graphs built from it share the
// weight tensors, so training updates are seen by every evaluator.
type Model struct {
	// linearMean makes the decoder's means its output layer itself, not
	// its sigmoid: the two_stage sampler's second VAE models codes, which
	// are not bounded.
	linearMean bool
	cfg        ModelConfig
	shape      Shape
	inDim      int
	dtype      tensor.Dtype
	params     []Param
	buffers    []Param // state that is not trained by gradients: batch-norm statistics

	enc        []layer // fully connected hidden layers of the encoder
	mu, logvar layer   // last hidden → latent heads
	dec        []layer // latent → hidden layers, Hidden reversed
	out        layer   // mlp: last hidden → image
	pixelSigma layer   // mlp: last hidden → per-pixel log σ (gaussian_pixel only)
	logSigma   int     // index of the 1×1 log σ (gaussian_learned and _optimal), −1 if none
	lik        Likelihood
	prior      Prior

	conv *convNet // the convolutional layers of a conv model, nil for an mlp
}

// NewModel builds a model for images of the given shape and initialises its
// weights from rng: Glorot-uniform weights, zero biases, unit norm scales.
// dtype is tensor.Float32 for training; tensor.Float64 serves numerical checks.
func NewModel(cfg ModelConfig, shape Shape, dtype tensor.Dtype, rng *rand.Rand) (*Model, error) {
	cfg = cfg.Resolved()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.CheckShape(shape); err != nil {
		return nil, fmt.Errorf("new model: %w", err)
	}
	if dtype != tensor.Float32 && dtype != tensor.Float64 {
		return nil, fmt.Errorf("new model: dtype %v (want float32 or float64)", dtype)
	}
	inDim := shape.Dim()
	lik, err := LikelihoodNamed(cfg.Likelihood)
	if err != nil {
		return nil, err
	}
	prior, err := PriorNamed(cfg.Prior)
	if err != nil {
		return nil, err
	}
	m := &Model{cfg: cfg, shape: shape, inDim: inDim, dtype: dtype, lik: lik, prior: prior}
	prev := inDim
	if cfg.Architecture == "conv" {
		m.conv = m.addConvEncoder(rng)
		prev = m.conv.flat()
	}
	for i, h := range cfg.Hidden {
		m.enc = append(m.enc, m.addLayer(fmt.Sprintf("enc%d", i), prev, h, rng))
		prev = h
	}
	m.mu = m.addLayer("mu", prev, cfg.Latent, rng)
	m.logvar = m.addLayer("logvar", prev, cfg.Latent, rng)
	prev = cfg.Latent
	for i := len(cfg.Hidden) - 1; i >= 0; i-- {
		m.dec = append(m.dec, m.addLayer(fmt.Sprintf("dec%d", i), prev, cfg.Hidden[i], rng))
		prev = cfg.Hidden[i]
	}
	m.logSigma = -1
	if m.conv != nil {
		m.addConvDecoder(prev, rng)
	} else {
		m.out = m.addLayer("out", prev, inDim, rng)
		lik.addHeads(m, prev, rng)
	}
	lik.addParams(m)
	if lp, ok := prior.(learnedPrior); ok {
		m.prior = lp.bind(m, rng)
	}
	return m, nil
}

// Likelihood is the model's data model p(x|z).
func (m *Model) Likelihood() Likelihood { return m.lik }

// Prior is the model's latent distribution p(z).
func (m *Model) Prior() Prior { return m.prior }

// addPixelHead adds a decoder head of one value per pixel beside the output
// layer: a layer from the last hidden width prev (mlp), or a last decoder
// convolution (conv).
func (m *Model) addPixelHead(name string, prev int, rng *rand.Rand) {
	if c := m.conv; c != nil {
		c.sigma = m.addDecoderLayer(name, c.channels[0], c.imgC, c.imgH, c.imgW, rng)
		return
	}
	m.pixelSigma = m.addLayer(name, prev, m.inDim, rng)
}

func (m *Model) addLayer(name string, in, out int, rng *rand.Rand) layer {
	return m.addWeights(name, in, out, out, rng, in, out)
}

// addWeights adds a Glorot-uniform weight tensor of the given shape and a zero
// bias of size bias.
func (m *Model) addWeights(name string, fanIn, fanOut, bias int, rng *rand.Rand, shape ...int) layer {
	limit := math.Sqrt(6 / float64(fanIn+fanOut))
	n := 1
	for _, d := range shape {
		n *= d
	}
	w := make([]float64, n)
	for i := range w {
		w[i] = (2*rng.Float64() - 1) * limit
	}
	l := layer{w: len(m.params), b: len(m.params) + 1}
	m.params = append(m.params,
		Param{Name: name + ".w", Value: m.newDense(w, shape...)},
		Param{Name: name + ".b", Value: m.newDense(make([]float64, bias), bias)})
	return l
}

// newDense makes a tensor of the model's dtype holding v.
func (m *Model) newDense(v []float64, shape ...int) *tensor.Dense {
	if m.dtype == tensor.Float64 {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
	}
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
}

// Config returns the architecture the model was built with.
func (m *Model) Config() ModelConfig { return m.cfg }

// InputDim is the number of values in one input image.
func (m *Model) InputDim() int { return m.inDim }

// Shape is the image shape the model takes.
func (m *Model) Shape() Shape { return m.shape }

// Params returns the model's weights; the tensors are shared, not copied.
func (m *Model) Params() []Param { return m.params }

// NumParams counts the model's scalar weights.
func (m *Model) NumParams() int {
	n := 0
	for _, p := range m.params {
		n += p.Value.Shape().TotalSize()
	}
	return n
}

// StepFLOPs estimates the floating-point operations of one training step on a
// batch: multiply-adds of every affine map and convolution, counted twice,
// for the forward pass and twice that for the backward pass (input and weight
// gradients). Elementwise work is left out, as is usual for GFLOP/s figures.
func (m *Model) StepFLOPs(batch int) float64 {
	macs := 0.0
	for _, p := range m.params {
		s := p.Value.Shape()
		switch {
		case s.Dims() == 2: // an affine map: each weight once per image
			macs += float64(s.TotalSize())
		case s.Dims() == 4: // a convolution: each weight once per output position
			macs += float64(s.TotalSize()) * float64(m.convPositions(p.Name))
		}
	}
	if m.logSigma >= 0 {
		macs-- // the 1×1 log σ is not a layer
	}
	return 3 * 2 * macs * float64(batch)
}

// convPositions is the number of positions a conv layer's kernel visits: its
// output size, or for a transposed convolution its input size.
func (m *Model) convPositions(param string) int {
	c := m.conv
	for i, l := range c.enc {
		if m.params[l.w].Name == param {
			return c.sizesH[i+1] * c.sizesW[i+1]
		}
	}
	for _, l := range append(append([]convLayer{}, c.dec...), c.out, c.sigma) {
		if l.w < len(m.params) && m.params[l.w].Name == param {
			if l.deconv {
				return (l.outH / l.g.Stride()) * (l.outW / l.g.Stride())
			}
			return l.outH * l.outW
		}
	}
	return 0
}
