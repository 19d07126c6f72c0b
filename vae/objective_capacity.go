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

func (capacity) keys() []string { return []string{"gamma", "capacity_max", "capacity_steps"} }

func (capacity) check(c ObjectiveConfig) error {
	switch {
	case c.Gamma == nil:
		return fmt.Errorf("objective.gamma: set the capacity objective's weight γ of |KL − C(t)| (Burgess et al. used 1000)")
	case !(*c.Gamma > 0) || *c.Gamma > 1e6:
		return fmt.Errorf("objective.gamma: %v must be between 0 (excluded) and 1e6 for the capacity objective (Burgess et al. used 1000)", *c.Gamma)
	case !(c.CapacityMax > 0) || c.CapacityMax > 1e5:
		return fmt.Errorf("objective.capacity_max: %v nats must be between 0 (excluded) and 1e5", c.CapacityMax)
	case c.CapacitySteps < 1:
		return fmt.Errorf("objective.capacity_steps: %d must be at least 1", c.CapacitySteps)
	}
	return nil
}

func (capacity) checkSteps(c ObjectiveConfig, total int) error {
	if c.CapacitySteps > total {
		return fmt.Errorf("objective.capacity_steps: %d is longer than the %d training steps; the capacity would never reach capacity_max", c.CapacitySteps, total)
	}
	return nil
}

func (capacity) Scalars() []string { return []string{KeyCapacity} }
func (capacity) LossText() string  { return "−log p(x|z) + γ·|KL − C(t)| (capacity objective)" }

func (capacity) at(c ObjectiveConfig, step, _ int) []float64 {
	return []float64{c.CapacityMax * min(1, float64(step)/float64(c.CapacitySteps))}
}

func (capacity) final(c ObjectiveConfig) []float64 { return []float64{c.CapacityMax} }

func (capacity) loss(o *objective, c ObjectiveConfig, fed []*G.Node, _ func() *G.Node) (*G.Node, error) {
	gap := G.Must(G.Abs(G.Must(G.Sub(o.klm, fed[0]))))
	return G.Must(G.Add(o.recon, G.Must(G.Mul(gap, o.scalar(*c.Gamma))))), nil
}

func (capacity) evalLoss(c ObjectiveConfig, vals []float64, recon, kl float64) float64 {
	return recon + *c.Gamma*math.Abs(kl-vals[0])
}
