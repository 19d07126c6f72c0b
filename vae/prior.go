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
	}
}

// PriorNamed returns the prior called name; "" is the standard normal.
func PriorNamed(name string) (Prior, error) {
	if name == "" {
		name = "standard"
	}
	return lookup(priors(), "model.prior", name)
}
