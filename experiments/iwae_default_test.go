package experiments

import (
	"strings"
	"testing"
)

// Defect 10 of issue 28: objective.type: iwae without k trains with the
// documented default (5), and is the same run as writing k: 5.
func TestIWAEWithoutKUsesTheDefault(t *testing.T) {
	const spec = "name: iw\ndataset: {name: synthetic, size: 8, count: 80}\nobjective: {type: iwae%s}\nseeds: [1]\n"
	ids := map[string]string{}
	for _, k := range []string{"", ", k: 5", ", k: 8"} {
		s, err := Parse([]byte(strings.Replace(spec, "%s", k, 1)), "s.yaml")
		if err != nil {
			t.Fatalf("k %q: %v", k, err)
		}
		rs, err := s.Expand()
		if err != nil {
			t.Fatalf("k %q: %v", k, err)
		}
		ids[k] = rs[0].ID
	}
	if ids[""] != ids[", k: 5"] || ids[""] == ids[", k: 8"] {
		t.Errorf("ids: no k %s, k 5 %s, k 8 %s; want the first two equal", ids[""], ids[", k: 5"], ids[", k: 8"])
	}
}
