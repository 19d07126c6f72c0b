package experiments

import (
	"testing"

	"gopkg.in/yaml.v3"
)

// mustYAML parses one YAML value into a spec value.
func mustYAML(t *testing.T, text string) value {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	return value{doc.Content[0]}
}
