package vae

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// A Setting is one key a plug-in member (an objective, a sampler) takes in
// its spec section. Each member lists its settings in its own file, so that
// its keys, types, defaults, checks and docs sit beside its code; the spec
// loader and `vaelab spec --explain` read them from there.
type Setting struct {
	Key string
	// Doc says in one line what the key means.
	Doc string
	// Default is the value in effect when the spec leaves the key out; its
	// Go type (float64, int or string) is the key's type. A Required key has
	// no default, and Default only gives the type.
	Default  any
	Required bool
	// Pinned writes the default into the run's identity when the key is
	// left out, so that leaving it out and writing the default are one run.
	Pinned bool
	// check refuses an impossible value; its message follows "section.key: ".
	check func(v any) error
}

// FloatSetting declares a number; check (nil for any) refuses bad values.
func FloatSetting(key string, def float64, doc string, check func(float64) error) Setting {
	return Setting{Key: key, Default: def, Doc: doc, check: typed(check)}
}

// IntSetting declares an integer.
func IntSetting(key string, def int, doc string, check func(int) error) Setting {
	return Setting{Key: key, Default: def, Doc: doc, check: typed(check)}
}

// StringSetting declares a string.
func StringSetting(key, def, doc string, check func(string) error) Setting {
	return Setting{Key: key, Default: def, Doc: doc, check: typed(check)}
}

// required marks a setting the spec must give.
func required(s Setting) Setting {
	s.Required = true
	return s
}

// pinned marks a setting whose default is part of the run's identity.
func pinned(s Setting) Setting {
	s.Pinned = true
	return s
}

func typed[T any](check func(T) error) func(any) error {
	return func(v any) error {
		if check == nil {
			return nil
		}
		return check(v.(T))
	}
}

// Kind names the key's type for docs: number, integer or string.
func (s Setting) Kind() string {
	switch s.Default.(type) {
	case int:
		return "integer"
	case string:
		return "string"
	}
	return "number"
}

// DefaultText is the default as docs show it.
func (s Setting) DefaultText() string {
	if s.Required {
		return "required"
	}
	if str, ok := s.Default.(string); ok {
		return str
	}
	return fmt.Sprint(s.Default)
}

// Check validates v, which must have the key's type.
func (s Setting) Check(v any) error {
	v, err := s.Convert(v)
	if err != nil {
		return err
	}
	if s.check == nil {
		return nil
	}
	return s.check(v)
}

// Convert gives v the key's type: an integral number becomes an int, any
// number a float64 where one is declared. Anything else is an error.
func (s Setting) Convert(v any) (any, error) {
	switch s.Default.(type) {
	case float64:
		switch x := v.(type) {
		case float64:
			return x, nil
		case int:
			return float64(x), nil
		}
		return nil, fmt.Errorf("want a number, got %v", v)
	case int:
		switch x := v.(type) {
		case int:
			return x, nil
		case float64:
			if x == float64(int(x)) {
				return int(x), nil
			}
		}
		return nil, fmt.Errorf("want an integer, got %v", v)
	case string:
		if x, ok := v.(string); ok {
			return x, nil
		}
		return nil, fmt.Errorf("want a string, got %v", v)
	}
	return nil, fmt.Errorf("setting %s has no type", s.Key)
}

// isZero reports whether v is its type's zero value.
func isZero(v any) bool {
	switch x := v.(type) {
	case float64:
		return x == 0
	case int:
		return x == 0
	case string:
		return x == ""
	}
	return v == nil
}

// Values are the member settings a spec section sets, by key: float64, int
// or string values, only the keys the spec wrote. It is never changed in
// place (With copies), so configs may share one.
type Values map[string]any

// With returns a copy of v with key set to x.
func (v Values) With(key string, x any) Values {
	out := make(Values, len(v)+1)
	maps.Copy(out, v)
	out[key] = x
	return out
}

// Keys returns the keys set, sorted.
func (v Values) Keys() []string { return slices.Sorted(maps.Keys(v)) }

// find returns the setting called key among settings.
func find(settings []Setting, key string) (Setting, bool) {
	for _, s := range settings {
		if s.Key == key {
			return s, true
		}
	}
	return Setting{}, false
}

// value is key's value in effect: the one set, else the default of its
// declaration among settings. A key its member does not declare is a
// programming error.
func (v Values) value(settings []Setting, key string) any {
	s, ok := find(settings, key)
	if !ok {
		panic(fmt.Sprintf("vae: setting %q is not declared by its member", key))
	}
	if x, ok := v[key]; ok {
		if x, err := s.Convert(x); err == nil {
			return x
		}
	}
	return s.Default
}

// A familyRef names a plug-in family in error messages: its spec section,
// its noun, the key that chooses the member, and the members that declare
// a key (for a key the chosen member does not take).
type familyRef struct {
	section, noun, chooser string
	owners                 func(key string) []string
}

// checkValues validates the values set against the settings of member, one
// of family f; allowed reports a foreign key with a value that counts as
// unset.
func checkValues(f familyRef, member string, settings []Setting, v Values, allowed func(key string, x any) bool) error {
	section := f.section
	for _, key := range v.Keys() {
		s, ok := find(settings, key)
		if !ok {
			if allowed != nil && allowed(key, v[key]) {
				continue
			}
			who := f.owners(key)
			if len(who) == 0 {
				return fmt.Errorf("%s.%s: unknown key", section, key)
			}
			return fmt.Errorf("%s.%s: the %s %s does not take it (it belongs to %s); change %s or remove the key", section, key, member, f.noun, strings.Join(who, ", "), f.chooser)
		}
		if err := s.Check(v[key]); err != nil {
			return fmt.Errorf("%s.%s: %w", section, key, err)
		}
	}
	for _, s := range settings {
		if _, ok := v[s.Key]; s.Required && !ok {
			return fmt.Errorf("%s.%s: required by the %s %s (%s)", section, s.Key, member, f.noun, s.Doc)
		}
	}
	return nil
}

// A settingsDeclarer is a likelihood or prior with settings of its own
// (model.sigma, model.prior_components); members without have none.
type settingsDeclarer interface {
	settings() []Setting
}

// declared are a member's settings, none if it declares none.
func declared[M any](m M) []Setting {
	if d, ok := any(m).(settingsDeclarer); ok {
		return d.settings()
	}
	return nil
}

// ownersIn lists, sorted, the members of table whose settings declare key.
func ownersIn[M any](table map[string]M, settings func(M) []Setting, key string) []string {
	var out []string
	for name, m := range table {
		if _, ok := find(settings(m), key); ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// settingIn finds key among the settings of every member of table, for
// reading a value before its member is known (a spec's keys come before
// its type is settled). Members that share a key give it one type.
func settingIn[M any](table map[string]M, settings func(M) []Setting, key string) (Setting, bool) {
	for _, name := range slices.Sorted(maps.Keys(table)) {
		if s, ok := find(settings(table[name]), key); ok {
			return s, true
		}
	}
	return Setting{}, false
}

// keysIn lists every key any member of table declares, sorted.
func keysIn[M any](table map[string]M, settings func(M) []Setting) []string {
	var out []string
	for _, m := range table {
		for _, s := range settings(m) {
			if !slices.Contains(out, s.Key) {
				out = append(out, s.Key)
			}
		}
	}
	slices.Sort(out)
	return out
}

// decodeSettings reads member values from JSON numbers and strings, giving
// each the type its declaration (found by lookup) says. A key no member
// declares is skipped, as encoding/json skips unknown fields: stored
// configs are read, not validated.
func decodeSettings(raw map[string]json.RawMessage, lookup func(string) (Setting, bool), section string) (Values, error) {
	var v Values
	for _, key := range slices.Sorted(maps.Keys(raw)) {
		s, ok := lookup(key)
		if !ok {
			continue
		}
		var x any
		switch s.Default.(type) {
		case string:
			var str string
			if err := json.Unmarshal(raw[key], &str); err != nil {
				return nil, fmt.Errorf("%s.%s: %w", section, key, err)
			}
			x = str
		default:
			var f float64
			if err := json.Unmarshal(raw[key], &f); err != nil {
				return nil, fmt.Errorf("%s.%s: %w", section, key, err)
			}
			conv, err := s.Convert(f)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", section, key, err)
			}
			x = conv
		}
		v = v.With(key, x)
	}
	return v, nil
}
