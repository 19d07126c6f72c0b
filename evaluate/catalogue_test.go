package evaluate

import "testing"

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
