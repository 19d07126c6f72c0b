package jpegturbo

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"strings"
	"testing"
)

// open returns the library; under CI its absence fails the test (CI
// installs libturbojpeg0), elsewhere it skips.
func open(t *testing.T) *Lib {
	t.Helper()
	l, err := Open()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI installs libturbojpeg0: %v", err)
		}
		t.Skip(err)
	}
	return l
}

// TurboJPEG's pixels agree with Go's image/jpeg decoder up to their
// different chroma upsampling (fancy vs box): identical on greyscale, close
// on colour; the header gives the size.
func TestDecodeAgreesWithGo(t *testing.T) {
	l := open(t)
	img := image.NewRGBA(image.Rect(0, 0, 178, 218))
	for y := range 218 {
		for x := range 178 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8((x + y) / 2), 255}) // smooth: chroma upsampling differs little
		}
	}
	grey := image.NewGray(img.Bounds())
	for i := range grey.Pix {
		grey.Pix[i] = uint8(i % 251)
	}
	for _, src := range []image.Image{img, grey} {
		var b bytes.Buffer
		if err := jpeg.Encode(&b, src, &jpeg.Options{Quality: 90}); err != nil {
			t.Fatal(err)
		}
		w, h, isGrey, err := l.Header(b.Bytes())
		_, wantGrey := src.(*image.Gray)
		if err != nil || w != 178 || h != 218 || isGrey != wantGrey {
			t.Fatalf("header: %dx%d grey %v, %v", w, h, isGrey, err)
		}
		pix, err := l.Decode(b.Bytes(), w, h, isGrey)
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := jpeg.Decode(bytes.NewReader(b.Bytes()))
		c := 3
		if isGrey {
			c = 1
		}
		worst, sum := 0.0, 0.0
		for y := range h {
			for x := range w {
				r, g, bl, _ := ref.At(x, y).RGBA()
				want := []uint32{r >> 8, g >> 8, bl >> 8}
				for k := range c {
					d := math.Abs(float64(pix[(y*w+x)*c+k]) - float64(want[k]))
					worst, sum = math.Max(worst, d), sum+d
				}
			}
		}
		mean := sum / float64(w*h*c)
		t.Logf("grey %v: |turbo − Go| mean %.3f, max %.0f levels", isGrey, mean, worst)
		if isGrey && worst > 1 || !isGrey && mean > 1 {
			t.Errorf("grey %v: decoders differ by %.3f on average, %.0f at most", isGrey, mean, worst)
		}
	}
}

// Damaged input is an error with the library's word, never a crash.
func TestDecodeRefusesDamage(t *testing.T) {
	l := open(t)
	var b bytes.Buffer
	jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 64, 64)), nil)
	for name, data := range map[string][]byte{"empty": nil, "not a JPEG": []byte("hello, world"), "header only": b.Bytes()[:40]} {
		if _, _, _, err := l.Header(data); err == nil {
			t.Errorf("%s: header read", name)
		}
	}
	if _, err := l.Decode(b.Bytes()[:b.Len()/2], 64, 64, true); err == nil || !strings.Contains(err.Error(), "JPEG") {
		t.Errorf("a truncated JPEG: %v", err)
	}
}
