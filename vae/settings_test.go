package vae

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
)

// The sections' JSON is part of every run's id: these bytes are what the
// config structs wrote when the members' settings were their fields, so
// stored ids stay valid. A change here changes run ids.
func TestSectionJSONKeepsTheIdentityBytes(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"elbo left out", ObjectiveConfig{}, `{"beta":1}`},
		{"elbo", ObjectiveConfig{Set: Values{"beta": 0.5, "cycles": 4, "cycle_ratio": 0.25, "free_bits": 0.5}}, `{"beta":0.5,"cycles":4,"cycle_ratio":0.25,"free_bits":0.5}`},
		{"elbo zero warm-up left out", ObjectiveConfig{Type: "elbo", Set: Values{"warmup_steps": 0}}, `{"type":"elbo","beta":1}`},
		{"capacity", ObjectiveConfig{Type: "capacity", Set: Values{"gamma": 1000.0, "capacity_max": 25.0, "capacity_steps": 100}}, `{"type":"capacity","beta":1,"gamma":1000,"capacity_max":25,"capacity_steps":100}`},
		{"mmd β 0", ObjectiveConfig{Type: "mmd", Set: Values{"lambda": 100.0, "beta": 0.0}}, `{"type":"mmd","beta":0,"lambda":100}`},
		{"iwae k pinned", ObjectiveConfig{Type: "iwae"}, `{"type":"iwae","beta":1,"k":5}`},
		{"beta_tc explicit zeros", ObjectiveConfig{Type: "beta_tc", Set: Values{"beta": 6.0, "gamma": 0.0, "alpha": 0.0, "estimator": "mws"}}, `{"type":"beta_tc","beta":6,"gamma":0,"alpha":0,"estimator":"mws"}`},
		{"geco", ObjectiveConfig{Type: "geco", Set: Values{"kappa": 0.01, "geco_alpha": 0.99, "geco_rate": 0.01}}, `{"type":"geco","beta":1,"kappa":0.01,"geco_alpha":0.99,"geco_rate":0.01}`},
		{"model mog", ModelConfig{Architecture: "mlp", Hidden: []int{256}, Latent: 16, Activation: "relu", Likelihood: "bernoulli", Prior: "mog", Set: Values{"prior_components": 5}},
			`{"architecture":"mlp","hidden":[256],"latent":16,"activation":"relu","likelihood":"bernoulli","prior":"mog","prior_components":5}`},
		{"model sigma", ModelConfig{Architecture: "mlp", Hidden: []int{8}, Latent: 2, Activation: "tanh", Likelihood: "gaussian", Set: Values{"sigma": 0.1}},
			`{"architecture":"mlp","hidden":[8],"latent":2,"activation":"tanh","likelihood":"gaussian","sigma":0.1}`},
		{"model vamp sigma", ModelConfig{Architecture: "mlp", Hidden: []int{8}, Latent: 2, Activation: "tanh", Likelihood: "gaussian_learned", Prior: "vamp", Set: Values{"sigma": 0.3, "prior_components": 7}},
			`{"architecture":"mlp","hidden":[8],"latent":2,"activation":"tanh","likelihood":"gaussian_learned","sigma":0.3,"prior":"vamp","prior_components":7}`},
	} {
		b, err := json.Marshal(tc.v)
		if err != nil || string(b) != tc.want {
			t.Errorf("%s: %s (%v), want %s", tc.name, b, err, tc.want)
		}
	}
}

// What the store keeps reads back as the same config, each value typed by
// its declaration.
func TestSectionJSONRoundTrips(t *testing.T) {
	obj := ObjectiveConfig{Type: "beta_tc", Set: Values{"beta": 6.0, "gamma": 0.0, "estimator": "mws"}}
	model := ModelConfig{Architecture: "mlp", Hidden: []int{8}, Latent: 2, Activation: "tanh", Likelihood: "gaussian", Prior: "mog", Set: Values{"sigma": 0.1, "prior_components": 3}}
	eval := EvalConfig{BatchSize: 10, GridImages: 4, Samplers: []string{"gmm"}, Set: Values{"gmm_components": 3, "two_stage_hidden": 16}}
	for _, tc := range []struct {
		in  any
		out any
	}{{obj, &ObjectiveConfig{}}, {model, &ModelConfig{}}, {eval, &EvalConfig{}}} {
		b, err := json.Marshal(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, tc.out); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if got := reflect.ValueOf(tc.out).Elem().Interface(); !reflect.DeepEqual(got, tc.in) {
			t.Errorf("%s read back as %+v, want %+v", b, got, tc.in)
		}
	}
	if err := json.Unmarshal([]byte(`{"type":"iwae","beta":1,"k":2.5}`), &ObjectiveConfig{}); err == nil {
		t.Error("k 2.5 read as an integer")
	}
}

// Members that share a key give it one type, so that a spec's value is
// read the same whichever member it ends up with; every member's defaults
// pass its own checks.
func TestSharedKeysHaveOneTypeAndDefaultsPass(t *testing.T) {
	var all [][]Setting
	for _, o := range objectives() {
		all = append(all, o.settings())
	}
	for _, s := range samplers() {
		all = append(all, s.settings())
	}
	for _, l := range likelihoods() {
		all = append(all, declared(l))
	}
	for _, p := range priors() {
		all = append(all, declared(p))
	}
	kinds := map[string]string{}
	for _, settings := range all {
		var keys []string
		for _, s := range settings {
			if slices.Contains(keys, s.Key) {
				t.Errorf("%s declared twice by one member", s.Key)
			}
			keys = append(keys, s.Key)
			if k, ok := kinds[s.Key]; ok && k != s.Kind() {
				t.Errorf("%s is a %s for one member and a %s for another", s.Key, k, s.Kind())
			}
			kinds[s.Key] = s.Kind()
			if s.Doc == "" {
				t.Errorf("%s has no doc", s.Key)
			}
			if err := s.Check(s.Default); err != nil && !s.Required {
				t.Errorf("%s: its default %v fails its check: %v", s.Key, s.Default, err)
			}
		}
	}
}
