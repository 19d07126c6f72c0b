package vae

import (
	G "gorgonia.org/gorgonia"

	"github.com/vaelab/vaelab/vae/internal/ops"
)

// bernoulli: each pixel is a Bernoulli variable whose probability is the
// decoder's mean; log p = Σ x·l − softplus(l) with l the logits, computed in
// one op that is stable for saturated logits.
type bernoulli struct{ likelihoodBase }

func (bernoulli) onLogits() bool   { return true }
func (bernoulli) Continuous() bool { return false }

func (bernoulli) logProb(o *objective, out, _ *G.Node) (*G.Node, error) {
	return G.Must(ops.BernoulliLogLik(o.target, out, o.train)), nil
}
