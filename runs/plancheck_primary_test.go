package runs

import (
	"strings"
	"testing"

	"github.com/vaelab/vaelab/vae"
)

func TestCheckPrimary(t *testing.T) {
	cases := []struct {
		name     string
		ev       vae.EvalConfig
		wantErr  string // "" for none
		listsKey string // a valid key the error lists
	}{
		{"unset", vae.EvalConfig{}, "", ""},
		{"a distance", vae.EvalConfig{Primary: "samples/kid_randconv1"}, "", ""},
		{"face space with dlib", vae.EvalConfig{Primary: "samples/fd_dlib", Features: []string{"dlib"}}, "", ""},
		{"unknown", vae.EvalConfig{Primary: "samples/fid"}, `eval.primary: "samples/fid" is not a metric`, "samples/fd_dlib"},
		{"no direction", vae.EvalConfig{Primary: "test/kl"}, `eval.primary: "test/kl" is not a metric`, "test/elbo"},
		{"sampler block", vae.EvalConfig{Primary: "samples_gmm/fd_randconv1"}, "is not a metric", "samples/fd_randconv1"},
		{"face space without dlib", vae.EvalConfig{Primary: "samples/fd_dlib"}, "eval.primary: samples/fd_dlib is computed only with eval.features: [dlib]", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := checkPrimary(c.ev)
			if c.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), c.listsKey) {
				t.Fatalf("error %v, want %q listing %q", err, c.wantErr, c.listsKey)
			}
		})
	}
}
