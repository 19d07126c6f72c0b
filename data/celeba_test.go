package data

import (
	"bytes"
	"context"
	"image/jpeg"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vaelab/vaelab/internal/celebagen"
)

// Cropping before converting gives what converting every pixel and then
// cropping gives, on CelebA-size JPEGs with the usual protocol and others.
func TestPrepareImageCropsFirst(t *testing.T) {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, celebagen.Face(7), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []Prep{{Channels: 3, Crop: 148, Size: 64}, {Channels: 1, Crop: 101, Size: 32}, {Size: 50}, {Crop: 33}, {}} {
		got, dims, err := prepareImage(img, p, "face")
		if err != nil {
			t.Fatal(err)
		}
		full, h, w, c := imagePixels(img, img.Bounds())
		want, wh, ww, _, err := p.apply(full, h, w, c)
		if err != nil {
			t.Fatal(err)
		}
		if dims != [2]int{wh, ww} || !slices.Equal(got, want) {
			t.Errorf("%+v: %v vs %dx%d, equal values %v", p, dims, wh, ww, slices.Equal(got, want))
		}
	}
}

// BenchmarkDecodeCelebA decodes CelebA-size JPEGs (178×218) to 64×64 RGB with
// the usual protocol (center crop 148), on every core.
func BenchmarkDecodeCelebA(b *testing.B) {
	dir := b.TempDir()
	const n = 600
	if err := celebagen.Write(context.Background(), dir, n, false, true); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		f, err := LoadFolder(context.Background(), filepath.Join(dir, "img_align_celeba"), Prep{Channels: 3, Crop: 148, Size: 64})
		if err != nil || f.Images.N != n {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "images/s")
}
