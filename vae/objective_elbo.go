package vae

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
)

// elbo is the β-weighted negative ELBO, −log p(x|z) + β(t)·KL, averaged over
// the batch (β = 1 is the ELBO itself). β(t) rises over warmup_steps (KL
// warm-up) or in cycles (cyclical annealing, Fu et al. 2019); free bits
// floor each latent dimension's batch-mean KL in the loss (Kingma et al.
// 2016), which needs a prior whose KL splits over dimensions.
type elbo struct{}

func (elbo) keys() []string {
	return []string{"beta", "warmup_steps", "cycles", "cycle_ratio", "free_bits"}
}

func (elbo) check(c ObjectiveConfig) error {
	switch {
	case !(c.Beta >= 0) || c.Beta > 1e6:
		return fmt.Errorf("objective.beta: %v must be between 0 and 1e6", c.Beta)
	case c.WarmupSteps < 0:
		return fmt.Errorf("objective.warmup_steps: %d must not be negative", c.WarmupSteps)
	case c.Cycles < 0 || c.Cycles > 1e6:
		return fmt.Errorf("objective.cycles: %d must be between 0 and 1000000", c.Cycles)
	case c.WarmupSteps > 0 && c.Cycles > 0:
		return fmt.Errorf("objective.cycles: a KL warm-up and cyclical annealing cannot be combined; keep one")
	case c.CycleRatio != 0 && (c.Cycles == 0 || !(c.CycleRatio > 0 && c.CycleRatio <= 1)):
		return fmt.Errorf("objective.cycle_ratio: %v must be in (0, 1], with objective.cycles set", c.CycleRatio)
	case !(c.FreeBits >= 0) || c.FreeBits > 1e3:
		return fmt.Errorf("objective.free_bits: %v must be between 0 and 1000 nats", c.FreeBits)
	}
	return nil
}

func (elbo) Scalars() []string { return []string{KeyBeta} }
func (elbo) LossText() string {
	return "−log p(x|z) + β(t)·KL (β-weighted −ELBO; −ELBO at β = 1)"
}

func (elbo) at(c ObjectiveConfig, step, total int) []float64 {
	return []float64{c.BetaAt(step, total)}
}

func (elbo) final(c ObjectiveConfig) []float64 { return []float64{c.Beta} }

func (elbo) loss(o *objective, c ObjectiveConfig, fed []*G.Node, klPerDim func() *G.Node) (*G.Node, error) {
	beta := fed[0]
	if c.FreeBits > 0 {
		if klPerDim == nil {
			return nil, fmt.Errorf("objective.free_bits: the %s prior's KL does not split over latent dimensions", o.m.cfg.Prior)
		}
		// Σ_j max(mean_batch KL_j, λ), the max written as λ + relu(KL_j − λ).
		klDims := G.Must(G.Mean(klPerDim(), 0))
		floored := G.Must(G.Add(G.Must(G.Rectify(G.Must(G.Sub(klDims, o.scalar(c.FreeBits))))), o.scalar(c.FreeBits)))
		return G.Must(G.Add(o.recon, G.Must(G.Mul(G.Must(G.Sum(floored)), beta)))), nil
	}
	perImage := G.Must(G.Sub(G.Must(G.Mul(o.kl, beta)), o.logpx))
	return G.Must(G.Mean(perImage)), nil
}

func (elbo) evalLoss(_ ObjectiveConfig, vals []float64, recon, kl float64) float64 {
	return recon + vals[0]*kl
}

// BetaAt is the KL weight at training step step (1-based) of total.
func (c ObjectiveConfig) BetaAt(step, total int) float64 {
	switch {
	case c.WarmupSteps > 0:
		return c.Beta * min(1, float64(step)/float64(c.WarmupSteps))
	case c.Cycles > 0:
		ratio := c.CycleRatio
		if ratio == 0 {
			ratio = 0.5
		}
		period := float64(total) / float64(c.Cycles)
		tau := math.Mod(float64(step-1), period) / period
		return c.Beta * min(1, tau/ratio)
	}
	return c.Beta
}
