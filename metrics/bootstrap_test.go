package metrics

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// gaussianRows draws n rows of N(shift·e₁, diag(scale²)) in d dimensions.
func gaussianRows(rng *rand.Rand, n, d int, shift, scale float64) *mat.Dense {
	x := mat.NewDense(n, d, nil)
	for i := range n {
		for j := range d {
			v := scale * rng.NormFloat64()
			if j == 0 {
				v += shift
			}
			x.Set(i, j, v)
		}
	}
	return x
}

// The replicates' factored distance is the Fréchet distance itself: with
// every row once it equals FrechetFeatures, and with counts it equals
// FrechetFeatures of the rows repeated, for N below, at and above d, and for
// a rank-deficient set.
func TestFrechetWeightedMatchesFrechet(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	lowRank := func(n, d int) *mat.Dense {
		a, b := gaussianRows(rng, n, 2, 0, 1), gaussianRows(rng, 2, d, 0, 1)
		var x mat.Dense
		x.Mul(a, b)
		return &x
	}
	for _, tc := range []struct {
		name string
		x, y *mat.Dense
		tol  float64 // relative
	}{
		{"few rows", gaussianRows(rng, 12, 30, 0.5, 1), gaussianRows(rng, 15, 30, 0, 2), 1e-8},
		{"many rows", gaussianRows(rng, 200, 10, 1, 1), gaussianRows(rng, 150, 10, 0, 0.5), 1e-8},
		{"rows equal to dims", gaussianRows(rng, 10, 10, 0, 1), gaussianRows(rng, 10, 10, 0, 1), 1e-8},
		// FrechetFeatures takes square roots of the product's eigenvalues, and
		// the six that are zero come out as round-off of about 1e-15, whose
		// roots add about 1e-7: the factored form has no such roots.
		{"rank 2 in 8 dims", lowRank(50, 8), gaussianRows(rng, 60, 8, 0, 1), 1e-6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nx, ny := rows(tc.x), rows(tc.y)
			ones := func(n int) []int {
				w := make([]int, n)
				for i := range w {
					w[i] = 1
				}
				return w
			}
			want, err := FrechetFeatures(tc.x, tc.y)
			if err != nil {
				t.Fatal(err)
			}
			got, err := frechetWeighted(tc.x, ones(nx), tc.y, ones(ny))
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-want) > tc.tol*(1+want) {
				t.Errorf("all rows once: %.12g, FrechetFeatures %.12g", got, want)
			}
			wx, wy := make([]int, nx), make([]int, ny)
			resample(wx, rng)
			resample(wy, rng)
			want, err = FrechetFeatures(repeatRows(tc.x, wx), repeatRows(tc.y, wy))
			if err != nil {
				t.Fatal(err)
			}
			got, err = frechetWeighted(tc.x, wx, tc.y, wy)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-want) > tc.tol*(1+want) {
				t.Errorf("resampled: %.12g, FrechetFeatures of the repeated rows %.12g", got, want)
			}
		})
	}
}

func repeatRows(x *mat.Dense, w []int) *mat.Dense {
	_, d := x.Dims()
	var data []float64
	for i, c := range w {
		for range c {
			data = append(data, x.RawRowView(i)...)
		}
	}
	return mat.NewDense(len(data)/d, d, data)
}

// With the sets far apart the distance is dominated by |μx − μy|², whose
// standard deviation is known: the difference of the means is N(δ, 2/N·I),
// so Var|Δ|² = 4|δ|²·2/N + 2d(2/N)²; the covariance terms add a variance of
// order d/N², small beside it. The SE must match it and shrink as 1/√N.
func TestFrechetSEClosedForm(t *testing.T) {
	const d, shift, replicates = 4, 3.0, 200
	var prev float64
	for _, n := range []int{100, 400} {
		rng := rand.New(rand.NewPCG(uint64(n), 7))
		var ses []float64
		for range 5 { // several data sets: one SE is itself a noisy draw
			x, y := gaussianRows(rng, n, d, shift, 1), gaussianRows(rng, n, d, 0, 1)
			se, err := FrechetSE(context.Background(), x, y, replicates, rng)
			if err != nil {
				t.Fatal(err)
			}
			ses = append(ses, se)
		}
		got := stat.Mean(ses, nil)
		v := 2 / float64(n)
		want := math.Sqrt(4*shift*shift*v + 2*d*v*v)
		if math.Abs(got/want-1) > 0.15 {
			t.Errorf("N=%d: bootstrap SE %.4f, closed form %.4f", n, got, want)
		}
		t.Logf("N=%d: bootstrap SE %.4f, closed form %.4f", n, got, want)
		if prev > 0 {
			if r := prev / got; r < 1.7 || r > 2.3 {
				t.Errorf("SE at N=100 over SE at N=400 is %.2f, want about 2 (1/√N)", r)
			}
		}
		prev = got
	}
}

// The bootstrap SE agrees with the standard deviation of the statistic over
// independent draws of the images (Monte Carlo), for FD where the
// covariance terms dominate (no shift, different scales) and for KID.
func TestSEMatchesMonteCarlo(t *testing.T) {
	const n, d, draws, replicates = 120, 6, 300, 100
	for _, tc := range []struct {
		name string
		stat func(x, y *mat.Dense, rng *rand.Rand) float64
		se   func(x, y *mat.Dense, rng *rand.Rand) (float64, error)
	}{
		{"FD", func(x, y *mat.Dense, _ *rand.Rand) float64 {
			v, err := FrechetFeatures(x, y)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}, func(x, y *mat.Dense, rng *rand.Rand) (float64, error) {
			return FrechetSE(context.Background(), x, y, replicates, rng)
		}},
		{"KID", func(x, y *mat.Dense, rng *rand.Rand) float64 {
			k, err := KernelDistance(x, y, 10, 60, rng)
			if err != nil {
				t.Fatal(err)
			}
			return k.Mean
		}, func(x, y *mat.Dense, rng *rand.Rand) (float64, error) {
			_, se, err := KernelDistanceSE(context.Background(), x, y, 10, 60, replicates, rng, rng)
			return se, err
		}},
		// Few small subsets: their own spread is a good part of the SE.
		{"KID over 4 subsets of 15", func(x, y *mat.Dense, rng *rand.Rand) float64 {
			k, err := KernelDistance(x, y, 4, 15, rng)
			if err != nil {
				t.Fatal(err)
			}
			return k.Mean
		}, func(x, y *mat.Dense, rng *rand.Rand) (float64, error) {
			_, se, err := KernelDistanceSE(context.Background(), x, y, 4, 15, replicates, rng, rng)
			return se, err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(11, 12))
			draw := func() (*mat.Dense, *mat.Dense) {
				return gaussianRows(rng, n, d, 0.5, 1.5), gaussianRows(rng, n, d, 0, 1)
			}
			vals := make([]float64, draws)
			for i := range vals {
				x, y := draw()
				vals[i] = tc.stat(x, y, rng)
			}
			want := stat.StdDev(vals, nil)
			var ses []float64
			for range 8 {
				x, y := draw()
				se, err := tc.se(x, y, rng)
				if err != nil {
					t.Fatal(err)
				}
				ses = append(ses, se)
			}
			got := stat.Mean(ses, nil)
			t.Logf("%s: bootstrap SE %.5g (mean of 8 data sets), std over %d independent draws %.5g", tc.name, got, draws, want)
			if math.Abs(got/want-1) > 0.3 {
				t.Errorf("%s: bootstrap SE %.5g, Monte Carlo std %.5g", tc.name, got, want)
			}
		})
	}
}

func TestSEEdgeCases(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 6))
	constant := mat.NewDense(20, 3, nil)
	for i := range 20 {
		constant.SetRow(i, []float64{1, 2, 3})
	}
	x, other := gaussianRows(rng, 30, 3, 0, 1), gaussianRows(rng, 30, 4, 0, 1)
	for _, tc := range []struct {
		name   string
		se     func() (float64, error)
		want   float64 // -1: positive
		failed bool
	}{
		// Two sets of one repeated point: every replicate is the same.
		{"FD of constant sets", func() (float64, error) { return FrechetSE(ctx, constant, constant, 50, rng) }, 0, false},
		// Identical sets still have a sampling error: other draws of the images differ.
		{"FD of identical sets", func() (float64, error) { return FrechetSE(ctx, x, x, 50, rng) }, -1, false},
		{"KID of identical sets", func() (float64, error) {
			_, se, err := KernelDistanceSE(ctx, x, x, 5, 30, 50, rng, rng)
			return se, err
		}, -1, false},
		{"FD dimensions differ", func() (float64, error) { return FrechetSE(ctx, x, other, 50, rng) }, 0, true},
		{"FD one replicate", func() (float64, error) { return FrechetSE(ctx, x, x, 1, rng) }, 0, true},
		{"KID one replicate", func() (float64, error) { _, se, err := KernelDistanceSE(ctx, x, x, 5, 30, 1, rng, rng); return se, err }, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.se()
			switch {
			case tc.failed:
				if err == nil {
					t.Fatalf("SE %g, want an error", got)
				}
			case err != nil:
				t.Fatal(err)
			case tc.want < 0 && !(got > 0):
				t.Errorf("SE %g, want > 0", got)
			case tc.want >= 0 && got != tc.want:
				t.Errorf("SE %g, want %g", got, tc.want)
			}
		})
	}
}

// Same generator, same SE; a cancelled context stops the replicates.
func TestSEDeterministicAndCancellable(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	x, y := gaussianRows(rng, 40, 5, 1, 1), gaussianRows(rng, 40, 5, 0, 1)
	for _, tc := range []struct {
		name string
		se   func(ctx context.Context, rng *rand.Rand) (float64, error)
	}{
		{"FD", func(ctx context.Context, rng *rand.Rand) (float64, error) { return FrechetSE(ctx, x, y, 30, rng) }},
		{"KID", func(ctx context.Context, rng *rand.Rand) (float64, error) {
			_, se, err := KernelDistanceSE(ctx, x, y, 5, 40, 30, rand.New(rand.NewPCG(3, 3)), rng)
			return se, err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := tc.se(context.Background(), rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			b, err := tc.se(context.Background(), rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			if a != b {
				t.Errorf("same seed: %v then %v", a, b)
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if _, err := tc.se(ctx, rand.New(rand.NewPCG(1, 2))); err == nil {
				t.Error("cancelled context: no error")
			}
		})
	}
}

// KernelDistanceSE's value is KernelDistance's, draw for draw.
func TestKernelDistanceSEKeepsTheValue(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	x, y := gaussianRows(rng, 50, 7, 0.3, 1), gaussianRows(rng, 40, 7, 0, 1)
	for _, tc := range []struct{ subsets, m int }{{1, 40}, {10, 20}, {5, 100}} {
		want, err := KernelDistance(x, y, tc.subsets, tc.m, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		got, se, err := KernelDistanceSE(context.Background(), x, y, tc.subsets, tc.m, 20, rand.New(rand.NewPCG(1, 2)), rng)
		if err != nil {
			t.Fatal(err)
		}
		if got != want || !(se > 0) {
			t.Errorf("%d subsets of %d: %+v (SE %g), KernelDistance %+v", tc.subsets, tc.m, got, se, want)
		}
	}
}
