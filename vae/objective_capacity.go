package vae

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
)

// KeyCapacity is the capacity C(t) the capacity objective targets at a step.
const KeyCapacity = "train/capacity"

// capacity is controlled capacity increase (Burgess et al. 2018,
// "Understanding disentangling in β-VAE"): −log p(x|z) + γ·|KL − C(t)|, batch
// means, with the target KL C(t) rising linearly from 0 to capacity_max nats
// over capacity_steps steps and then held. It lets the KL grow only as fast
// as the schedule allows.
type capacity struct{}

func (capacity) settings() []Setting {
	return []Setting{
		required(FloatSetting("gamma", 0, "weight γ of |KL − C(t)| (Burgess et al. used 1000)", func(g float64) error {
			if !(g > 0) || g > 1e6 {
				return fmt.Errorf("%v must be between 0 (excluded) and 1e6 for the capacity objective (Burgess et al. used 1000)", g)
			}
			return nil
		})),
		required(FloatSetting("capacity_max", 0, "the capacity C, in nats, the KL is steered to at the end of the schedule", func(m float64) error {
			if !(m > 0) || m > 1e5 {
				return fmt.Errorf("%v nats must be between 0 (excluded) and 1e5", m)
			}
			return nil
		})),
		required(IntSetting("capacity_steps", 0, "steps over which C(t) rises linearly from 0 to capacity_max", atLeast(1))),
	}
}

func (capacity) checkSteps(c ObjectiveConfig, total int) error {
	if steps := c.Int("capacity_steps"); steps > total {
		return fmt.Errorf("objective.capacity_steps: %d is longer than the %d training steps; the capacity would never reach capacity_max", steps, total)
	}
	return nil
}

func (capacity) Scalars() []string { return []string{KeyCapacity} }
func (capacity) LossText() string  { return "−log p(x|z) + γ·|KL − C(t)| (capacity objective)" }

func (capacity) at(c ObjectiveConfig, step, _ int) []float64 {
	return []float64{c.Float("capacity_max") * min(1, float64(step)/float64(c.Int("capacity_steps")))}
}

func (capacity) final(c ObjectiveConfig) []float64 { return []float64{c.Float("capacity_max")} }

func (capacity) loss(o *objective, c ObjectiveConfig, fed []*G.Node, _ func() *G.Node) (*G.Node, error) {
	gap := G.Must(G.Abs(G.Must(G.Sub(o.klm, fed[0]))))
	return G.Must(G.Add(o.recon, G.Must(G.Mul(gap, o.scalar(c.Float("gamma")))))), nil
}

func (capacity) evalLoss(c ObjectiveConfig, vals []float64, recon, kl float64) float64 {
	return recon + c.Float("gamma")*math.Abs(kl-vals[0])
}
