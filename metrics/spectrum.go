package metrics

import (
	"fmt"
	"math"

	"github.com/vaelab/vaelab/data"
)

// SpectrumBands are the frequency bands of the spectral comparison, in
// cycles per pixel: octaves up to the Nyquist frequency 0.5.
func SpectrumBands() [][2]float64 {
	return [][2]float64{{0, 0.0625}, {0.0625, 0.125}, {0.125, 0.25}, {0.25, 0.5}}
}

// Spectrum is the shape of the radially averaged power spectrum of a set of
// images: the mean power in each of SpectrumBands, over images and
// frequencies, of each image's luma minus its mean, Hann-windowed, relative
// to the mean power over all frequencies. Relative, so that contrast does
// not count: faint samples are not "blurred" in every band, and grain on
// faint samples, which adds less power than the data has but more than
// their structure, shows as the excess at high frequencies it is.
type Spectrum []float64

// MeasureSpectrum computes the spectrum of im (its luma).
func MeasureSpectrum(im data.Images) Spectrum {
	bands := SpectrumBands()
	g := data.Gray(im)
	h, w := g.Height, g.Width
	band := make([]int, h*w) // each bin's band, −1 for DC and the corners past 0.5
	for y := range h {
		for x := range w {
			band[y*w+x] = -1
			r := math.Hypot(freq(y, h), freq(x, w))
			for b, lim := range bands {
				if r > lim[0] && r <= lim[1] {
					band[y*w+x] = b
				}
			}
		}
	}
	sum, count := make([]float64, len(bands)), make([]float64, len(bands))
	total, bins := 0.0, 0
	for i := range g.N {
		for j, p := range windowedPower(g.At(i), h, w) {
			if b := band[j]; b >= 0 {
				sum[b] += p
				count[b]++
				total += p
				bins++
			}
		}
	}
	s := make(Spectrum, len(bands))
	if total <= 0 {
		return s // flat images: no power anywhere, every gap NaN
	}
	for b := range s {
		s[b] = sum[b] / math.Max(1, count[b]) / (total / float64(bins))
	}
	return s
}

// GapDB is each band's power relative to real's, in decibels: negative is a
// deficit (blur removes high frequencies), positive an excess (noise,
// artefacts add them). A band without power on either side (images too small
// to have frequencies in it) is NaN.
func (s Spectrum) GapDB(real Spectrum) []float64 {
	out := make([]float64, len(s))
	for b := range s {
		out[b] = math.NaN()
		if s[b] > 0 && real[b] > 0 {
			out[b] = 10 * math.Log10(s[b]/real[b])
		}
	}
	return out
}

// SpectrumMarginDB is how far a band's power may sit from the data's, in
// dB, before it counts as a deficit or an excess (3 dB: half or twice).
const SpectrumMarginDB = 3

// SpectrumVerdict names what a high-band gap shows: a deficit below −3 dB
// (blur), an excess above +3 dB (noise or artefacts), else as the data.
func SpectrumVerdict(highDB float64) string {
	switch {
	case highDB < -SpectrumMarginDB:
		return fmt.Sprintf("%.1f dB: deficit (blur)", highDB)
	case highDB > SpectrumMarginDB:
		return fmt.Sprintf("+%.1f dB: excess (noise, artefacts)", highDB)
	}
	return fmt.Sprintf("%+.1f dB: as the data", highDB)
}
