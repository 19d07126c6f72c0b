package metrics

import (
	"math"

	"gonum.org/v1/gonum/dsp/fourier"

	"github.com/vaelab/vaelab/data"
)

// Sharpness holds three blur-sensitive statistics of an image set, each the
// mean over images of a statistic of the image's luma.
type Sharpness struct {
	// LaplacianVar is the variance of the 4-neighbour Laplacian ("sharpness" in
	// Tolstikhin et al. 2018).
	LaplacianVar float64
	// HighFreqShare is the share of spectral power (mean removed) at radial
	// frequencies above HighFreqCutoff cycles per pixel.
	HighFreqShare float64
	// GradMean is the mean magnitude of the central-difference gradient.
	GradMean float64
}

// HighFreqCutoff is the radial frequency, in cycles per pixel (Nyquist is 0.5),
// above which spectral power counts as high-frequency.
const HighFreqCutoff = 0.25

// MeasureSharpness computes the Sharpness statistics of im.
func MeasureSharpness(im data.Images) Sharpness {
	g := data.Gray(im)
	var s Sharpness
	for i := range g.N {
		px := g.At(i)
		s.LaplacianVar += laplacianVar(px, g.Height, g.Width)
		s.HighFreqShare += highFreqShare(px, g.Height, g.Width)
		s.GradMean += gradMean(px, g.Height, g.Width)
	}
	n := float64(g.N)
	return Sharpness{s.LaplacianVar / n, s.HighFreqShare / n, s.GradMean / n}
}

// Ratio divides each statistic by the real images' one: 1.0 is as sharp as the data.
func (s Sharpness) Ratio(real Sharpness) Sharpness {
	return Sharpness{s.LaplacianVar / real.LaplacianVar, s.HighFreqShare / real.HighFreqShare, s.GradMean / real.GradMean}
}

func laplacianVar(px []float32, h, w int) float64 {
	var s, s2, n float64
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			l := float64(px[(y-1)*w+x] + px[(y+1)*w+x] + px[y*w+x-1] + px[y*w+x+1] - 4*px[y*w+x])
			s, s2, n = s+l, s2+l*l, n+1
		}
	}
	mean := s / n
	return s2/n - mean*mean
}

func gradMean(px []float32, h, w int) float64 {
	var s, n float64
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			gx := float64(px[y*w+x+1]-px[y*w+x-1]) / 2
			gy := float64(px[(y+1)*w+x]-px[(y-1)*w+x]) / 2
			s, n = s+math.Hypot(gx, gy), n+1
		}
	}
	return s / n
}

// highFreqShare returns the share of the image's windowed power above
// HighFreqCutoff.
func highFreqShare(px []float32, h, w int) float64 {
	power := windowedPower(px, h, w)
	var total, high float64
	for y := range h {
		fy := freq(y, h)
		for x := range w {
			p := power[y*w+x]
			total += p
			if math.Hypot(fy, freq(x, w)) > HighFreqCutoff {
				high += p
			}
		}
	}
	if total == 0 {
		return 0
	}
	return high / total
}

// windowedPower computes the 2-D DFT of the mean-removed, Hann-windowed
// image (separably, rows then columns) and returns the power of each bin
// (h × w, row-major). The window keeps the jump between opposite edges,
// which the DFT sees as periodic, from adding broadband power.
func windowedPower(px []float32, h, w int) []float64 {
	mean := 0.0
	for _, v := range px {
		mean += float64(v) / float64(len(px))
	}
	f := make([]complex128, h*w)
	for y := range h {
		for x := range w {
			f[y*w+x] = complex((float64(px[y*w+x])-mean)*hann(y, h)*hann(x, w), 0)
		}
	}
	rowFFT, colFFT := fourier.NewCmplxFFT(w), fourier.NewCmplxFFT(h)
	for y := range h {
		rowFFT.Coefficients(f[y*w:(y+1)*w], f[y*w:(y+1)*w])
	}
	col := make([]complex128, h)
	for x := range w {
		for y := range h {
			col[y] = f[y*w+x]
		}
		colFFT.Coefficients(col, col)
		for y := range h {
			f[y*w+x] = col[y]
		}
	}
	power := make([]float64, h*w)
	for i, v := range f {
		power[i] = real(v)*real(v) + imag(v)*imag(v)
	}
	return power
}

// freq is the signed frequency, in cycles per pixel, of DFT bin k of n.
func freq(k, n int) float64 {
	if k > n/2 {
		k -= n
	}
	return float64(k) / float64(n)
}

func hann(i, n int) float64 { return 0.5 - 0.5*math.Cos(2*math.Pi*(float64(i)+0.5)/float64(n)) }
