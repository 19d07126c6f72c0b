package vae

import (
	"math"
	"testing"

	"gorgonia.org/tensor"
)

// Decoding in chunks (big sample sets keep a conv decoder's buffers
// bounded) gives the images of decoding all codes at once.
func TestDecodeInChunks(t *testing.T) {
	train, _ := smallFaces(t)
	for _, s := range []Setup{smallSetup(3), smallConvSetup(3)} {
		m, err := NewModel(s.Model, ShapeOf(train), tensor.Float32, NewRand(3, StreamInit))
		if err != nil {
			t.Fatal(err)
		}
		z := m.prior.Sample(NewRand(3, StreamSamples), 50, s.Model.Latent)
		whole, err := m.decodeChunks(z, train, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		chunked, err := m.decodeChunks(z, train, 7*train.Dim()) // chunks of 7 codes
		if err != nil {
			t.Fatal(err)
		}
		if chunked.N != 50 || len(chunked.Pix) != len(whole.Pix) {
			t.Fatalf("%s: %d images", s.Model.Architecture, chunked.N)
		}
		worst := 0.0
		for i := range whole.Pix {
			worst = math.Max(worst, math.Abs(float64(whole.Pix[i]-chunked.Pix[i])))
		}
		if worst > 1e-6 {
			t.Errorf("%s: chunked decoding differs by %g", s.Model.Architecture, worst)
		}
	}
}
