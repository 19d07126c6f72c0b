// Package experiments defines the experiment spec (YAML), validates it, and expands
// it into fully resolved run configs with stable ids. It also holds the example specs.
package experiments

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/vae"
)

// RunConfig is one run, fully resolved: every setting that changes its result.
// What determines training (dataset, model, objective, training settings,
// seed) is the run's identity; the evaluation settings are not: they have a
// hash of their own (EvalHash), stored with each evaluation, so changing
// only eval: re-scores a trained run instead of training it again. Fields
// follow the rule in package vae: never change a meaning; add fields with
// omitempty and a zero value that keeps the old behaviour, so stored run ids
// stay valid.
type RunConfig struct {
	Dataset   data.Config         `json:"dataset"`
	Model     vae.ModelConfig     `json:"model"`
	Objective vae.ObjectiveConfig `json:"objective"`
	Train     vae.TrainConfig     `json:"train"`
	Eval      vae.EvalConfig      `json:"eval,omitzero"`
	Seed      uint64              `json:"seed"`
}

// DefaultRunConfig is what a spec's sections override.
func DefaultRunConfig() RunConfig {
	return RunConfig{
		Dataset:   data.DefaultConfig(),
		Model:     vae.DefaultModelConfig(),
		Objective: vae.DefaultObjectiveConfig(),
		Train:     vae.DefaultTrainConfig(),
		Eval:      vae.DefaultEvalConfig(),
	}
}

// Validate reports the first impossible value; messages start with the spec key.
func (c RunConfig) Validate() error {
	for _, err := range []error{c.Dataset.Validate(), c.Model.Validate(), c.Objective.Validate(), c.Train.Validate(), c.Eval.Validate()} {
		if err != nil {
			return err
		}
	}
	// Where the spec fixes the image size, a conv model that cannot take it is
	// refused now rather than when its run starts.
	if c.Dataset.Size > 0 {
		if err := c.Model.CheckShape(vae.Shape{Height: c.Dataset.Size, Width: c.Dataset.Size, Channels: 1}); err != nil {
			return fmt.Errorf("%w (for the %dx%d images of dataset.size)", err, c.Dataset.Size, c.Dataset.Size)
		}
	}
	return nil
}

// Canonical is the run's identity text: the compact JSON of what determines
// training (the config without its evaluation settings), fields in
// declaration order, so equal runs give equal bytes. It is what the store
// keeps as a run's config.
func (c RunConfig) Canonical() []byte {
	c.Eval = vae.EvalConfig{}
	return mustMarshal(c) // the objective writes its pinned defaults out (vae.ObjectiveConfig.MarshalJSON)
}

// ID is the run's identity: the first 16 hex digits of the sha256 of its
// canonical config (which includes the seed). Version 1 ids, made before
// evaluation left the identity, hashed the evaluation settings too; the
// store migrates them and keeps the old ids as aliases.
func (c RunConfig) ID() string {
	return shortHash("vaelab/run/v2\n", c.Canonical())
}

// EvalSettings are the evaluation settings in effect, defaults filled in,
// without those that change nothing computed (notComputed): what an
// evaluation record shows.
func (c RunConfig) EvalSettings() []byte {
	fields := evalFields(c.Eval.WithDefaults())
	for _, k := range notComputed() {
		delete(fields, k)
	}
	return mustMarshal(fields) // keys sorted
}

// notComputed are the eval settings that change nothing an evaluation
// computes, so they are no part of its identity: the batch size (how fast
// it runs), the primary metric (what the report leads with) and how often
// training stores its image grids.
func notComputed() []string { return []string{"batch_size", "primary", "grid_every"} }

// EvalCanonical is the evaluation settings' identity text: only the
// settings that differ from their defaults (and none of notComputed), so
// that writing a default out, or a later version adding a setting with a
// default, leaves the hash alone.
func (c RunConfig) EvalCanonical() []byte {
	set, def := evalFields(c.Eval.WithDefaults()), evalFields(DefaultRunConfig().Eval.WithDefaults())
	for k, v := range set {
		if slices.Contains(notComputed(), k) || string(v) == string(def[k]) {
			delete(set, k)
		}
	}
	return mustMarshal(set)
}

func evalFields(ev vae.EvalConfig) map[string]json.RawMessage {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(mustMarshal(ev), &fields); err != nil {
		panic(fmt.Sprintf("experiments: eval settings: %v", err)) // just marshalled
	}
	return fields
}

// EvalHash names the evaluation settings: the first 16 hex digits of the
// sha256 of EvalCanonical. A run's summaries are stored under it.
func (c RunConfig) EvalHash() string {
	return shortHash("vaelab/eval/v1\n", c.EvalCanonical())
}

func shortHash(prefix string, b []byte) string {
	sum := sha256.Sum256(append([]byte(prefix), b...))
	return hex.EncodeToString(sum[:8])
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil { // only plain numbers, strings and slices: cannot fail
		panic(fmt.Sprintf("experiments: marshal run config: %v", err))
	}
	return b
}

// clone deep-copies the config (Hidden is a slice).
func (c RunConfig) clone() RunConfig {
	c.Model.Hidden = append([]int(nil), c.Model.Hidden...)
	c.Model.Channels = append([]int(nil), c.Model.Channels...)
	c.Eval.Samplers = append([]string(nil), c.Eval.Samplers...)
	c.Eval.Features = append([]string(nil), c.Eval.Features...)
	return c
}

// Keys lists every settable key of a run config, in declaration order.
func Keys() []string {
	var out []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := range t.NumField() {
			f := t.Field(i)
			name := jsonName(f)
			switch {
			case f.Type == reflect.TypeFor[vae.ObjectiveConfig]() || f.Type == reflect.TypeFor[vae.EvalConfig]() || f.Type == reflect.TypeFor[vae.ModelConfig]():
				for _, k := range sectionKeys(f.Type) {
					out = append(out, prefix+name+"."+k)
				}
			case f.Type.Kind() == reflect.Struct:
				walk(f.Type, prefix+name+".")
			default:
				out = append(out, prefix+name)
			}
		}
	}
	walk(reflect.TypeFor[RunConfig](), "")
	return out
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}
