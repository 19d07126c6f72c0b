package vae

import (
	"fmt"
	"strings"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/vaelab/vaelab/vae/internal/ops"
)

// netGraph is one Gorgonia graph over a model's weights. Parameter nodes are made
// on first use and hold the model's own tensors, so optimiser updates made
// through one graph are seen by all others.
type netGraph struct {
	g      *G.ExprGraph
	m      *Model
	params []*G.Node // indexed like m.params; nil until used
	train  bool      // a training graph: batch norm uses and updates batch statistics
}

func (m *Model) newNetGraph() netGraph {
	return netGraph{g: G.NewGraph(), m: m, params: make([]*G.Node, len(m.params))}
}

func (n *netGraph) param(i int) *G.Node {
	if n.params[i] == nil {
		p := n.m.params[i]
		opts := []G.NodeConsOpt{G.WithName(p.Name), G.WithValue(p.Value), G.WithShape(p.Value.Shape()...)}
		switch p.Value.Dims() {
		case 1:
			n.params[i] = G.NewVector(n.g, n.m.dtype, opts...)
		case 2:
			n.params[i] = G.NewMatrix(n.g, n.m.dtype, opts...)
		default:
			n.params[i] = G.NewTensor(n.g, n.m.dtype, p.Value.Dims(), opts...)
		}
	}
	return n.params[i]
}

// used returns the parameter nodes the graph uses.
func (n *netGraph) used() []*G.Node {
	var out []*G.Node
	for _, p := range n.params {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

func (n *netGraph) input(name string, rows, cols int) *G.Node {
	return G.NewMatrix(n.g, n.m.dtype, G.WithShape(rows, cols), G.WithName(name))
}

func (n *netGraph) affine(x *G.Node, l layer) *G.Node {
	return G.Must(ops.Linear(x, n.param(l.w), n.param(l.b), false, n.train))
}

// affineOfData is affine on the images, whose gradient is not made.
func (n *netGraph) affineOfData(x *G.Node, l layer) *G.Node {
	return G.Must(ops.Linear(x, n.param(l.w), n.param(l.b), true, n.train))
}

func (n *netGraph) activate(x *G.Node) *G.Node {
	return activation(x, n.m.cfg.Activation, n.scalar, n.train)
}

// LeakySlope is the negative-side slope of the leaky_relu activation
// (PyTorch's default).
const LeakySlope = 0.01

// activation applies the named nonlinearity, composed from Gorgonia ops whose
// gradients are correct (Gorgonia has no ELU). scalar makes constants of the
// graph's dtype.
func activation(x *G.Node, name string, scalar func(float64) *G.Node, reuse bool) *G.Node {
	switch name {
	case "tanh":
		return G.Must(G.Tanh(x))
	case "leaky_relu": // relu(x) − α·relu(−x)
		neg := G.Must(G.Rectify(G.Must(G.Neg(x))))
		return G.Must(G.Sub(G.Must(G.Rectify(x)), G.Must(G.Mul(neg, scalar(LeakySlope)))))
	case "elu": // x for x > 0, eˣ − 1 below: relu(x) + exp(−relu(−x)) − 1
		neg := G.Must(G.Rectify(G.Must(G.Neg(x))))
		return G.Must(G.Sub(G.Must(G.Add(G.Must(G.Rectify(x)), G.Must(G.Exp(G.Must(G.Neg(neg)))))), scalar(1)))
	}
	return G.Must(ops.ReLU(x, reuse))
}

// scalar is a constant of the graph's dtype (Gorgonia rejects mixed dtypes).
func (n *netGraph) scalar(v float64) *G.Node {
	if n.m.dtype == tensor.Float64 {
		return G.NewConstant(v)
	}
	return G.NewConstant(float32(v))
}

// meanOf is the decoder's mean from its output layer: the sigmoid for
// images in [0, 1], the output itself for a linear-mean model.
func (n *netGraph) meanOf(out *G.Node) *G.Node {
	if n.m.linearMean {
		return out
	}
	return G.Must(G.Sigmoid(out))
}

// decode maps latent codes to the decoder's output layer (logits; the mean is
// their sigmoid).
func (n *netGraph) decode(z *G.Node) *G.Node {
	out, _ := n.decodeWithHidden(z)
	return out
}

// decodeWithHidden also returns the last hidden layer (z itself without one).
func (n *netGraph) decodeWithHidden(z *G.Node) (out, last *G.Node) {
	h := z
	for _, l := range n.m.dec {
		h = n.activate(n.affine(h, l))
	}
	if n.m.conv != nil {
		return n.convDecode(h)
	}
	return n.affine(h, n.m.out), h
}

// encodeHidden maps images to the encoder's last hidden layer.
func (n *netGraph) encodeHidden(x *G.Node) *G.Node { return n.encodeHiddenOf(x, true) }

// encodeHiddenOf is encodeHidden of x; data marks x as data, whose gradient
// is not made (learned inputs such as the VampPrior's need theirs).
func (n *netGraph) encodeHiddenOf(x *G.Node, data bool) *G.Node {
	h := x
	if n.m.conv != nil {
		h = n.convEncode(x, data)
	}
	for i, l := range n.m.enc {
		if i == 0 && n.m.conv == nil && data {
			h = n.activate(n.affineOfData(h, l))
			continue
		}
		h = n.activate(n.affine(h, l))
	}
	return h
}

// posterior builds the encoder's Gaussian q(z|x) of a batch: μ and log σ²
// (soft-clamped if model.logvar_clamp is set).
func (o *objective) posterior(x *G.Node, data bool) (mu, logvar *G.Node) {
	m := o.m
	h := o.encodeHiddenOf(x, data)
	mu, logvar = o.affine(h, m.mu), o.affine(h, m.logvar)
	if c := m.cfg.LogvarClamp; c > 0 {
		logvar = G.Must(G.Mul(G.Must(G.Tanh(G.Must(G.Mul(logvar, o.scalar(1/c))))), o.scalar(c)))
	}
	return mu, logvar
}

// pixelSigmaRaw is the per-pixel log σ head's output before its soft clamp.
func (n *netGraph) pixelSigmaRaw(last *G.Node) *G.Node {
	if c := n.m.conv; c != nil {
		return n.fromPlanar(n.applyConv(last, c.sigma, false, false))
	}
	return n.affine(last, n.m.pixelSigma)
}

// let feeds an input node from float32 or float64 values.
func (n *netGraph) let(node *G.Node, v32 []float32, v64 []float64) error {
	s := node.Shape()
	var t *tensor.Dense
	if v32 != nil {
		t = n.m.newDense32(v32, s...)
	} else {
		t = n.m.newDense(v64, s...)
	}
	if err := G.Let(node, t); err != nil {
		return fmt.Errorf("feed %s: %w", node.Name(), err)
	}
	return nil
}

// catchPanic turns a panic from Gorgonia's graph constructors (shape or type
// mismatches, which G.Must raises) into an error.
func catchPanic(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("build VAE graph: %v", r)
	}
}

// objective computes the β-weighted negative ELBO of a fixed-size batch. Inputs
// x (batch × D) and eps (batch × latent) are fed with G.Let, so every random draw
// comes from the caller's seeded generators.
type objective struct {
	netGraph
	images     int     // images per batch
	batch      int     // rows of z and the decoder: images × draws per image
	x, eps     *G.Node // the batch's images (images × D) and ε (batch × latent)
	target     *G.Node // the image each decoder row is scored against (x itself for one draw)
	dataset    int     // training images the batches are drawn from (0: unknown)
	obj        Objective
	fed        []*G.Node // the objective's scalars, fed each step (β(t) for elbo)
	mu, logvar *G.Node
	z          *G.Node
	logits     *G.Node  // decoder output, batch × D
	mean       *G.Node  // decoder mean, batch × D, in [0, 1] (nil in Bernoulli training graphs)
	logpx, kl  *G.Node  // per image: log p(x|z) and KL(q(z|x) ‖ p(z)), in nats
	loss       *G.Node  // batch mean of −log p(x|z) + β·KL
	recon, klm *G.Node  // batch means of −log p(x|z) and of KL
	sqErr      *G.Value // gaussian_optimal: each image's squared error, read as the tape runs
	// estimates are values the objective estimates at each step (β-TCVAE's
	// MI, TC, dimension-wise KL), recorded under their keys.
	estimates []estimate
}

// An estimate is a scalar of the training graph recorded at each step.
type estimate struct {
	key string
	v   *G.Value
}

// record makes the graph copy scalar node n on every run, to be recorded
// under key.
func (o *objective) record(key string, n *G.Node) {
	e := estimate{key: key, v: new(G.Value)}
	G.Read(n, e.v)
	o.estimates = append(o.estimates, e)
}

// newObjective builds the loss of objective c for batches of the given size,
// drawn from a training set of dataset images (objectives that estimate the
// aggregate posterior weigh the batch by it; 0 when there is none). A
// training graph (train) normalises with batch statistics.
func (m *Model) newObjective(batch int, c ObjectiveConfig, train bool, dataset int) (o *objective, err error) {
	defer catchPanic(&err)
	obj, err := ObjectiveNamed(c.Type)
	if err != nil {
		return nil, err
	}
	draws := 1
	if train {
		draws = samplesPerImage(obj, c)
	}
	o = &objective{netGraph: m.newNetGraph(), images: batch, batch: batch * draws, dataset: dataset, obj: obj}
	o.train = train
	L := m.cfg.Latent
	o.x, o.eps = o.input("x", batch, m.inDim), o.input("eps", o.batch, L)
	for _, key := range obj.Scalars() {
		o.fed = append(o.fed, G.NewScalar(o.g, m.dtype, G.WithName(strings.TrimPrefix(key, "train/"))))
	}

	// Encoder q(z|x) = N(μ, diag exp(logvar)); reparameterised z = μ + exp(logvar/2)·ε.
	o.mu, o.logvar = o.posterior(o.x, true)
	o.target = o.x
	if draws > 1 {
		tile := o.tiling(batch, draws)
		o.mu, o.logvar, o.target = G.Must(G.Mul(tile, o.mu)), G.Must(G.Mul(tile, o.logvar)), G.Must(G.Mul(tile, o.x))
	}
	std := G.Must(G.Exp(G.Must(G.Mul(o.logvar, o.scalar(0.5)))))
	o.z = G.Must(G.Add(o.mu, G.Must(G.HadamardProd(std, o.eps))))

	out, last := o.decodeWithHidden(o.z)
	o.logits = out
	// A Bernoulli training graph has no use for the means (the loss takes
	// the logits): leave them out so the tape does not compute them.
	if !train || !m.lik.onLogits() {
		o.mean = o.meanOf(out)
	}
	if o.logpx, err = m.lik.logProb(o, out, last); err != nil {
		return nil, err
	}

	var klPerDim func() *G.Node
	o.kl, klPerDim = m.prior.kl(o)
	o.recon = G.Must(G.Neg(G.Must(G.Mean(o.logpx))))
	o.klm = G.Must(G.Mean(o.kl))
	if o.loss, err = obj.loss(o, c, o.fed, klPerDim); err != nil {
		return nil, err
	}
	return o, nil
}

// tiling is the (n·draws) × n matrix that repeats a batch's rows draws
// times: row s·n + i copies row i.
func (o *objective) tiling(n, draws int) *G.Node {
	t := make([]float64, n*draws*n)
	for s := range draws {
		for i := range n {
			t[(s*n+i)*n+i] = 1
		}
	}
	return G.NewConstant(o.m.newDense(t, n*draws, n), G.WithName(fmt.Sprintf("tile_%dx%d", n, draws)))
}

func onesOf(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 1
	}
	return v
}

// readouts are copies of intermediate values taken while the tape runs. The
// tape machine reuses a node's buffer once its last reader has run, so after
// RunAll an intermediate node's Value() may hold a later result; only root
// nodes (loss, recon, klm) can be read directly.
type readouts struct {
	mu, logvar, logpx, kl, mean G.Value
	// logRatio is log p(z) − log q(z|x) per image at the sampled z.
	logRatio G.Value
}

// addReadouts makes the graph copy its per-image outputs on every run. Call it
// before building the tape machine.
func (o *objective) addReadouts() (r *readouts, err error) {
	defer catchPanic(&err)
	r = &readouts{}
	if o.mean == nil {
		o.mean = o.meanOf(o.logits)
	}
	logRatio := o.m.prior.logRatio(o)
	for _, rd := range []struct {
		n    *G.Node
		into *G.Value
	}{{o.mu, &r.mu}, {o.logvar, &r.logvar}, {o.logpx, &r.logpx}, {o.kl, &r.kl}, {o.mean, &r.mean}, {logRatio, &r.logRatio}} {
		G.Read(rd.n, rd.into)
	}
	return r, nil
}

// feed gives the graph a batch, its ε and the objective's scalars (in the
// order of its Scalars).
func (o *objective) feed(x []float32, eps []float64, scalars ...float64) error {
	if err := o.let(o.x, x, nil); err != nil {
		return err
	}
	if err := o.let(o.eps, nil, eps); err != nil {
		return err
	}
	if len(scalars) != len(o.fed) {
		return fmt.Errorf("feed: %d scalars for the objective's %d", len(scalars), len(o.fed))
	}
	for i, v := range scalars {
		var b any = v
		if o.m.dtype == tensor.Float32 {
			b = float32(v)
		}
		if err := G.Let(o.fed[i], b); err != nil {
			return fmt.Errorf("feed %s: %w", o.obj.Scalars()[i], err)
		}
	}
	return nil
}

// decoder maps a batch of latent codes to decoder means.
type decoder struct {
	netGraph
	z, mean *G.Node
}

func (m *Model) newDecoder(batch int) (d *decoder, err error) {
	defer catchPanic(&err)
	d = &decoder{netGraph: m.newNetGraph()}
	d.z = d.input("z", batch, m.cfg.Latent)
	d.mean = d.meanOf(d.decode(d.z))
	return d, nil
}

// newDense32 makes a tensor of the model's dtype holding v, which it may alias.
func (m *Model) newDense32(v []float32, shape ...int) *tensor.Dense {
	if m.dtype == tensor.Float32 {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
	}
	f := make([]float64, len(v))
	for i, x := range v {
		f[i] = float64(x)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
}

// scalarValue reads a scalar node after a forward pass.
func scalarValue(n *G.Node) float64 { return ops.Values64(n.Value())[0] }

func float32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}
