package data

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vaelab/vaelab/internal/testenv"
)

func pixelHash(im Images) string {
	h := sha256.New()
	for _, v := range im.Pix {
		h.Write([]byte{byte(math.Round(float64(v) * 255))})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestSyntheticFacesAreDeterministic: the same seed gives the same bytes (pinned
// by a golden hash, so a renderer change must bump SyntheticVersion), and
// another seed gives other faces.
func TestSyntheticFacesAreDeterministic(t *testing.T) {
	a, fa, err := Synthetic(50, 32, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, fb, _ := Synthetic(50, 32, 7)
	c, _, _ := Synthetic(50, 32, 8)
	if pixelHash(a) != pixelHash(b) || !slices.Equal(fa.Values, fb.Values) {
		t.Fatal("same seed, different faces")
	}
	if pixelHash(a) == pixelHash(c) {
		t.Fatal("different seeds, same faces")
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "synthetic-50x32-seed7.sha256"))
	if err != nil {
		t.Fatal(err)
	}
	if got := pixelHash(a); got != strings.TrimSpace(string(golden)) {
		t.Fatalf("synthetic faces changed (sha256 %s): bump SyntheticVersion and update the golden file", got)
	}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	for i, v := range a.Pix {
		if q := float32(math.Round(float64(v)*255)) / 255; q != v {
			t.Fatalf("pixel %d = %v is not an 8-bit level", i, v)
		}
	}
}

// TestSyntheticFactorsDriveTheImage: each factor, moved alone, changes the
// pixels, so all of them are visible to a model (and measurable for
// disentanglement).
func TestSyntheticFactorsDriveTheImage(t *testing.T) {
	base := []float64{0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5}
	render := func(x []float64) []float32 {
		dst := make([]float32, 32*32)
		renderFace(dst, 32, newFace(x))
		return dst
	}
	ref := render(base)
	for k, name := range SyntheticFactorNames() {
		x := append([]float64(nil), base...)
		x[k] = 1
		diff := 0.0
		for i, v := range render(x) {
			diff += math.Abs(float64(v - ref[i]))
		}
		if diff < 1 {
			t.Errorf("factor %s barely changes the image (total abs difference %.2f)", name, diff)
		}
	}
	_, f, _ := Synthetic(2000, 16, 1)
	for k, name := range f.Names {
		mean := 0.0
		for i := range 2000 {
			mean += f.Row(i)[k] / 2000
		}
		if math.Abs(mean-0.5) > 0.03 {
			t.Errorf("factor %s has mean %.3f, want uniform on [0,1]", name, mean)
		}
	}
}

// TestFreyDecodesTheRawBytes compares every decoded pixel with the file's bytes
// at the documented offset (184 + 560·i, row-major 28×20).
func TestFreyDecodesTheRawBytes(t *testing.T) {
	path := filepath.Join(testenv.SharedData(t, FreyFile), FreyFile)
	im, sum, err := LoadFrey(path)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if im.N != 1965 || im.Height != 28 || im.Width != 20 || im.Channels != 1 || sum != FreySHA256 {
		t.Fatalf("Frey: %d images of %dx%dx%d, sha256 %s", im.N, im.Height, im.Width, im.Channels, sum)
	}
	for i := range im.N {
		for j, v := range im.At(i) {
			if want := float32(raw[184+560*i+j]) / 255; v != want {
				t.Fatalf("image %d pixel %d = %v, raw byte gives %v", i, j, v, want)
			}
		}
	}
	ds, err := Load(context.Background(), Config{Name: "frey", TestFraction: 0.1}, testenv.SharedData(t, FreyFile))
	if err != nil {
		t.Fatal(err)
	}
	// Contiguous block split: the test set is the last 197 frames, in order.
	if ds.Test.N != 197 || ds.Train.N != 1768 || !slices.Equal(ds.Test.At(0), im.At(1768)) || !slices.Equal(ds.Train.At(1767), im.At(1767)) {
		t.Fatalf("Frey split: %d train, %d test, or not the last contiguous block", ds.Train.N, ds.Test.N)
	}
}

// TestFreyRejectsDamagedFiles: truncated, foreign or altered files give errors
// that say what is wrong, never images.
func TestFreyRejectsDamagedFiles(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testenv.SharedData(t, FreyFile), FreyFile))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", raw[:500000], "truncated"},
		{"header only", raw[:130], "not a MAT-file"},
		{"not a MAT-file", []byte(strings.Repeat("x", 2000)), "not a MAT-file"},
		{"big-endian flag", append(append(append([]byte{}, raw[:126]...), 'M', 'I'), raw[128:]...), "little-endian"},
		{"wrong dims", append(append(append([]byte{}, raw[:0xa0]...), 0x31, 0x02), raw[0xa2:]...), "want uint8 560x1965"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name+".mat")
			os.WriteFile(p, tc.data, 0o644)
			if _, _, err := LoadFrey(p); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want one containing %q", err, tc.want)
			}
		})
	}
	// One flipped pixel decodes but fails the checksum when loaded as a dataset.
	altered := append([]byte{}, raw...)
	altered[1000] ^= 1
	os.MkdirAll(filepath.Join(dir, "frey"), 0o755)
	os.WriteFile(filepath.Join(dir, FreyFile), altered, 0o644)
	_, err = Load(context.Background(), Config{Name: "frey", TestFraction: 0.1}, dir)
	if err == nil || !strings.Contains(err.Error(), "not the expected one") || !strings.Contains(err.Error(), FreySHA256) {
		t.Fatalf("altered file: %v", err)
	}
	_, err = Load(context.Background(), Config{Name: "frey", TestFraction: 0.1}, filepath.Join(dir, "nowhere"))
	if err == nil || !strings.Contains(err.Error(), "frey_rawface.mat") || !strings.Contains(err.Error(), "data_dir") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestSplitsPartitionTheImages(t *testing.T) {
	for _, tc := range []struct {
		name        string
		train, test []int
	}{
		{"random", nil, nil},
		{"block", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "random" {
				tc.train, tc.test = RandomSplit(100, 15, 3)
				a, _ := RandomSplit(100, 15, 3)
				if !slices.Equal(a, tc.train) {
					t.Fatal("random split is not reproducible")
				}
			} else {
				tc.train, tc.test = BlockSplit(100, 15)
				if tc.test[0] != 85 || tc.test[14] != 99 {
					t.Fatalf("block split test set %v", tc.test)
				}
			}
			seen := map[int]bool{}
			for _, i := range append(append([]int{}, tc.train...), tc.test...) {
				if seen[i] || i < 0 || i >= 100 {
					t.Fatalf("index %d repeated or out of range", i)
				}
				seen[i] = true
			}
			if len(seen) != 100 || len(tc.test) != 15 {
				t.Fatalf("%d indices, %d test", len(seen), len(tc.test))
			}
		})
	}
}

func TestGridPlacesEachImage(t *testing.T) {
	im := Images{N: 3, Height: 2, Width: 2, Channels: 1, Pix: []float32{0, 0, 0, 0, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5}}
	var buf bytes.Buffer
	if err := WriteGridPNG(&buf, im, 2, 3); err != nil {
		t.Fatal(err)
	}
	g, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	// 2 columns of (2+1)·3 pixels plus a 3-pixel border; 2 rows likewise.
	if b := g.Bounds(); b.Dx() != 21 || b.Dy() != 21 {
		t.Fatalf("grid is %v", b)
	}
	for _, c := range []struct{ x, y, want int }{{3, 3, 0}, {12, 3, 255}, {3, 12, 128}, {12, 12, 255}, {0, 0, 255}} {
		r, _, _, _ := g.At(c.x, c.y).RGBA()
		if int(r>>8) != c.want {
			t.Errorf("pixel (%d,%d) = %d, want %d", c.x, c.y, r>>8, c.want)
		}
	}
}
