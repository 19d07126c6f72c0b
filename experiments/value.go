package experiments

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/vaelab/vaelab/vae"
)

// value is one YAML value with the line it came from.
type value struct {
	node *yaml.Node
}

func (v value) line() int { return v.node.Line }

// String renders the value compactly, as the spec wrote it.
func (v value) String() string {
	switch v.node.Kind {
	case yaml.SequenceNode:
		parts := make([]string, len(v.node.Content))
		for i, c := range v.node.Content {
			parts[i] = value{c}.String()
		}
		return "[" + strings.Join(parts, ",") + "]"
	case yaml.ScalarNode:
		return v.node.Value
	case yaml.MappingNode:
		parts := make([]string, 0, len(v.node.Content)/2)
		for i := 0; i+1 < len(v.node.Content); i += 2 {
			parts = append(parts, v.node.Content[i].Value+":"+value{v.node.Content[i+1]}.String())
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	return "{…}"
}

// describe names a YAML node's type for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.ShortTag() {
	case "!!int":
		return "integer " + n.Value
	case "!!float":
		return "number " + n.Value
	case "!!bool":
		return "boolean " + n.Value
	case "!!null":
		return "nothing"
	}
	return strconv.Quote(n.Value)
}

// setPath assigns v to the field of cfg at path (json names), checking its type.
func setPath(cfg *RunConfig, path string, v value) error {
	field := reflect.ValueOf(cfg).Elem()
	segs := strings.Split(path, ".")
	for i, seg := range segs {
		if field.Kind() != reflect.Struct {
			return fmt.Errorf("%s is not a section", strings.Join(segs[:i], "."))
		}
		if i == len(segs)-1 {
			if done, err := setMember(field, seg, v, path); done {
				return err
			}
		}
		next, ok := fieldByJSONName(field, seg)
		if !ok {
			return unknownKey(field.Type(), strings.Join(segs[:i+1], "."), strings.Join(segs[:i], "."))
		}
		field = next
	}
	if field.Kind() == reflect.Struct {
		// A mapping sets several keys of the section at once, so that one grid
		// value can be {likelihood: gaussian, sigma: 0.1}.
		if v.node.Kind != yaml.MappingNode || len(v.node.Content) == 0 {
			return fmt.Errorf("%s is a section: set its keys (%s), or give a mapping of them", path, strings.Join(sectionKeys(field.Type()), ", "))
		}
		for i := 0; i+1 < len(v.node.Content); i += 2 {
			if err := setPath(cfg, path+"."+v.node.Content[i].Value, value{v.node.Content[i+1]}); err != nil {
				return err
			}
		}
		return nil
	}
	if err := assign(field, v.node, path); err != nil {
		return err
	}
	return nil
}

// setMember sets key of a section whose keys are (also) its plug-in
// members' settings (objective, eval), typed by the key's declaration in
// the member's file; done is false for a key that is a plain field.
func setMember(section reflect.Value, key string, v value, path string) (done bool, err error) {
	var s vae.Setting
	var ok bool
	var set func(x any)
	switch c := section.Addr().Interface().(type) {
	case *vae.ObjectiveConfig:
		if key == "type" {
			return true, assign(reflect.ValueOf(&c.Type).Elem(), v.node, path)
		}
		s, ok = vae.ObjectiveSetting(key)
		set = func(x any) { *c = c.With(key, x) }
	case *vae.EvalConfig:
		if _, field := fieldByJSONName(section, key); field {
			return false, nil
		}
		s, ok = vae.SamplerSetting(key)
		set = func(x any) { *c = c.With(key, x) }
	case *vae.ModelConfig:
		if _, field := fieldByJSONName(section, key); field {
			return false, nil
		}
		s, ok = vae.ModelSetting(key)
		set = func(x any) { *c = c.With(key, x) }
	default:
		return false, nil
	}
	if !ok {
		return true, fmt.Errorf("%s: unknown key (known in %s: %s)", path, strings.TrimSuffix(path, "."+key), strings.Join(sectionKeys(section.Type()), ", "))
	}
	x := reflect.New(reflect.TypeOf(s.Default)).Elem()
	if err := assign(x, v.node, path); err != nil {
		return true, err
	}
	set(x.Interface())
	return true, nil
}

// sectionKeys are the keys a config section takes: its fields, then, for
// model, objective and eval, every key of their members' settings.
func sectionKeys(t reflect.Type) []string {
	switch t {
	case reflect.TypeFor[vae.ObjectiveConfig]():
		return append([]string{"type"}, vae.ObjectiveKeys()...)
	case reflect.TypeFor[vae.EvalConfig]():
		return append(fieldNames(t), vae.SamplerKeys()...)
	case reflect.TypeFor[vae.ModelConfig]():
		return append(fieldNames(t), vae.ModelMemberKeys()...)
	}
	return fieldNames(t)
}

func fieldByJSONName(s reflect.Value, name string) (reflect.Value, bool) {
	t := s.Type()
	for i := range t.NumField() {
		if jsonName(t.Field(i)) == name {
			return s.Field(i), true
		}
	}
	return reflect.Value{}, false
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		if name := jsonName(t.Field(i)); name != "-" {
			names = append(names, name)
		}
	}
	return names
}

func unknownKey(t reflect.Type, key, section string) error {
	where := "at the top level"
	if section != "" {
		where = "in " + section
	}
	return fmt.Errorf("%s: unknown key (known %s: %s)", key, where, strings.Join(sectionKeys(t), ", "))
}

// assign converts a YAML node to the field's Go type, refusing lossy or
// surprising conversions (a string where a number belongs, 2.5 for an integer).
func assign(field reflect.Value, n *yaml.Node, key string) error {
	wrong := func(want string) error {
		return fmt.Errorf("%s: want %s, got %s", key, want, describe(n))
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch field.Kind() {
	case reflect.String:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
			return wrong("a string")
		}
		field.SetString(n.Value)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			return wrong("true or false")
		}
		field.SetBool(b)
	case reflect.Float64:
		f, ok := number(n)
		if !ok {
			return wrong("a number")
		}
		field.SetFloat(f)
	case reflect.Int:
		f, ok := number(n)
		if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return wrong("an integer")
		}
		field.SetInt(int64(f))
	case reflect.Uint64:
		f, ok := number(n)
		if !ok || f != math.Trunc(f) || f < 0 || f > 1<<53 {
			return wrong("a non-negative integer")
		}
		field.SetUint(uint64(f))
	case reflect.Pointer: // an optional value whose explicit zero is kept
		p := reflect.New(field.Type().Elem())
		if err := assign(p.Elem(), n, key); err != nil {
			return err
		}
		field.Set(p)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return wrong("a list")
		}
		s := reflect.MakeSlice(field.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			if err := assign(s.Index(i), c, fmt.Sprintf("%s[%d]", key, i)); err != nil {
				return err
			}
		}
		field.Set(s)
	default:
		return fmt.Errorf("%s: field of kind %v cannot be set from a spec", key, field.Kind())
	}
	return nil
}

// number reads an integer or float scalar. YAML 1.2 forms only: "0123" stays an
// error rather than becoming octal 83.
func number(n *yaml.Node) (float64, bool) {
	if n.Kind != yaml.ScalarNode {
		return 0, false
	}
	switch n.ShortTag() {
	case "!!int":
		if len(n.Value) > 1 && n.Value[0] == '0' && n.Value[1] >= '0' && n.Value[1] <= '9' {
			return 0, false
		}
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		return float64(i), err == nil
	case "!!float":
		f, err := strconv.ParseFloat(n.Value, 64)
		return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
	}
	return 0, false
}
