package vae

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/vaelab/vaelab/vae/internal/ops"
)

// convLayer is one convolution of a conv model, with what follows it.
type convLayer struct {
	w, b       int      // weight and bias indexes in Model.params
	g          ops.Geom // kernel, stride, padding
	deconv     bool     // transposed convolution (weights C_in × C_out × k × k)
	up         int      // > 1: nearest-neighbour upsampling by up before the convolution
	outH, outW int
	norm       *normLayer // nil without normalisation (and on output layers)
}

// normLayer is a normalisation's learned scale and shift, and for batch norm
// its running statistics.
type normLayer struct {
	name        string
	gamma, beta int
	stats       *ops.RunningStats
}

// convNet holds a conv model's convolutional layers. The encoder's last
// feature map (mapC × mapH × mapW) is flattened into the fully connected
// layers; the decoder maps back to it and mirrors the encoder.
type convNet struct {
	enc              []convLayer
	mapC, mapH, mapW int
	toMap            layer       // last decoder hidden (or z) → the feature map
	dec              []convLayer // hidden decoder layers
	out, sigma       convLayer   // to image logits, and to per-pixel log σ (gaussian_pixel)
	encGeom, upGeom  ops.Geom
	sizesH, sizesW   []int // spatial sizes, input first
	imgC, imgH, imgW int
	channels         []int
}

func (c *convNet) flat() int { return c.mapC * c.mapH * c.mapW }

func (m *Model) addConvEncoder(rng *rand.Rand) *convNet {
	cfg := m.cfg
	c := &convNet{imgC: m.shape.Channels, imgH: m.shape.Height, imgW: m.shape.Width, channels: cfg.Channels}
	c.encGeom, c.upGeom = cfg.geometry()
	g := c.encGeom
	h, w, in := m.shape.Height, m.shape.Width, m.shape.Channels
	c.sizesH, c.sizesW = []int{h}, []int{w}
	for i, ch := range cfg.Channels {
		h, w = g.Out(h), g.Out(w)
		name := fmt.Sprintf("conv%d", i)
		l := convLayer{g: g, outH: h, outW: w}
		wb := m.addWeights(name, in*g.Kernel()*g.Kernel(), ch*g.Kernel()*g.Kernel(), ch, rng, ch, in, g.Kernel(), g.Kernel())
		l.w, l.b = wb.w, wb.b
		l.norm = m.addNorm(name, ch)
		c.enc = append(c.enc, l)
		c.sizesH, c.sizesW = append(c.sizesH, h), append(c.sizesW, w)
		in = ch
	}
	c.mapC, c.mapH, c.mapW = in, h, w
	return c
}

// addConvDecoder adds the decoder's layers after its fully connected ones,
// whose last width is prev.
func (m *Model) addConvDecoder(prev int, rng *rand.Rand) {
	c := m.conv
	c.toMap = m.addLayer("tomap", prev, c.flat(), rng)
	L := len(c.channels)
	for i := L - 1; i >= 1; i-- {
		l := m.addDecoderLayer(fmt.Sprintf("deconv%d", i), c.channels[i], c.channels[i-1], c.sizesH[i], c.sizesW[i], rng)
		l.norm = m.addNorm(fmt.Sprintf("deconv%d", i), c.channels[i-1])
		c.dec = append(c.dec, l)
	}
	c.out = m.addDecoderLayer("out", c.channels[0], c.imgC, c.imgH, c.imgW, rng)
	m.lik.addHeads(m, prev, rng)
}

// addDecoderLayer adds a layer from in to out channels at size h×w: a
// transposed convolution, or upsampling and a stride-1 convolution.
func (m *Model) addDecoderLayer(name string, in, out, h, w int, rng *rand.Rand) convLayer {
	c := m.conv
	l := convLayer{outH: h, outW: w}
	var wb layer
	if m.cfg.Decoder == "upsample" {
		g := c.upGeom
		l.g, l.up = g, c.encGeom.Stride()
		wb = m.addWeights(name, in*g.Kernel()*g.Kernel(), out*g.Kernel()*g.Kernel(), out, rng, out, in, g.Kernel(), g.Kernel())
	} else {
		g := c.encGeom
		l.g, l.deconv = g, true
		wb = m.addWeights(name, in*g.Kernel()*g.Kernel(), out*g.Kernel()*g.Kernel(), out, rng, in, out, g.Kernel(), g.Kernel())
	}
	l.w, l.b = wb.w, wb.b
	return l
}

// addNorm adds a normalisation's parameters and state, or returns nil.
func (m *Model) addNorm(name string, ch int) *normLayer {
	if m.cfg.Norm == "none" {
		return nil
	}
	n := &normLayer{name: name, gamma: len(m.params), beta: len(m.params) + 1}
	m.params = append(m.params,
		Param{Name: name + ".gamma", Value: m.newDense(onesOf(ch), ch)},
		Param{Name: name + ".beta", Value: m.newDense(make([]float64, ch), ch)})
	if m.cfg.Norm == ops.NormBatch {
		n.stats = ops.NewRunningStats(m.newDense(make([]float64, ch), ch), m.newDense(onesOf(ch), ch))
		m.buffers = append(m.buffers,
			Param{Name: name + ".running_mean", Value: n.stats.Mean()},
			Param{Name: name + ".running_var", Value: n.stats.Variance()})
	}
	return n
}

// convEncode maps a batch of images (B × D, height-width-channel order) to
// the flattened last feature map.
func (n *netGraph) convEncode(x *G.Node, data bool) *G.Node {
	c := n.m.conv
	B := x.Shape()[0]
	h := n.toPlanar(x)
	for i, l := range c.enc {
		h = n.applyConv(h, l, true, data && i == 0)
	}
	return G.Must(G.Reshape(h, []int{B, c.flat()}))
}

// convDecode maps the last fully connected decoder layer to image logits
// (B × D) and returns the last hidden feature map too.
func (n *netGraph) convDecode(h *G.Node) (out, last *G.Node) {
	c := n.m.conv
	B := h.Shape()[0]
	fm := n.activate(n.affine(h, c.toMap))
	fm = G.Must(G.Reshape(fm, []int{B, c.mapC, c.mapH, c.mapW}))
	for _, l := range c.dec {
		fm = n.applyConv(fm, l, true, false)
	}
	return n.fromPlanar(n.applyConv(fm, c.out, false, false)), fm
}

// applyConv applies one layer; a hidden layer is followed by its
// normalisation and the activation. onData marks the first encoder layer,
// whose input (the images) needs no gradient.
func (n *netGraph) applyConv(x *G.Node, l convLayer, hidden, onData bool) *G.Node {
	w, b := n.param(l.w), n.param(l.b)
	// Without normalisation, ReLU runs in the convolution's last pass.
	fuseReLU := hidden && l.norm == nil && n.m.cfg.Activation == "relu"
	var y *G.Node
	if l.deconv {
		y = G.Must(ops.Deconv(x, w, b, l.g, l.outH, l.outW, fuseReLU, n.train))
	} else {
		if l.up > 1 {
			x = G.Must(ops.Upsample(x, l.up, n.train))
		}
		y = G.Must(ops.Conv(x, w, b, l.g, onData, fuseReLU, n.train))
	}
	if !hidden || fuseReLU {
		return y
	}
	if nl := l.norm; nl != nil {
		var stats *ops.RunningStats
		if n.m.cfg.Norm == ops.NormBatch {
			// Training graphs normalise with the batch's statistics and update the
			// running ones; every other graph uses the running ones.
			stats = nl.stats
		}
		y = G.Must(ops.Norm(y, n.m.cfg.Norm, n.m.cfg.Groups, nl.name, stats, stats != nil && !n.train, n.train))
		y = G.Must(ops.ChanAffine(y, n.param(nl.gamma), n.param(nl.beta), n.train))
	}
	return n.activate(y)
}

// toPlanar turns B × D rows in height-width-channel order into B×C×H×W.
func (n *netGraph) toPlanar(x *G.Node) *G.Node {
	s, B := n.m.shape, x.Shape()[0]
	if s.Channels == 1 {
		return G.Must(G.Reshape(x, []int{B, 1, s.Height, s.Width}))
	}
	return G.Must(ops.ToPlanar(x, ops.ImageShape(s), n.train))
}

// fromPlanar is toPlanar's inverse.
func (n *netGraph) fromPlanar(x *G.Node) *G.Node {
	s, B := n.m.shape, x.Shape()[0]
	if s.Channels == 1 {
		return G.Must(G.Reshape(x, []int{B, s.Dim()}))
	}
	return G.Must(ops.FromPlanar(x, ops.ImageShape(s), n.train))
}
