package vae

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// The model section's plug-in members, the likelihood and the prior,
// declare their settings in their own files (settings()); these read them.

// LikelihoodNames and PriorNames are the members model.likelihood and
// model.prior take, sorted.
func LikelihoodNames() []string { return slices.Sorted(maps.Keys(likelihoods())) }
func PriorNames() []string      { return slices.Sorted(maps.Keys(priors())) }

// LikelihoodSettings and PriorSettings are a member's settings, for docs.
func LikelihoodSettings(name string) ([]Setting, error) {
	lik, err := LikelihoodNamed(name)
	return declared(lik), err
}

func PriorSettings(name string) ([]Setting, error) {
	p, err := PriorNamed(name)
	return declared(p), err
}

// ModelSetting finds the declaration of model key key among every
// likelihood's and prior's, to read a spec's value before its members are
// settled.
func ModelSetting(key string) (Setting, bool) {
	if s, ok := settingIn(likelihoods(), declared[Likelihood], key); ok {
		return s, true
	}
	return settingIn(priors(), declared[Prior], key)
}

// ModelMemberKeys lists every key some likelihood or prior takes, sorted.
func ModelMemberKeys() []string {
	return slices.Sorted(slices.Values(append(keysIn(likelihoods(), declared[Likelihood]), keysIn(priors(), declared[Prior])...)))
}

// Float and Int are the value in effect of a setting of the model's
// likelihood or prior: the spec's, else the default its file declares.
func (c ModelConfig) Float(key string) float64 { return c.Value(key).(float64) }
func (c ModelConfig) Int(key string) int       { return c.Value(key).(int) }

// Value is the value in effect of a setting of the likelihood or prior.
func (c ModelConfig) Value(key string) any {
	lik, _ := LikelihoodNamed(c.Likelihood)
	prior, _ := PriorNamed(c.Prior)
	return c.Set.value(append(declared(lik), declared(prior)...), key)
}

// With returns c with the member setting key set to v.
func (c ModelConfig) With(key string, v any) ModelConfig {
	c.Set = c.Set.With(key, v)
	return c
}

// checkMembers refuses an unknown likelihood or prior, a setting neither
// takes, and impossible values.
func (c ModelConfig) checkMembers() error {
	lik, err := LikelihoodNamed(c.Likelihood)
	if err != nil {
		return err
	}
	prior, err := PriorNamed(c.Prior)
	if err != nil {
		return err
	}
	likSet, priorSet := Values{}, Values{}
	for key, v := range c.Set {
		if _, ok := settingIn(likelihoods(), declared[Likelihood], key); ok {
			likSet[key] = v
		} else {
			priorSet[key] = v
		}
	}
	likFamily := familyRef{"model", "likelihood", "model.likelihood", func(key string) []string { return ownersIn(likelihoods(), declared[Likelihood], key) }}
	if err := checkValues(likFamily, c.Likelihood, declared(lik), likSet, nil); err != nil {
		return err
	}
	priorFamily := familyRef{"model", "prior", "model.prior", func(key string) []string { return ownersIn(priors(), declared[Prior], key) }}
	if err := checkValues(priorFamily, cmp.Or(c.Prior, "standard"), declared(prior), priorSet, nil); err != nil {
		return err
	}
	if mc, ok := prior.(interface{ checkModel(ModelConfig) error }); ok {
		return mc.checkModel(c)
	}
	return nil
}

// modelFields is ModelConfig without its methods, for encoding its fields.
type modelFields ModelConfig

// MarshalJSON writes the model's part of a run's identity, byte for byte
// as before its members' settings moved into their files (when sigma and
// prior_components were fields): the fields, each member's settings set
// right after the key naming it (a zero left out where zero is the
// default, as omitempty did), and keys neither member takes (an invalid
// config only), sorted, at the end.
func (c ModelConfig) MarshalJSON() ([]byte, error) {
	plain := modelFields(c)
	plain.Prior = ""
	b, err := json.Marshal(plain) // ends with "likelihood"
	if err != nil {
		return nil, err
	}
	out := bytes.NewBuffer(bytes.TrimSuffix(b, []byte("}")))
	done := map[string]bool{}
	members := func(settings []Setting) {
		for _, s := range settings {
			v, set := c.Set[s.Key]
			if set && !done[s.Key] && !(isZero(v) && (s.Required || isZero(s.Default))) {
				writeField(out, s.Key, v)
			}
			done[s.Key] = true
		}
	}
	lik, _ := LikelihoodNamed(c.Likelihood)
	members(declared(lik))
	if c.Prior != "" {
		writeField(out, "prior", c.Prior)
	}
	prior, _ := PriorNamed(c.Prior)
	members(declared(prior))
	for _, key := range c.Set.Keys() {
		if !done[key] {
			writeField(out, key, c.Set[key])
		}
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}

// UnmarshalJSON reads what MarshalJSON wrote, typing each member setting by
// its declaration.
func (c *ModelConfig) UnmarshalJSON(b []byte) error {
	var plain modelFields
	if err := json.Unmarshal(b, &plain); err != nil {
		return err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	set, err := decodeSettings(raw, ModelSetting, "model")
	*c = ModelConfig(plain)
	c.Set = set
	return err
}

// writeField appends ,"key":value to a JSON object being written.
func writeField(b *bytes.Buffer, key string, v any) {
	if b.Len() > 1 {
		b.WriteByte(',')
	}
	k, _ := json.Marshal(key)
	x, _ := json.Marshal(v) // numbers and strings only
	b.Write(k)
	b.WriteByte(':')
	b.Write(x)
}

// Checks for the likelihoods' and priors' settings.

func positive(v float64) error {
	if !(v > 0) {
		return fmt.Errorf("%v must be positive", v)
	}
	return nil
}
