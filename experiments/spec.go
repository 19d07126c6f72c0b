package experiments

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/vaelab/vaelab/data"
)

// Specs are parsed with yaml.v3 nodes, not viper: viper lower-cases keys and
// splits dotted keys, and error messages here must name the key and its line.

// Spec is a parsed, validated experiment spec.
type Spec struct {
	Name        string
	Description string
	// Base is the config every run starts from: defaults overridden by the spec's sections.
	Base     RunConfig
	Seeds    []uint64
	Grid     []Axis
	Variants []Variant
	// Random is the search's random axes (sweep.random), nil without; a
	// trial is one draw of them. EarlyStop (sweep.early_stop) stops weak
	// trials at rungs, nil for none.
	Random    *Search
	EarlyStop *EarlyStop
	// Text is the spec file as written, and Hash its sha256.
	Text []byte
	Hash string

	source string         // file name for error messages
	lines  map[string]int // key → line, for errors found after parsing
	base   map[string]int // base config key → the line that set it
}

// Axis is one grid axis: a config key and the values it takes.
type Axis struct {
	Key    string
	Values []value
}

// Variant is a named partial override, applied as one value of the variant axis.
type Variant struct {
	Name string
	Set  []Setting
	line int
}

// Setting assigns one value to one config key.
type Setting struct {
	Key   string
	Value value
}

// MaxRuns bounds a spec's expansion; larger sweeps are refused before any run
// is built.
const MaxRuns = 100_000

// Error is a problem in a spec, located by key and, where known, line.
type Error struct {
	Source string
	Line   int
	Msg    string // starts with the key
}

func (e *Error) Error() string {
	loc := e.Source
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.Source, e.Line)
	}
	return loc + ": " + e.Msg
}

// Load reads and parses the spec file at path.
func Load(path string) (*Spec, error) {
	text, err := data.ReadSpecFile(path)
	if err != nil {
		return nil, fmt.Errorf("load spec: %w", err)
	}
	return Parse(text, path)
}

func sections() []string {
	return []string{"name", "description", "dataset", "model", "objective", "train", "eval", "seeds", "sweep"}
}

// Parse parses and validates spec text; source names it in errors.
func Parse(text []byte, source string) (*Spec, error) {
	sum := sha256.Sum256(text)
	s := &Spec{Base: DefaultRunConfig(), Text: text, Hash: hex.EncodeToString(sum[:]), source: source, lines: map[string]int{}, base: map[string]int{}}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(text))
	if err := dec.Decode(&doc); err != nil {
		return nil, s.errorf(0, "not valid YAML: %v", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, s.errorf(extra.Line, "the spec holds more than one YAML document")
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, s.errorf(0, "the spec must be a YAML mapping with keys %s", strings.Join(sections(), ", "))
	}
	if err := s.parseTop(doc.Content[0]); err != nil {
		return nil, err
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Spec) errorf(line int, format string, args ...any) error {
	return &Error{Source: s.source, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// keyError turns an error whose message starts with a key into a located Error.
func (s *Spec) keyError(err error, line int) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if line == 0 {
		line = s.lineOf(err.Error())
	}
	return &Error{Source: s.source, Line: line, Msg: err.Error()}
}

// Locate gives an error whose message starts with a spec key (as the
// plan-time checks of runs do) the spec's file and the key's line.
func (s *Spec) Locate(err error) error { return s.keyError(err, 0) }

// lineOf finds the line of the key a validation message starts with.
func (s *Spec) lineOf(msg string) int {
	key, _, _ := strings.Cut(msg, ":")
	key, _, _ = strings.Cut(key, "[")
	return s.lines[key]
}

func (s *Spec) parseTop(m *yaml.Node) error {
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if seen[k.Value] {
			return s.errorf(k.Line, "%s: key appears twice", k.Value)
		}
		seen[k.Value] = true
		var err error
		switch {
		case k.Value == "name" || k.Value == "description":
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
				return s.errorf(v.Line, "%s: want a string, got %s", k.Value, describe(v))
			}
			if k.Value == "name" {
				s.Name = v.Value
			} else {
				s.Description = v.Value
			}
		case isConfigSection(k.Value):
			err = s.parseSection(k.Value, v)
		case k.Value == "seeds":
			err = s.parseSeeds(v)
		case k.Value == "sweep":
			err = s.parseSweep(v)
		default:
			// A dotted key at the top level ("objective.beta: 2") means the nested form.
			if sec, _, ok := strings.Cut(k.Value, "."); ok && isConfigSection(sec) {
				err = s.parseSection(k.Value, v)
				break
			}
			return s.errorf(k.Line, "%s: unknown key (known at the top level: %s)", k.Value, strings.Join(sections(), ", "))
		}
		if err != nil {
			return err
		}
	}
	if s.Name == "" {
		return s.errorf(0, "name: missing; every spec needs a name")
	}
	if len(s.Name) > 200 {
		return s.errorf(0, "name: longer than 200 characters")
	}
	if len(s.Seeds) == 0 {
		s.Seeds = []uint64{1}
	}
	return nil
}

func isConfigSection(name string) bool {
	switch name {
	case "dataset", "model", "objective", "train", "eval":
		return true
	}
	return false
}

// parseSection applies a config section (dataset, model, ...) to the base config.
func (s *Spec) parseSection(name string, n *yaml.Node) error {
	settings, err := s.flatten(name, n)
	if err != nil {
		return err
	}
	for _, st := range settings {
		// Nested and dotted forms name the same key: "model: {latent: 4}" and
		// "model.latent: 8" in one spec is a key set twice, not an override.
		if prev, dup := s.base[st.Key]; dup {
			return s.errorf(st.Value.line(), "%s: key appears twice (also set on line %d, nested or dotted); keep one", st.Key, prev)
		}
		if err := setPath(&s.Base, st.Key, st.Value); err != nil {
			return s.keyError(err, st.Value.line())
		}
		s.lines[st.Key] = st.Value.line()
		s.base[st.Key] = st.Value.line()
	}
	return nil
}

// flatten turns nested mappings into key paths. Dotted keys ("model.latent: 8")
// mean the same as nesting.
func (s *Spec) flatten(prefix string, n *yaml.Node) ([]Setting, error) {
	if n.Kind != yaml.MappingNode {
		return []Setting{{Key: prefix, Value: value{n}}}, nil
	}
	var out []Setting
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			return nil, s.errorf(k.Line, "%s: keys must be plain names", prefix)
		}
		key := k.Value
		if prefix != "" {
			key = prefix + "." + k.Value
		}
		if seen[key] {
			return nil, s.errorf(k.Line, "%s: key appears twice", key)
		}
		seen[key] = true
		if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
			return nil, s.errorf(k.Line, "%s: has no value", key)
		}
		sub, err := s.flatten(key, v)
		if err != nil {
			return nil, err
		}
		out = append(out, sub...)
	}
	if len(out) == 0 && prefix != "" {
		return nil, s.errorf(n.Line, "%s: empty section", prefix)
	}
	return out, nil
}

func (s *Spec) parseSeeds(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return s.errorf(n.Line, "seeds: want a non-empty list of non-negative integers, got %s", describe(n))
	}
	seen := map[uint64]bool{}
	for i, c := range n.Content {
		f, ok := number(c)
		if !ok || f < 0 || f != float64(uint64(f)) || f > 1<<53 {
			return s.errorf(c.Line, "seeds[%d]: want a non-negative integer, got %s", i, describe(c))
		}
		if seen[uint64(f)] {
			return s.errorf(c.Line, "seeds[%d]: seed %d appears twice", i, uint64(f))
		}
		seen[uint64(f)] = true
		s.Seeds = append(s.Seeds, uint64(f))
	}
	return nil
}

func (s *Spec) parseSweep(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return s.errorf(n.Line, "sweep: want a mapping with grid, variants, random and/or early_stop, got %s", describe(n))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var err error
		switch k.Value {
		case "grid":
			err = s.parseGrid(v)
		case "variants":
			err = s.parseVariants(v)
		case "random":
			err = s.parseRandom(v)
		case "early_stop":
			err = s.parseEarlyStop(v)
		default:
			return s.errorf(k.Line, "sweep.%s: unknown key (known in sweep: grid, variants, random, early_stop)", k.Value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// parseGrid reads a list of {key, values} axes. A list, not a mapping keyed by
// config key, so keys are never lower-cased or split by any YAML layer.
func (s *Spec) parseGrid(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return s.errorf(n.Line, "sweep.grid: want a non-empty list of {key, values}, got %s", describe(n))
	}
	keys := map[string]bool{}
	for i, item := range n.Content {
		where := fmt.Sprintf("sweep.grid[%d]", i)
		fields, err := s.fields(item, where, "key", "values")
		if err != nil {
			return err
		}
		k, vals := fields["key"], fields["values"]
		if k == nil || k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			return s.errorf(item.Line, "%s.key: want a config key such as objective.beta", where)
		}
		if keys[k.Value] {
			return s.errorf(k.Line, "%s.key: %s is already a grid axis", where, k.Value)
		}
		keys[k.Value] = true
		if vals == nil || vals.Kind != yaml.SequenceNode || len(vals.Content) == 0 {
			return s.errorf(item.Line, "%s.values: the axis %s needs a non-empty list of values", where, k.Value)
		}
		ax := Axis{Key: k.Value}
		for j, c := range vals.Content {
			probe := s.Base.clone()
			if err := setPath(&probe, k.Value, value{c}); err != nil {
				return s.keyError(fmt.Errorf("%s.values[%d]: %w", where, j, err), c.Line)
			}
			ax.Values = append(ax.Values, value{c})
		}
		s.lines[k.Value] = k.Line
		s.Grid = append(s.Grid, ax)
	}
	return nil
}

func (s *Spec) parseVariants(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return s.errorf(n.Line, "sweep.variants: want a non-empty list of {name, set}, got %s", describe(n))
	}
	names := map[string]bool{}
	for i, item := range n.Content {
		where := fmt.Sprintf("sweep.variants[%d]", i)
		fields, err := s.fields(item, where, "name", "set")
		if err != nil {
			return err
		}
		nm, set := fields["name"], fields["set"]
		if nm == nil || nm.Kind != yaml.ScalarNode || nm.ShortTag() != "!!str" || nm.Value == "" || len(nm.Value) > 200 {
			return s.errorf(item.Line, "%s.name: want a name of 1 to 200 characters", where)
		}
		if names[nm.Value] {
			return s.errorf(nm.Line, "%s.name: variant %q appears twice", where, nm.Value)
		}
		names[nm.Value] = true
		if set == nil || set.Kind != yaml.MappingNode {
			return s.errorf(item.Line, "%s.set: want a mapping of config keys to values", where)
		}
		settings, err := s.flatten("", set)
		if err != nil {
			return err
		}
		probe := s.Base.clone()
		for _, st := range settings {
			if err := setPath(&probe, st.Key, st.Value); err != nil {
				return s.keyError(fmt.Errorf("%s.set: %w", where, err), st.Value.line())
			}
		}
		s.Variants = append(s.Variants, Variant{Name: nm.Value, Set: settings, line: nm.Line})
	}
	return nil
}

// fields reads a mapping whose keys must be among allowed.
func (s *Spec) fields(n *yaml.Node, where string, allowed ...string) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, s.errorf(n.Line, "%s: want a mapping with keys %s, got %s", where, strings.Join(allowed, ", "), describe(n))
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		ok := false
		for _, a := range allowed {
			ok = ok || k.Value == a
		}
		if !ok {
			return nil, s.errorf(k.Line, "%s.%s: unknown key (known: %s)", where, k.Value, strings.Join(allowed, ", "))
		}
		if out[k.Value] != nil {
			return nil, s.errorf(k.Line, "%s.%s: key appears twice", where, k.Value)
		}
		out[k.Value] = n.Content[i+1]
	}
	return out, nil
}

// validate checks the base config and that the sweep is well formed; each
// expanded run is validated again in Expand.
func (s *Spec) validate() error {
	s.Base.Dataset = s.Base.Dataset.Resolved()
	s.Base.Model = s.Base.Model.Resolved()
	if err := s.Base.Validate(); err != nil && len(s.Grid) == 0 && len(s.Variants) == 0 && s.Random == nil {
		return s.keyError(err, 0)
	}
	if err := s.primaryNotSwept(); err != nil {
		return err
	}
	if r := s.Random; r != nil {
		for _, p := range r.Params {
			if slices.ContainsFunc(s.Grid, func(ax Axis) bool { return ax.Key == p.Key }) {
				return s.errorf(p.line, "sweep: %s is both a grid axis and a random parameter; keep one", p.Key)
			}
			for _, v := range s.Variants {
				if slices.ContainsFunc(v.Set, func(st Setting) bool { return st.Key == p.Key }) {
					return s.errorf(p.line, "sweep: %s is both set by variant %q and a random parameter; keep one", p.Key, v.Name)
				}
			}
		}
	}
	for _, v := range s.Variants {
		for _, st := range v.Set {
			for _, ax := range s.Grid {
				if ax.Key == st.Key {
					return s.errorf(v.line, "sweep: %s is set by both the grid and variant %q; keep one", st.Key, v.Name)
				}
			}
		}
	}
	n := len(s.Seeds) * max(1, len(s.Variants))
	if s.Random != nil {
		n *= s.Random.Trials
	}
	for _, ax := range s.Grid {
		n *= len(ax.Values)
		if n > MaxRuns {
			return s.errorf(0, "sweep: expands to more than %d runs; split the experiment", MaxRuns)
		}
	}
	return nil
}

// primaryNotSwept refuses eval.primary in the sweep: it names the metric
// an experiment's ranking sorts by, one per experiment (that it names a
// metric of the catalogue is checked at plan time, by runs.CheckPlan,
// since the catalogue lives in package evaluate).
func (s *Spec) primaryNotSwept() error {
	const key = "eval.primary"
	msg := key + ": names the one metric the experiment's ranking sorts by; set it under eval:, not in the sweep"
	for _, ax := range s.Grid {
		if ax.Key == key {
			return s.errorf(s.lines[key], "%s", msg)
		}
	}
	for _, v := range s.Variants {
		for _, st := range v.Set {
			if st.Key == key {
				return s.errorf(v.line, "%s", msg)
			}
		}
	}
	if s.Random != nil {
		for _, p := range s.Random.Params {
			if p.Key == key {
				return s.errorf(p.line, "%s", msg)
			}
		}
	}
	return nil
}
