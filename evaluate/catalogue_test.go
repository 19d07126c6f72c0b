package evaluate

import (
	"slices"
	"testing"
)

func TestCatalogueIsConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range Catalogue() {
		if seen[m.Key] {
			t.Errorf("%s appears twice", m.Key)
		}
		seen[m.Key] = true
		if m.Title == "" || m.Meaning == "" || m.Digits < 0 || m.Dir < Neutral || m.Dir > NearerOne {
			t.Errorf("%s: incomplete entry %+v", m.Key, m)
		}
	}
	for name, view := range map[string][]Metric{"summary table": SummaryTable(), "effect plots": EffectPlots()} {
		if len(view) == 0 {
			t.Errorf("%s is empty", name)
		}
	}
	if len(SummaryTable()) != 10 || len(EffectPlots()) != 3 {
		t.Errorf("the summary table has %d columns and the effect plots %d metrics; a key is missing from the catalogue", len(SummaryTable()), len(EffectPlots()))
	}
}

func TestSamplerKeys(t *testing.T) {
	if got := SamplerKey("gmm", "samples/fd_x"); got != "samples_gmm/fd_x" {
		t.Errorf("SamplerKey gmm: %s", got)
	}
	if got := SamplerKey("prior", "samples/fd_x"); got != "samples/fd_x" {
		t.Errorf("SamplerKey prior: %s", got)
	}
	got := SamplersIn([]string{"test/elbo", "samples_two_stage/swd", "samples_gmm/swd", "samples/swd", "samples_gmm/kid_x", "recon/swd"})
	if !slices.Equal(got, []string{"prior", "gmm", "two_stage"}) {
		t.Errorf("SamplersIn: %v", got)
	}
}
