package report

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"
)

// The statistics behind the report's claims: intervals over seeds and the
// tests that decide whether a row can be told apart from the best one.
// Seeds are few (typically 3), so everything uses Student's t with the
// exact degrees of freedom, never a normal approximation.

// Alpha is the significance level of every "distinguishable" claim, and
// 1 − Alpha the coverage of every confidence interval the report prints.
const Alpha = 0.05

// TQuantile is the p-quantile of Student's t distribution with df degrees
// of freedom (df may be fractional, as Welch's is); NaN for df ≤ 0.
func TQuantile(p, df float64) float64 {
	if !(df > 0) || p <= 0 || p >= 1 {
		return math.NaN()
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(p)
}

// tTwoSided is P(|T| ≥ |t|) for T ~ t(df). It uses the regularized
// incomplete beta directly, I_{df/(df+t²)}(df/2, 1/2), rather than
// 1 − CDF, so that small p-values keep their digits.
func tTwoSided(t, df float64) float64 {
	if math.IsNaN(t) || !(df > 0) {
		return math.NaN()
	}
	if math.IsInf(t, 0) {
		return 0
	}
	return mathext.RegIncBeta(df/2, 0.5, df/(df+t*t))
}

// Interval is a mean over seeds with its two-sided (1 − Alpha) confidence
// interval, mean ± t(1 − Alpha/2, n − 1)·s/√n. With one value there is no
// interval: Lo and Hi are NaN.
type Interval struct {
	Mean, Lo, Hi float64
	Std          float64 // sample standard deviation (n − 1), 0 for one value
	N            int
}

// MeanCI is the mean of v with its 95 % confidence interval over seeds.
func MeanCI(v []float64) Interval {
	s := meanStd(v)
	iv := Interval{Mean: s.Mean, Std: s.Std, N: s.N, Lo: math.NaN(), Hi: math.NaN()}
	if s.N < 2 {
		return iv
	}
	half := TQuantile(1-Alpha/2, float64(s.N-1)) * s.Std / math.Sqrt(float64(s.N))
	iv.Lo, iv.Hi = s.Mean-half, s.Mean+half
	return iv
}

// Test is the outcome of a two-sided test of equal means.
type Test struct {
	// Kind names the test: "paired" or "welch".
	Kind string
	// Diff is mean(a) − mean(b) (for paired, the mean difference).
	Diff, T, DF, P float64
	// N is the number of values each side contributed (the pairs, for paired).
	NA, NB int
}

// ErrFewValues is returned when a test has fewer than two values on a side
// (or two pairs): no variance can be estimated, so no claim is possible.
var ErrFewValues = fmt.Errorf("fewer than two values: no claim possible")

// Welch is Welch's unequal-variance t-test of mean(a) = mean(b): t = (ā − b̄)
// / √(s²a/na + s²b/nb) with the Welch–Satterthwaite degrees of freedom.
// When both samples have zero spread the means either agree (p = 1) or the
// difference is certain (p = 0).
func Welch(a, b []float64) (Test, error) {
	if len(a) < 2 || len(b) < 2 {
		return Test{Kind: "welch", NA: len(a), NB: len(b)}, ErrFewValues
	}
	sa, sb := meanStd(a), meanStd(b)
	va, vb := sa.Std*sa.Std/float64(sa.N), sb.Std*sb.Std/float64(sb.N)
	r := Test{Kind: "welch", Diff: sa.Mean - sb.Mean, NA: sa.N, NB: sb.N}
	se2 := va + vb
	if se2 == 0 {
		r.T, r.DF, r.P = degenerate(r.Diff), float64(sa.N+sb.N-2), degenerateP(r.Diff)
		return r, nil
	}
	r.T = r.Diff / math.Sqrt(se2)
	r.DF = se2 * se2 / (va*va/float64(sa.N-1) + vb*vb/float64(sb.N-1))
	r.P = tTwoSided(r.T, r.DF)
	return r, nil
}

// Paired is the paired t-test of mean(a − b) = 0 over pairs (a[i], b[i]):
// the same trained runs scored two ways. Pairing removes the spread between
// runs that both scores share, which is why rows that share runs are
// compared this way.
func Paired(a, b []float64) (Test, error) {
	if len(a) != len(b) {
		return Test{Kind: "paired"}, fmt.Errorf("paired test: %d values against %d", len(a), len(b))
	}
	if len(a) < 2 {
		return Test{Kind: "paired", NA: len(a), NB: len(b)}, ErrFewValues
	}
	d := make([]float64, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	s := meanStd(d)
	r := Test{Kind: "paired", Diff: s.Mean, NA: s.N, NB: s.N, DF: float64(s.N - 1)}
	if s.Std == 0 {
		r.T, r.P = degenerate(r.Diff), degenerateP(r.Diff)
		return r, nil
	}
	r.T = s.Mean / (s.Std / math.Sqrt(float64(s.N)))
	r.P = tTwoSided(r.T, r.DF)
	return r, nil
}

func degenerate(diff float64) float64 {
	if diff == 0 {
		return 0
	}
	return math.Copysign(math.Inf(1), diff)
}

func degenerateP(diff float64) float64 {
	if diff == 0 {
		return 1
	}
	return 0
}

// Holm adjusts p-values for testing them all at once (Holm's step-down
// method): the i-th smallest of m is multiplied by m − i + 1, made
// non-decreasing, and capped at 1. A hypothesis is rejected at level α when
// its adjusted p is ≤ α; the chance of any false rejection stays ≤ α.
// NaN entries (no test) are left out of m and stay NaN.
func Holm(p []float64) []float64 {
	return holmM(p, 0)
}

// holmM is Holm's method as if the family had m ≥ the number of tests
// (m = 0: the number of tests). Taking a larger family is what keeps a
// test against a data-chosen best row at its level: see CompareToBest.
func holmM(p []float64, m int) []float64 {
	out := make([]float64, len(p))
	var idx []int
	for i, x := range p {
		out[i] = math.NaN()
		if !math.IsNaN(x) {
			idx = append(idx, i)
		}
	}
	m = max(m, len(idx))
	slices.SortStableFunc(idx, func(i, j int) int {
		switch {
		case p[i] < p[j]:
			return -1
		case p[i] > p[j]:
			return 1
		}
		return 0
	})
	running := 0.0
	for rank, i := range idx {
		running = max(running, min(1, float64(m-rank)*p[i]))
		out[i] = running
	}
	return out
}

// Sample is one row's per-run values of a metric, oriented so that higher
// is better (see orient). Runs names the run of each value: two rows that
// share runs (one configuration scored with two samplers) are compared
// paired over the runs they share.
type Sample struct {
	Values []float64
	Runs   []string
}

// Claim is what the ranking says of one row against the best row.
type Claim struct {
	Best bool
	// Test is the test against the best row; Tested is false when none was
	// possible (one seed on either side, or fewer than two shared runs),
	// and Reason then says why.
	Tested bool
	Test   Test
	Reason string
	// P is the test's p-value after Holm's correction across the rows
	// tested against the best.
	P float64
	// Distinct: the corrected p-value is ≤ Alpha, so the row can be told
	// apart from the best.
	Distinct bool
	// Top is the top group: the best row and every tested row that cannot
	// be told apart from it. Rows without a test are not in it: nothing
	// supports putting them there.
	Top bool
}

// CompareToBest ranks rows by their mean and tests every other row against
// the best one, two-sided at level Alpha: paired by run when the two rows
// share runs, Welch's test otherwise; the p-values are Holm-corrected.
// best is −1 when no row has a value.
//
// The best row is chosen by the same data the tests then use, which biases
// those tests towards "distinguishable" (the largest of k noisy means is
// too large), and more so the more rows there are. So Holm's family is
// every pair of rows, not only the pairs with the best: a correction for
// all pairs holds whichever pair the data pick. Holm's method is run over
// all pairs' tests (up to maxFullPairs rows; beyond, each test with the
// best is corrected as if it ranked where it does among them, which is
// never less strict). TestRankingFalsePositiveRate measures the false
// rate of this rule and of the naive one.
func CompareToBest(rows []Sample) (best int, claims []Claim) {
	return compareToBest(rows, holmAllPairs)
}

// holmFamily is how compareToBest corrects its tests.
type holmFamily int

const (
	holmAllPairs holmFamily = iota // Holm over every pair's test (the rule)
	holmBoundAll                   // the tests with the best, corrected for k(k−1)/2
	holmWithBest                   // naive: the k−1 tests with the best only
)

// maxFullPairs bounds the rows whose every pair is tested (k(k−1)/2 tests).
const maxFullPairs = 150

func compareToBest(rows []Sample, family holmFamily) (best int, claims []Claim) {
	claims = make([]Claim, len(rows))
	best = -1
	bestMean := math.Inf(-1)
	var valued []int
	for i, r := range rows {
		if len(r.Values) == 0 {
			continue
		}
		valued = append(valued, i)
		if m := meanStd(r.Values).Mean; best < 0 || m > bestMean {
			best, bestMean = i, m
		}
	}
	if best < 0 {
		return best, claims
	}
	claims[best].Best, claims[best].Top = true, true
	p := make([]float64, len(rows))
	for i := range rows {
		p[i] = math.NaN()
		if i == best || len(rows[i].Values) == 0 {
			continue
		}
		t, err := testPair(rows[best], rows[i])
		if err != nil {
			claims[i].Reason = err.Error()
			if len(rows[best].Values) < 2 {
				claims[i].Reason = "the best row has one seed: no claim possible"
			} else if len(rows[i].Values) < 2 {
				claims[i].Reason = "one seed: no claim possible"
			}
			continue
		}
		claims[i].Tested, claims[i].Test, p[i] = true, t, t.P
	}
	k := len(valued)
	if family == holmAllPairs && k > maxFullPairs {
		family = holmBoundAll
	}
	var adj []float64
	switch family {
	case holmWithBest:
		adj = holmM(p, 0)
	case holmBoundAll:
		adj = holmM(p, k*(k-1)/2)
	default:
		adj = holmOverPairs(rows, valued, best, p)
	}
	for i := range rows {
		if claims[i].Tested {
			claims[i].P = adj[i]
			claims[i].Distinct = adj[i] <= Alpha
			claims[i].Top = !claims[i].Distinct
		}
	}
	return best, claims
}

// holmOverPairs runs Holm's method over the tests of every pair of the
// valued rows and returns, for each row, the corrected p-value of its test
// with the best (p[i], NaN where there is none).
func holmOverPairs(rows []Sample, valued []int, best int, p []float64) []float64 {
	var all []float64
	at := make([]int, len(rows))
	for i := range at {
		at[i] = -1
	}
	for a, i := range valued {
		for _, j := range valued[a+1:] {
			switch {
			case i == best && !math.IsNaN(p[j]):
				at[j] = len(all)
				all = append(all, p[j])
			case j == best && !math.IsNaN(p[i]):
				at[i] = len(all)
				all = append(all, p[i])
			case i != best && j != best:
				if t, err := testPair(rows[i], rows[j]); err == nil {
					all = append(all, t.P)
				}
			}
		}
	}
	adjAll := Holm(all)
	out := make([]float64, len(rows))
	for i := range out {
		out[i] = math.NaN()
		if at[i] >= 0 {
			out[i] = adjAll[at[i]]
		}
	}
	return out
}

// testPair tests row b against row a: paired over their shared runs when
// they share any (their values are not independent then, so Welch's test
// would be wrong as well as weak), Welch's otherwise.
func testPair(a, b Sample) (Test, error) {
	at := map[string]int{}
	for i, id := range a.Runs {
		at[id] = i
	}
	var pa, pb []float64
	for j, id := range b.Runs {
		if i, ok := at[id]; ok && id != "" {
			pa, pb = append(pa, a.Values[i]), append(pb, b.Values[j])
		}
	}
	if len(pa) > 0 {
		t, err := Paired(pa, pb)
		if err != nil {
			return t, fmt.Errorf("fewer than two shared runs: no claim possible")
		}
		return t, nil
	}
	return Welch(a.Values, b.Values)
}
