package vae

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	G "gorgonia.org/gorgonia"
)

// elbo is the β-weighted negative ELBO, −log p(x|z) + β(t)·KL, averaged over
// the batch (β = 1 is the ELBO itself). β(t) rises over warmup_steps (KL
// warm-up) or in cycles (cyclical annealing, Fu et al. 2019); free bits
// floor each latent dimension's batch-mean KL in the loss (Kingma et al.
// 2016), which needs a prior whose KL splits over dimensions.
type elbo struct{}

func (elbo) settings() []Setting {
	return []Setting{
		FloatSetting("beta", 1, "weight of the KL term summed over latent dimensions (β-VAE; 1 is the ELBO)", between(0, 1e6)),
		IntSetting("warmup_steps", 0, "raise the KL weight linearly from 0 to β over this many steps (KL warm-up); 0 is none", atLeast(0)),
		IntSetting("cycles", 0, "anneal the KL weight in this many equal cycles (Fu et al. 2019); 0 is none", intBetween(0, 1e6)),
		FloatSetting("cycle_ratio", 0.5, "share of each cycle over which the KL weight rises from 0 to β", func(r float64) error {
			if !(r > 0 && r <= 1) {
				return fmt.Errorf("%v must be in (0, 1], with objective.cycles set", r)
			}
			return nil
		}),
		FloatSetting("free_bits", 0, "floor, in nats, on each latent dimension's batch-mean KL in the loss (Kingma et al. 2016)", func(f float64) error {
			if !(f >= 0) || f > 1e3 {
				return fmt.Errorf("%v must be between 0 and 1000 nats", f)
			}
			return nil
		}),
	}
}

func (elbo) checkTogether(c ObjectiveConfig) error {
	switch {
	case c.Int("warmup_steps") > 0 && c.Int("cycles") > 0:
		return fmt.Errorf("objective.cycles: a KL warm-up and cyclical annealing cannot be combined; keep one")
	case c.Has("cycle_ratio") && c.Int("cycles") == 0:
		return fmt.Errorf("objective.cycle_ratio: %v must be in (0, 1], with objective.cycles set", c.Float("cycle_ratio"))
	}
	return nil
}

func (elbo) Scalars() []string { return []string{KeyBeta} }
func (elbo) LossText() string {
	return "−log p(x|z) + β(t)·KL (β-weighted −ELBO; −ELBO at β = 1)"
}

func (e elbo) at(c ObjectiveConfig, step, total int) []float64 {
	return []float64{e.betaAt(c, step, total)}
}

func (elbo) final(c ObjectiveConfig) []float64 { return []float64{c.Float("beta")} }

func (elbo) loss(o *objective, c ObjectiveConfig, fed []*G.Node, klPerDim func() *G.Node) (*G.Node, error) {
	beta := fed[0]
	if freeBits := c.Float("free_bits"); freeBits > 0 {
		if klPerDim == nil {
			return nil, fmt.Errorf("objective.free_bits: the %s prior's KL does not split over latent dimensions", o.m.cfg.Prior)
		}
		// Σ_j max(mean_batch KL_j, λ), the max written as λ + relu(KL_j − λ).
		klDims := G.Must(G.Mean(klPerDim(), 0))
		floored := G.Must(G.Add(G.Must(G.Rectify(G.Must(G.Sub(klDims, o.scalar(freeBits))))), o.scalar(freeBits)))
		return G.Must(G.Add(o.recon, G.Must(G.Mul(G.Must(G.Sum(floored)), beta)))), nil
	}
	perImage := G.Must(G.Sub(G.Must(G.Mul(o.kl, beta)), o.logpx))
	return G.Must(G.Mean(perImage)), nil
}

func (elbo) evalLoss(_ ObjectiveConfig, vals []float64, recon, kl float64) float64 {
	return recon + vals[0]*kl
}

// betaAt is the KL weight at training step step (1-based) of total.
func (elbo) betaAt(c ObjectiveConfig, step, total int) float64 {
	beta := c.Float("beta")
	switch warmup, cycles := c.Int("warmup_steps"), c.Int("cycles"); {
	case warmup > 0:
		return beta * min(1, float64(step)/float64(warmup))
	case cycles > 0:
		period := float64(total) / float64(cycles)
		tau := math.Mod(float64(step-1), period) / period
		return beta * min(1, tau/c.Float("cycle_ratio"))
	}
	return beta
}

// Checks shared by the objectives' settings; messages follow the key.

func between(lo, hi float64) func(float64) error {
	return func(v float64) error {
		if !(v >= lo && v <= hi) {
			return fmt.Errorf("%v must be between %s and %s", v, num(lo), num(hi))
		}
		return nil
	}
}

func intBetween(lo, hi int) func(int) error {
	return func(v int) error {
		if v > hi {
			return fmt.Errorf("%d must be between %d and %d", v, lo, hi)
		}
		return atLeast(lo)(v)
	}
}

func atLeast(lo int) func(int) error {
	return func(v int) error {
		if v < lo && lo == 0 {
			return fmt.Errorf("%d must not be negative", v)
		}
		if v < lo && v == 0 {
			return fmt.Errorf("0 must be at least %d; leave the key out for its default", lo)
		}
		if v < lo {
			return fmt.Errorf("%d must be at least %d", v, lo)
		}
		return nil
	}
}

// num writes a bound as docs do: 1e6, not 1e+06.
func num(x float64) string {
	return strings.Replace(strconv.FormatFloat(x, 'g', -1, 64), "e+0", "e", 1)
}
