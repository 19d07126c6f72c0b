// Package vae builds variational autoencoders as Gorgonia graphs and trains them:
// encoders, decoders, likelihoods, the β-weighted ELBO objective and the Adam loop.
package vae

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/vaelab/vaelab/vae/internal/ops"
)

// The config structs below are part of every run's resolved config, and a run's id
// is a hash of it. Never change a field's meaning; a new field needs `omitempty`
// and a zero value that reproduces the old behaviour, so existing run ids survive.

// ModelConfig describes the network.
type ModelConfig struct {
	// Architecture is "mlp" (fully connected encoder and mirrored decoder) or
	// "conv" (strided convolutions, then the Hidden layers; the decoder mirrors it).
	Architecture string `json:"architecture"`
	// Hidden lists the encoder's fully connected hidden layer widths (after the
	// convolutions for conv); the decoder uses them reversed.
	Hidden []int `json:"hidden"`
	// Latent is the number of latent dimensions.
	Latent int `json:"latent"`
	// Activation is the hidden nonlinearity: "relu", "leaky_relu" (slope
	// LeakySlope), "elu" or "tanh".
	Activation string `json:"activation"`

	// Conv only. Channels lists the encoder's convolution widths; each layer
	// has a Kernel×Kernel kernel, stride Stride and padding (Kernel−Stride+1)/2,
	// so that k4 s2 and k3 s2 halve even sizes.
	Channels []int `json:"channels,omitempty"`
	Kernel   int   `json:"kernel,omitempty"`
	Stride   int   `json:"stride,omitempty"`
	// Decoder is "transpose" (transposed convolutions mirroring the encoder)
	// or "upsample" (nearest-neighbour upsampling by Stride, then a stride-1
	// convolution with an odd kernel: Kernel, or Kernel−1 if that is even).
	Decoder string `json:"decoder,omitempty"`
	// Norm goes after every hidden convolution: "none", "batch" or "group"
	// (Groups groups, which must divide every width; default 8).
	Norm   string `json:"norm,omitempty"`
	Groups int    `json:"groups,omitempty"`

	// LogvarClamp > 0 soft-clamps the encoder's log-variance into
	// (−LogvarClamp, LogvarClamp) as c·tanh(raw/c), so exp(logvar) cannot overflow.
	LogvarClamp float64 `json:"logvar_clamp,omitempty"`
	// Likelihood names the decoder's data model p(x|z), one of likelihoods
	// (likelihood.go; each is described in its likelihood_*.go file):
	// bernoulli, gaussian (fixed σ), gaussian_learned (one σ learned),
	// gaussian_optimal (one σ set to the batch RMSE: the σ-VAE),
	// gaussian_pixel (a σ per pixel), laplace.
	Likelihood string `json:"likelihood"`
	// Prior names p(z), one of priors (prior.go): "" or "standard" is N(0, I).
	// Likelihood and Prior stay the last fields: the JSON writes each
	// member's settings after the key naming it (MarshalJSON).
	Prior string `json:"prior,omitempty"`
	// Set are the likelihood's and the prior's settings the spec wrote
	// (model.sigma, model.prior_components), by key: each member declares
	// its own in its file.
	Set Values `json:"-"`
}

// ObjectiveConfig selects the objective (objective.go) and holds the
// settings the spec gave it. Each objective declares its own settings in its
// objective_*.go file (keys, types, defaults, checks, docs); its code reads
// them with Float, Int and String.
type ObjectiveConfig struct {
	// Type names the objective, one of objectives; "" is elbo.
	Type string `json:"type,omitempty"`
	// Set are the objective's settings the spec wrote, by key.
	Set Values `json:"-"`
}

// AdamConfig holds Adam's moment decay rates and its denominator epsilon.
type AdamConfig struct {
	Beta1   float64 `json:"beta1"`
	Beta2   float64 `json:"beta2"`
	Epsilon float64 `json:"epsilon"`
}

// TrainConfig controls the optimisation loop.
type TrainConfig struct {
	Epochs       int     `json:"epochs"`
	BatchSize    int     `json:"batch_size"`
	LearningRate float64 `json:"learning_rate"`
	// Optimizer is "adam", the only one offered.
	Optimizer string     `json:"optimizer"`
	Adam      AdamConfig `json:"adam"`
	// ClipNorm > 0 rescales the gradients whenever their global L2 norm
	// exceeds it (train/grad_norm records the norm before clipping).
	ClipNorm float64 `json:"clip_norm,omitempty"`
	// LRSchedule is "constant" (or empty) or "cosine": the learning rate falls
	// from LearningRate to 0 along half a cosine over the run's steps.
	LRSchedule string `json:"lr_schedule,omitempty"`
	// StepsPerEpoch > 0 ends each epoch after that many steps: the epoch's
	// shuffle of all training images is drawn as ever, and its first
	// StepsPerEpoch batches are used. On CelebA (2,543 batches of 64 per
	// pass) it gives curves and checkpoints more often than once a pass.
	// 0 is a full pass.
	StepsPerEpoch int `json:"steps_per_epoch,omitempty"`
}

// EpochSteps is the number of steps of an epoch over n training images.
func (c TrainConfig) EpochSteps(n int) int {
	steps := n / c.BatchSize
	if c.StepsPerEpoch > 0 {
		steps = min(steps, c.StepsPerEpoch)
	}
	return steps
}

// LRAt is the learning rate at step step (1-based) of total.
func (c TrainConfig) LRAt(step, total int) float64 {
	if c.LRSchedule == "cosine" && total > 1 {
		return c.LearningRate * 0.5 * (1 + math.Cos(math.Pi*float64(step-1)/float64(total-1)))
	}
	return c.LearningRate
}

// EvalConfig controls evaluation after each epoch and at the end of training.
// Zero values of the sizes below mean the defaults in DefaultSizes.
type EvalConfig struct {
	// BatchSize is the evaluation batch; it does not change the results.
	BatchSize int `json:"batch_size"`
	// GridImages is how many reconstructions and prior samples the image grids show.
	GridImages int `json:"grid_images"`
	// Samples is N for the sample-quality metrics: real test images, prior
	// samples and reconstructions (capped at the test set's size). It also
	// caps the test images every other metric uses, the per-epoch test ELBO
	// and IWAE included: a test split larger than Samples is scored on its
	// first Samples images, a fixed subset (CelebA's 19,962 test faces on
	// 1000 by default).
	Samples int `json:"samples,omitempty"`
	// IWAEK is the number of importance samples of the IWAE bound.
	IWAEK int `json:"iwae_k,omitempty"`
	// KIDSubsets and KIDSubsetSize set KID's random subsets.
	KIDSubsets    int `json:"kid_subsets,omitempty"`
	KIDSubsetSize int `json:"kid_subset_size,omitempty"`
	// NearestK is k of the k-nearest-neighbour balls of precision, recall,
	// density and coverage.
	NearestK int `json:"nearest_k,omitempty"`
	// GridEvery is the epochs between the small image grids training stores
	// (reconstructions of fixed test images, decodings of fixed latents: the
	// faces over training of vaelab serve); 0 means about 20 per run. It
	// changes nothing computed, so it is no part of the evaluation's hash.
	GridEvery int `json:"grid_every,omitempty"`
	// Samplers name the post-hoc samplers whose draws the sample-quality
	// metrics decode (sampler.go); empty means [prior]. The prior's block of
	// metrics is samples/…, another sampler's samples_NAME/….
	Samplers []string `json:"samplers,omitempty"`
	// Features are the feature spaces the sample metrics are computed in:
	// randconv1 (random conv features, always) and dlib (dlib's trained face
	// descriptor: fd_dlib and the identity metrics; its weights come with
	// vaelab data fetch dlib-face). Empty means [randconv1].
	Features []string `json:"features,omitempty"`
	// Primary is the metric key (of the catalogue in package evaluate) the
	// report ranks configurations and samplers by, e.g. samples/fd_dlib;
	// empty means the face-space distance when dlib features are computed,
	// else the random-feature one. It changes what the report leads with,
	// not what is computed, so it is no part of the evaluation's hash.
	Primary string `json:"primary,omitempty"`
	// Set are the samplers' settings the spec wrote (eval.gmm_components,
	// ...), by key: each sampler declares its own in its sampler_*.go file.
	// They sit in the eval section's JSON beside the fields above.
	Set Values `json:"-"`
}

// FeatureSpaces are the names eval.features takes.
func FeatureSpaces() []string { return []string{"randconv1", "dlib"} }

// Uses reports whether the evaluation computes metrics in feature space name.
func (c EvalConfig) Uses(name string) bool {
	return name == "randconv1" || slices.Contains(c.Features, name)
}

// WithDefaults fills zero sizes with their defaults.
func (c EvalConfig) WithDefaults() EvalConfig {
	for _, f := range []struct {
		v   *int
		def int
	}{{&c.Samples, 1000}, {&c.IWAEK, 8}, {&c.KIDSubsets, 50}, {&c.KIDSubsetSize, 100}, {&c.NearestK, 5}} {
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	if len(c.Samplers) == 0 {
		c.Samplers = []string{"prior"}
	}
	for _, key := range SamplerKeys() {
		if _, ok := c.Set[key]; !ok {
			s, _ := SamplerSetting(key)
			c.Set = c.Set.With(key, s.Default)
		}
	}
	return c
}

// The per-pixel log σ is soft-clamped into this range (σ from about 0.001 to 2.7),
// so that no pixel's likelihood can grow without bound.
const (
	LogSigmaMin = -7.0
	LogSigmaMax = 1.0
)

// Defaults used where a spec says nothing.
func DefaultModelConfig() ModelConfig {
	return ModelConfig{Architecture: "mlp", Hidden: []int{256}, Latent: 16, Activation: "relu", Likelihood: "bernoulli"}
}

func DefaultObjectiveConfig() ObjectiveConfig { return ObjectiveConfig{} }

func DefaultTrainConfig() TrainConfig {
	return TrainConfig{Epochs: 10, BatchSize: 64, LearningRate: 1e-3, Optimizer: "adam",
		Adam: AdamConfig{Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8}}
}

func DefaultEvalConfig() EvalConfig { return EvalConfig{BatchSize: 256, GridImages: 64} }

// Resolved fills the conv settings a spec left out with their defaults, so
// that a run's id does not depend on whether a default was spelt out. An mlp
// keeps them empty.
func (c ModelConfig) Resolved() ModelConfig {
	c.Channels = append([]int(nil), c.Channels...)
	if c.Architecture != "conv" {
		return c
	}
	if len(c.Channels) == 0 {
		c.Channels = []int{32, 64, 128}
	}
	if c.Kernel == 0 {
		c.Kernel = 4
	}
	if c.Stride == 0 {
		c.Stride = 2
	}
	if c.Decoder == "" {
		c.Decoder = "transpose"
	}
	if c.Norm == "" {
		c.Norm = "none"
	}
	if c.Norm == ops.NormGroup && c.Groups == 0 {
		c.Groups = ops.DefaultGroups
	}
	return c
}

// Bounds that keep a spec from building a graph for many minutes or
// allocating more than a machine has: 64 hidden layers, and 2^28 weights
// between hidden layers (1 GiB of float32, 4 GiB with gradients and Adam).
const (
	maxHiddenLayers  = 64
	maxHiddenWeights = 1 << 28
)

// Validate reports the first impossible value, naming its spec key.
func (c ModelConfig) Validate() error {
	switch c.Architecture {
	case "mlp":
		if len(c.Channels) > 0 || c.Kernel != 0 || c.Stride != 0 || c.Decoder != "" || c.Norm != "" || c.Groups != 0 {
			return fmt.Errorf("model.architecture: channels, kernel, stride, decoder, norm and groups are conv settings; set architecture: conv or remove them")
		}
	case "conv":
		if err := c.validateConv(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("model.architecture: %q is not supported (supported: mlp, conv)", c.Architecture)
	}
	if len(c.Hidden) > maxHiddenLayers {
		return fmt.Errorf("model.hidden: %d layers; at most %d", len(c.Hidden), maxHiddenLayers)
	}
	weights := 0
	for i, h := range c.Hidden {
		if h < 1 || h > 1<<16 {
			return fmt.Errorf("model.hidden[%d]: width %d must be between 1 and 65536", i, h)
		}
		if i > 0 {
			weights += 2 * h * c.Hidden[i-1] // encoder and mirrored decoder
		}
	}
	if weights > maxHiddenWeights {
		return fmt.Errorf("model.hidden: the hidden layers hold %d weights between them; at most %d (each weight also needs a gradient and two Adam moments)", weights, maxHiddenWeights)
	}
	if c.Latent < 1 || c.Latent > 4096 {
		return fmt.Errorf("model.latent: %d must be between 1 and 4096", c.Latent)
	}
	switch c.Activation {
	case "relu", "leaky_relu", "elu", "tanh":
	default:
		return fmt.Errorf("model.activation: %q is not supported (supported: relu, leaky_relu, elu, tanh)", c.Activation)
	}
	if !(c.LogvarClamp >= 0) || c.LogvarClamp > 100 {
		return fmt.Errorf("model.logvar_clamp: %v must be between 0 (none) and 100", c.LogvarClamp)
	}
	return c.checkMembers()
}

func (c ModelConfig) validateConv() error {
	c = c.Resolved()
	if len(c.Channels) > 16 {
		return fmt.Errorf("model.channels: %d layers; at most 16", len(c.Channels))
	}
	for i, ch := range c.Channels {
		if ch < 1 || ch > 4096 {
			return fmt.Errorf("model.channels[%d]: width %d must be between 1 and 4096", i, ch)
		}
		if c.Norm == ops.NormGroup && ch%c.Groups != 0 {
			return fmt.Errorf("model.groups: %d groups do not divide the %d channels of layer %d", c.Groups, ch, i)
		}
	}
	switch {
	case c.Kernel < 1 || c.Kernel > 15:
		return fmt.Errorf("model.kernel: %d must be between 1 and 15", c.Kernel)
	case c.Stride < 1 || c.Stride > c.Kernel:
		return fmt.Errorf("model.stride: %d must be between 1 and the kernel size %d", c.Stride, c.Kernel)
	case c.Decoder != "transpose" && c.Decoder != "upsample":
		return fmt.Errorf("model.decoder: %q is not supported (supported: transpose, upsample)", c.Decoder)
	case c.Norm != "none" && c.Norm != ops.NormBatch && c.Norm != ops.NormGroup:
		return fmt.Errorf("model.norm: %q is not supported (supported: none, batch, group)", c.Norm)
	case c.Norm != ops.NormGroup && c.Groups != 0:
		return fmt.Errorf("model.groups: only group norm takes groups (norm is %q)", c.Norm)
	case c.Groups < 0 || c.Groups > 4096:
		return fmt.Errorf("model.groups: %d must be between 1 and 4096", c.Groups)
	}
	return nil
}

// geometry returns the conv encoder's layer geometry and the decoder's
// stride-1 convolution for the upsample variant.
func (c ModelConfig) geometry() (enc, up ops.Geom) {
	enc = ops.NewGeom(c.Kernel, c.Stride, (c.Kernel-c.Stride+1)/2)
	k := c.Kernel
	if k%2 == 0 {
		k--
	}
	return enc, ops.NewGeom(k, 1, (k-1)/2)
}

// Shape is the size of the images a model takes.
type Shape struct{ Height, Width, Channels int }

// Dim is the number of values in one image.
func (s Shape) Dim() int { return s.Height * s.Width * s.Channels }

// CheckShape reports whether a conv model of this config can take images of
// shape s: every layer must leave at least one position, and the upsample
// decoder needs every size to be exactly Stride times the next.
func (c ModelConfig) CheckShape(s Shape) error {
	if s.Height < 1 || s.Width < 1 || s.Channels < 1 {
		return fmt.Errorf("image shape %dx%dx%d", s.Height, s.Width, s.Channels)
	}
	if c.Architecture != "conv" {
		return nil
	}
	c = c.Resolved()
	g, _ := c.geometry()
	h, w := s.Height, s.Width
	for i := range c.Channels {
		nh, nw := g.Out(h), g.Out(w)
		if nh < 1 || nw < 1 {
			return fmt.Errorf("model.channels: layer %d gets %dx%d images, smaller than the %d×%d kernel; use fewer layers or larger images", i, h, w, g.Kernel(), g.Kernel())
		}
		if c.Decoder == "upsample" && (nh*g.Stride() != h || nw*g.Stride() != w) {
			return fmt.Errorf("model.decoder: upsample needs sizes divisible by the stride at every layer, but layer %d maps %dx%d to %dx%d; use the transpose decoder or another image size", i, h, w, nh, nw)
		}
		h, w = nh, nw
	}
	return nil
}

func (c TrainConfig) Validate() error {
	switch {
	case c.Epochs < 1 || c.Epochs > 1e6:
		return fmt.Errorf("train.epochs: %d must be between 1 and 1000000", c.Epochs)
	case c.BatchSize < 1 || c.BatchSize > 1<<16:
		return fmt.Errorf("train.batch_size: %d must be between 1 and 65536", c.BatchSize)
	case !(c.LearningRate > 0):
		return fmt.Errorf("train.learning_rate: %v must be positive", c.LearningRate)
	case c.Optimizer != "adam":
		return fmt.Errorf("train.optimizer: %q is not supported (supported: adam)", c.Optimizer)
	case !(c.Adam.Beta1 >= 0 && c.Adam.Beta1 < 1):
		return fmt.Errorf("train.adam.beta1: %v must be in [0, 1)", c.Adam.Beta1)
	case !(c.Adam.Beta2 >= 0 && c.Adam.Beta2 < 1):
		return fmt.Errorf("train.adam.beta2: %v must be in [0, 1)", c.Adam.Beta2)
	case !(c.Adam.Epsilon > 0):
		return fmt.Errorf("train.adam.epsilon: %v must be positive", c.Adam.Epsilon)
	case !(c.ClipNorm >= 0):
		return fmt.Errorf("train.clip_norm: %v must not be negative", c.ClipNorm)
	case c.LRSchedule != "" && c.LRSchedule != "constant" && c.LRSchedule != "cosine":
		return fmt.Errorf("train.lr_schedule: %q is not supported (constant, cosine)", c.LRSchedule)
	case c.StepsPerEpoch < 0:
		return fmt.Errorf("train.steps_per_epoch: %d must not be negative (0 is a full pass)", c.StepsPerEpoch)
	}
	return nil
}

func (c EvalConfig) Validate() error {
	if c.BatchSize < 1 || c.BatchSize > 1<<16 {
		return fmt.Errorf("eval.batch_size: %d must be between 1 and 65536", c.BatchSize)
	}
	if c.GridImages < 1 || c.GridImages > 1024 {
		return fmt.Errorf("eval.grid_images: %d must be between 1 and 1024", c.GridImages)
	}
	for _, f := range []struct {
		key       string
		v, lo, hi int
	}{{"samples", c.Samples, 10, 100000}, {"iwae_k", c.IWAEK, 1, 10000}, {"kid_subsets", c.KIDSubsets, 1, 10000},
		{"kid_subset_size", c.KIDSubsetSize, 2, 100000}, {"nearest_k", c.NearestK, 1, 100}, {"grid_every", c.GridEvery, 1, 100000}} {
		if f.v != 0 && (f.v < f.lo || f.v > f.hi) {
			return fmt.Errorf("eval.%s: %d must be between %d and %d (or 0 for the default)", f.key, f.v, f.lo, f.hi)
		}
	}
	for i, name := range c.Features {
		if !slices.Contains(FeatureSpaces(), name) {
			return fmt.Errorf("eval.features[%d]: %q is not a feature space (known: %s)", i, name, strings.Join(FeatureSpaces(), ", "))
		}
		if slices.Index(c.Features, name) != i {
			return fmt.Errorf("eval.features[%d]: %q appears twice", i, name)
		}
	}
	for _, key := range c.Set.Keys() {
		s, ok := SamplerSetting(key)
		if !ok {
			return fmt.Errorf("eval.%s: unknown key", key)
		}
		if err := s.Check(c.Set[key]); err != nil {
			return fmt.Errorf("eval.%s: %w", key, err)
		}
	}
	for i, name := range c.Samplers {
		if _, err := NewSampler(name, c); err != nil {
			return err
		}
		if slices.Index(c.Samplers, name) != i {
			return fmt.Errorf("eval.samplers[%d]: %q appears twice", i, name)
		}
	}
	return nil
}
