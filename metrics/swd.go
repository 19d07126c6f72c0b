package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/mat"

	"github.com/vaelab/vaelab/data"
)

// SWD settings after Karras et al. 2018 (progressive GAN): 7×7 patches from each
// level of a Laplacian pyramid down to 16 pixels (8 for smaller images), each
// level's descriptors normalised per channel, distances from random projections.
const (
	swdPatch       = 7
	swdPatchesPer  = 64   // patches drawn per image and level
	swdMaxPatches  = 2048 // per level and set, drawn at random from those
	swdProjections = 128  // random directions
)

// SWDProtocol describes the SWD settings for stored protocols.
func SWDProtocol() string {
	return fmt.Sprintf("sliced Wasserstein distance on %dx%d Laplacian-pyramid patches (%d per image per level, at most %d per level, normalised per level and channel), %d random projections, averaged over levels", swdPatch, swdPatch, swdPatchesPer, swdMaxPatches, swdProjections)
}

// SlicedWasserstein compares two image sets level by level through their
// Laplacian pyramids and returns the mean over levels and the per-level values
// (finest first). Both sets must share a shape; the larger is subsampled.
func SlicedWasserstein(a, b data.Images, rng *rand.Rand) (float64, []float64, error) {
	if a.Height != b.Height || a.Width != b.Width || a.Channels != b.Channels {
		return 0, nil, fmt.Errorf("SWD: image shapes %dx%dx%d and %dx%dx%d differ", a.Height, a.Width, a.Channels, b.Height, b.Width, b.Channels)
	}
	if min(a.Height, a.Width) < swdPatch {
		return 0, nil, fmt.Errorf("SWD: images of %dx%d are smaller than a %d-pixel patch", a.Height, a.Width, swdPatch)
	}
	n := min(a.N, b.N)
	pa, pb := laplacianPyramids(a, n, rng), laplacianPyramids(b, n, rng)
	var levels []float64
	for l := range min(len(pa), len(pb)) {
		da := normalise(patches(pa[l], rng), a.Channels)
		db := normalise(patches(pb[l], rng), a.Channels)
		levels = append(levels, slicedDistance(da, db, rng))
	}
	mean := 0.0
	for _, v := range levels {
		mean += v / float64(len(levels))
	}
	return mean, levels, nil
}

// plane is one pyramid level of n images, channel-last.
type plane struct {
	n, h, w, c int
	pix        []float64
}

// laplacianPyramids builds the Laplacian pyramid of n images drawn from im.
func laplacianPyramids(im data.Images, n int, rng *rand.Rand) []plane {
	idx := rng.Perm(im.N)[:n]
	g := plane{n: n, h: im.Height, w: im.Width, c: im.Channels, pix: make([]float64, 0, n*im.Dim())}
	for _, i := range idx {
		for _, v := range im.At(i) {
			g.pix = append(g.pix, float64(v))
		}
	}
	minSide := 16
	if min(im.Height, im.Width) < 32 {
		minSide = 8
	}
	var levels []plane
	for min(g.h, g.w)/2 >= minSide && min(g.h, g.w)/2 >= swdPatch {
		down := blurDown(g)
		up := upsample(down, g.h, g.w)
		lap := plane{n: g.n, h: g.h, w: g.w, c: g.c, pix: make([]float64, len(g.pix))}
		for i := range g.pix {
			lap.pix[i] = g.pix[i] - up.pix[i]
		}
		levels = append(levels, lap)
		g = down
	}
	return append(levels, g)
}

func binomial5() [5]float64 { return [5]float64{1.0 / 16, 4.0 / 16, 6.0 / 16, 4.0 / 16, 1.0 / 16} }

// blurDown applies the 5-tap binomial filter and keeps every other pixel.
func blurDown(p plane) plane {
	h, w := (p.h+1)/2, (p.w+1)/2
	out := plane{n: p.n, h: h, w: w, c: p.c, pix: make([]float64, p.n*h*w*p.c)}
	k := binomial5()
	for b := range p.n {
		for y := range h {
			for x := range w {
				for c := range p.c {
					s := 0.0
					for dy := -2; dy <= 2; dy++ {
						for dx := -2; dx <= 2; dx++ {
							sy, sx := reflect(2*y+dy, p.h), reflect(2*x+dx, p.w)
							s += k[dy+2] * k[dx+2] * p.pix[((b*p.h+sy)*p.w+sx)*p.c+c]
						}
					}
					out.pix[((b*h+y)*w+x)*p.c+c] = s
				}
			}
		}
	}
	return out
}

// upsample enlarges p to h×w bilinearly.
func upsample(p plane, h, w int) plane {
	out := plane{n: p.n, h: h, w: w, c: p.c, pix: make([]float64, 0, p.n*h*w*p.c)}
	img := make([]float32, p.h*p.w*p.c)
	for b := range p.n {
		for i := range img {
			img[i] = float32(p.pix[b*len(img)+i])
		}
		big := data.Resize(data.Images{N: 1, Height: p.h, Width: p.w, Channels: p.c, Pix: img}, h, w)
		for _, v := range big.Pix {
			out.pix = append(out.pix, float64(v))
		}
	}
	return out
}

// reflect maps an index outside [0, n) back inside by mirroring at the edges.
func reflect(i, n int) int {
	for i < 0 || i >= n {
		if i < 0 {
			i = -i
		}
		if i >= n {
			i = 2*(n-1) - i
		}
	}
	return i
}

// patches draws swdPatchesPer random patches from every image of a level, at
// most swdMaxPatches in all.
func patches(p plane, rng *rand.Rand) [][]float64 {
	var out [][]float64
	per := min(swdPatchesPer, max(1, swdMaxPatches/p.n))
	for b := range p.n {
		for range per {
			y0, x0 := rng.IntN(p.h-swdPatch+1), rng.IntN(p.w-swdPatch+1)
			d := make([]float64, 0, swdPatch*swdPatch*p.c)
			for y := y0; y < y0+swdPatch; y++ {
				d = append(d, p.pix[((b*p.h+y)*p.w+x0)*p.c:((b*p.h+y)*p.w+x0+swdPatch)*p.c]...)
			}
			out = append(out, d)
		}
	}
	return out
}

// normalise subtracts each channel's mean and divides by its standard deviation
// over all descriptors of the set.
func normalise(desc [][]float64, channels int) [][]float64 {
	for c := range channels {
		s, s2, n := 0.0, 0.0, 0.0
		for _, d := range desc {
			for i := c; i < len(d); i += channels {
				s, s2, n = s+d[i], s2+d[i]*d[i], n+1
			}
		}
		mean := s / n
		std := math.Sqrt(math.Max(s2/n-mean*mean, 1e-12))
		for _, d := range desc {
			for i := c; i < len(d); i += channels {
				d[i] = (d[i] - mean) / std
			}
		}
	}
	return desc
}

// slicedDistance is the mean, over random unit directions, of the 1-D
// Wasserstein-1 distance between the projected descriptor sets.
func slicedDistance(a, b [][]float64, rng *rand.Rand) float64 {
	dim, m := len(a[0]), min(len(a), len(b))
	dirs := mat.NewDense(dim, swdProjections, nil)
	for j := range swdProjections {
		norm := 0.0
		for i := range dim {
			v := rng.NormFloat64()
			dirs.Set(i, j, v)
			norm += v * v
		}
		norm = math.Sqrt(norm)
		for i := range dim {
			dirs.Set(i, j, dirs.At(i, j)/norm)
		}
	}
	project := func(desc [][]float64) *mat.Dense {
		x := mat.NewDense(m, dim, nil)
		for i := range m {
			x.SetRow(i, desc[i])
		}
		var p mat.Dense
		p.Mul(x, dirs)
		return &p
	}
	pa, pb := project(a), project(b)
	ca, cb := make([]float64, m), make([]float64, m)
	total := 0.0
	for j := range swdProjections {
		mat.Col(ca, j, pa)
		mat.Col(cb, j, pb)
		sort.Float64s(ca)
		sort.Float64s(cb)
		for i := range m {
			total += math.Abs(ca[i] - cb[i])
		}
	}
	return total / float64(m*swdProjections)
}
