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
// test against a data-chosen best row at its level: see rankTests.
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
