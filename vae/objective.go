package vae

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	G "gorgonia.org/gorgonia"
)

// An Objective is what training minimises, built from the model's terms:
// log p(x|z) per image, the prior's KL (and its per-dimension terms) and the
// scalars the objective feeds each step (β(t) for the ELBO). Each lives in a
// file of its own (objective_*.go) and is named for objective.type by one
// line of objectives.
type Objective interface {
	// settings are the objective section's keys it takes besides type, in
	// the order the run's identity lists them; any other key set is an
	// error (ObjectiveConfig.Validate).
	settings() []Setting
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
		"rae":      rae{},
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

// A crossChecker checks settings against each other, after each alone.
type crossChecker interface {
	checkTogether(c ObjectiveConfig) error
}

// ObjectiveSettings are the settings of the objective called name ("" is
// elbo), for docs.
func ObjectiveSettings(name string) ([]Setting, error) {
	obj, err := ObjectiveNamed(name)
	if err != nil {
		return nil, err
	}
	return obj.settings(), nil
}

// ObjectiveNames are the objectives objective.type takes, sorted.
func ObjectiveNames() []string { return slices.Sorted(maps.Keys(objectives())) }

// ObjectiveSetting finds the declaration of objective key key among every
// objective's, to read a spec's value before its objective is settled.
func ObjectiveSetting(key string) (Setting, bool) {
	return settingIn(objectives(), Objective.settings, key)
}

// ObjectiveKeys lists every key some objective takes, sorted.
func ObjectiveKeys() []string { return keysIn(objectives(), Objective.settings) }

// Validate refuses an unknown objective, a key it does not take, and
// impossible values, naming the spec key. β is in every run's config
// (ids from when every objective carried it), so a β of 1 counts as unset
// for the objectives that do not take it.
func (c ObjectiveConfig) Validate() error {
	obj, err := ObjectiveNamed(c.Type)
	if err != nil {
		return err
	}
	f := familyRef{"objective", "objective", "objective.type", func(key string) []string { return ownersIn(objectives(), Objective.settings, key) }}
	unset := func(key string, x any) bool { return key == "beta" && x == any(1.0) }
	if err := checkValues(f, c.TypeName(), obj.settings(), c.Set, unset); err != nil {
		return err
	}
	if cc, ok := obj.(crossChecker); ok {
		return cc.checkTogether(c)
	}
	return nil
}

// TypeName is the objective's name, "" spelt elbo.
func (c ObjectiveConfig) TypeName() string {
	if c.Type == "" {
		return "elbo"
	}
	return c.Type
}

// Float, Int and String are the value in effect of one of the objective's
// settings: the spec's, else the default its file declares.
func (c ObjectiveConfig) Float(key string) float64 { return c.value(key).(float64) }
func (c ObjectiveConfig) Int(key string) int       { return c.value(key).(int) }
func (c ObjectiveConfig) String(key string) string { return c.value(key).(string) }

// Has reports whether the spec set key.
func (c ObjectiveConfig) Has(key string) bool {
	_, ok := c.Set[key]
	return ok
}

// Value is the value in effect of one of the objective's settings.
func (c ObjectiveConfig) Value(key string) any { return c.value(key) }

func (c ObjectiveConfig) value(key string) any {
	obj, err := ObjectiveNamed(c.Type)
	if err != nil {
		panic(fmt.Sprintf("vae: objective settings of an unvalidated config: %v", err))
	}
	return c.Set.value(obj.settings(), key)
}

// With returns c with key set to v.
func (c ObjectiveConfig) With(key string, v any) ObjectiveConfig {
	c.Set = c.Set.With(key, v)
	return c
}

// MarshalJSON writes the objective's part of a run's identity, byte for
// byte as before its settings moved into the objectives' files (when they
// were one struct's fields): "type" when set; "beta", always (left out, its
// default where the objective takes β, else 1); then the keys set, in the objective's order, a zero left out where
// zero is the default (as omitempty did), and a pinned key's default
// written out when the key is; then, for an invalid config only, keys the
// objective does not take, sorted.
func (c ObjectiveConfig) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	field := func(key string, v any) { writeField(&b, key, v) }
	if c.Type != "" {
		field("type", c.Type)
	}
	obj, err := ObjectiveNamed(c.Type)
	beta, ok := c.Set["beta"]
	if !ok {
		beta = 1.0
		if err == nil {
			if s, declared := find(obj.settings(), "beta"); declared {
				beta = s.Default
			}
		}
	}
	field("beta", beta)
	done := map[string]bool{"beta": true}
	if err == nil {
		for _, s := range obj.settings() {
			v, set := c.Set[s.Key]
			switch {
			case done[s.Key]:
			case set && isZero(v) && (s.Required || isZero(s.Default)):
			case set:
				field(s.Key, v)
			case s.Pinned:
				field(s.Key, s.Default)
			}
			done[s.Key] = true
		}
	}
	for _, key := range c.Set.Keys() {
		if !done[key] {
			field(key, c.Set[key])
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads a stored config, typing each value by its declaration.
func (c *ObjectiveConfig) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("objective: %w", err)
	}
	*c = ObjectiveConfig{}
	if t, ok := raw["type"]; ok {
		if err := json.Unmarshal(t, &c.Type); err != nil {
			return fmt.Errorf("objective.type: %w", err)
		}
		delete(raw, "type")
	}
	set, err := decodeSettings(raw, ObjectiveSetting, "objective")
	c.Set = set
	return err
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
