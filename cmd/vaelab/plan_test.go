package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Impossible settings of the model family are errors that name the key and
// its line, also those only the dataset's size rules out.
func TestImpossibleFamilySettingsNameKeyAndLine(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ line4, want string }{
		{"model: {prior: mog, prior_components: 0}", "s.yaml:4: model.prior_components: 0 must be at least 1"},
		{"eval: {batch_size: 60, grid_images: 8, gmm_components: 0}", "s.yaml:4: eval.gmm_components: 0 must be at least 1"},
		{"model: {prior: vamp, prior_components: 900}", "s.yaml:4: model.prior_components: 900 pseudo-inputs for 540 training images"},
		{"objective: {type: iwae, k: -1}", "s.yaml:4: objective.k: -1 importance samples"}, // 0 or left out is the default, 5
		{"objective: {type: geco, kappa: 0}", "s.yaml:4: objective.kappa: 0 must be"},
		{"objective: {type: geco, kappa: -0.5}", "s.yaml:4: objective.kappa: -0.5 must be"},
		{"objective: {type: capacity, gamma: 10, capacity_max: 3, capacity_steps: 100}", "s.yaml:4: objective.capacity_steps: 100 is longer than the 16 training steps"},
		{"objective: {type: beta_tc, beta: 6, estimator: exact}", `s.yaml:4: objective.estimator: "exact"`},
		{"objective: {type: elbo, k: 4}", "s.yaml:4: objective.k: the elbo objective does not take it (it belongs to iwae)"},
	} {
		spec := "name: x\ndataset: {name: synthetic, size: 16, count: 600}\ntrain: {epochs: 2}\n" + tc.line4 + "\n"
		os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(spec), 0o644)
		if r := vaelab(t, dir, nil, "plan", "s.yaml"); r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: exit %d, %q; want %q", tc.line4, r.code, r.stderr, tc.want)
		}
	}
}
