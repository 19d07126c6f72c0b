package report

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"math"
	"strings"
	"testing"

	"github.com/vaelab/vaelab/evaluate"
	"github.com/vaelab/vaelab/internal/testenv"
	"github.com/vaelab/vaelab/metrics"
	"github.com/vaelab/vaelab/record"
)

// testGroup is a configuration whose finished runs have the given
// summaries (run i has sums[key][i]); runs are named label-i.
func testGroup(label string, sums map[string][]float64) *Group {
	g := &Group{Label: label, Stats: map[string]Stat{}, Best: map[string]bool{}}
	n := 0
	for _, v := range sums {
		n = max(n, len(v))
	}
	for i := range n {
		r := runData{info: record.RunInfo{ID: fmt.Sprintf("%s-%d", label, i), Status: record.StatusDone}, sums: map[string]record.Summary{}}
		for k, v := range sums {
			if i < len(v) {
				r.sums[k] = record.Summary{Key: k, Value: v[i]}
			}
		}
		g.Runs, g.members = append(g.Runs, r.info), append(g.members, r)
	}
	for k, v := range sums {
		g.Stats[k] = meanStd(v)
	}
	return g
}

func shift(v []float64, d ...float64) []float64 {
	out := make([]float64, len(v))
	for i := range v {
		out[i] = v[i] + d[i%len(d)]
	}
	return out
}

// faceRemedies is an ablation of the face-remedies shape: two objectives,
// the prior and gmm samplers, three seeds. The gmm sampler beats the prior
// by 0.3 in every run (a paired difference far above its noise); the two
// objectives' gmm rows are within noise of each other.
func faceRemedies(withSE bool) []*Group {
	id := metrics.ExtractorID()
	mk := func(label string, runFD []float64, priorGap float64) *Group {
		sums := map[string][]float64{
			"samples_gmm/fd_dlib":         runFD,
			"samples/fd_dlib":             shift(runFD, priorGap+0.01, priorGap-0.01, priorGap),
			"samples/fd_" + id:            {1.2, 1.3, 1.25},
			"samples_gmm/fd_" + id:        {1.1, 1.15, 1.12},
			"test/elbo":                   {-500, -502, -501},
			"samples/sharpness_laplacian": {0.5, 0.52, 0.51},
		}
		if withSE {
			sums["samples_gmm/fd_dlib_se"] = []float64{0.02, 0.02, 0.02}
			sums["samples/fd_dlib_se"] = []float64{0.00003, 0.00004, 0.00003}
		}
		return testGroup(label, sums)
	}
	return []*Group{mk("objective=elbo", []float64{0.43, 0.47, 0.41}, 0.35), mk("objective=geco", []float64{0.40, 0.45, 0.42}, 0.3)}
}

func TestRankingOfFaceRemedies(t *testing.T) {
	for _, withSE := range []bool{false, true} {
		t.Run(fmt.Sprintf("image SE %v", withSE), func(t *testing.T) {
			rk := buildRanking(faceRemedies(withSE), "")
			if rk.Metric.Key != "samples/fd_dlib" || !strings.Contains(rk.Source, "default") {
				t.Fatalf("primary %s (%s), want the default samples/fd_dlib", rk.Metric.Key, rk.Source)
			}
			var labels, claims []string
			for _, r := range rk.Rows {
				labels, claims = append(labels, r.Label), append(claims, r.Distinguish)
			}
			wantLabels := []string{"objective=geco · gmm", "objective=elbo · gmm", "objective=geco · prior", "objective=elbo · prior"}
			if strings.Join(labels, "|") != strings.Join(wantLabels, "|") {
				t.Fatalf("order %q, want %q", labels, wantLabels)
			}
			if claims[0] != "best" || !strings.HasPrefix(claims[1], "no (p=") || !strings.HasPrefix(claims[2], "yes (p") || !strings.HasPrefix(claims[3], "yes (p") {
				t.Fatalf("claims %q", claims)
			}
			if rk.Rows[2].Claim.Test.Kind != "paired" || rk.Rows[3].Claim.Test.Kind != "welch" || rk.Rows[1].Claim.Test.Kind != "welch" {
				t.Fatalf("tests: %s %s %s; want welch, paired (same runs), welch", rk.Rows[1].Claim.Test.Kind, rk.Rows[2].Claim.Test.Kind, rk.Rows[3].Claim.Test.Kind)
			}
			if !rk.Rows[0].Top || !rk.Rows[1].Top || rk.Rows[2].Top || rk.Rows[3].Top {
				t.Fatal("the top group is not the two gmm rows")
			}
			want := "objective=geco · gmm has the lowest FD dlib (0.4233 [0.3608, 0.4858], 3 seeds); the prior-sampled rows are distinguishably worse; objective=elbo · gmm cannot be told apart from it."
			if rk.Verdict != want {
				t.Fatalf("verdict\n%s\nwant\n%s", rk.Verdict, want)
			}
			if b := rk.Rows[0]; b.Mean != "0.4233" || b.CI != "[0.3608, 0.4858]" || b.SeedsText != "3" || b.SeedSD != "0.0252" {
				t.Fatalf("best row %q %q %q %q", b.Mean, b.CI, b.SeedsText, b.SeedSD)
			}
			if rk.HasSE != withSE {
				t.Fatalf("HasSE %v", rk.HasSE)
			}
			if withSE {
				// The prior's image SE is far below its 4-digit resolution: it
				// must still read as non-zero.
				if rk.Rows[0].ImageSE != "0.0200" || rk.Rows[2].ImageSE != "3.4e-05" {
					t.Fatalf("image SE %q and %q", rk.Rows[0].ImageSE, rk.Rows[2].ImageSE)
				}
				if !strings.Contains(rk.Test, "Image SE") {
					t.Fatal("the note does not explain the image SE")
				}
			}
			var cols []string
			for _, c := range rk.Columns {
				cols = append(cols, c.Key)
			}
			id := metrics.ExtractorID()
			if strings.Join(cols, " ") != "samples/fd_"+id+" samples/sharpness_laplacian test/elbo" {
				t.Fatalf("columns %v: the primary or empty columns are shown", cols)
			}
			// The random-feature column: gmm 1.12 against prior 1.25 in
			// every run of both configurations, paired within one.
			if c := rk.Rows[0].Cells[0]; !c.Best || !strings.HasPrefix(c.Text, "1.1233") {
				t.Fatalf("gmm random-feature cell %+v", c)
			}
		})
	}
}

func TestRankingClaimsWithOneSeed(t *testing.T) {
	groups := []*Group{
		testGroup("a", map[string][]float64{"samples/fd_randconv1": {0.5}}),
		testGroup("b", map[string][]float64{"samples/fd_randconv1": {0.7, 0.8}}),
		testGroup("c", map[string][]float64{"samples/fd_randconv1": {0.9}}),
	}
	if metrics.ExtractorID() != "randconv1" {
		t.Skip("extractor id changed")
	}
	rk := buildRanking(groups, "")
	got := []string{rk.Rows[0].Distinguish, rk.Rows[1].Distinguish, rk.Rows[2].Distinguish}
	if got[0] != "best" || got[1] != "the best row has one seed: no claim possible" || got[2] != got[1] {
		t.Fatalf("claims %q", got)
	}
	if !strings.Contains(rk.Verdict, "a has the lowest FD randconv1 (0.5000, one seed); with one seed of the best row no row can be told apart from it") {
		t.Fatalf("verdict %q", rk.Verdict)
	}
	if rk.Rows[0].CI != "—" || !rk.Rows[0].Top || rk.Rows[1].Top {
		t.Fatal("a one-seed best has an interval, or an untested row is bold")
	}
	// The best with seeds, a row with one: that row alone allows no claim.
	groups[0] = testGroup("a", map[string][]float64{"samples/fd_randconv1": {0.5, 0.51, 0.49}})
	rk = buildRanking(groups, "")
	if rk.Rows[2].Label != "c" || rk.Rows[2].Distinguish != "one seed: no claim possible" || !strings.Contains(rk.Verdict, "c allows no claim (one seed)") {
		t.Fatalf("row %q %q; verdict %q", rk.Rows[2].Label, rk.Rows[2].Distinguish, rk.Verdict)
	}
}

func TestRankingPrimaryMetric(t *testing.T) {
	id := metrics.ExtractorID()
	noFace := []*Group{testGroup("a", map[string][]float64{"samples/fd_" + id: {1, 2}, "test/elbo": {-3, -4}})}
	cases := []struct {
		name, asked, wantKey, wantSource string
		groups                           []*Group
	}{
		{"default with face features", "", "samples/fd_dlib", "the default when face features", faceRemedies(false)},
		{"default without", "", "samples/fd_" + id, "were not computed", noFace},
		{"asked", "test/elbo", "test/elbo", "eval.primary", noFace},
		{"asked but absent", "samples/fd_dlib", "samples/fd_" + id, "eval.primary samples/fd_dlib has no values", noFace},
		{"asked but neutral", "test/kl", "samples/fd_" + id, "eval.primary test/kl has no values", noFace},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rk := buildRanking(c.groups, c.asked)
			if rk.Metric.Key != c.wantKey || !strings.Contains(rk.Source, c.wantSource) {
				t.Fatalf("primary %s (%s), want %s (%s)", rk.Metric.Key, rk.Source, c.wantKey, c.wantSource)
			}
		})
	}
	// A primary metric that is not a sample metric ranks configurations,
	// not configuration × sampler (every sampler of a run has its ELBO).
	rk := buildRanking(faceRemedies(false), "test/elbo")
	if len(rk.Rows) != 2 || rk.Samplers || rk.Rows[0].Label != "objective=elbo" {
		t.Fatalf("ranking by test/elbo: %d rows, first %q", len(rk.Rows), rk.Rows[0].Label)
	}
	if specPrimary("name: x\neval: {primary: test/elbo}\n") != "test/elbo" || specPrimary("not: [a spec") != "" {
		t.Fatal("eval.primary is not read from the stored spec")
	}
}

func TestFormatSpreadNeverHidesANonZeroSpread(t *testing.T) {
	cases := []struct {
		x      float64
		digits int
		want   string
	}{
		{0, 4, "0.0000"},
		{0.1234, 4, "0.1234"},
		{0.00005, 4, "0.0001"},
		{0.00003, 4, "3e-05"},
		{0.000034, 4, "3.4e-05"},
		{0.004, 2, "0.004"},
		{2.5, 0, "2"},
		{0.2, 0, "0.2"},
	}
	for _, c := range cases {
		if got := FormatSpread(c.x, c.digits); got != c.want {
			t.Errorf("FormatSpread(%v, %d) = %q, want %q", c.x, c.digits, got, c.want)
		}
	}
	if got := FormatStat(Stat{Mean: 0.01, Std: 2e-6, N: 3}, true, 4); got != "0.0100 ± 2e-06" {
		t.Errorf("FormatStat = %q", got)
	}
}

// TestTablesBoldOnlyTheTopGroup: the summary table marks every
// configuration the test cannot tell from the best (not the single best
// mean), and the sampler table tests the samplers of one configuration
// paired by run.
func TestTablesBoldOnlyTheTopGroup(t *testing.T) {
	id := metrics.ExtractorID()
	key := "samples/fd_" + id
	groups := []*Group{
		testGroup("a", map[string][]float64{key: {0.40, 0.50, 0.45}, "samples_gmm/fd_" + id: {0.39, 0.49, 0.44}}),
		testGroup("b", map[string][]float64{key: {0.42, 0.52, 0.41}, "samples_gmm/fd_" + id: {0.43, 0.50, 0.40}}),
		testGroup("c", map[string][]float64{key: {0.90, 0.95, 0.92}, "samples_gmm/fd_" + id: {0.91, 0.93, 0.90}}),
	}
	ms := SummaryMetrics()
	markBest(groups, ms)
	if !groups[0].Best[key] || !groups[1].Best[key] || groups[2].Best[key] {
		t.Fatalf("summary top group %v %v %v, want a and b", groups[0].Best[key], groups[1].Best[key], groups[2].Best[key])
	}
	rows := samplerRows(groups)
	col := -1
	for j, m := range evaluate.SamplerTable() {
		if m.Key == key {
			col = j
		}
	}
	var bold []string
	for _, r := range rows {
		if r.Cells[col].Best {
			bold = append(bold, r.Label)
		}
	}
	// a · gmm is 0.01 below a · prior in every run: paired, that is no
	// noise, yet after Holm over all 15 pairs with 2 degrees of freedom it
	// cannot be told apart; c's rows can.
	for _, b := range bold {
		if strings.HasPrefix(b, "c ") {
			t.Fatalf("c is bold: %v", bold)
		}
	}
	if len(bold) < 2 || bold[0] != "a · prior" && bold[0] != "a · gmm" {
		t.Fatalf("bold %v", bold)
	}
}

func TestRenderedSectionOpensWithTheRanking(t *testing.T) {
	st, name := fakeExperiment(t, testenv.GridSpec("rank_html", []int{1, 4}, []int{8}, 3), 10, 7)
	page, err := Build(context.Background(), st, []string{name}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Render(&buf, page); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	sec := html[strings.Index(html, `<section id="exp0">`):]
	rank, summary := strings.Index(sec, `id="exp0-ranking"`), strings.Index(sec, `id="exp0-summary"`)
	firstTable := strings.Index(sec, "<table")
	if rank < 0 || summary < 0 || rank > summary || firstTable < rank || firstTable > summary {
		t.Fatalf("the section does not open with the ranking table (ranking at %d, first table at %d, summary at %d)", rank, firstTable, summary)
	}
	rk := page.Sections[0].Ranking
	if rk == nil || !strings.Contains(sec, `<p class="verdict">`+template.HTMLEscapeString(rk.Verdict)) || !strings.Contains(sec, "distinguishable from the best") {
		t.Fatalf("verdict or column missing; verdict %q", rk.Verdict)
	}
	if math.IsNaN(rk.Rows[0].Interval.Lo) {
		t.Fatal("no interval for three seeds")
	}
}

// TestRankingAgreesWithTheSamplerTable: the ranking's top group by the
// primary metric is the sampler table's bold cells of the same metric
// (the same values, runs and test).
func TestRankingAgreesWithTheSamplerTable(t *testing.T) {
	groups := faceRemedies(false)
	rk := buildRanking(groups, "")
	rows := samplerRows(groups)
	col := -1
	for j, m := range evaluate.SamplerTable() {
		if m.Key == rk.Metric.Key {
			col = j
		}
	}
	if col < 0 {
		t.Fatalf("%s is not a column of the sampler table", rk.Metric.Key)
	}
	top := map[string]bool{}
	for _, r := range rk.Rows {
		top[r.Label] = r.Top
	}
	for _, r := range rows {
		if got, ok := top[r.Label]; !ok || got != r.Cells[col].Best {
			t.Errorf("%s: ranking top %v, sampler table bold %v", r.Label, got, r.Cells[col].Best)
		}
	}
}

// TestRankingUsesTheStoredSpecsPrimary: eval.primary in the spec the store
// keeps is what the report ranks by.
func TestRankingUsesTheStoredSpecsPrimary(t *testing.T) {
	spec := testenv.GridSpec("rank_primary", []int{1, 4}, []int{8}, 2) + "eval: {primary: test/elbo}\n"
	st, name := fakeExperiment(t, spec, 10, 9)
	page, err := Build(context.Background(), st, []string{name}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rk := page.Sections[0].Ranking
	if rk.Metric.Key != "test/elbo" || rk.Source != "eval.primary" || !strings.Contains(rk.Verdict, "has the highest test ELBO") {
		t.Fatalf("ranked by %s (%s): %s", rk.Metric.Key, rk.Source, rk.Verdict)
	}
}
