package vae

import (
	G "gorgonia.org/gorgonia"
)

// An Objective is what training minimises, built from the model's terms:
// log p(x|z) per image, the prior's KL (and its per-dimension terms) and the
// scalars the objective feeds each step (β(t) for the ELBO). Each lives in a
// file of its own (objective_*.go) and is named for objective.type by one
// line of objectives.
type Objective interface {
	// check validates the objective section for it.
	check(c ObjectiveConfig) error
	// Scalars are the keys of the values fed to the loss at every step, in
	// order; each is also recorded at every step under its key.
	Scalars() []string
	// at gives those values at training step step (1-based) of total.
	at(c ObjectiveConfig, step, total int) []float64
	// final gives them for evaluation, after training.
	final(c ObjectiveConfig) []float64
	// loss builds the batch-mean training loss in the objective graph; fed
	// are the nodes of Scalars, klPerDim the prior's per-dimension KL terms
	// (nil when the prior does not factorise).
	loss(o *objective, c ObjectiveConfig, fed []*G.Node, klPerDim func() *G.Node) (*G.Node, error)
	// evalLoss is the evaluation's loss per image from the mean
	// reconstruction term (−log p(x|z)) and KL, with the values of final.
	evalLoss(c ObjectiveConfig, vals []float64, recon, kl float64) float64
}

// objectives names every objective for objective.type ("" is elbo).
func objectives() map[string]Objective {
	return map[string]Objective{
		"elbo":     elbo{},
		"capacity": capacity{},
		"mmd":      mmd{},
	}
}

// stepsChecker is an objective whose schedule must fit in training.
type stepsChecker interface {
	checkSteps(c ObjectiveConfig, total int) error
}

// CheckSteps reports a schedule of c's objective that does not fit in total
// training steps (known once the dataset's size is).
func (c ObjectiveConfig) CheckSteps(total int) error {
	obj, err := ObjectiveNamed(c.Type)
	if err != nil {
		return err
	}
	if sc, ok := obj.(stepsChecker); ok {
		return sc.checkSteps(c, total)
	}
	return nil
}

// ObjectiveNamed returns the objective called name; "" is elbo.
func ObjectiveNamed(name string) (Objective, error) {
	if name == "" {
		name = "elbo"
	}
	return lookup(objectives(), "objective.type", name)
}
