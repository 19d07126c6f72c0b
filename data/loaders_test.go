package data

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/vaelab/vaelab/internal/testenv"
)

func correlation(a, b []float32) float64 {
	var ma, mb float64
	for i := range a {
		ma += float64(a[i]) / float64(len(a))
		mb += float64(b[i]) / float64(len(b))
	}
	var sab, saa, sbb float64
	for i := range a {
		x, y := float64(a[i])-ma, float64(b[i])-mb
		sab, saa, sbb = sab+x*y, saa+x*x, sbb+y*y
	}
	return sab / math.Sqrt(saa*sbb)
}

// bestCropMatch is the highest correlation between a 64×64 image and square
// center-region crops of a 92×112 ORL photo resized to 64×64: Olivetti's
// images are such crops, with a window that varies from photo to photo.
func bestCropMatch(img64 []float32, orl []float32) float64 {
	best := -1.0
	for side := 62; side <= 86; side += 6 {
		for y0 := 20; y0+side <= 112; y0 += 3 {
			for x0 := 0; x0+side <= 92; x0 += 3 {
				c := centerCropAt(orl, 92, x0, y0, side)
				best = math.Max(best, correlation(img64, resize(c, side, side, 1, 64, 64)))
			}
		}
	}
	return best
}

func centerCropAt(pix []float32, w, x0, y0, side int) []float32 {
	out := make([]float32, 0, side*side)
	for y := y0; y < y0+side; y++ {
		out = append(out, pix[y*w+x0:y*w+x0+side]...)
	}
	return out
}

func transformed(p []float32, f func(x, y int) (int, int)) []float32 {
	out := make([]float32, 64*64)
	for y := range 64 {
		for x := range 64 {
			sx, sy := f(x, y)
			out[y*64+x] = p[sy*64+sx]
		}
	}
	return out
}

// TestOlivettiIsUpright: each Olivetti image matches its own ORL photo better
// than its transposed or flipped versions match it, and better than other
// people's photos do. A column-major decoding slip would transpose every image.
func TestOlivettiIsUpright(t *testing.T) {
	dir := testenv.SharedData(t, OlivettiFile)
	testenv.SharedData(t, "orl_att/s1/1.pgm")
	oli, labels, sum, err := LoadOlivetti(filepath.Join(dir, OlivettiFile))
	if err != nil {
		t.Fatal(err)
	}
	if oli.N != 400 || oli.Height != 64 || oli.Width != 64 || sum != OlivettiSHA256 || labels[399] != 39 || labels[10] != 1 {
		t.Fatalf("Olivetti: %d images of %dx%d, sha256 %s, labels %d %d", oli.N, oli.Height, oli.Width, sum, labels[10], labels[399])
	}
	orl, err := LoadFolder(context.Background(), filepath.Join(dir, "orl_att"), Prep{})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 57, 123, 188, 222, 301, 356, 399} {
		o, own := oli.At(i), orl.Images.At(i)
		upright := bestCropMatch(o, own)
		for name, f := range map[string]func(x, y int) (int, int){
			"transposed":           func(x, y int) (int, int) { return y, x },
			"flipped top-bottom":   func(x, y int) (int, int) { return x, 63 - y },
			"transposed & flipped": func(x, y int) (int, int) { return 63 - y, x },
		} {
			if c := bestCropMatch(transformed(o, f), own); c >= upright {
				t.Errorf("Olivetti %d: %s correlates %.3f with its ORL photo, upright %.3f", i, name, c, upright)
			}
		}
		for _, other := range []int{(i + 100) % 400, (i + 200) % 400, (i + 300) % 400} {
			if c := bestCropMatch(o, orl.Images.At(other)); c >= upright {
				t.Errorf("Olivetti %d matches ORL photo %d (%.3f) better than its own (%.3f)", i, other, c, upright)
			}
		}
		if upright < 0.8 {
			t.Errorf("Olivetti %d correlates only %.3f with its own ORL photo", i, upright)
		}
	}
}

// TestORLFolderLoads reads the 400 ORL photos through the image-folder loader:
// natural order, 40 labels from the folder names, pixels equal to the file bytes.
func TestORLFolderLoads(t *testing.T) {
	dir := filepath.Join(testenv.SharedData(t, "orl_att/s1/1.pgm"), "orl_att")
	f, err := LoadFolder(context.Background(), dir, Prep{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Images.N != 400 || f.Images.Height != 112 || f.Images.Width != 92 || f.Images.Channels != 1 || len(f.LabelNames) != 40 {
		t.Fatalf("ORL: %d images of %dx%dx%d, %d labels", f.Images.N, f.Images.Height, f.Images.Width, f.Images.Channels, len(f.LabelNames))
	}
	if f.Files[1] != filepath.Join("s1", "2.pgm") || f.Files[9] != filepath.Join("s1", "10.pgm") || f.LabelNames[1] != "s2" || f.LabelNames[39] != "s40" {
		t.Fatalf("not in natural order: %v … labels %v", f.Files[:10], f.LabelNames[:3])
	}
	for i, l := range f.Labels {
		if l != i/10 {
			t.Fatalf("image %d (%s) has label %d, want %d", i, f.Files[i], l, i/10)
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "s7", "3.pgm"))
	if err != nil {
		t.Fatal(err)
	}
	pix := raw[len("P5\n92 112\n255\n"):]
	if !slices.Equal(f.Images.At(62), bytesToUnit(pix)) {
		t.Fatal("s7/3.pgm does not decode to its bytes")
	}
	ds, err := Load(context.Background(), Config{Name: "folder", Path: "orl_att", TestFraction: 0.1, Seed: 3}, filepath.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	trainPeople := map[int]bool{}
	for _, l := range ds.TrainLabels {
		trainPeople[l] = true
	}
	for _, l := range ds.TestLabels {
		if trainPeople[l] {
			t.Fatalf("identity split: person %d is in both train and test", l)
		}
	}
	if ds.Test.N != 40 || ds.Train.N != 360 {
		t.Fatalf("identity split: %d train, %d test; want 4 people held out", ds.Train.N, ds.Test.N)
	}
}

// TestFolderCropAndResize checks preprocessing against values computed by hand.
func TestFolderCropAndResize(t *testing.T) {
	dir := t.TempDir()
	// A 6×4 gray image with pixel value 10·x + 40·y (x < 6, y < 4).
	g := image.NewGray(image.Rect(0, 0, 6, 4))
	for y := range 4 {
		for x := range 6 {
			g.SetGray(x, y, color.Gray{uint8(10*x + 40*y)})
		}
	}
	writePNG(t, filepath.Join(dir, "gray", "a.png"), g)
	// A 4×4 colour image, pure red (255, 0, 0).
	c := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for i := 0; i < len(c.Pix); i += 4 {
		c.Pix[i], c.Pix[i+3] = 255, 255
	}
	writePNG(t, filepath.Join(dir, "color", "b.png"), c)
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, c, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "color", "c.jpg"), jb.Bytes(), 0o644)

	// Crop 4 → columns 1..4, all rows; area resize to 2×2 averages 2×2 blocks:
	// top-left = mean(10,20,50,60) = 35, top-right = mean(30,40,70,80) = 55,
	// bottom-left = 35+80 = 115, bottom-right = 135.
	f, err := LoadFolder(context.Background(), filepath.Join(dir, "gray"), Prep{Crop: 4, Size: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{35, 55, 115, 135}
	for i := range want {
		want[i] = quantise(float64(want[i]) / 255)
	}
	if !slices.Equal(f.Images.Values(), want) {
		t.Fatalf("crop+resize gives %v, want %v", scaled(f.Images.Values()), scaled(want))
	}
	// Colour to gray by BT.601 luma: red → 0.299; PNG exactly, JPEG within its loss.
	f, err = LoadFolder(context.Background(), filepath.Join(dir, "color"), Prep{Channels: 1, Size: 2})
	if err != nil {
		t.Fatal(err)
	}
	if f.Images.N != 2 || f.Images.Channels != 1 || f.Labels != nil {
		t.Fatalf("colour folder: %d images, %d channels, labels %v", f.Images.N, f.Images.Channels, f.Labels)
	}
	for i, v := range f.Images.Values() {
		tol := 0.0
		if i >= 4 { // the JPEG
			tol = 0.02
		}
		if math.Abs(float64(v)-float64(quantise(0.299))) > tol+1e-9 {
			t.Fatalf("luma of red, pixel %d = %v, want %v", i, v, quantise(0.299))
		}
	}
	// Enlarging uses bilinear interpolation between pixel centres: a 2-pixel row
	// (0, 1) becomes (0, 0.25, 0.75, 1).
	if got := resize([]float32{0, 1}, 1, 2, 1, 1, 4); !slices.Equal(got, []float32{0, 0.25, 0.75, 1}) {
		t.Fatalf("bilinear enlarge: %v", got)
	}
	// Images of different sizes need a size to share.
	writePNG(t, filepath.Join(dir, "mixed", "a.png"), g)
	writePNG(t, filepath.Join(dir, "mixed", "b.png"), c)
	if _, err := LoadFolder(context.Background(), filepath.Join(dir, "mixed"), Prep{}); err == nil || !strings.Contains(err.Error(), "set dataset.size") {
		t.Fatalf("mixed sizes: %v", err)
	}
}

func scaled(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.Round(float64(x) * 255)
	}
	return out
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLFWSubsetLoads(t *testing.T) {
	dir := testenv.SharedData(t, LFWSubsetFile)
	im, err := LoadNPY(filepath.Join(dir, LFWSubsetFile))
	if err != nil {
		t.Fatal(err)
	}
	if im.N != 200 || im.Height != 25 || im.Width != 25 || im.Channels != 1 {
		t.Fatalf("lfw_subset.npy: shape (%d, %d, %d, %d), want (200, 25, 25, 1)", im.N, im.Height, im.Width, im.Channels)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, LFWSubsetFile))
	first := math.Float64frombits(binary.LittleEndian.Uint64(raw[80:]))
	if im.Pix[0] != float32(first) {
		t.Fatalf("first value %v, file holds %v", im.Pix[0], first)
	}
	ds, err := Load(context.Background(), Config{Name: "lfw-subset", TestFraction: 0.2}, dir)
	if err != nil || ds.Train.N+ds.Test.N != 100 {
		t.Fatalf("lfw-subset dataset: %v, %d images; want the 100 faces", err, ds.Train.N+ds.Test.N)
	}
}

// npyFile builds a .npy file by hand.
func npyFile(version byte, descr string, fortran bool, shape string, data []byte) []byte {
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, map[bool]string{true: "True", false: "False"}[fortran], shape)
	pre := 10
	if version > 1 {
		pre = 12
	}
	for (pre+len(header)+1)%64 != 0 {
		header += " "
	}
	header += "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY")
	b.WriteByte(version)
	b.WriteByte(0)
	if version > 1 {
		binary.Write(&b, binary.LittleEndian, uint32(len(header)))
	} else {
		binary.Write(&b, binary.LittleEndian, uint16(len(header)))
	}
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

func TestNPYVariants(t *testing.T) {
	// Two 2×3 images with values k/255, k = 0..11, in C order.
	want := make([]float32, 12)
	u8 := make([]byte, 12)
	for k := range want {
		want[k], u8[k] = float32(k)/255, byte(k)
	}
	f32le, f64be, fortran := new(bytes.Buffer), new(bytes.Buffer), new(bytes.Buffer)
	for k := range 12 {
		binary.Write(f32le, binary.LittleEndian, float32(k)/255)
		binary.Write(f64be, binary.BigEndian, float64(float32(k)/255))
	}
	// Fortran order: element (n, y, x) stored at n + 2·(y + 2·x).
	fvals := make([]byte, 12)
	for n := range 2 {
		for y := range 2 {
			for x := range 3 {
				fvals[n+2*(y+2*x)] = byte((n*2+y)*3 + x)
			}
		}
	}
	fortran.Write(fvals)
	for _, tc := range []struct {
		name string
		file []byte
	}{
		{"uint8 v1", npyFile(1, "|u1", false, "(2, 2, 3)", u8)},
		{"float32 v2", npyFile(2, "<f4", false, "(2, 2, 3)", f32le.Bytes())},
		{"float64 big-endian v3", npyFile(3, ">f8", false, "(2, 2, 3, 1)", f64be.Bytes())},
		{"uint8 Fortran order", npyFile(1, "|u1", true, "(2, 2, 3)", fortran.Bytes())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			im, err := decodeNPY(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if im.N != 2 || im.Height != 2 || im.Width != 3 || !slices.Equal(im.Pix, want) {
				t.Fatalf("decoded %dx%dx%d %v, want 2x2x3 %v", im.N, im.Height, im.Width, scaled(im.Pix), scaled(want))
			}
		})
	}
}

// TestDamagedFilesNameTheProblem: truncated, wrong-magic and wrong-dimension
// files of each format give errors that name the file and the problem.
func TestDamagedFilesNameTheProblem(t *testing.T) {
	dir := t.TempDir()
	good := npyFile(1, "|u1", false, "(2, 2, 3)", make([]byte, 12))
	var pngBuf bytes.Buffer
	png.Encode(&pngBuf, image.NewGray(image.Rect(0, 0, 8, 8)))
	for _, tc := range []struct {
		name, file string
		data       []byte
		load       func(string) error
		want       string
	}{
		{"npy truncated", "t.npy", good[:len(good)-3], npyLoad, "truncated"},
		{"npy wrong magic", "m.npy", append([]byte("XNUMPY"), good[6:]...), npyLoad, "magic"},
		{"npy wrong dims", "d.npy", npyFile(1, "|u1", false, "(2, 6)", make([]byte, 12)), npyLoad, "want (N, H, W)"},
		{"npy bad dtype", "x.npy", npyFile(1, "<i8", false, "(1, 1, 1)", make([]byte, 8)), npyLoad, "not supported"},
		{"npy out of range", "r.npy", npyFile(1, "<f8", false, "(1, 1, 1)", binary.LittleEndian.AppendUint64(nil, math.Float64bits(3))), npyLoad, "outside [0, 1]"},
		{"pgm truncated", "t/a.pgm", []byte("P5\n4 4\n255\n\x01\x02"), folderLoad, "truncated"},
		{"pgm wrong magic", "m/a.pgm", []byte("P6\n4 4\n255\n"), folderLoad, "not a PGM"},
		{"pgm bad size", "s/a.pgm", []byte("P5\n-4 4\n255\n"), folderLoad, "width"},
		{"png truncated", "p/a.png", pngBuf.Bytes()[:30], folderLoad, "decode image"},
		{"jpeg garbage", "j/a.jpg", []byte("\xff\xd8\xff not really"), folderLoad, "decode image"},
		{"mat truncated", "t.mat", []byte("MATLAB 5.0" + strings.Repeat(" ", 114) + "\x00\x01IM\x0e\x00\x00\x00\xff\xff\x00\x00"), olivettiLoad, "truncated"},
		{"mat wrong magic", "m.mat", []byte(strings.Repeat("x", 400)), olivettiLoad, "not a MAT-file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.file)
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, tc.data, 0o644)
			err := tc.load(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), filepath.Base(p)) {
				t.Fatalf("error %v; want one naming %s and containing %q", err, filepath.Base(p), tc.want)
			}
		})
	}
}

func npyLoad(p string) error { _, err := LoadNPY(p); return err }
func folderLoad(p string) error {
	_, err := LoadFolder(context.Background(), filepath.Dir(p), Prep{})
	return err
}
func olivettiLoad(p string) error { _, _, _, err := LoadOlivetti(p); return err }

func FuzzDecodeNPY(f *testing.F) {
	f.Add(npyFile(1, "|u1", false, "(2, 2, 3)", make([]byte, 12)))
	f.Add(npyFile(2, "<f4", true, "(1, 2, 2, 3)", make([]byte, 48)))
	f.Fuzz(func(t *testing.T, b []byte) {
		var im Images
		var err error
		boundedAlloc(t, func() { im, err = decodeNPY(b) })
		if err == nil {
			if err := im.Validate(); err != nil {
				t.Fatalf("accepted invalid images: %v", err)
			}
		}
	})
}

func FuzzDecodePGM(f *testing.F) {
	f.Add([]byte("P5\n2 2\n255\n\x00\x01\x02\x03"))
	f.Add([]byte("P2\n# c\n2 1\n65535\n0 65535\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		boundedAlloc(t, func() { decodePGM(bytes.NewReader(b)) })
	})
}

// FuzzDecodeImage feeds PNG and JPEG decoding (through the size check on
// the declared dimensions) arbitrary bytes.
func FuzzDecodeImage(f *testing.F) {
	for _, img := range []image.Image{image.NewGray(image.Rect(0, 0, 3, 2)), image.NewRGBA(image.Rect(0, 0, 2, 5))} {
		var p, j bytes.Buffer
		png.Encode(&p, img)
		jpeg.Encode(&j, img, nil)
		f.Add(p.Bytes())
		f.Add(j.Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		boundedAlloc(t, func() {
			if img, err := decodeImage(bytes.NewReader(b), "fuzz.png"); err == nil {
				if bd := img.Bounds(); int64(bd.Dx())*int64(bd.Dy()) > MaxImagePixels {
					t.Fatalf("decoded a %dx%d image, above the limit", bd.Dx(), bd.Dy())
				}
			}
		})
	})
}

// boundedAlloc fails when f allocates more than one image at the pixel limit
// could legitimately need (a progressive JPEG keeps 12 bytes of coefficients
// per pixel besides its YCbCr image; an interlaced 16-bit PNG about 16): a
// decoder that trusts a header's sizes shows here, in the fuzzer's memory
// cap (GOMEMLIMIT in scripts/fuzz).
func boundedAlloc(t *testing.T, f func()) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 24*MaxImagePixels+64<<20 {
		t.Fatalf("one decode allocated %d MiB", d>>20)
	}
}

func FuzzReadMatV5(f *testing.F) {
	if raw, err := os.ReadFile(filepath.Join("..", "..", "shared", "data", FreyFile)); err == nil {
		f.Add(raw[:4096])
	}
	f.Add([]byte("MATLAB 5.0" + strings.Repeat(" ", 114) + "\x00\x01IM\x0f\x00\x00\x00\x08\x00\x00\x00x\x9c\x03\x00\x00\x00\x00\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		boundedAlloc(t, func() { readMatV5(b) })
	})
}

// TestFetchKeepsOnlyVerifiedFiles serves a dataset from a local HTTP server:
// the right bytes are stored; wrong bytes or a cut transfer leave nothing and
// give an error naming the dataset and both hashes.
func TestFetchKeepsOnlyVerifiedFiles(t *testing.T) {
	payload := bytes.Repeat([]byte("face"), 5000)
	good := Source{Name: "demo", File: "demo/demo.bin", SHA256: sha256Hex(payload)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/good":
			w.Write(payload)
		case "/wrong":
			w.Write(append([]byte("evil"), payload[4:]...))
		case "/cut":
			w.Header().Set("Content-Length", fmt.Sprint(len(payload)))
			w.Write(payload[:len(payload)/2])
			panic(http.ErrAbortHandler) // drop the connection mid-body
		}
	}))
	defer srv.Close()
	for _, tc := range []struct{ path, want string }{
		{"/wrong", "sha256 " + sha256Hex(append([]byte("evil"), payload[4:]...)) + ", want " + good.SHA256},
		{"/cut", "demo from"},
	} {
		dir := t.TempDir()
		src := good
		src.URL = srv.URL + tc.path
		err := Fetch(context.Background(), srv.Client(), src, filepath.Join(dir, src.File), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "nothing was kept") {
			t.Fatalf("%s: error %v; want one containing %q", tc.path, err, tc.want)
		}
		if entries, _ := os.ReadDir(filepath.Join(dir, "demo")); len(entries) != 0 {
			t.Fatalf("%s left files behind: %v", tc.path, entries)
		}
	}
	dir := t.TempDir()
	src := good
	src.URL = srv.URL + "/good"
	var lastDone int64
	if err := Fetch(context.Background(), srv.Client(), src, filepath.Join(dir, src.File), func(d, _ int64) { lastDone = d }); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, src.File))
	if err != nil || !bytes.Equal(got, payload) || lastDone != int64(len(payload)) {
		t.Fatalf("downloaded %d bytes (%v), progress saw %d", len(got), err, lastDone)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestDecodedCacheIsShared: a dataset is decoded once per Loader; a second
// Loader (another process) reads the cached copy, identical to the decoded one;
// a damaged cache file is ignored and rewritten.
func TestDecodedCacheIsShared(t *testing.T) {
	dataDir := testenv.SharedData(t, OlivettiFile)
	cacheDir := t.TempDir()
	cfg := Config{Name: "olivetti", Size: 32, TestFraction: 0.1, Seed: 1}
	first := &Loader{DataDir: dataDir, CacheDir: cacheDir}
	a, err := first.Load(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Load(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if d, h := first.Stats(); d != 1 || h != 0 {
		t.Fatalf("first loader: %d decodes, %d cache hits; want 1, 0", d, h)
	}
	second := &Loader{DataDir: dataDir, CacheDir: cacheDir}
	b, err := second.Load(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if d, h := second.Stats(); d != 0 || h != 1 {
		t.Fatalf("second loader: %d decodes, %d cache hits; want 0, 1", d, h)
	}
	if !slices.Equal(a.Train.Values(), b.Train.Values()) || !slices.Equal(a.TestLabels, b.TestLabels) || a.Train.Height != 32 {
		t.Fatal("cached copy differs from the decoded one")
	}
	files, _ := filepath.Glob(filepath.Join(cacheDir, "*.vds"))
	if len(files) != 1 {
		t.Fatalf("%d cache files", len(files))
	}
	raw, _ := os.ReadFile(files[0])
	raw[len(raw)/2] ^= 0xff
	// A new file, as a bad copy is: the mapped one must not change under
	// the runs that read it (vaelab replaces cache files by rename).
	os.Remove(files[0])
	os.WriteFile(files[0], raw, 0o644)
	third := &Loader{DataDir: dataDir, CacheDir: cacheDir}
	c, err := third.Load(context.Background(), cfg)
	if d, h := third.Stats(); err != nil || d != 1 || h != 0 || !slices.Equal(a.Train.Values(), c.Train.Values()) {
		t.Fatalf("damaged cache: %v, %d decodes, %d hits", err, d, h)
	}
}

// A folder dataset given as a symbolic link (datasets often live on another
// disk) is read where the link points.
func TestLoadFolderThroughALink(t *testing.T) {
	dir := testenv.SharedData(t, "orl_att/s1/1.pgm")
	link := filepath.Join(t.TempDir(), "faces")
	if err := os.Symlink(filepath.Join(dir, "orl_att"), link); err != nil {
		t.Fatal(err)
	}
	f, err := LoadFolder(context.Background(), link, Prep{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Images.N != 400 || len(f.LabelNames) != 40 {
		t.Errorf("through a link: %d images of %d people, want 400 of 40", f.Images.N, len(f.LabelNames))
	}
}

// imagePixels reads JPEG's YCbCr (every subsampling), RGBA and grey images
// from their planes with exactly the values img.At gives, inside any
// rectangle (odd offsets included).
func TestImagePixelsMatchesAt(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	bounds := image.Rect(3, 5, 3+37, 5+29)
	var imgs []image.Image
	for _, sub := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440} {
		m := image.NewYCbCr(bounds, sub)
		for _, p := range [][]uint8{m.Y, m.Cb, m.Cr} {
			for i := range p {
				p[i] = uint8(rng.IntN(256))
			}
		}
		imgs = append(imgs, m)
	}
	rgba, grey := image.NewRGBA(bounds), image.NewGray(bounds)
	for i := range rgba.Pix {
		rgba.Pix[i] = uint8(rng.IntN(256))
		if i%4 == 3 {
			rgba.Pix[i] = 255
		}
	}
	for i := range grey.Pix {
		grey.Pix[i] = uint8(rng.IntN(256))
	}
	imgs = append(imgs, rgba, grey)
	for _, img := range imgs {
		for _, r := range []image.Rectangle{bounds, image.Rect(4, 6, 4+21, 6+17), image.Rect(8, 9, 9, 10)} {
			got, h, w, c := imagePixels(img, r)
			var want []float32
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					cr, cg, cb, _ := img.At(x, y).RGBA()
					if c == 1 {
						want = append(want, float32(cr)/65535)
					} else {
						want = append(want, float32(cr)/65535, float32(cg)/65535, float32(cb)/65535)
					}
				}
			}
			if h != r.Dy() || w != r.Dx() || !slices.Equal(got, want) {
				t.Errorf("%T in %v: %dx%dx%d, values equal %v", img, r, w, h, c, slices.Equal(got, want))
			}
		}
	}
}
