package vae

import (
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
)

// A Prior is p(z), the latent distribution the ELBO's KL term and generation
// refer to. Each lives in a file of its own (prior_*.go) and is named for
// model.prior by one line of priors. Training (the KL), the IWAE bound (the
// log ratio), Sample and the latent traversals all go through it.
type Prior interface {
	// kl builds KL(q(z|x) ‖ p(z)) per image in the objective's graph: in
	// closed form where one exists, else a Monte-Carlo estimate from o.z.
	// perDim builds the batch × latent terms per dimension that free bits
	// floor; nil when the prior does not factorise over dimensions.
	kl(o *objective) (perImage *G.Node, perDim func() *G.Node)
	// logRatio builds log p(z) − log q(z|x) per image at the sampled z.
	logRatio(o *objective) *G.Node
	// Sample draws n latent codes (n × latent values, row-major).
	Sample(rng *rand.Rand, n, latent int) []float64
	// TraversalRange is the interval a latent dimension is swept over in
	// traversals: where the prior puts nearly all of its mass.
	TraversalRange() (lo, hi float64)
}

// priors names every prior for model.prior ("" is standard).
func priors() map[string]Prior {
	return map[string]Prior{
		"standard": standardNormal{},
		"mog":      mog{},
		"vamp":     vamp{},
	}
}

// PriorNamed returns the prior called name; "" is the standard normal.
func PriorNamed(name string) (Prior, error) {
	if name == "" {
		name = "standard"
	}
	return lookup(priors(), "model.prior", name)
}

// A learnedPrior has parameters of its own, trained with the model and kept
// in its checkpoints; NewModel adds them and uses the prior bound to them.
type learnedPrior interface {
	Prior
	// bind adds its parameters to m (initialised from rng) and returns the
	// prior that reads them.
	bind(m *Model, rng *rand.Rand) Prior
}

// CheckTrainImages reports a model setting that the number of training
// images rules out (more VampPrior pseudo-inputs than images).
func (c ModelConfig) CheckTrainImages(n int) error {
	p, err := PriorNamed(c.Prior)
	if err != nil {
		return err
	}
	if ic, ok := p.(interface{ checkImages(ModelConfig, int) error }); ok {
		return ic.checkImages(c, n)
	}
	return nil
}

// unbound gives a learned prior's table entry the Prior methods it never
// serves: NewModel replaces the entry by the prior bind returns.
type unbound struct{}

func (unbound) kl(*objective) (*G.Node, func() *G.Node) { panic("vae: unbound learned prior") }
func (unbound) logRatio(*objective) *G.Node             { panic("vae: unbound learned prior") }
func (unbound) Sample(*rand.Rand, int, int) []float64   { panic("vae: unbound learned prior") }
func (unbound) TraversalRange() (float64, float64)      { panic("vae: unbound learned prior") }

// componentsSetting is model.prior_components of the priors with components.
func componentsSetting(doc string) Setting {
	return IntSetting("prior_components", 10, doc, intBetween(1, 1000))
}
