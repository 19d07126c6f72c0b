package vae

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	G "gorgonia.org/gorgonia"
)

// An Objective is what training minimises, built from the model's terms:
// log p(x|z) per image, the prior's KL (and its per-dimension terms) and the
// scalars the objective feeds each step (β(t) for the ELBO). Each lives in a
// file of its own (objective_*.go) and is named for objective.type by one
// line of objectives.
type Objective interface {
	// keys are the objective section's keys it takes besides type; any
	// other key set is an error (checkObjectiveKeys).
	keys() []string
	// check validates the values of its keys.
	check(c ObjectiveConfig) error
	// Scalars are the keys of the values fed to the loss at every step, in
	// order; each is also recorded at every step under its key.
	Scalars() []string
	// LossText says in symbols what the training loss (KeyLoss) is, so
	// views never label one objective's loss with another's formula.
	LossText() string
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
		"iwae":     iwae{},
		"beta_tc":  betaTC{},
		"geco":     geco{},
	}
}

// A multiSample objective decodes several draws of z per image in training;
// its graph's rows are images × samples, draw s of image i at row s·B + i.
type multiSample interface {
	samples(c ObjectiveConfig) int
}

// A statefulObjective carries values from step to step (GECO's λ and
// moving average): its scalars come from the state, which each step's
// estimates update and checkpoints keep, so a resumed run continues it.
type statefulObjective interface {
	initial(c ObjectiveConfig) []float64
	scalarsFrom(c ObjectiveConfig, state []float64) []float64
	// update returns the state after a step that recorded est.
	update(c ObjectiveConfig, state []float64, est []Metric) []float64
	// recordState is what the state adds to the step's metrics.
	recordState(state []float64) []Metric
}

func samplesPerImage(obj Objective, c ObjectiveConfig) int {
	if ms, ok := obj.(multiSample); ok {
		return ms.samples(c)
	}
	return 1
}

// checkObjectiveKeys refuses a key of the objective section that obj does
// not take, naming the objectives that do. beta counts as set only when it
// differs from its default of 1, which every config carries.
func checkObjectiveKeys(c ObjectiveConfig, obj Objective) error {
	v, t := reflect.ValueOf(c), reflect.TypeFor[ObjectiveConfig]()
	for i := range t.NumField() {
		key, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		f := v.Field(i)
		if key == "type" || f.IsZero() || (key == "beta" && f.Float() == 1) || slices.Contains(obj.keys(), key) {
			continue
		}
		var owners []string
		for name, o := range objectives() {
			if slices.Contains(o.keys(), key) {
				owners = append(owners, name)
			}
		}
		sort.Strings(owners)
		return fmt.Errorf("objective.%s: the %s objective does not take it (it belongs to %s); change objective.type or remove the key", key, c.typeName(), strings.Join(owners, ", "))
	}
	return nil
}

func (c ObjectiveConfig) typeName() string {
	if c.Type == "" {
		return "elbo"
	}
	return c.Type
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
