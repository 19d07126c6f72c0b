package experiments

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vaelab/vaelab/vae"
)

var update = flag.Bool("update", false, "rewrite golden files")

func mustParse(t *testing.T, text string) *Spec {
	t.Helper()
	s, err := Parse([]byte(text), "test.yaml")
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return s
}

func TestParseAppliesSectionsOverDefaults(t *testing.T) {
	s := mustParse(t, `
name: Mixed Case Name
description: d
dataset: {name: frey, test_fraction: 0.2}
model:
  hidden: [100, 50]
  latent: 5
  likelihood: gaussian
  sigma: 0.1
objective.beta: 2.5
train:
  adam: {beta1: 0.5}
  learning_rate: 1e-4
`)
	c := s.Base
	if s.Name != "Mixed Case Name" || c.Dataset.Name != "frey" || c.Dataset.TestFraction != 0.2 ||
		len(c.Model.Hidden) != 2 || c.Model.Hidden[1] != 50 || c.Model.Latent != 5 || c.Model.Float("sigma") != 0.1 ||
		c.Objective.Float("beta") != 2.5 || c.Train.Adam.Beta1 != 0.5 || c.Train.Adam.Beta2 != 0.999 || c.Train.LearningRate != 1e-4 {
		t.Fatalf("parsed config wrong: %+v", c)
	}
	runs, err := s.Expand()
	if err != nil || len(runs) != 1 || runs[0].Config.Seed != 1 {
		t.Fatalf("expand: %v, %+v", err, runs)
	}
}

// TestParseErrorsNameTheKey: every malformed spec fails with the key (and line)
// that is wrong.
func TestParseErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct {
		name, spec, want string
	}{
		{"unknown top-level key", "name: x\nmodle: {latent: 3}\n", "test.yaml:2: modle: unknown key"},
		{"unknown nested key", "name: x\nmodel:\n  latnet: 3\n", "test.yaml:3: model.latnet: unknown key (known in model: architecture, hidden"},
		{"unknown key deep", "name: x\ntrain:\n  adam:\n    beta3: 0.1\n", "train.adam.beta3: unknown key"},
		{"wrong type string for int", "name: x\nmodel:\n  latent: abc\n", `test.yaml:3: model.latent: want an integer, got "abc"`},
		{"wrong type float for int", "name: x\ntrain: {epochs: 2.5}\n", "train.epochs: want an integer, got number 2.5"},
		{"wrong type list for float", "name: x\nobjective: {beta: [1]}\n", "objective.beta: want a number, got a list"},
		{"wrong type number for string", "name: x\nmodel: {likelihood: 3}\n", "model.likelihood: want a string, got integer 3"},
		{"section given a value", "name: x\ntrain: {adam: 3}\n", "train.adam is a section"},
		{"negative beta", "name: x\nobjective:\n  beta: -1\n", "test.yaml:3: objective.beta: -1 must be between 0 and 1e6"},
		{"latent zero", "name: x\nmodel: {latent: 0}\n", "model.latent: 0 must be between 1 and 4096"},
		{"warm-up and cycles", "name: x\nobjective: {warmup_steps: 10, cycles: 2}\n", "objective.cycles: a KL warm-up and cyclical annealing cannot be combined"},
		{"cycle ratio without cycles", "name: x\nobjective: {cycle_ratio: 0.3}\n", "objective.cycle_ratio"},
		{"negative free bits", "name: x\nobjective: {free_bits: -1}\n", "objective.free_bits: -1 must be between 0 and 1000"},
		{"bad hidden width", "name: x\nmodel: {hidden: [10, 0]}\n", "model.hidden[1]: width 0"},
		{"gaussian without sigma", "name: x\nmodel: {likelihood: gaussian}\n", "model.sigma"},
		{"unknown dataset", "name: x\ndataset: {name: imagenet}\n", `dataset.name: unknown dataset "imagenet"`},
		{"octal-looking number", "name: x\nmodel: {latent: 0123}\n", "model.latent: want an integer"},
		{"missing name", "model: {latent: 3}\n", "name: missing"},
		{"null value", "name: x\nmodel:\n  latent:\n", "model.latent: has no value"},
		{"duplicate key", "name: x\nmodel: {latent: 3, latent: 4}\n", "model.latent: key appears twice"},
		{"duplicate key nested and dotted", "name: x\nmodel: {latent: 4}\nmodel.latent: 8\n", "model.latent: key appears twice (also set on line 2"},
		{"duplicate key dotted and nested", "name: x\nobjective.beta: 2\nobjective:\n  beta: 3\n", "objective.beta: key appears twice (also set on line 2"},
		{"empty grid axis", "name: x\nsweep:\n  grid:\n    - key: objective.beta\n      values: []\n", "sweep.grid[0].values: the axis objective.beta needs a non-empty list"},
		{"grid unknown key", "name: x\nsweep:\n  grid:\n    - {key: objective.gammma, values: [1]}\n", "objective.gammma: unknown key"},
		{"explicit zero count", "name: x\neval:\n  gmm_components: 0\n", "test.yaml:3: eval.gmm_components: 0 must be at least 1"},
		{"explicit zero prior components", "name: x\nmodel: {prior: mog, prior_components: 0}\n", "model.prior_components: 0 must be at least 1"},
		{"grid bad value", "name: x\nsweep:\n  grid:\n    - {key: model.latent, values: [4, x]}\n", `sweep.grid[0].values[1]: model.latent: want an integer, got "x"`},
		{"grid negative beta", "name: x\nsweep:\n  grid:\n    - {key: objective.beta, values: [1, -2]}\n", "objective.beta: -2 must be between 0 and 1e6"},
		{"variant unknown key", "name: x\nsweep:\n  variants:\n    - {name: a, set: {model.depth: 2}}\n", "sweep.variants[0].set: model.depth: unknown key"},
		{"variant duplicate name", "name: x\nsweep:\n  variants:\n    - {name: a, set: {model.latent: 2}}\n    - {name: a, set: {model.latent: 3}}\n", `variant "a" appears twice`},
		{"variants equal", "name: x\nsweep:\n  variants:\n    - {name: a, set: {model.latent: 2}}\n    - {name: b, set: {model.latent: 2}}\n", "resolve to the same config"},
		{"grid and variant overlap", "name: x\nsweep:\n  grid: [{key: model.latent, values: [2]}]\n  variants: [{name: a, set: {model.latent: 3}}]\n", "model.latent is set by both"},
		{"sweep unknown key", "name: x\nsweep:\n  zip: []\n", "sweep.zip: unknown key"},
		{"conv too deep for the images", "name: x\ndataset: {name: synthetic, size: 8}\nmodel: {architecture: conv, channels: [4, 8, 16, 32]}\n", "model.channels: layer 3 gets 1x1 images, smaller than the 4×4 kernel"},
		{"conv setting on an mlp", "name: x\nmodel: {kernel: 3}\n", "channels, kernel, stride, decoder, norm and groups are conv settings"},
		{"conv unknown decoder", "name: x\nmodel: {architecture: conv, decoder: pixelshuffle}\n", `model.decoder: "pixelshuffle" is not supported`},
		{"conv groups do not divide", "name: x\nmodel: {architecture: conv, channels: [6], norm: group, groups: 4}\n", "model.groups: 4 groups do not divide the 6 channels"},
		{"conv upsample odd sizes", "name: x\ndataset: {name: synthetic, size: 20}\nmodel: {architecture: conv, channels: [4, 8, 16], decoder: upsample}\n", "model.decoder: upsample needs sizes divisible by the stride"},
		{"negative seed", "name: x\nseeds: [1, -1]\n", "seeds[1]: want a non-negative integer"},
		{"duplicate seed", "name: x\nseeds: [3, 3]\n", "seeds[1]: seed 3 appears twice"},
		{"empty seeds", "name: x\nseeds: []\n", "seeds: want a non-empty list"},
		{"not a mapping", "- a\n- b\n", "the spec must be a YAML mapping"},
		{"invalid yaml", "name: [x\n", "not valid YAML"},
		{"two documents", "name: x\n---\nname: y\n", "more than one YAML document"},
		{"search unknown distribution", "name: x\ntrain: {epochs: 6}\nsweep:\n  random:\n    trials: 3\n    params:\n      objective.beta: {normal: [0, 1]}\n", `test.yaml:7: sweep.random.params.objective.beta: "normal" is not a distribution`},
		{"search lo not below hi", "name: x\ntrain: {epochs: 6}\nsweep:\n  random:\n    trials: 3\n    params:\n      objective.beta: {uniform: [2, 1]}\n", "test.yaml:7: sweep.random.params.objective.beta.uniform: lo 2 must be below hi 1"},
		{"search log_uniform from zero", "name: x\ntrain: {epochs: 6}\nsweep:\n  random:\n    trials: 3\n    params:\n      objective.beta: {log_uniform: [0, 1]}\n", "test.yaml:7: sweep.random.params.objective.beta.log_uniform: lo 0 must be positive"},
		{"search int bounds", "name: x\ntrain: {epochs: 6}\nsweep:\n  random:\n    trials: 3\n    params:\n      model.latent: {int: [2.5, 8]}\n", "sweep.random.params.model.latent.int: want integer bounds"},
		{"search value out of range", "name: x\ntrain: {epochs: 6}\nsweep:\n  random:\n    trials: 3\n    params:\n      model.latent: {int: [0, 8]}\n", "model.latent: 0 must be between 1 and 4096"},
		{"search unknown key", "name: x\ntrain: {epochs: 6}\nsweep:\n  random:\n    trials: 3\n    params:\n      model.depth: {int: [1, 8]}\n", "model.depth: unknown key"},
		{"search no trials", "name: x\nsweep:\n  random:\n    params: {objective.beta: {uniform: [0, 1]}}\n", "test.yaml:4: sweep.random.trials: give the number of trials"},
		{"search unknown method", "name: x\nsweep:\n  random: {trials: 2, method: lhs, params: {objective.beta: {uniform: [0, 1]}}}\n", `sweep.random.method: "lhs" is not a method`},
		{"search and grid overlap", "name: x\nsweep:\n  grid: [{key: objective.beta, values: [1]}]\n  random: {trials: 2, params: {objective.beta: {uniform: [0, 1]}}}\n", "objective.beta is both a grid axis and a random parameter"},
		{"search draws repeat", "name: x\nsweep:\n  random: {trials: 5, params: {model.latent: {choice: [2, 4]}}}\n", "the search drew the same values twice"},
		{"rungs not increasing", "name: x\ntrain: {epochs: 6}\nsweep:\n  early_stop:\n    rungs: [3, 2]\n", "test.yaml:5: sweep.early_stop.rungs[1]: 2 is not after the rung before it (3)"},
		{"rung beyond training", "name: x\ntrain: {epochs: 6}\nsweep:\n  early_stop:\n    rungs: [2, 6]\n", "test.yaml:5: sweep.early_stop.rungs: the last rung, epoch 6, is not before train.epochs 6"},
		{"early stop unknown metric", "name: x\ntrain: {epochs: 6}\nsweep:\n  early_stop:\n    rungs: [2]\n    metric: samples/fd\n", `test.yaml:6: sweep.early_stop.metric: "samples/fd" is not a metric recorded after each epoch`},
		{"eta below 2", "name: x\ntrain: {epochs: 6}\nsweep:\n  early_stop:\n    rungs: [2]\n    eta: 1\n", "test.yaml:6: sweep.early_stop.eta: want an integer from 2 to 100"},
		{"early stop unknown decisions", "name: x\ntrain: {epochs: 6}\nsweep:\n  early_stop:\n    rungs: [2]\n    decisions: bayes\n", `sweep.early_stop.decisions: "bayes"`},
		{"unknown feature space", "name: x\neval: {features: [inception]}\n", `test.yaml:2: eval.features[0]: "inception" is not a feature space (known: randconv1, dlib)`},
		{"too many runs", "name: x\nseeds: [1,2,3,4,5,6,7,8,9,10,11]\nsweep:\n  grid:\n" +
			"    - {key: model.latent, values: [1,2,3,4,5,6,7,8,9,10]}\n" +
			"    - {key: train.epochs, values: [1,2,3,4,5,6,7,8,9,10]}\n" +
			"    - {key: train.batch_size, values: [1,2,3,4,5,6,7,8,9,10]}\n" +
			"    - {key: eval.batch_size, values: [1,2,3,4,5,6,7,8,9,10]}\n", "more than 100000 runs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse([]byte(tc.spec), "test.yaml")
			if err == nil {
				_, err = s.Expand()
			}
			if err == nil {
				t.Fatalf("accepted; want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

// TestPlanExpandsToStableDistinctIDs: 2 × 3 grid, 2 variants, 3 seeds = 36 runs
// with distinct ids that never change (a golden file holds them).
func TestPlanExpandsToStableDistinctIDs(t *testing.T) {
	path := filepath.Join("testdata", "plan36.yaml")
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := s.Expand()
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 36 {
		t.Fatalf("%d runs, want 36", len(runs))
	}
	var lines []string
	ids := map[string]bool{}
	for _, r := range runs {
		ids[r.ID] = true
		lines = append(lines, r.ID+" "+r.Label())
	}
	if len(ids) != 36 {
		t.Fatalf("%d distinct ids among 36 runs", len(ids))
	}
	again, _ := Load(path)
	runs2, _ := again.Expand()
	for i := range runs {
		if runs[i].ID != runs2[i].ID {
			t.Fatalf("run %d: id %s, then %s", i, runs[i].ID, runs2[i].ID)
		}
	}
	got := strings.Join(lines, "\n") + "\n"
	golden := filepath.Join("testdata", "plan36.golden")
	if *update {
		os.WriteFile(golden, []byte(got), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("run ids changed; stored runs would no longer be found.\ngot:\n%s\nwant:\n%s", got, want)
	}
	if runs[0].Variant != "Tanh" || runs[0].Config.Model.Activation != "tanh" || runs[35].Config.Model.Activation != "relu" {
		t.Fatalf("variants not applied or their names altered: %q %q", runs[0].Variant, runs[0].Config.Model.Activation)
	}
	if h := runs[6].Config.Model.Hidden; len(h) != 2 || h[1] != 32 {
		t.Fatalf("list-valued grid axis not applied: %v", h)
	}
}

// TestIDDependsOnEveryResolvedValue: changing any single training key changes
// the run id and leaves the evaluation hash alone; changing an eval key
// changes the evaluation hash and leaves the id alone, except the batch size
// and the primary metric, which change neither (they do not change what is
// computed).
func TestIDDependsOnEveryResolvedValue(t *testing.T) {
	base := DefaultRunConfig()
	ids := map[string]string{base.ID(): "defaults"}
	evals := map[string]string{base.EvalHash(): "defaults"}
	for _, key := range Keys() {
		v := "7" // integers and floats alike; strings and lists by the field's kind
		switch fieldKind(t, key) {
		case reflect.String:
			v = "other"
		case reflect.Slice:
			v = "[7]"
			if fieldValue(t, key).Type().Elem().Kind() == reflect.String {
				v = "[other]"
			}
		case reflect.Float64:
			v = "0.25"
		}
		if key == "dataset.sha256" {
			v = strings.Repeat("ab", 32)
		}
		c := base.clone()
		if err := setPath(&c, key, mustYAML(t, v)); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		id, ev := c.ID(), c.EvalHash()
		switch {
		case strings.HasPrefix(key, "eval.") && slices.Contains(notComputed(), strings.TrimPrefix(key, "eval.")):
			if id != base.ID() || ev != base.EvalHash() {
				t.Fatalf("%s changed the id or the evaluation hash", key)
			}
		case strings.HasPrefix(key, "eval."):
			if id != base.ID() {
				t.Fatalf("setting %s = %s changes the run id: evaluation must not define a run", key, v)
			}
			if prev, ok := evals[ev]; ok {
				t.Fatalf("setting %s = %s gives the same evaluation hash as %s", key, v, prev)
			}
			evals[ev] = key
		default:
			if ev != base.EvalHash() {
				t.Fatalf("setting %s = %s changes the evaluation hash", key, v)
			}
			if prev, ok := ids[id]; ok {
				t.Fatalf("setting %s = %s gives the same id as %s", key, v, prev)
			}
			ids[id] = key
		}
	}
	if len(ids)+len(evals) != len(Keys())+2-len(notComputed()) {
		t.Fatalf("%d ids and %d evaluation hashes for %d keys", len(ids), len(evals), len(Keys()))
	}
}

// TestEvalDefaultsWrittenOutKeepTheHash: spelling out a default does not
// make a new evaluation.
func TestEvalDefaultsWrittenOutKeepTheHash(t *testing.T) {
	base := DefaultRunConfig()
	c := base.clone()
	c.Eval.Samples, c.Eval.IWAEK, c.Eval.Samplers = 1000, 8, []string{"prior"}
	if c.EvalHash() != base.EvalHash() {
		t.Fatal("writing eval defaults out changed the evaluation hash")
	}
	c.Eval.Samples = 999
	if c.EvalHash() == base.EvalHash() {
		t.Fatal("eval.samples 999 has the hash of the default 1000")
	}
}

func TestVariantsDifferingOnlyInEvalAreRefused(t *testing.T) {
	_, err := mustParse(t, `name: x
dataset: {name: synthetic, size: 16, count: 64, test_fraction: 0.25}
seeds: [1]
sweep:
  variants:
    - {name: a, set: {eval.samples: 100}}
    - {name: b, set: {eval.samples: 200}}
`).Expand()
	if err == nil || !strings.Contains(err.Error(), "differ only in eval") {
		t.Fatalf("want an error naming eval settings, got %v", err)
	}
}

func TestExampleSpecsExpand(t *testing.T) {
	for _, tc := range []struct {
		file string
		runs int
	}{{"quickstart.yaml", 6}, {"ablation.yaml", 36}, {"olivetti.yaml", 6}, {"conv-sweep.yaml", 18}, {"olivetti-ablation.yaml", 18}, {"face-remedies.yaml", 18}, {"claim-iwae.yaml", 6}, {"claim-beta-tc.yaml", 6}, {"claim-priors.yaml", 9}, {"search-frey.yaml", 27}, {"claim-identity.yaml", 6}} {
		s, err := Load(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		runs, err := s.Expand()
		if err != nil || len(runs) != tc.runs {
			t.Fatalf("%s: %d runs, %v; want %d", tc.file, len(runs), err, tc.runs)
		}
	}
}

// FuzzParse: no input makes the parser or the expander panic, and whatever they
// accept is a valid config.
func FuzzParse(f *testing.F) {
	for _, p := range []string{"quickstart.yaml", "ablation.yaml", "olivetti.yaml", "conv-sweep.yaml", "olivetti-ablation.yaml", "testdata/plan36.yaml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("name: x\nmodel: {latent: &a 3}\ntrain: {epochs: *a}\n"))
	f.Add([]byte("name: m\nsweep:\n  grid:\n    - key: model\n      values: [{likelihood: gaussian, sigma: 0.1}, {architecture: conv, channels: [4]}]\n"))
	// Every refusal names the file, so the user knows where to look.
	located := func(t *testing.T, err error) {
		if !strings.HasPrefix(err.Error(), "fuzz") {
			t.Fatalf("error without the file name: %v", err)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		start := time.Now()
		defer func() {
			if d := time.Since(start); d > 10*time.Second { // a 100,000-run spec takes about 1.5 s
				t.Fatalf("parsing and expanding took %v", d)
			}
		}()
		s, err := Parse(b, "fuzz")
		if err != nil {
			located(t, err)
			return
		}
		runs, err := s.Expand()
		if err != nil {
			located(t, err)
			return
		}
		for _, r := range runs {
			if err := r.Config.Validate(); err != nil {
				t.Fatalf("expanded an invalid run: %v", err)
			}
		}
	})
}

// fieldKind is the Go kind of the config field at key.
func fieldKind(t *testing.T, key string) reflect.Kind {
	t.Helper()
	return fieldValue(t, key).Kind()
}

func fieldValue(t *testing.T, key string) reflect.Value {
	t.Helper()
	// A member's setting (objective.kappa, eval.gmm_components) has the type of its default.
	section, name, _ := strings.Cut(key, ".")
	if s, ok := vae.ObjectiveSetting(name); ok && section == "objective" {
		return reflect.ValueOf(s.Default)
	}
	if s, ok := vae.SamplerSetting(name); ok && section == "eval" {
		return reflect.ValueOf(s.Default)
	}
	if s, ok := vae.ModelSetting(name); ok && section == "model" {
		return reflect.ValueOf(s.Default)
	}
	v := reflect.ValueOf(DefaultRunConfig())
	for _, seg := range strings.Split(key, ".") {
		f, ok := fieldByJSONName(v, seg)
		if !ok {
			t.Fatalf("no field %s", key)
		}
		v = f
	}
	return v
}

// TestGridValueMayBeAMapping: one grid value can set several keys of a
// section, and an empty or misspelt mapping is refused with its key.
func TestGridValueMayBeAMapping(t *testing.T) {
	base := "name: m\nmodel: {latent: 2}\nsweep:\n  grid:\n    - key: model\n      values:\n"
	s, err := Parse([]byte(base+"        - {likelihood: bernoulli}\n        - {likelihood: gaussian, sigma: 0.1}\n"), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	runs, err := s.Expand()
	if err != nil || len(runs) != 2 {
		t.Fatalf("%d runs, %v", len(runs), err)
	}
	if m := runs[1].Config.Model; m.Likelihood != "gaussian" || m.Float("sigma") != 0.1 || m.Latent != 2 {
		t.Fatalf("second run's model: %+v", m)
	}
	if got := runs[1].Label(); got != "model={likelihood:gaussian,sigma:0.1} seed=1" {
		t.Fatalf("label %q", got)
	}
	for _, bad := range []struct{ values, want string }{
		{"        - {likelyhood: bernoulli}\n", "model.likelyhood: unknown key"},
		{"        - {}\n", "model is a section"},
		{"        - {sigma: -1, likelihood: gaussian}\n", "model.sigma"},
	} {
		s, err := Parse([]byte(base+bad.values), "m.yaml")
		if err == nil {
			_, err = s.Expand()
		}
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: error %v, want %q", bad.values, err, bad.want)
		}
	}
}
