package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// On real faces the spectral gap is 0 for the data itself; Gaussian blur
// gives the high band a deficit that grows with σ, added Gaussian noise an
// excess that grows with its level (four levels each).
func TestSpectralGapSeparatesBlurFromNoise(t *testing.T) {
	im := olivetti(t).First(100)
	real := MeasureSpectrum(im)
	for _, g := range real.GapDB(real) {
		if g != 0 {
			t.Fatalf("the data against itself: %v", real.GapDB(real))
		}
	}
	high := len(SpectrumBands()) - 1
	prev := 0.0
	for _, sigma := range []float64{0.5, 1, 2, 3} {
		g := MeasureSpectrum(GaussianBlur(im, sigma, nil)).GapDB(real)
		t.Logf("blur σ=%g: %.2f dB per band", sigma, g)
		if !(g[high] < prev) {
			t.Errorf("blur σ=%g: high band %.2f dB, not below %.2f", sigma, g[high], prev)
		}
		prev = g[high]
	}
	if prev > -3 {
		t.Errorf("the strongest blur's deficit %.2f dB is not one (below −3 dB)", prev)
	}
	prev = 0
	for _, alpha := range []float64{0.1, 0.2, 0.35, 0.5} {
		g := MeasureSpectrum(GaussianNoise(im, alpha, rand.New(rand.NewPCG(1, 2)))).GapDB(real)
		t.Logf("noise α=%g: %.2f dB per band", alpha, g)
		if !(g[high] > prev) {
			t.Errorf("noise α=%g: high band %.2f dB, not above %.2f", alpha, g[high], prev)
		}
		prev = g[high]
	}
	if prev < 3 {
		t.Errorf("the strongest noise's excess %.2f dB is not one (above +3 dB)", prev)
	}
}

// Contrast is not blur: faint copies of the data have its spectral shape
// (0 dB in every band). Grain on faint images, less high-frequency power
// than the data has in absolute terms, is an excess against their own
// structure, and shows as one.
func TestSpectralGapIgnoresContrast(t *testing.T) {
	im := olivetti(t).First(100)
	real := MeasureSpectrum(im)
	faint := GaussianBlur(im, 0, nil)
	for i, v := range faint.Pix {
		faint.Pix[i] = 0.5 + 0.3*(v-0.5)
	}
	for b, g := range MeasureSpectrum(faint).GapDB(real) {
		if math.Abs(g) > 0.05 {
			t.Errorf("faint copies, band %d: %.3f dB, want 0", b+1, g)
		}
	}
	grainy := GaussianNoise(faint, 0.05, rand.New(rand.NewPCG(5, 6)))
	g := MeasureSpectrum(grainy).GapDB(real)
	t.Logf("faint and grainy: %.2f dB per band", g)
	if high := g[len(g)-1]; high < 3 {
		t.Errorf("grain on faint images: high band %.2f dB, want an excess (> +3 dB)", high)
	}
}

// Images too small to have frequencies in a band give NaN there, not a
// division by zero's infinity.
func TestSpectralGapOfTinyImages(t *testing.T) {
	im := olivetti(t).First(4)
	tiny := GaussianBlur(im, 0, nil)
	tiny.Height, tiny.Width = 8, 8
	tiny.Pix = tiny.Pix[:4*64]
	g := MeasureSpectrum(tiny).GapDB(MeasureSpectrum(tiny))
	if !math.IsNaN(g[0]) || g[3] != 0 {
		t.Errorf("8×8 images: %v, want NaN in the lowest band and 0 in the highest", g)
	}
}

// windowedPower's FFT equals the 2-D DFT written out as a double sum, on
// sides that are not powers of two.
func TestWindowedPowerIsTheDFT(t *testing.T) {
	for _, hw := range [][2]int{{12, 10}, {7, 16}, {1, 5}} {
		h, w := hw[0], hw[1]
		rng := rand.New(rand.NewPCG(uint64(h), uint64(w)))
		px := make([]float32, h*w)
		for i := range px {
			px[i] = rng.Float32()
		}
		mean := 0.0
		for _, v := range px {
			mean += float64(v) / float64(len(px))
		}
		got := windowedPower(px, h, w)
		for u := range h {
			for v := range w {
				var re, im float64
				for y := range h {
					for x := range w {
						a := (float64(px[y*w+x]) - mean) * hann(y, h) * hann(x, w)
						ph := -2 * math.Pi * (float64(u*y)/float64(h) + float64(v*x)/float64(w))
						re += a * math.Cos(ph)
						im += a * math.Sin(ph)
					}
				}
				if want := re*re + im*im; math.Abs(got[u*w+v]-want) > 1e-9*(1+want) {
					t.Fatalf("%d×%d bin (%d,%d): %g, the direct sum gives %g", h, w, u, v, got[u*w+v], want)
				}
			}
		}
	}
}
