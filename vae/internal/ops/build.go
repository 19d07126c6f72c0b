package ops

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The builders below are how package vae uses the ops: each applies one op
// to its input nodes. reuse keeps the op's output memory from step to step,
// for training graphs (see reusingOutput); evaluation graphs allocate.

// Geom is a convolution's kernel size, stride and padding.
type Geom = geom

// NewGeom is the geometry of a k×k convolution with stride s and padding p.
func NewGeom(k, s, p int) Geom { return geom{k: k, s: s, p: p} }

// Out is the output size of a convolution over n input positions, 0 if the
// padded input is smaller than the kernel.
func (g geom) Out(n int) int { return g.out(n) }

// Kernel, Stride and Padding are the geometry's three numbers.
func (g geom) Kernel() int  { return g.k }
func (g geom) Stride() int  { return g.s }
func (g geom) Padding() int { return g.p }

// RunningStats are a batch normalisation's running mean and variance, the
// layer's buffers (checkpointed with the model).
type RunningStats = runningStats

// NewRunningStats keeps mean and variance (one value per channel), which
// batch normalisation updates in place.
func NewRunningStats(mean, variance *tensor.Dense) *RunningStats {
	return &runningStats{mean: mean, variance: variance}
}

// Mean and Variance are the running statistics' tensors.
func (r *runningStats) Mean() *tensor.Dense     { return r.mean }
func (r *runningStats) Variance() *tensor.Dense { return r.variance }

// Normalisations (ModelConfig.Norm).
const (
	NormBatch = normBatch
	NormGroup = normGroup
)

// Linear is x·w + b for x (B×in), w (in×out), b (out); dataInput marks x as
// data, whose gradient is not needed.
func Linear(x, w, b *G.Node, dataInput, reuse bool) (*G.Node, error) {
	return apply(linearOp{dataInput: dataInput}, reuse, x, w, b)
}

// ReLU is max(x, 0) elementwise.
func ReLU(x *G.Node, reuse bool) (*G.Node, error) {
	return apply(reluOp{dims: x.Dims()}, reuse, x)
}

// Conv is conv(x, w) + b over NCHW x, followed by ReLU if relu is set;
// dataInput marks x as data.
func Conv(x, w, b *G.Node, g Geom, dataInput, relu bool, reuse bool) (*G.Node, error) {
	return apply(convOp{g: g, bias: true, dataInput: dataInput, relu: relu}, reuse, x, w, b)
}

// Deconv is the transposed convolution conv_transpose(x, w) + b to an
// outH×outW output (PyTorch's ConvTranspose2d layout), followed by ReLU if
// relu is set.
func Deconv(x, w, b *G.Node, g Geom, outH, outW int, relu bool, reuse bool) (*G.Node, error) {
	return apply(deconvOp{g: g, bias: true, relu: relu, outH: outH, outW: outW}, reuse, x, w, b)
}

// Upsample is nearest-neighbour upsampling by s.
func Upsample(x *G.Node, s int, reuse bool) (*G.Node, error) {
	return apply(upsampleOp{s: s}, reuse, x)
}

// Norm standardises x per channel over the batch (NormBatch, with stats;
// eval standardises with the running statistics instead of updating them)
// or per group of channels in each image (NormGroup); name is the layer's,
// so that the ops of two layers never hash alike.
func Norm(x *G.Node, kind string, groups int, name string, stats *RunningStats, eval, reuse bool) (*G.Node, error) {
	return apply(normOp{kind: kind, groups: groups, name: name, stats: stats, eval: eval}, reuse, x)
}

// ChanAffine is γ[c]·x + β[c] over NCHW x.
func ChanAffine(x, gamma, beta *G.Node, reuse bool) (*G.Node, error) {
	return apply(chanAffineOp{bias: true}, reuse, x, gamma, beta)
}

// ToPlanar reorders B×D rows of images in height-width-channel order into
// B×C×H×W; FromPlanar is the opposite.
func ToPlanar(x *G.Node, s ImageShape, reuse bool) (*G.Node, error) {
	return apply(layoutOp{shape: s, planar: true}, reuse, x)
}

// FromPlanar reorders B×C×H×W images into B×D rows (see ToPlanar).
func FromPlanar(x *G.Node, s ImageShape, reuse bool) (*G.Node, error) {
	return apply(layoutOp{shape: s}, reuse, x)
}

// BernoulliLogLik is each image's Σ_d x log σ(l) + (1−x) log σ(−l) for data x
// and logits l (B×D each), a B-vector.
func BernoulliLogLik(x, logits *G.Node, reuse bool) (*G.Node, error) {
	return apply(bernoulliOp{}, reuse, x, logits)
}

// DefaultGroups is group normalisation's number of groups when the config
// leaves it out; NormEps the variance floor of both normalisations.
const (
	DefaultGroups = defaultGroupsN
	NormEps       = normEps
)

// SetValues writes float64 values into a float32 or float64 tensor.
func SetValues(t *tensor.Dense, v []float64) { setValues(t, v) }
