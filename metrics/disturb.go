package metrics

import (
	"math"
	"math/rand/v2"

	"github.com/vaelab/vaelab/data"
)

// Disturbances of Heusel et al. 2017 (the FID paper), used to check that a
// sample-quality metric worsens as images degrade. Each returns a disturbed
// copy; level 0 leaves the images unchanged. Random draws come from rng.
type Disturbance func(im data.Images, level float64, rng *rand.Rand) data.Images

// Disturbances lists them by name, with four increasing levels each.
func Disturbances() []struct {
	Name   string
	Apply  Disturbance
	Levels []float64
} {
	return []struct {
		Name   string
		Apply  Disturbance
		Levels []float64
	}{
		{"gaussian noise", GaussianNoise, []float64{0.1, 0.2, 0.35, 0.5}},
		{"gaussian blur", GaussianBlur, []float64{0.5, 1, 2, 3}},
		{"black rectangles", BlackRectangles, []float64{1, 2, 4, 8}},
		{"salt and pepper", SaltAndPepper, []float64{0.02, 0.05, 0.1, 0.2}},
		{"swirl", Swirl, []float64{0.5, 1, 2, 3}}, // beyond π the centre wraps round and damage stops growing
	}
}

func disturbed(im data.Images, f func(px []float32, h, w, c int)) data.Images {
	out := im.First(im.N) // a float copy, whatever backs im
	for i := range out.N {
		f(out.At(i), im.Height, im.Width, im.Channels)
	}
	return out
}

// GaussianNoise mixes each image with a noise image: (1−α)x + α·n, n ~ N(0.5, 0.25²) clipped to [0, 1].
func GaussianNoise(im data.Images, alpha float64, rng *rand.Rand) data.Images {
	return disturbed(im, func(px []float32, _, _, _ int) {
		for i, v := range px {
			n := math.Min(1, math.Max(0, 0.5+0.25*rng.NormFloat64()))
			px[i] = float32((1-alpha)*float64(v) + alpha*n)
		}
	})
}

// GaussianBlur convolves each image with a Gaussian of standard deviation
// sigma pixels (edges mirrored).
func GaussianBlur(im data.Images, sigma float64, _ *rand.Rand) data.Images {
	if sigma <= 0 {
		return im
	}
	r := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*r+1)
	sum := 0.0
	for i := range k {
		x := float64(i - r)
		k[i] = math.Exp(-x * x / (2 * sigma * sigma))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	return disturbed(im, func(px []float32, h, w, c int) {
		tmp := make([]float64, len(px))
		for y := range h {
			for x := range w {
				for ch := range c {
					s := 0.0
					for j, kv := range k {
						s += kv * float64(px[(y*w+reflect(x+j-r, w))*c+ch])
					}
					tmp[(y*w+x)*c+ch] = s
				}
			}
		}
		for y := range h {
			for x := range w {
				for ch := range c {
					s := 0.0
					for j, kv := range k {
						s += kv * tmp[(reflect(y+j-r, h)*w+x)*c+ch]
					}
					px[(y*w+x)*c+ch] = float32(s)
				}
			}
		}
	})
}

// BlackRectangles draws count black rectangles, each a quarter of the image's
// height and width, at random positions.
func BlackRectangles(im data.Images, count float64, rng *rand.Rand) data.Images {
	return disturbed(im, func(px []float32, h, w, c int) {
		rh, rw := max(1, h/4), max(1, w/4)
		for range int(count) {
			y0, x0 := rng.IntN(h-rh+1), rng.IntN(w-rw+1)
			for y := y0; y < y0+rh; y++ {
				for x := x0; x < x0+rw; x++ {
					for ch := range c {
						px[(y*w+x)*c+ch] = 0
					}
				}
			}
		}
	})
}

// SaltAndPepper sets a share p of the pixels to black or white at random.
func SaltAndPepper(im data.Images, p float64, rng *rand.Rand) data.Images {
	return disturbed(im, func(px []float32, h, w, c int) {
		for i := range h * w {
			if rng.Float64() < p {
				v := float32(rng.IntN(2))
				for ch := range c {
					px[i*c+ch] = v
				}
			}
		}
	})
}

// Swirl rotates each pixel around the image centre by strength·exp(−r/ρ)
// radians, ρ being a third of the smaller side (as scikit-image's swirl), and
// resamples bilinearly.
func Swirl(im data.Images, strength float64, _ *rand.Rand) data.Images {
	return disturbed(im, func(px []float32, h, w, c int) {
		src := append([]float32(nil), px...)
		cy, cx := float64(h-1)/2, float64(w-1)/2
		rho := float64(min(h, w)) / 3
		for y := range h {
			for x := range w {
				dy, dx := float64(y)-cy, float64(x)-cx
				r := math.Hypot(dx, dy)
				theta := strength*math.Exp(-r/rho*math.Ln2) + math.Atan2(dy, dx)
				sy, sx := cy+r*math.Sin(theta), cx+r*math.Cos(theta)
				for ch := range c {
					px[(y*w+x)*c+ch] = bilinear(src, h, w, c, ch, sy, sx)
				}
			}
		}
	})
}

func bilinear(px []float32, h, w, c, ch int, y, x float64) float32 {
	y, x = math.Max(0, math.Min(float64(h-1), y)), math.Max(0, math.Min(float64(w-1), x))
	y0, x0 := int(y), int(x)
	y1, x1 := min(y0+1, h-1), min(x0+1, w-1)
	fy, fx := float32(y-float64(y0)), float32(x-float64(x0))
	at := func(yy, xx int) float32 { return px[(yy*w+xx)*c+ch] }
	return (1-fy)*((1-fx)*at(y0, x0)+fx*at(y0, x1)) + fy*((1-fx)*at(y1, x0)+fx*at(y1, x1))
}
