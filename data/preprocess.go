package data

import (
	"fmt"
	"image"
	"math"
)

// Prep is the preprocessing from decoded images to model inputs: channel
// conversion, an optional center crop, then a resize. Outputs are rounded to
// 8-bit levels, so a decoded-dataset cache of bytes reproduces them exactly.
type Prep struct {
	Channels int // 1 (luma) or 3; 0 keeps the source's
	Crop     int // side of a center square crop before resizing; 0 for none
	Size     int // output side; 0 keeps the (cropped) size. Non-square images are first center-cropped to a square.
}

// apply transforms one image of h×w×c values in [0, 1].
func (p Prep) apply(pix []float32, h, w, c int) ([]float32, int, int, int, error) {
	r, err := p.cropRect(h, w)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	if r.Dx() != w || r.Dy() != h {
		pix, h, w = centerCrop(pix, h, w, c, r.Dy(), r.Dx()), r.Dy(), r.Dx()
	}
	return p.applyCropped(pix, h, w, c)
}

// cropRect is the region of an h×w image that p's crops keep: the center
// square of side Crop; without one, when resizing, the center square of
// the image.
func (p Prep) cropRect(h, w int) (image.Rectangle, error) {
	ch, cw := h, w
	switch {
	case p.Crop > 0:
		if p.Crop > h || p.Crop > w {
			return image.Rectangle{}, fmt.Errorf("crop %d does not fit a %dx%d image", p.Crop, w, h)
		}
		ch, cw = p.Crop, p.Crop
	case p.Size > 0 && h != w:
		ch, cw = min(h, w), min(h, w)
	}
	y0, x0 := (h-ch)/2, (w-cw)/2
	return image.Rect(x0, y0, x0+cw, y0+ch), nil
}

// applyCropped converts channels, resizes and rounds an image already
// cropped by cropRect.
func (p Prep) applyCropped(pix []float32, h, w, c int) ([]float32, int, int, int, error) {
	if p.Channels != 0 && p.Channels != c {
		pix, c = convertChannels(pix, c, p.Channels), p.Channels
	}
	if p.Size > 0 && h != p.Size {
		pix, h, w = resize(pix, h, w, c, p.Size, p.Size), p.Size, p.Size
	}
	for i, v := range pix {
		pix[i] = quantise(float64(v))
	}
	return pix, h, w, c, nil
}

// convertChannels maps grayscale to RGB by replication and RGB to grayscale by
// ITU-R BT.601 luma.
func convertChannels(pix []float32, from, to int) []float32 {
	n := len(pix) / from
	out := make([]float32, n*to)
	for i := range n {
		if from == 1 {
			for k := range to {
				out[i*to+k] = pix[i]
			}
			continue
		}
		r, g, b := float64(pix[3*i]), float64(pix[3*i+1]), float64(pix[3*i+2])
		out[i] = float32(0.299*r + 0.587*g + 0.114*b)
	}
	return out
}

func centerCrop(pix []float32, h, w, c, ch, cw int) []float32 {
	y0, x0 := (h-ch)/2, (w-cw)/2
	out := make([]float32, 0, ch*cw*c)
	for y := y0; y < y0+ch; y++ {
		out = append(out, pix[(y*w+x0)*c:(y*w+x0+cw)*c]...)
	}
	return out
}

// tap is one input index and its weight in an output sample.
type tap struct {
	i int
	w float64
}

// resampleWeights gives, for each of out samples along an axis of in samples,
// its input taps: an area (box) filter when shrinking, which averages every
// input pixel by its overlap and so does not alias; bilinear interpolation
// between pixel centres when enlarging.
func resampleWeights(in, out int) [][]tap {
	taps := make([][]tap, out)
	scale := float64(in) / float64(out)
	for j := range out {
		if out <= in {
			lo, hi := float64(j)*scale, float64(j+1)*scale
			for i := int(lo); i < in && float64(i) < hi; i++ {
				overlap := math.Min(hi, float64(i+1)) - math.Max(lo, float64(i))
				if overlap > 1e-12 {
					taps[j] = append(taps[j], tap{i, overlap / scale})
				}
			}
			continue
		}
		src := math.Max(0, math.Min(float64(in-1), (float64(j)+0.5)*scale-0.5))
		i0 := int(src)
		i1 := min(i0+1, in-1)
		f := src - float64(i0)
		taps[j] = []tap{{i0, 1 - f}, {i1, f}}
	}
	return taps
}

// resize resamples an h×w×c image to oh×ow, separably: rows, then columns.
func resize(pix []float32, h, w, c, oh, ow int) []float32 {
	var r resizer
	return append([]float32(nil), r.resize(h, w, c, oh, ow, func(y int, row []float64) {
		for i, v := range pix[y*w*c : (y+1)*w*c] {
			row[i] = float64(v)
		}
	})...)
}

// resizer resamples images with buffers and tap tables kept between calls
// (decoding a dataset resizes 200,000 images of one size). Not for
// concurrent use.
type resizer struct {
	in, out       [2]int // the sizes the taps are for
	tx, ty        [][]tap
	row, tmp, acc []float64
	pix           []float32
}

// resize is resize with the source's rows made by fill (row y's w·c values
// as float64); the result is valid until the next call. Each output is the
// sum of its taps, in order, in float64: accumulated tap by tap over a
// whole row, which is the same arithmetic as one output at a time.
func (r *resizer) resize(h, w, c, oh, ow int, fill func(y int, row []float64)) []float32 {
	if r.in != [2]int{h, w} || r.out != [2]int{oh, ow} {
		r.in, r.out = [2]int{h, w}, [2]int{oh, ow}
		r.tx, r.ty = resampleWeights(w, ow), resampleWeights(h, oh)
	}
	stride := ow * c
	r.tmp = grow(r.tmp, h*stride)
	r.row = grow(r.row, w*c)
	r.acc = grow(r.acc, stride)
	clear(r.tmp)
	for y := range h {
		fill(y, r.row)
		dst := r.tmp[y*stride : (y+1)*stride]
		for x, taps := range r.tx {
			d := dst[x*c : x*c+c]
			for _, t := range taps {
				src := r.row[t.i*c : t.i*c+c]
				for k, v := range src {
					d[k] += t.w * v
				}
			}
		}
	}
	if cap(r.pix) < oh*stride {
		r.pix = make([]float32, oh*stride)
	}
	out := r.pix[:oh*stride]
	for y, taps := range r.ty {
		clear(r.acc)
		for _, t := range taps {
			for j, v := range r.tmp[t.i*stride : (t.i+1)*stride] {
				r.acc[j] += t.w * v
			}
		}
		dst := out[y*stride : (y+1)*stride]
		for j, s := range r.acc {
			dst[j] = float32(clamp01(s))
		}
	}
	return out
}

// grow returns b with length n, reallocated only when too small.
func grow(b []float64, n int) []float64 {
	if cap(b) < n {
		return make([]float64, n)
	}
	return b[:n]
}

// prepareAll applies p to every image of im.
func (p Prep) prepareAll(im Images) (Images, error) {
	if p == (Prep{}) {
		return im, nil
	}
	var out Images
	for i := range im.N {
		px, h, w, c, err := p.apply(append([]float32(nil), im.At(i)...), im.Height, im.Width, im.Channels)
		if err != nil {
			return Images{}, err
		}
		out.Height, out.Width, out.Channels = h, w, c
		out.Pix = append(out.Pix, px...)
		out.N++
	}
	return out, nil
}

// Resize returns im resampled to h×w (area filter when shrinking, bilinear when
// enlarging), without rounding to 8-bit levels.
func Resize(im Images, h, w int) Images {
	if im.Height == h && im.Width == w {
		if im.Leveled() {
			return im.First(im.N) // callers read Pix
		}
		return im
	}
	out := Images{N: im.N, Height: h, Width: w, Channels: im.Channels, Pix: make([]float32, 0, im.N*h*w*im.Channels)}
	for i := range im.N {
		out.Pix = append(out.Pix, resize(im.At(i), im.Height, im.Width, im.Channels, h, w)...)
	}
	return out
}

// Gray returns the luma (ITU-R BT.601) of im's images; grayscale images are returned as they are.
func Gray(im Images) Images {
	if im.Channels == 1 {
		return im
	}
	return Images{N: im.N, Height: im.Height, Width: im.Width, Channels: 1, Pix: convertChannels(im.Pix, 3, 1)}
}
