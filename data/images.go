// Package data provides the face images vaelab trains on: a procedural face generator
// with known generative factors, loaders for published face datasets, splits and image grids.
package data

import (
	"fmt"
)

// Images is a batch of N images stored contiguously, row-major and channel-last
// (index ((i*Height+y)*Width+x)*Channels+c), with values in [0, 1].
type Images struct {
	N, Height, Width, Channels int
	Pix                        []float32
}

// Dim is the number of values in one image.
func (im Images) Dim() int { return im.Height * im.Width * im.Channels }

// At returns image i as a slice that aliases Pix.
func (im Images) At(i int) []float32 {
	d := im.Dim()
	return im.Pix[i*d : (i+1)*d]
}

// Subset returns a copy holding the images at idx, in that order.
func (im Images) Subset(idx []int) Images {
	out := Images{N: len(idx), Height: im.Height, Width: im.Width, Channels: im.Channels}
	out.Pix = make([]float32, 0, len(idx)*im.Dim())
	for _, i := range idx {
		out.Pix = append(out.Pix, im.At(i)...)
	}
	return out
}

// First returns a copy of the first n images (all of them if there are fewer).
func (im Images) First(n int) Images {
	n = min(n, im.N)
	out := im
	out.N = n
	out.Pix = append([]float32(nil), im.Pix[:n*im.Dim()]...)
	return out
}

// Validate checks that the shape and the pixel buffer agree and values lie in [0, 1].
func (im Images) Validate() error {
	if im.N < 0 || im.Height <= 0 || im.Width <= 0 || (im.Channels != 1 && im.Channels != 3) {
		return fmt.Errorf("images: bad shape %dx%dx%dx%d", im.N, im.Height, im.Width, im.Channels)
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
