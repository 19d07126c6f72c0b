package experiments

import (
	"strings"
	"testing"
)

// TestPrimaryChangesNoIdentity: eval.primary only chooses what the report
// leads with, so setting it keeps every run id and evaluation hash (and the
// evaluation settings a record shows) of the spec without it.
func TestPrimaryChangesNoIdentity(t *testing.T) {
	const spec = "name: p\nseeds: [1, 2]\neval: {samplers: [prior, gmm]%s}\nsweep:\n  grid:\n    - key: objective.beta\n      values: [1, 4]\n"
	without := mustParse(t, strings.Replace(spec, "%s", "", 1))
	with := mustParse(t, strings.Replace(spec, "%s", ", primary: samples/kid_randconv1", 1))
	if with.Base.Eval.Primary != "samples/kid_randconv1" {
		t.Fatalf("eval.primary not read: %q", with.Base.Eval.Primary)
	}
	a, err := without.Expand()
	if err != nil {
		t.Fatal(err)
	}
	b, err := with.Expand()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) || len(a) != 4 {
		t.Fatalf("%d and %d runs, want 4", len(a), len(b))
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Config.EvalHash() != b[i].Config.EvalHash() || string(a[i].Config.EvalSettings()) != string(b[i].Config.EvalSettings()) {
			t.Fatalf("run %d: eval.primary changed its identity: %s/%s against %s/%s", i, a[i].ID, a[i].Config.EvalHash(), b[i].ID, b[i].Config.EvalHash())
		}
	}
}

func TestPrimaryIsOnePerExperiment(t *testing.T) {
	cases := []struct{ name, sweep string }{
		{"grid", "  grid:\n    - key: eval.primary\n      values: [samples/fd_randconv1, test/elbo]\n"},
		{"variant", "  variants:\n    - {name: a, set: {eval.primary: test/elbo}}\n    - {name: b, set: {objective.beta: 2}}\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte("name: p\nsweep:\n"+c.sweep), "p.yaml")
			if err == nil || !strings.Contains(err.Error(), "eval.primary") || !strings.Contains(err.Error(), "not in the sweep") {
				t.Fatalf("eval.primary in the sweep: %v", err)
			}
		})
	}
}
