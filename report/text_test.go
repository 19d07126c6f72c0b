package report

import (
	"strings"
	"testing"

	"github.com/vaelab/vaelab/metrics"
	"github.com/vaelab/vaelab/record"
)

func TestDescribeFindsCatalogueEntries(t *testing.T) {
	id := metrics.ExtractorID()
	for _, tc := range []struct {
		key, title, sampler string
		ok                  bool
	}{
		{"test/elbo", "test ELBO", "", true},
		{"samples/fd_" + id, "FD " + id, "", true},
		{"samples_gmm/fd_" + id, "FD " + id, "gmm", true},
		{"samples_two_stage/kid_" + id + "_se", "KID", "two_stage", true},
		{"train/loss", "", "", false},
		{"samples_gmm/nonsense", "", "gmm", false},
	} {
		m, sampler, ok := describe(tc.key)
		if ok != tc.ok || (ok && m.Title != tc.title) || sampler != tc.sampler {
			t.Errorf("describe(%q) = %q, %q, %v; want %q, %q, %v", tc.key, m.Title, sampler, ok, tc.title, tc.sampler, tc.ok)
		}
	}
}

// show prints catalogue metrics under their titles, directions and
// meanings, and keys the catalogue does not describe under their names.
func TestPrintSummariesUsesTitles(t *testing.T) {
	var b strings.Builder
	printSummaries(&b, map[string]record.Summary{
		"test/elbo": {Value: -101.25},
		"samples_gmm/fd_" + metrics.ExtractorID(): {Value: 0.5},
		"train/loss":            {Value: 3},
		"real/kid_randconv1_se": {Value: 4.5e-05},
	}, "abc")
	out := b.String()
	for _, want := range []string{"test ELBO ↑", "-101.25", "nats per image", "[test/elbo]", "(gmm sampler)", "train/loss", "evaluation abc", "4.5e-05"} {
		if !strings.Contains(out, want) {
			t.Errorf("summaries lack %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "test ELBO") > strings.Index(out, "train/loss") {
		t.Errorf("catalogue metrics should come before other keys:\n%s", out)
	}
}
