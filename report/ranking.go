package report

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/vaelab/vaelab/evaluate"
	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/metrics"
	"github.com/vaelab/vaelab/record"
)

// Ranking is the table an experiment's section, and its exports, open with:
// one row per configuration × sampler, sorted by the experiment's primary
// metric, with a 95 % interval over seeds and whether each row can be told
// apart from the best one (CompareToBest).
type Ranking struct {
	Metric Metric // the primary metric
	// Source says where the primary metric comes from: eval.primary, or
	// the default and why.
	Source  string
	Verdict string // the table in one sentence
	// Test states the test and what bold means.
	Test string
	// HasSE: some row has an image-sampling standard error of the primary
	// metric (a <key>_se summary), shown beside the seed spread.
	HasSE bool
	// Samplers: the rows are configuration × sampler (more than one
	// sampler was scored), rather than configurations.
	Samplers bool
	Columns  []Metric // the other headline metrics
	Rows     []RankRow
}

// RankRow is one configuration × sampler.
type RankRow struct {
	Label, Config, Sampler string
	Interval               Interval // of the primary metric, over seeds
	SeedsText              string   // n, or "2 of 3" when not every run has the value
	Mean, CI               string   // formatted with the metric's digits
	SeedSD                 string   // the spread over seeds
	ImageSE                string   // RMS over seeds of the image-sampling SE, "" without
	ImageSEValue           float64  // NaN without
	Distinguish            string   // "best", "yes (p=…)", "no (p=…)", or why no claim is possible
	Claim                  Claim    // the test behind Distinguish
	Top                    bool     // in the top group: bold
	Cells                  []Cell   // Columns, mean ± std
	values, oriented       Sample   // raw and oriented per-run values of the primary metric
}

// headlineKeys are the metrics a ranking shows after the primary one
// (sample metrics under each row's sampler); columns no row has are left out.
func headlineKeys() []string {
	id := metrics.ExtractorID()
	return []string{"samples/fd_dlib", "samples/fd_" + id, "samples/kid_" + id, "samples/precision_" + id, "samples/recall_" + id,
		"samples/sharpness_laplacian", "test/elbo"}
}

// specPrimary is the eval.primary of an experiment's stored spec, "" when
// the spec leaves it out or can no longer be read.
func specPrimary(specText string) string {
	s, err := experiments.Parse([]byte(specText), "stored spec")
	if err != nil {
		return ""
	}
	return s.Base.Eval.Primary
}

// primaryMetric resolves the metric a ranking sorts by: eval.primary when
// set and present in the runs; otherwise the face-space distance when face
// features were computed, else the random-feature one.
func primaryMetric(groups []*Group, asked string) (Metric, string) {
	has := func(key string) bool {
		for _, g := range groups {
			for _, name := range samplersOf(g) {
				if s, ok := g.Stats[sampled(name, key)]; ok && s.N > 0 {
					return true
				}
			}
		}
		return false
	}
	fallback := "samples/fd_" + metrics.ExtractorID()
	why := "the default: face features (eval.features: [dlib]) were not computed, so the random-feature distance"
	if has("samples/fd_dlib") {
		fallback, why = "samples/fd_dlib", "the default when face features are computed"
	}
	if asked != "" {
		if m, ok := evaluate.Lookup(asked); ok && m.Dir != evaluate.Neutral && has(asked) {
			return m, "eval.primary"
		}
		why = fmt.Sprintf("eval.primary %s has no values in these runs; ranked by %s", asked, why)
	}
	m, _ := evaluate.Lookup(fallback)
	return m, why
}

// samplersOf lists a group's scored samplers, the prior first ([prior]
// when it has no sample metric at all).
func samplersOf(g *Group) []string {
	names := evaluate.SamplersIn(slices.Collect(maps.Keys(g.Stats)))
	if len(names) == 0 {
		names = []string{"prior"}
	}
	return names
}

// sampled is key under sampler name's block when key is a sample metric.
func sampled(name, key string) string {
	if strings.HasPrefix(key, "samples/") {
		return evaluate.SamplerKey(name, key)
	}
	return key
}

// values are a group's per-run values of key over its finished runs, with
// their run ids (the runs the Stats average).
func (g *Group) values(key string) Sample {
	var s Sample
	for _, r := range g.members {
		if r.info.Status != record.StatusDone {
			continue
		}
		if v, ok := r.sums[key]; ok && !math.IsNaN(v.Value) {
			s.Values, s.Runs = append(s.Values, v.Value), append(s.Runs, r.info.ID)
		}
	}
	return s
}

// orient makes higher better: distances are negated, and a ratio best at 1
// becomes −|v − 1| per run (so that a run at 0.9 and one at 1.1 are equally
// good).
func orient(s Sample, d evaluate.Direction) Sample {
	out := Sample{Values: make([]float64, len(s.Values)), Runs: s.Runs}
	for i, v := range s.Values {
		switch d {
		case evaluate.LowerIsBetter:
			v = -v
		case evaluate.NearerOne:
			v = -math.Abs(v - 1)
		}
		out.Values[i] = v
	}
	return out
}

// buildRanking makes the ranking of an experiment's configurations (and
// samplers, when the primary metric is a sample metric) by the primary
// metric asked for ("" for the default). Nil when no group has runs.
func buildRanking(groups []*Group, asked string) *Ranking {
	if len(groups) == 0 {
		return nil
	}
	m, source := primaryMetric(groups, asked)
	rk := &Ranking{Metric: m, Source: source}
	perSampler := strings.HasPrefix(m.Key, "samples/")
	// The other headline metrics, looked up once (the catalogue is built per lookup).
	headline := slices.DeleteFunc(evaluate.Pick(headlineKeys()...), func(h Metric) bool { return h.Key == m.Key })
	for _, g := range groups {
		names := []string{"prior"}
		if perSampler {
			names = samplersOf(g)
		}
		if len(names) > 1 {
			rk.Samplers = true
		}
		for _, name := range names {
			key := sampled(name, m.Key)
			row := RankRow{Label: g.Label, Config: g.Label, Sampler: name, ImageSEValue: math.NaN()}
			row.values = g.values(key)
			row.oriented = orient(row.values, m.Dir)
			row.Interval = MeanCI(row.values.Values)
			row.SeedsText = strconv.Itoa(row.Interval.N)
			if row.Interval.N < len(g.Runs) {
				row.SeedsText = fmt.Sprintf("%d of %d", row.Interval.N, len(g.Runs))
			}
			if se := g.values(key + evaluate.SESuffix).Values; len(se) > 0 {
				ss := 0.0
				for _, x := range se {
					ss += x * x
				}
				row.ImageSEValue = math.Sqrt(ss / float64(len(se)))
				row.ImageSE = FormatSpread(row.ImageSEValue, m.Digits)
				rk.HasSE = true
			}
			for _, hm := range headline {
				c := hm.Key
				s := g.values(sampled(name, c))
				st := meanStd(s.Values)
				cell := Cell{Text: FormatStat(st, st.N > 0, hm.Digits), sample: s}
				if sharpnessIsNoise(g, sampled(name, c)) {
					cell.Text, cell.NoBest = cell.Text+" (noise)", true
				}
				row.Cells = append(row.Cells, cell)
			}
			rk.Rows = append(rk.Rows, row)
		}
	}
	rk.Columns = append(rk.Columns, headline...)
	rk.rank()
	rk.dropEmptyColumns()
	asRows := make([]Row, len(rk.Rows))
	for i := range rk.Rows {
		asRows[i].Cells = rk.Rows[i].Cells
	}
	markRows(asRows, rk.Columns)
	for i := range rk.Rows {
		rk.Rows[i].Label = rk.Rows[i].Config
		if rk.Samplers {
			rk.Rows[i].Label += " · " + rk.Rows[i].Sampler
		}
		rk.Rows[i].Cells = asRows[i].Cells
	}
	rk.Verdict = rk.verdict()
	rk.Test = fmt.Sprintf("95 %% CI: mean ± t(0.975, n − 1)·s/√n over the n seeds. Distinguishable from the best: a two-sided t-test of the row against the best row at α = %.2g, "+
		"paired by run where both rows are the same trained runs scored with two samplers, Welch's unequal-variance test otherwise; "+
		"p-values Holm-corrected over every pair of rows (the best is chosen from the same data, so a correction for its own tests alone would claim too much). "+
		"Bold: the top group, the best row and every row the test cannot tell apart from it; a row with one seed allows no claim and is not bold. "+
		"The other columns are mean ± std over seeds, each column's top group in bold by the same test.", Alpha)
	if rk.HasSE {
		rk.Test += " Image SE is each run's standard error of the metric from its own images (RMS over seeds): when it is near the seed SD, more images per evaluation (eval.samples) would narrow the interval; when it is well below, only more seeds would."
	}
	return rk
}

// rank sorts the rows best first (by mean, rows without a value last) and
// fills in each row's claim against the best.
func (rk *Ranking) rank() {
	samples := make([]Sample, len(rk.Rows))
	for i, r := range rk.Rows {
		samples[i] = r.oriented
	}
	_, claims := CompareToBest(samples)
	for i := range rk.Rows {
		r := &rk.Rows[i]
		r.Claim, r.Top = claims[i], claims[i].Top
		switch {
		case r.Interval.N == 0:
			r.Distinguish, r.Mean, r.CI, r.SeedSD = "—", "—", "—", "—"
			continue
		case r.Claim.Best:
			r.Distinguish = "best"
		case r.Claim.Tested && r.Claim.Distinct:
			r.Distinguish = "yes (" + FormatP(r.Claim.P) + ")"
		case r.Claim.Tested:
			r.Distinguish = "no (" + FormatP(r.Claim.P) + ")"
		default:
			r.Distinguish = r.Claim.Reason
		}
		r.Mean = fmt.Sprintf("%.*f", rk.Metric.Digits, r.Interval.Mean)
		r.CI, r.SeedSD = "—", "—"
		if iv := r.Interval; iv.N > 1 {
			r.CI = fmt.Sprintf("[%.*f, %.*f]", rk.Metric.Digits, iv.Lo, rk.Metric.Digits, iv.Hi)
			r.SeedSD = FormatSpread(iv.Std, rk.Metric.Digits)
		}
	}
	// Best first; then by mean; ties and rows without a value keep their order.
	slices.SortStableFunc(rk.Rows, func(a, b RankRow) int {
		switch {
		case a.Claim.Best != b.Claim.Best:
			return boolOrder(a.Claim.Best)
		case (a.Interval.N > 0) != (b.Interval.N > 0):
			return boolOrder(a.Interval.N > 0)
		case a.Interval.N == 0:
			return 0
		}
		ma, mb := meanStd(a.oriented.Values).Mean, meanStd(b.oriented.Values).Mean
		switch {
		case ma > mb:
			return -1
		case ma < mb:
			return 1
		}
		return 0
	})
}

func boolOrder(first bool) int {
	if first {
		return -1
	}
	return 1
}

// dropEmptyColumns leaves out the headline columns no row has a value of.
func (rk *Ranking) dropEmptyColumns() {
	var keep []int
	for j := range rk.Columns {
		for _, r := range rk.Rows {
			if len(r.Cells[j].sample.Values) > 0 {
				keep = append(keep, j)
				break
			}
		}
	}
	cols := make([]Metric, 0, len(keep))
	for _, j := range keep {
		cols = append(cols, rk.Columns[j])
	}
	for i := range rk.Rows {
		cells := make([]Cell, 0, len(keep))
		for _, j := range keep {
			cells = append(cells, rk.Rows[i].Cells[j])
		}
		rk.Rows[i].Cells = cells
	}
	rk.Columns = cols
}

// verdict says the ranking in one sentence: the best row with its interval,
// which rows are distinguishably worse and which cannot be told apart.
func (rk *Ranking) verdict() string {
	if len(rk.Rows) == 0 || !rk.Rows[0].Claim.Best {
		return fmt.Sprintf("No run has a value of %s yet: nothing to rank.", rk.Metric.Title)
	}
	b := rk.Rows[0]
	word := map[evaluate.Direction]string{evaluate.LowerIsBetter: "the lowest", evaluate.HigherIsBetter: "the highest", evaluate.NearerOne: "the nearest to 1"}[rk.Metric.Dir]
	var s strings.Builder
	fmt.Fprintf(&s, "%s has %s %s (%s", b.Label, word, rk.Metric.Title, b.Mean)
	if b.Interval.N > 1 {
		fmt.Fprintf(&s, " %s, %d seeds)", b.CI, b.Interval.N)
	} else {
		s.WriteString(", one seed)")
	}
	var worse, same, noClaim []RankRow
	for _, r := range rk.Rows[1:] {
		switch {
		case r.Interval.N == 0:
		case r.Claim.Tested && r.Claim.Distinct:
			worse = append(worse, r)
		case r.Claim.Tested:
			same = append(same, r)
		default:
			noClaim = append(noClaim, r)
		}
	}
	others := len(worse) + len(same) + len(noClaim)
	switch {
	case others == 0:
		s.WriteString("; it is the only row")
	case b.Interval.N < 2:
		s.WriteString("; with one seed of the best row no row can be told apart from it")
	default:
		if len(worse) > 0 {
			if len(worse) == others {
				s.WriteString("; every other row is distinguishably worse")
			} else {
				fmt.Fprintf(&s, "; %s %s distinguishably worse", rk.phrase(worse), isAre(worse))
			}
		}
		if len(same) > 0 {
			fmt.Fprintf(&s, "; %s cannot be told apart from it", rk.phrase(same))
		}
		if len(noClaim) > 0 {
			fmt.Fprintf(&s, "; %s allow%s no claim (one seed)", rk.phrase(noClaim), map[bool]string{true: "s", false: ""}[len(noClaim) == 1])
		}
	}
	s.WriteString(".")
	return s.String()
}

func isAre(rs []RankRow) string {
	if len(rs) == 1 {
		return "is"
	}
	return "are"
}

// phrase names rows: "the prior-sampled rows" for every row of a sampler
// when there are several, then the others by label, at most three.
func (rk *Ranking) phrase(rs []RankRow) string {
	var parts []string
	left := rs
	if rk.Samplers {
		for _, name := range samplerNames(rk.Rows) {
			all, in := 0, 0
			for _, r := range rk.Rows {
				if r.Sampler == name && r.Interval.N > 0 {
					all++
				}
			}
			for _, r := range left {
				if r.Sampler == name {
					in++
				}
			}
			if all > 1 && in == all {
				parts = append(parts, "the "+name+"-sampled rows")
				left = slices.DeleteFunc(slices.Clone(left), func(r RankRow) bool { return r.Sampler == name })
			}
		}
	}
	for i, r := range left {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("%d more", len(left)-3))
			break
		}
		parts = append(parts, r.Label)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

func samplerNames(rs []RankRow) []string {
	var out []string
	for _, r := range rs {
		if !slices.Contains(out, r.Sampler) {
			out = append(out, r.Sampler)
		}
	}
	return out
}

// FormatP prints a corrected p-value: "p<0.001" below a thousandth.
func FormatP(p float64) string {
	if p < 0.001 {
		return "p<0.001"
	}
	return fmt.Sprintf("p=%.3f", p)
}

// FormatSpread prints a standard deviation or error with digits decimals,
// or, when those would round a non-zero value to 0, with two significant
// digits ("3.2e-05"): a spread is never shown as 0 when it is not.
func FormatSpread(x float64, digits int) string {
	if x != 0 && math.Abs(x) < 0.5*math.Pow(10, -float64(digits)) {
		return strconv.FormatFloat(x, 'g', 2, 64)
	}
	return fmt.Sprintf("%.*f", digits, x)
}

// markRows marks, in each column with a better direction, the top group:
// the cell with the best mean and every cell the test of CompareToBest
// cannot tell apart from it (paired where two rows share runs, as the
// samplers of one configuration do; Welch otherwise). A column of a single
// row, or where the best has one seed, marks only the best.
func markRows(rows []Row, ms []Metric) {
	for j, m := range ms {
		samples := make([]Sample, len(rows))
		for i := range rows {
			c := &rows[i].Cells[j]
			c.Best = false
			if m.Dir == evaluate.Neutral || c.NoBest {
				continue
			}
			samples[i] = orient(c.sample, m.Dir)
		}
		if m.Dir == evaluate.Neutral {
			continue
		}
		_, claims := CompareToBest(samples)
		for i := range rows {
			rows[i].Cells[j].Best = claims[i].Top
		}
	}
}
