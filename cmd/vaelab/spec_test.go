package main

import (
	"strings"
	"testing"
)

// `vaelab spec --explain KEY` prints a member's settings from its
// declaration; a key no member declares is a usage error.
func TestSpecExplain(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"spec", "--explain", "objective.kappa"}, 0, "objective.kappa  number  required"},
		{[]string{"spec", "--explain", "eval.samplers"}, 0, "eval.gmm_components  integer  default 10"},
		{[]string{"spec", "--explain", "model.latent"}, exitUsage, "--explain: model.latent: not a member setting"},
		{[]string{"spec"}, exitUsage, "--explain: no key given"},
	} {
		r := vaelab(t, dir, nil, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.want) {
			t.Errorf("%v: exit %d, want %d with %q:\n%s%s", tc.args, r.code, tc.code, tc.want, r.stdout, r.stderr)
		}
	}
}
