package experiments

import (
	"bytes"
	"strings"
	"testing"
)

// Explain reads each member's own declaration: a chooser lists every
// member, a member its settings, a setting every member that takes it.
func TestExplainReadsTheMembersDeclarations(t *testing.T) {
	for _, tc := range []struct {
		key     string
		want    []string
		wantErr string
	}{
		{"objective.kappa", []string{"objective geco", "objective.kappa", "required", "mean squared error per pixel"}, ""},
		{"objective.beta", []string{"objective elbo", "objective mmd", "objective beta_tc", "objective rae", "default 0.0001"}, ""},
		{"objective", []string{"objective.type: beta_tc, capacity, elbo, geco, iwae, mmd, rae", "objective.k", "default 5", "objective.decoder_decay"}, ""},
		{"objective.rae", []string{"RAE", "objective.beta", "default 1e-07"}, ""},
		{"eval.samplers", []string{"sampler gmm", "eval.gmm_components", "default 10", "sampler prior", "(no settings)", "eval.two_stage_hidden"}, ""},
		{"eval.two_stage_epochs", []string{"sampler two_stage", "default 200"}, ""},
		{"model.sigma", []string{"likelihood gaussian", "likelihood laplace", "scale b", "likelihood gaussian_learned", "default 1"}, ""},
		{"model.prior", []string{"model.prior: mog, standard, vamp", "prior standard", "(no settings)", "model.prior_components"}, ""},
		{"model", []string{"model.likelihood: bernoulli,", "model.prior: mog,"}, ""},
		{"model.latent", nil, "model.latent: not a member setting; explain one of model, model.likelihood"},
		{"objective.nope", nil, "objective.nope: not a member setting"},
		{"", nil, "no key given"},
	} {
		var out bytes.Buffer
		err := Explain(&out, tc.key)
		if (err != nil) != (tc.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%q: error %v, want %q", tc.key, err, tc.wantErr)
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%q: no %q in\n%s", tc.key, w, out.String())
			}
		}
	}
}

// The plan ends with the settings of the members its runs use: each
// value the runs take, and the default.
func TestPlanShowsMemberSettings(t *testing.T) {
	const spec = `name: p
dataset: {name: synthetic, size: 8, count: 80}
eval: {samplers: [prior, gmm], gmm_components: 4}
sweep:
  grid:
    - key: objective.beta
      values: [1, 4]
  variants:
    - {name: elbo, set: {objective.type: elbo}}
    - {name: rae, set: {objective.type: rae, objective.decoder_decay: 0.001}}
`
	s, err := Parse([]byte(spec), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := s.Expand()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := PrintPlan(&out, s, rs, nil); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"objective elbo  objective.beta = 1, 4  default 1",
		"objective rae  objective.beta = 1, 4  default 0.0001",
		"objective rae  objective.decoder_decay = 0.001  default 1e-07",
		"likelihood bernoulli  (no settings)",
		"prior standard  (no settings)",
		"sampler prior  (no settings)",
		"sampler gmm  eval.gmm_components = 4  default 10",
	} {
		if !strings.Contains(squeeze(out.String()), squeeze(line)) {
			t.Errorf("no %q in\n%s", line, out.String())
		}
	}
}

// squeeze collapses runs of spaces, as a table pads its columns.
func squeeze(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' }), " ")
}

// A member setting a variant or grid value makes impossible is located on
// the line that set it.
func TestRunErrorsNameTheLineThatSetTheKey(t *testing.T) {
	for _, tc := range []struct{ sweep, want string }{
		{"  variants:\n    - {name: a, set: {objective.type: rae}}\n    - {name: b, set: {objective: {type: rae, decoder_decay: 5}}}\n", "s.yaml:6: objective.decoder_decay: 5 must be between 0 and 1 (in run b seed=1)"},
		{"  grid:\n    - key: eval.gmm_components\n      values: [3, 2000]\n", "s.yaml:6: eval.gmm_components: 2000 must be between 1 and 1000"},
	} {
		spec := "name: x\ndataset: {name: synthetic, size: 8, count: 80}\nsweep:\n" + tc.sweep
		s, err := Parse([]byte(spec), "s.yaml")
		if err == nil {
			_, err = s.Expand()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}
