package metrics

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/internal/testenv"
)

func randomPSD(rng *rand.Rand, d int) *mat.SymDense {
	a := mat.NewDense(d, d, nil)
	for i := range d {
		for j := range d {
			a.Set(i, j, rng.NormFloat64())
		}
	}
	s := mat.NewSymDense(d, nil)
	s.SymOuterK(1, a)
	return s
}

func TestFrechetDistanceClosedForms(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const d = 6
	mu1, mu2 := make([]float64, d), make([]float64, d)
	meanTerm := 0.0
	for i := range d {
		mu1[i], mu2[i] = rng.NormFloat64(), rng.NormFloat64()
		meanTerm += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i])
	}
	diag := func(v []float64) *mat.SymDense {
		s := mat.NewSymDense(len(v), nil)
		for i, x := range v {
			s.SetSym(i, i, x)
		}
		return s
	}
	a, b := []float64{1, 4, 9, 0.25, 2, 0}, []float64{4, 1, 9, 1, 0.5, 3}
	wantDiag := meanTerm
	for i := range a {
		wantDiag += (math.Sqrt(a[i]) - math.Sqrt(b[i])) * (math.Sqrt(a[i]) - math.Sqrt(b[i]))
	}
	s := randomPSD(rng, d)
	scaled := mat.NewSymDense(d, nil)
	scaled.ScaleSym(2.25, s) // Σ2 = c²Σ1 with c = 1.5
	for _, tc := range []struct {
		name string
		a, b Gaussian
		want float64
	}{
		{"diagonal", Gaussian{mu1, diag(a)}, Gaussian{mu2, diag(b)}, wantDiag},
		{"scaled covariance", Gaussian{mu1, s}, Gaussian{mu2, scaled}, meanTerm + 0.25*mat.Trace(s)},
		{"identical", Gaussian{mu1, s}, Gaussian{mu1, s}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FrechetDistance(tc.a, tc.b)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tc.want) > 1e-8*math.Max(1, tc.want) {
				t.Fatalf("FD = %.12g, closed form %.12g", got, tc.want)
			}
		})
	}
}

// TestKIDIsUnbiased: for two samples of one distribution KID averages near 0;
// for a shifted one it is clearly positive.
func TestKIDIsUnbiased(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	draw := func(n int, shift float64) *mat.Dense {
		x := mat.NewDense(n, 8, nil)
		for i := range n {
			for j := range 8 {
				x.Set(i, j, rng.NormFloat64()+shift)
			}
		}
		return x
	}
	same, err := KernelDistance(draw(400, 0), draw(400, 0), 50, 100, rng)
	if err != nil {
		t.Fatal(err)
	}
	shifted, _ := KernelDistance(draw(400, 0), draw(400, 0.5), 50, 100, rng)
	if math.Abs(same.Mean) > 3*same.Std/math.Sqrt(50)+1e-3 || shifted.Mean < 20*math.Abs(same.Mean) {
		t.Fatalf("KID same distribution %.4g ± %.3g, shifted %.4g", same.Mean, same.Std, shifted.Mean)
	}
}

func TestPrecisionRecallExtremes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := mat.NewDense(100, 4, nil)
	far := mat.NewDense(100, 4, nil)
	for i := range 100 {
		for j := range 4 {
			x.Set(i, j, rng.NormFloat64())
			far.Set(i, j, rng.NormFloat64()+100)
		}
	}
	same, _ := PrecisionRecall(x, x, 3)
	apart, _ := PrecisionRecall(x, far, 3)
	if same.Precision != 1 || same.Recall != 1 || same.Coverage != 1 || apart.Precision != 0 || apart.Recall != 0 || apart.Coverage != 0 || apart.Density != 0 {
		t.Fatalf("identical sets %+v, far apart %+v", same, apart)
	}
}

func olivetti(t *testing.T) data.Images {
	t.Helper()
	dir := testenv.SharedData(t, data.OlivettiFile)
	im, _, _, err := data.LoadOlivetti(filepath.Join(dir, data.OlivettiFile))
	if err != nil {
		t.Fatal(err)
	}
	return im
}

// TestSampleQualityWorsensWithEachDisturbance: on real faces, FD-proxy, KID and
// SWD grow monotonically with the strength of each of Heusel et al.'s
// disturbances, and the distance between two halves of the data is small
// beside them.
func TestSampleQualityWorsensWithEachDisturbance(t *testing.T) {
	im := olivetti(t)
	ctx := context.Background()
	ex := NewExtractor(1)
	rng := rand.New(rand.NewPCG(7, 8))
	perm := rng.Perm(im.N)
	half1, half2 := im.Subset(perm[:200]), im.Subset(perm[200:])
	f1, err := ex.Features(ctx, half1)
	if err != nil {
		t.Fatal(err)
	}
	f2, _ := ex.Features(ctx, half2)
	score := func(fake data.Images, ff *mat.Dense) [3]float64 {
		fd, err := FrechetFeatures(f1, ff)
		if err != nil {
			t.Fatal(err)
		}
		kid, err := KernelDistance(f1, ff, 20, 100, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		swd, _, err := SlicedWasserstein(half1, fake, rand.New(rand.NewPCG(2, 2)))
		if err != nil {
			t.Fatal(err)
		}
		return [3]float64{fd, kid.Mean, swd}
	}
	base := score(half2, f2)
	names := [3]string{"FD", "KID", "SWD"}
	for _, d := range Disturbances() {
		prev := base
		line := fmt.Sprintf("%-16s halves %s", d.Name, fmtScores(base))
		for _, level := range d.Levels {
			fake := d.Apply(half2, level, rand.New(rand.NewPCG(9, 9)))
			ff, _ := ex.Features(ctx, fake)
			s := score(fake, ff)
			line += fmt.Sprintf(" | %g: %s", level, fmtScores(s))
			for m := range 3 {
				if !(s[m] > prev[m]) {
					t.Errorf("%s: %s does not grow from %.4g to %.4g at level %g", d.Name, names[m], prev[m], s[m], level)
				}
				if m < 2 && level == d.Levels[len(d.Levels)-1] && !(s[m] > 5*math.Abs(base[m])) {
					t.Errorf("%s: %s at the strongest level %.4g is not well above the halves' %.4g", d.Name, names[m], s[m], base[m])
				}
			}
			prev = s
		}
		t.Log(line)
	}
}

func fmtScores(s [3]float64) string {
	return fmt.Sprintf("FD %.3g KID %.3g SWD %.3g", s[0], s[1], s[2])
}

// TestSharpnessFallsWithBlur: every sharpness ratio is 1 on the real set and
// falls monotonically as the Gaussian blur grows. (Past σ ≈ 2.5 pixels no power
// is left above the cut-off and the high-frequency share sits at its floor.)
func TestSharpnessFallsWithBlur(t *testing.T) {
	im := olivetti(t).First(100)
	real := MeasureSharpness(im)
	if r := MeasureSharpness(im).Ratio(real); r != (Sharpness{1, 1, 1}) {
		t.Fatalf("ratio of the real set to itself: %+v", r)
	}
	prev := Sharpness{1, 1, 1}
	for _, sigma := range []float64{0.5, 1, 1.5, 2, 2.5} {
		r := MeasureSharpness(GaussianBlur(im, sigma, nil)).Ratio(real)
		if !(r.LaplacianVar < prev.LaplacianVar && r.HighFreqShare < prev.HighFreqShare && r.GradMean < prev.GradMean) {
			t.Fatalf("blur σ=%g: ratios %+v do not all fall below %+v", sigma, r, prev)
		}
		prev = r
	}
}

// TestDisentanglementExtremes: an encoder that outputs the true factors scores
// MIG and SAP near 1; one that outputs noise scores near 0.
func TestDisentanglementExtremes(t *testing.T) {
	const n, k = 4000, 5
	rng := rand.New(rand.NewPCG(10, 11))
	factors, noise := make([]float64, n*k), make([]float64, n*k)
	for i := range factors {
		factors[i], noise[i] = rng.Float64(), rng.NormFloat64()
	}
	// The true factors, rescaled (equal-width bins make MIG invariant to it).
	codes := make([]float64, n*k)
	for i, v := range factors {
		codes[i] = 3*v - 1
	}
	for _, tc := range []struct {
		name     string
		codes    []float64
		min, max float64
	}{{"true factors", codes, 0.9, 1.0001}, {"noise", noise, -0.001, 0.05}} {
		mig, err := MIG(tc.codes, k, factors, k)
		if err != nil {
			t.Fatal(err)
		}
		sap, _ := SAP(tc.codes, k, factors, k)
		if mig < tc.min || mig > tc.max || (tc.name == "noise" && sap > 0.05) || (tc.name != "noise" && sap < 0.8) {
			t.Fatalf("%s: MIG %.3f, SAP %.3f", tc.name, mig, sap)
		}
		t.Logf("%s: MIG %.3f, SAP %.3f", tc.name, mig, sap)
	}
}

func TestPosteriorHealth(t *testing.T) {
	// Dimension 0 varies across images (active), dimension 1 sits at the prior.
	mu := []float64{-1, 0, 1, 0, 0.5, 0, -0.5, 0}
	logvar := []float64{0, 0, 0, 0, 0, 0, 0, 0}
	p, err := PosteriorHealth(mu, logvar, 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	if p.ActiveUnits != 1 || p.Collapsed || p.KLPerDim[1] != 0 || math.Abs(p.KLPerDim[0]-0.5*(1+1+0.25+0.25)/4) > 1e-12 {
		t.Fatalf("posterior %+v", p)
	}
	p, _ = PosteriorHealth(make([]float64, 8), logvar, 4, 2)
	if !p.Collapsed {
		t.Fatal("a posterior equal to the prior is not flagged collapsed")
	}
}

func TestStabilityCountsSpikes(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 13))
	loss := make([]float64, 1000)
	for i := range loss {
		loss[i] = 100*math.Exp(-float64(i)/300) + 50 + rng.NormFloat64()
	}
	for _, at := range []int{200, 500, 700} {
		loss[at] += 200
	}
	grad := make([]float64, 100)
	for i := range grad {
		grad[i] = float64(i + 1)
	}
	s := MeasureStability(loss, grad)
	if s.LossSpikes != 3 || s.GradNormP50 != 50 || s.GradNormP90 != 90 || s.GradNormP99 != 99 || s.Oscillation <= 0 || s.Oscillation > 0.05 {
		t.Fatalf("stability %+v; want 3 spikes, percentiles 50/90/99, small oscillation", s)
	}
}

// TestExtractorIsVersioned: the extractor's output on fixed images is pinned
// by a golden hash per version, so its output cannot change without a new version.
func TestExtractorIsVersioned(t *testing.T) {
	im, _, err := data.Synthetic(16, 40, 3)
	if err != nil {
		t.Fatal(err)
	}
	rgb := data.Images{N: 4, Height: 24, Width: 24, Channels: 3, Pix: make([]float32, 4*24*24*3)}
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range rgb.Pix {
		rgb.Pix[i] = float32(rng.IntN(256)) / 255
	}
	h := sha256.New()
	for _, set := range []data.Images{im, rgb} {
		f, err := NewExtractor(set.Channels).Features(context.Background(), set)
		if err != nil {
			t.Fatal(err)
		}
		r, c := f.Dims()
		if c != FeatureDim() || r != set.N {
			t.Fatalf("features %dx%d", r, c)
		}
		for _, v := range f.RawMatrix().Data {
			fmt.Fprintf(h, "%.6e\n", v) // 7 significant digits: stable across BLAS kernels
		}
	}
	got := hex.EncodeToString(h.Sum(nil))
	golden := filepath.Join("testdata", ExtractorID()+".sha256")
	want, err := os.ReadFile(golden)
	if os.IsNotExist(err) && os.Getenv("VAELAB_WRITE_GOLDEN") == "1" {
		os.WriteFile(golden, []byte(got+"\n"), 0o644)
		return
	}
	if err != nil {
		t.Fatalf("no golden output for %s (%v): a new extractor version needs testdata/%s.sha256 (VAELAB_WRITE_GOLDEN=1 writes it)", ExtractorID(), err, ExtractorID())
	}
	if got != strings.TrimSpace(string(want)) {
		t.Fatalf("extractor %s output changed (sha256 %s): bump ExtractorVersion", ExtractorID(), got)
	}
}
