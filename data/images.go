// Package data provides the face images vaelab trains on: a procedural face generator
// with known generative factors, loaders for published face datasets, splits and image grids.
package data

import (
	"fmt"
)

// Images is a batch of N images, row-major and channel-last (index
// ((i*Height+y)*Width+x)*Channels+c), with values in [0, 1]: either float
// values in Pix, or, for datasets, 8-bit levels (value = level/255) that
// may be a read-only memory map shared by every run, read through an index
// of its images. Splits and shuffles of level-backed images (View) select
// images by index without copying pixels; values are made per batch
// (Gather) or per image (At).
type Images struct {
	N, Height, Width, Channels int
	// Pix holds the values, image after image; nil when levels back the images.
	Pix []float32

	levels []byte  // 8-bit levels of the backing images, when Pix is nil
	index  []int32 // image i is the backing image index[i]; nil: image i
}

// levelValues maps an 8-bit level to its value, as every loader computes it.
var levelValues = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return t
}()

// FromLevels returns n images of h×w×c backed by levels (n·h·w·c bytes,
// image after image), which must not change while the images are used.
func FromLevels(levels []byte, n, h, w, c int) (Images, error) {
	im := Images{N: n, Height: h, Width: w, Channels: c, levels: levels}
	if n < 0 || h <= 0 || w <= 0 || (c != 1 && c != 3) || len(levels) != n*h*w*c {
		return Images{}, fmt.Errorf("images: %d bytes of levels for shape %dx%dx%dx%d", len(levels), n, h, w, c)
	}
	return im, nil
}

// Dim is the number of values in one image.
func (im Images) Dim() int { return im.Height * im.Width * im.Channels }

// Leveled reports whether 8-bit levels back the images.
func (im Images) Leveled() bool { return im.Pix == nil && im.levels != nil }

// levelsOf returns image i's levels.
func (im Images) levelsOf(i int) []byte {
	d := im.Dim()
	j := i
	if im.index != nil {
		j = int(im.index[i])
	}
	return im.levels[j*d : (j+1)*d]
}

// At returns image i: a slice that aliases Pix, or, for level-backed
// images, a new slice of its values.
func (im Images) At(i int) []float32 {
	if im.Leveled() {
		return im.appendValues(make([]float32, 0, im.Dim()), i)
	}
	d := im.Dim()
	return im.Pix[i*d : (i+1)*d]
}

func (im Images) appendValues(dst []float32, i int) []float32 {
	if !im.Leveled() {
		return append(dst, im.At(i)...)
	}
	for _, b := range im.levelsOf(i) {
		dst = append(dst, levelValues[b])
	}
	return dst
}

// Values returns every image's values, image after image: Pix itself, or
// a new slice for level-backed images.
func (im Images) Values() []float32 {
	if !im.Leveled() {
		return im.Pix
	}
	return im.First(im.N).Pix
}

// Gather appends the values of the images at idx, in that order, to dst:
// the minibatch a model is fed.
func (im Images) Gather(dst []float32, idx []int) []float32 {
	for _, i := range idx {
		dst = im.appendValues(dst, i)
	}
	return dst
}

// Subset returns a copy holding the values of the images at idx, in that
// order (float values, whatever backs im).
func (im Images) Subset(idx []int) Images {
	out := Images{N: len(idx), Height: im.Height, Width: im.Width, Channels: im.Channels}
	out.Pix = im.Gather(make([]float32, 0, len(idx)*im.Dim()), idx)
	return out
}

// View returns the images at idx, in that order: for level-backed images
// an index into the same levels (no pixel is copied), otherwise a Subset.
func (im Images) View(idx []int) Images {
	if !im.Leveled() {
		return im.Subset(idx)
	}
	out := Images{N: len(idx), Height: im.Height, Width: im.Width, Channels: im.Channels, levels: im.levels, index: make([]int32, len(idx))}
	for k, i := range idx {
		if im.index != nil {
			out.index[k] = im.index[i]
		} else {
			out.index[k] = int32(i)
		}
	}
	return out
}

// First returns a copy of the values of the first n images (all of them if
// there are fewer).
func (im Images) First(n int) Images {
	n = min(n, im.N)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return im.Subset(idx)
}

// toLevels returns im backed by 8-bit levels when every value is on one
// (level/255), so that datasets take a quarter of the memory; otherwise
// im itself.
func toLevels(im Images) Images {
	if im.Leveled() || im.Pix == nil {
		return im
	}
	b := make([]byte, len(im.Pix))
	for i, v := range im.Pix {
		if !(v >= 0 && v <= 1) {
			return im
		}
		l := int(v*255 + 0.5)
		if levelValues[l] != v {
			return im
		}
		b[i] = byte(l)
	}
	out, err := FromLevels(b, im.N, im.Height, im.Width, im.Channels)
	if err != nil {
		return im
	}
	return out
}

// Validate checks that the shape and the pixel buffer agree and values lie in [0, 1].
func (im Images) Validate() error {
	if im.N < 0 || im.Height <= 0 || im.Width <= 0 || (im.Channels != 1 && im.Channels != 3) {
		return fmt.Errorf("images: bad shape %dx%dx%dx%d", im.N, im.Height, im.Width, im.Channels)
	}
	if im.Leveled() {
		if im.index == nil && len(im.levels) != im.N*im.Dim() || im.index != nil && len(im.index) != im.N {
			return fmt.Errorf("images: %d bytes of levels for shape %dx%dx%dx%d", len(im.levels), im.N, im.Height, im.Width, im.Channels)
		}
		return nil // levels are in [0, 1] by construction
	}
	if len(im.Pix) != im.N*im.Dim() {
		return fmt.Errorf("images: %d values for shape %dx%dx%dx%d", len(im.Pix), im.N, im.Height, im.Width, im.Channels)
	}
	for i, v := range im.Pix {
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("images: value %v at index %d is outside [0,1]", v, i)
		}
	}
	return nil
}

// Factors holds the generative factor values of each image, when they are known
// (synthetic faces): Values[i*len(Names)+k] is factor k of image i, in [0, 1].
type Factors struct {
	Names  []string
	Values []float64
}

// Row returns the factor values of image i.
func (f *Factors) Row(i int) []float64 {
	k := len(f.Names)
	return f.Values[i*k : (i+1)*k]
}

func (f *Factors) subset(idx []int) *Factors {
	if f == nil {
		return nil
	}
	out := &Factors{Names: f.Names, Values: make([]float64, 0, len(idx)*len(f.Names))}
	for _, i := range idx {
		out.Values = append(out.Values, f.Row(i)...)
	}
	return out
}

// Dataset is a train/test split of one image collection.
type Dataset struct {
	Name         string
	Train, Test  Images
	TrainFactors *Factors // nil when the factors are unknown
	TestFactors  *Factors
	// TrainLabels and TestLabels give each image's identity, when known.
	TrainLabels, TestLabels []int
	// Source describes where the images came from (generator version and seed, or file and sha256).
	Source string
}

// CapTest returns the dataset with at most n test images, the first n of
// its test split (a view; labels and factors cut alike): big test sets are
// scored on a fixed subset. The dataset itself is unchanged.
func (d *Dataset) CapTest(n int) *Dataset {
	if n <= 0 || d.Test.N <= n {
		return d
	}
	out := *d
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	out.Test = d.Test.View(idx)
	if d.TestLabels != nil {
		out.TestLabels = d.TestLabels[:n]
	}
	out.TestFactors = d.TestFactors.subset(idx)
	out.Source = fmt.Sprintf("%s, scored on its first %d test images (eval.samples)", d.Source, n)
	return &out
}
