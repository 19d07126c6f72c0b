package vae

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
)

// Codes are the training images' posteriors q(z|x) = N(Mu, exp(LogVar)),
// n × latent values each, row-major: what post-hoc samplers are fitted on.
type Codes struct {
	Mu, LogVar []float64
}

// A Sampler draws latent codes for generation once a model is trained (post
// hoc: no retraining), fitted on the model and its training images'
// posteriors. Evaluation decodes its draws (Model.Decode) for the sample-quality
// metrics. Each lives in a file of its own (sampler_*.go) and is named for
// eval.samplers by one line of samplers.
type Sampler interface {
	// Fit fits the sampler to m and the training images' codes; rng serves
	// fitting that draws.
	Fit(ctx context.Context, m *Model, codes Codes, rng *rand.Rand) error
	// Draw returns n latent codes (n × latent values, row-major).
	Draw(ctx context.Context, rng *rand.Rand, n int) ([]float64, error)
	// NeedsLatents tells whether Fit reads the codes, so that evaluation encodes
	// the training images only when some sampler does.
	NeedsLatents() bool
	// Key names the settings the fit depends on besides the model, its
	// codes and the generator ("components=10"), so that a stored fit is
	// reused only under the same ones.
	Key() string
	// MarshalFit encodes the fit; UnmarshalFit restores it, for model m,
	// so that it draws exactly as the fit did.
	MarshalFit() ([]byte, error)
	UnmarshalFit(m *Model, b []byte) error
}

// A samplerMember is a sampler's table entry: the eval keys it takes (in
// its file; keys are the sampler's name + "_" + setting, as eval is one
// section for every sampler) and how to make a new, unfitted one with the
// evaluation's settings.
type samplerMember struct {
	settings func() []Setting
	make     func(EvalConfig) Sampler
}

// samplers names every sampler for eval.samplers.
func samplers() map[string]samplerMember {
	return map[string]samplerMember{
		"prior":     {noSettings, func(EvalConfig) Sampler { return &priorSampler{} }},
		"gmm":       {gmmSettings, newGMMSampler},
		"two_stage": {twoStageSettings, newTwoStageSampler},
		"aggregate": {noSettings, func(EvalConfig) Sampler { return &aggregateSampler{} }},
	}
}

func noSettings() []Setting { return nil }

func (m samplerMember) declared() []Setting { return m.settings() }

// NewSampler returns a new sampler called name, set up by c.
func NewSampler(name string, c EvalConfig) (Sampler, error) {
	m, err := lookup(samplers(), "eval.samplers", name)
	if err != nil {
		return nil, err
	}
	return m.make(c), nil
}

// SamplerNames are the samplers eval.samplers takes, sorted.
func SamplerNames() []string { return slices.Sorted(maps.Keys(samplers())) }

// SamplerSettings are the eval keys of the sampler called name, for docs.
func SamplerSettings(name string) ([]Setting, error) {
	m, err := lookup(samplers(), "eval.samplers", name)
	if err != nil {
		return nil, err
	}
	return m.settings(), nil
}

// SamplerSetting finds the declaration of eval key key among the samplers'.
func SamplerSetting(key string) (Setting, bool) {
	return settingIn(samplers(), samplerMember.declared, key)
}

// SamplerKeys lists every eval key some sampler takes, sorted.
func SamplerKeys() []string { return keysIn(samplers(), samplerMember.declared) }

// Int is the value in effect of a sampler's integer eval key: the spec's,
// else the default its sampler's file declares.
func (c EvalConfig) Int(key string) int { return c.Value(key).(int) }

// Value is the value in effect of a sampler's eval key.
func (c EvalConfig) Value(key string) any {
	s, ok := SamplerSetting(key)
	if !ok {
		panic(fmt.Sprintf("vae: eval key %q is no sampler's", key))
	}
	return c.Set.value([]Setting{s}, key)
}

// With returns c with the sampler setting key set to v.
func (c EvalConfig) With(key string, v any) EvalConfig {
	c.Set = c.Set.With(key, v)
	return c
}

// evalFields is EvalConfig without its methods, for encoding its fields.
type evalFields EvalConfig

// MarshalJSON writes the eval section's fields and, beside them, the
// samplers' settings set: one flat object, as the spec's eval section is.
func (c EvalConfig) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(evalFields(c))
	if err != nil || len(c.Set) == 0 {
		return b, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, fmt.Errorf("eval settings: %w", err)
	}
	for key, v := range c.Set {
		if fields[key], err = json.Marshal(v); err != nil {
			return nil, fmt.Errorf("eval.%s: %w", key, err)
		}
	}
	return json.Marshal(fields)
}

// UnmarshalJSON reads what MarshalJSON wrote, typing each sampler setting
// by its declaration.
func (c *EvalConfig) UnmarshalJSON(b []byte) error {
	var plain evalFields
	if err := json.Unmarshal(b, &plain); err != nil {
		return err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	set, err := decodeSettings(raw, SamplerSetting, "eval")
	*c = EvalConfig(plain)
	c.Set = set
	return err
}
