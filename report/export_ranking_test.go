package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/vaelab/vaelab/internal/testenv"
	"github.com/vaelab/vaelab/record"
)

// TestExportsLeadWithTheRankingAndCarryNotes: md, LaTeX and CSV open with
// the ranking (its interval and distinguishability columns), and md and
// LaTeX end with the experiment's and runs' tags and notes.
func TestExportsLeadWithTheRankingAndCarryNotes(t *testing.T) {
	ctx := context.Background()
	st, name := fakeExperiment(t, testenv.GridSpec("exp_rank", []int{1, 4}, []int{8}, 3), 10, 5)
	rs, err := st.Runs(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []error{
		st.SetTags(ctx, record.Target{Kind: "experiment", ID: name}, map[string]string{"paper": "fig_3"}),
		st.AddNote(ctx, record.Target{Kind: "experiment", ID: name}, "β = 4 trades detail for a tighter posterior"),
		st.AddNote(ctx, record.Target{Kind: "run", ID: rs[0].ID}, "loss spike at step 7 (50% lr)"),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	export := func(format string) string {
		var buf bytes.Buffer
		if err := Export(ctx, st, name, format, nil, &buf); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		return buf.String()
	}
	cases := []struct {
		format string
		opens  string
		has    []string
	}{
		{"md", "## Ranking by FD ", []string{"| 95 % CI | seeds | seed SD | distinguishable from the best |", "| best |", "## Notes",
			"tags: paper=fig\\_3", "β = 4 trades detail", "loss spike at step 7 (50% lr)", "run " + rs[0].ID}},
		{"latex", "% Ranking by samples/fd_", []string{"95\\% CI & seeds & seed SD & distinguishable from the best", "\\textbf{Notes.}",
			"paper=fig\\_3", "$\\beta$ = 4 trades detail", "(50\\% lr)", "$\\alpha = 0.05$"}},
		{"csv", "experiment,primary_metric,rank,configuration,sampler,mean,ci95_low,ci95_high,seeds,seed_sd,image_se,distinguishable_from_best,p_holm,test", []string{",best,"}},
	}
	for _, c := range cases {
		t.Run(c.format, func(t *testing.T) {
			out := export(c.format)
			if !strings.HasPrefix(out, c.opens) {
				t.Fatalf("%s does not open with the ranking:\n%.400s", c.format, out)
			}
			for _, h := range c.has {
				if !strings.Contains(out, h) {
					t.Errorf("%s lacks %q:\n%s", c.format, h, out)
				}
			}
			if c.format != "csv" && strings.Contains(out, "MIG") {
				t.Errorf("%s has a MIG column although no run has a value for it", c.format)
			}
		})
	}
	// The CSV's ranking agrees with the report's: same order, same claims.
	ranking, _, _ := strings.Cut(export("csv"), "\n\n")
	recs, err := csv.NewReader(strings.NewReader(ranking)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	page, err := Build(ctx, st, []string{name}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rk := page.Sections[0].Ranking
	if len(recs) != 1+len(rk.Rows) {
		t.Fatalf("%d CSV ranking rows, %d in the report", len(recs)-1, len(rk.Rows))
	}
	for i, r := range rk.Rows {
		if recs[1+i][3] != r.Config || !strings.HasPrefix(r.Distinguish, strings.SplitN(recs[1+i][11], ":", 2)[0]) {
			t.Errorf("row %d: CSV %q %q, report %q %q", i, recs[1+i][3], recs[1+i][11], r.Config, r.Distinguish)
		}
	}
}
