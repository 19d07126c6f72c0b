package report

import (
	"math"
	"testing"
)

// tDensity is Student's t density, written out here so that the p-values
// below are checked against an implementation that shares nothing with
// the one under test.
func tDensity(x, df float64) float64 {
	lg1, _ := math.Lgamma((df + 1) / 2)
	lg2, _ := math.Lgamma(df / 2)
	return math.Exp(lg1-lg2) / math.Sqrt(df*math.Pi) * math.Pow(1+x*x/df, -(df+1)/2)
}

// tailBySimpson is P(|T| ≥ t) by Simpson's rule on ∫_t^∞ f, substituting
// x = t + u/(1−u) so that the infinite range becomes [0, 1).
func tailBySimpson(t, df float64) float64 {
	const n = 20000 // even
	f := func(u float64) float64 {
		if u >= 1 {
			return 0
		}
		return tDensity(t+u/(1-u), df) / ((1 - u) * (1 - u))
	}
	h := 1.0 / n
	sum := f(0) + f(1)
	for i := 1; i < n; i++ {
		w := 2.0
		if i%2 == 1 {
			w = 4
		}
		sum += w * f(float64(i)*h)
	}
	return 2 * sum * h / 3
}

func TestTQuantileClosedForms(t *testing.T) {
	cases := []struct {
		name    string
		p, df   float64
		closed  float64
		atLeast int // digits that must agree
	}{
		// df = 1 is the Cauchy distribution: tan(π(p − ½)).
		{"cauchy 0.975", 0.975, 1, math.Tan(math.Pi * 0.475), 10},
		{"cauchy 0.9", 0.9, 1, math.Tan(math.Pi * 0.4), 10},
		// df = 2: t = (2p − 1)/√(2p(1 − p)).
		{"df2 0.975", 0.975, 2, (2*0.975 - 1) / math.Sqrt(2*0.975*0.025), 10},
		{"df2 0.6", 0.6, 2, (2*0.6 - 1) / math.Sqrt(2*0.6*0.4), 10},
		// Printed tables (and R's qt): t(0.975, 4), t(0.975, 10), t(0.975, 30).
		{"table df4", 0.975, 4, 2.776445105197799, 9},
		{"table df10", 0.975, 10, 2.228138851964938, 9},
		{"table df30", 0.975, 30, 2.042272456301238, 9},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := TQuantile(c.p, c.df)
			if tol := math.Pow(10, -float64(c.atLeast)) * math.Max(1, math.Abs(c.closed)); math.Abs(got-c.closed) > tol {
				t.Fatalf("TQuantile(%v, %v) = %.15g, want %.15g", c.p, c.df, got, c.closed)
			}
		})
	}
	for _, bad := range [][2]float64{{0.5, 0}, {0, 3}, {1, 3}, {0.9, math.NaN()}} {
		if !math.IsNaN(TQuantile(bad[0], bad[1])) {
			t.Errorf("TQuantile(%v, %v) should be NaN", bad[0], bad[1])
		}
	}
}

func TestTwoSidedPAgainstIntegratedDensity(t *testing.T) {
	// Fractional df: what Welch's test produces.
	for _, c := range []struct{ t, df float64 }{{0.5, 2}, {1.8608, 17.776}, {4.3, 2.0}, {2.5, 3.37}, {7, 5.5}} {
		got, want := tTwoSided(c.t, c.df), tailBySimpson(c.t, c.df)
		if math.Abs(got-want) > 1e-8*math.Max(1, want) && math.Abs(got-want)/want > 1e-6 {
			t.Errorf("p(|T| ≥ %v; df %v) = %.12g, integrated density %.12g", c.t, c.df, got, want)
		}
	}
	// df = 1 (Cauchy): P(|T| ≥ t) = 1 − (2/π) atan t.
	if got, want := tTwoSided(0.01, 1), 1-2*math.Atan(0.01)/math.Pi; math.Abs(got-want) > 1e-12 {
		t.Errorf("df 1: p = %.15g, closed form %.15g", got, want)
	}
	// df = 3 has a closed-form CDF: F(t) = ½ + (1/π)[t/(√3(1 + t²/3)) + atan(t/√3)].
	tt := 2.2
	cdf := 0.5 + (tt/(math.Sqrt(3)*(1+tt*tt/3))+math.Atan(tt/math.Sqrt(3)))/math.Pi
	if got, want := tTwoSided(tt, 3), 2*(1-cdf); math.Abs(got-want) > 1e-12 {
		t.Errorf("df 3: p = %.15g, closed form %.15g", got, want)
	}
}

// The sleep data of Cushny and Peebles (Student, 1908): extra hours of
// sleep of ten patients under two drugs. R's t.test gives, paired: t =
// −4.0621, df = 9, p = 0.002833; Welch: t = −1.8608, df = 17.776, p = 0.07939.
var (
	sleep1 = []float64{0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0}
	sleep2 = []float64{1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4}
)

func TestWelchAndPairedOnStudentsSleepData(t *testing.T) {
	cases := []struct {
		name        string
		test        func(a, b []float64) (Test, error)
		tv, df, p   float64
		tolT, tolDF float64
	}{
		{"paired", Paired, -4.062128, 9, 0.002832890, 1e-6, 0},
		{"welch", Welch, -1.860813, 17.77647, 0.07939414, 1e-6, 1e-5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := c.test(sleep1, sleep2)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(r.T-c.tv) > c.tolT || math.Abs(r.DF-c.df) > c.tolDF+1e-12 || math.Abs(r.P-c.p) > 1e-8 {
				t.Fatalf("%s: t %.7g df %.7g p %.9g; want t %.7g df %.7g p %.9g", c.name, r.T, r.DF, r.P, c.tv, c.df, c.p)
			}
			if math.Abs(r.Diff-(0.75-2.33)) > 1e-12 {
				t.Fatalf("difference %v, want −1.58", r.Diff)
			}
		})
	}
}

func TestWelchDFAgainstDirectFormula(t *testing.T) {
	// Unequal sizes and spreads, df computed here from the textbook
	// formula with the sums written out.
	a := []float64{10.1, 11.4, 9.7}
	b := []float64{14.2, 12.9, 18.3, 15.0, 13.1}
	mean := func(v []float64) float64 {
		s := 0.0
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	variance := func(v []float64) float64 {
		m, s := mean(v), 0.0
		for _, x := range v {
			s += (x - m) * (x - m)
		}
		return s / float64(len(v)-1)
	}
	qa, qb := variance(a)/3, variance(b)/5
	wantT := (mean(a) - mean(b)) / math.Sqrt(qa+qb)
	wantDF := (qa + qb) * (qa + qb) / (qa*qa/2 + qb*qb/4)
	r, err := Welch(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(r.T-wantT) > 1e-12 || math.Abs(r.DF-wantDF) > 1e-12 {
		t.Fatalf("t %v df %v, want %v %v", r.T, r.DF, wantT, wantDF)
	}
	if want := tailBySimpson(math.Abs(wantT), wantDF); math.Abs(r.P-want) > 1e-8 {
		t.Fatalf("p %v, integrated density %v", r.P, want)
	}
}

func TestTestsRefuseTooFewValuesAndHandleNoSpread(t *testing.T) {
	cases := []struct {
		name    string
		test    func(a, b []float64) (Test, error)
		a, b    []float64
		wantErr bool
		wantP   float64
	}{
		{"welch one seed", Welch, []float64{1}, []float64{1, 2}, true, 0},
		{"paired one pair", Paired, []float64{1}, []float64{2}, true, 0},
		{"welch equal constants", Welch, []float64{2, 2}, []float64{2, 2, 2}, false, 1},
		{"welch different constants", Welch, []float64{2, 2}, []float64{3, 3}, false, 0},
		{"paired constant shift", Paired, []float64{1, 2, 3}, []float64{2, 3, 4}, false, 0},
		{"paired identical", Paired, []float64{1, 2, 3}, []float64{1, 2, 3}, false, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := c.test(c.a, c.b)
			if (err != nil) != c.wantErr {
				t.Fatalf("error %v, want error %v", err, c.wantErr)
			}
			if !c.wantErr && r.P != c.wantP {
				t.Fatalf("p %v, want %v", r.P, c.wantP)
			}
		})
	}
	if _, err := Paired([]float64{1, 2}, []float64{1}); err == nil {
		t.Fatal("pairs of unequal length accepted")
	}
}

func TestMeanCI(t *testing.T) {
	// Three seeds: mean 2, s = 1, half-width t(0.975, 2)/√3 = 4.302652729911275/√3.
	iv := MeanCI([]float64{1, 2, 3})
	half := 4.302652729911275 / math.Sqrt(3)
	if iv.Mean != 2 || iv.N != 3 || math.Abs(iv.Lo-(2-half)) > 1e-9 || math.Abs(iv.Hi-(2+half)) > 1e-9 {
		t.Fatalf("interval %+v, want 2 ± %v", iv, half)
	}
	if one := MeanCI([]float64{5}); one.Mean != 5 || !math.IsNaN(one.Lo) || !math.IsNaN(one.Hi) {
		t.Fatalf("one seed has an interval: %+v", one)
	}
}

func TestHolm(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		name string
		p    []float64
		m    int
		want []float64
	}{
		// Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 → running max 0.06.
		{"textbook", []float64{0.01, 0.04, 0.03, 0.005}, 0, []float64{0.03, 0.06, 0.06, 0.02}},
		{"capped", []float64{0.5, 0.4}, 0, []float64{0.8, 0.8}},
		{"no test is no member", []float64{0.01, nan, 0.02}, 0, []float64{0.02, nan, 0.02}},
		{"larger family", []float64{0.01, 0.02}, 6, []float64{0.06, 0.1}},
		{"ties keep order", []float64{0.01, 0.01}, 0, []float64{0.02, 0.02}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := holmM(c.p, c.m)
			for i := range got {
				if math.IsNaN(c.want[i]) != math.IsNaN(got[i]) || (!math.IsNaN(got[i]) && math.Abs(got[i]-c.want[i]) > 1e-12) {
					t.Fatalf("holm(%v, m=%d) = %v, want %v", c.p, c.m, got, c.want)
				}
			}
		})
	}
}
