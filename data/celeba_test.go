package data

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/vaelab/vaelab/internal/celebagen"
	"github.com/vaelab/vaelab/internal/jpegturbo"
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

// celebaLayout writes n CelebA-layout images as a zip and as a folder.
func celebaLayout(t *testing.T, n int) (zipDir, folderDir string) {
	t.Helper()
	zipDir, folderDir = filepath.Join(t.TempDir(), "celeba"), filepath.Join(t.TempDir(), "celeba")
	if err := celebagen.Write(context.Background(), zipDir, n, true, false); err != nil {
		t.Fatal(err)
	}
	if err := celebagen.Write(context.Background(), folderDir, n, false, true); err != nil {
		t.Fatal(err)
	}
	return zipDir, folderDir
}

// CelebA read from its zip (without extracting) and from the extracted
// folder gives the same images, the usual protocol (crop 148, 64×64 RGB)
// and the official partition; the decoded copy is level-backed and mapped,
// shared by loaders, and reported as it is made.
func TestCelebAZipAndFolder(t *testing.T) {
	const n = 300
	zipDir, folderDir := celebaLayout(t, n)
	cfg := Config{Name: "celeba", TestFraction: 0.1, Seed: 1}.Resolved()
	if cfg.Crop != 148 || cfg.Size != 64 || cfg.Channels != 3 || cfg.split() != "official" {
		t.Fatalf("celeba's defaults: %+v", cfg)
	}
	var sets []*Dataset
	for _, dir := range []string{zipDir, folderDir} {
		var log strings.Builder
		l := &Loader{DataDir: filepath.Dir(dir), CacheDir: t.TempDir(), Progress: &log}
		ds, err := l.Load(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		wantTrain, wantTest := 0, 0
		for i := 1; i <= n; i++ {
			switch celebagen.Partition(i, n) {
			case 0:
				wantTrain++
			case 2:
				wantTest++
			}
		}
		if ds.Train.N != wantTrain || ds.Test.N != wantTest || !ds.Train.Leveled() || ds.Train.Height != 64 || ds.Train.Channels != 3 {
			t.Errorf("%s: %d train / %d test (want %d / %d), leveled %v, %dx%dx%d", dir, ds.Train.N, ds.Test.N, wantTrain, wantTest, ds.Train.Leveled(), ds.Train.Height, ds.Train.Width, ds.Train.Channels)
		}
		if !strings.Contains(log.String(), fmt.Sprintf("dataset celeba: decoding images %d / %d in", n, n)) {
			t.Errorf("no progress report:\n%s", log.String())
		}
		if again, err := l.Load(context.Background(), cfg); err != nil || !slices.Equal(again.Test.Values(), ds.Test.Values()) {
			t.Errorf("a second load: %v", err)
		}
		sets = append(sets, ds)
	}
	if !slices.Equal(sets[0].Train.Values(), sets[1].Train.Values()) || !slices.Equal(sets[0].Test.Values(), sets[1].Test.Values()) {
		t.Error("the zip and the folder give different images")
	}
	// The first image is the center 148 crop of image 000001, resized.
	b, err := os.ReadFile(filepath.Join(folderDir, "img_align_celeba", celebagen.Name(1)))
	if err != nil {
		t.Fatal(err)
	}
	tj, _ := jpegturbo.Open()
	want, _, err := decodeOne(b, "000001.jpg", cfg.prep(), tj)
	if err != nil {
		t.Fatal(err)
	}
	if got := sets[0].Train.levelsOf(0); !bytes.Equal(got, want) {
		t.Error("the first training image is not 000001.jpg")
	}
	// Without the partition file, the official split says what is missing.
	os.Remove(filepath.Join(zipDir, "list_eval_partition.txt"))
	if _, err := (&Loader{DataDir: filepath.Dir(zipDir)}).Load(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "list_eval_partition.txt") {
		t.Errorf("no partition file: %v", err)
	}
}

// A damaged CelebA zip is an error naming the member (or the file), and no
// decoded copy is left behind, whole or partial.
func TestCelebAZipDamage(t *testing.T) {
	var good bytes.Buffer
	if err := jpeg.Encode(&good, celebagen.Face(1), nil); err != nil {
		t.Fatal(err)
	}
	member := func(name string, b []byte) func(*zip.Writer) error {
		return func(zw *zip.Writer) error {
			w, err := zw.CreateHeader(&zip.FileHeader{Name: "img_align_celeba/" + name, Method: zip.Store})
			if err == nil {
				_, err = w.Write(b)
			}
			return err
		}
	}
	huge := func(zw *zip.Writer) error {
		w, err := zw.CreateRaw(&zip.FileHeader{Name: "img_align_celeba/000002.jpg", Method: zip.Store,
			CRC32: crc32.ChecksumIEEE(good.Bytes()), CompressedSize64: uint64(good.Len()), UncompressedSize64: 1 << 40})
		if err == nil {
			_, err = w.Write(good.Bytes())
		}
		return err
	}
	cases := []struct {
		name, want string
		members    []func(*zip.Writer) error
		damage     func([]byte) []byte
	}{
		{"truncated member", "000002.jpg", []func(*zip.Writer) error{member("000001.jpg", good.Bytes()), member("000002.jpg", good.Bytes()[:good.Len()/2])}, nil},
		{"not an image", "000002.jpg", []func(*zip.Writer) error{member("000001.jpg", good.Bytes()), member("000002.jpg", []byte("hello, world"))}, nil},
		{"enormous declared size", "000002.jpg", []func(*zip.Writer) error{member("000001.jpg", good.Bytes()), huge}, nil},
		{"bad checksum", "000002.jpg", []func(*zip.Writer) error{member("000001.jpg", good.Bytes()), member("000002.jpg", good.Bytes())},
			func(b []byte) []byte { // flip a byte inside the second (stored) member's data
				i := bytes.LastIndex(b, good.Bytes()[good.Len()/2:good.Len()/2+32])
				b[i] ^= 0xff
				return b
			}},
		{"cut-off file", "img_align_celeba.zip", []func(*zip.Writer) error{member("000001.jpg", good.Bytes()), member("000002.jpg", good.Bytes())},
			func(b []byte) []byte { return b[:len(b)/2] }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "celeba")
			os.MkdirAll(dir, 0o755)
			var b bytes.Buffer
			zw := zip.NewWriter(&b)
			for _, m := range c.members {
				if err := m(zw); err != nil {
					t.Fatal(err)
				}
			}
			zw.Close()
			raw := b.Bytes()
			if c.damage != nil {
				raw = c.damage(raw)
			}
			os.WriteFile(filepath.Join(dir, "img_align_celeba.zip"), raw, 0o644)
			celebagen.WritePartition(filepath.Join(dir, "list_eval_partition.txt"), 2)
			cache := t.TempDir()
			_, err := (&Loader{DataDir: filepath.Dir(dir), CacheDir: cache}).Load(context.Background(), Config{Name: "celeba", TestFraction: 0.5, Split: "random", Seed: 1}.Resolved())
			t.Log(err)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v does not name %s", err, c.want)
			}
			if left := decodedCopies(cache); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

// An image file that cannot be read (not a regular file) is an error naming it.
func TestCelebAFolderUnreadableFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "celeba")
	if err := celebagen.Write(context.Background(), dir, 3, false, true); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "img_align_celeba", celebagen.Name(2))
	os.Remove(bad)
	if err := syscall.Mkfifo(bad, 0o644); err != nil {
		t.Skip(err)
	}
	cache := t.TempDir()
	_, err := (&Loader{DataDir: filepath.Dir(dir), CacheDir: cache}).Load(context.Background(), Config{Name: "celeba", TestFraction: 0.5, Split: "random", Seed: 1}.Resolved())
	if err == nil || !strings.Contains(err.Error(), celebagen.Name(2)) {
		t.Errorf("a FIFO among the images: %v", err)
	}
	if left := decodedCopies(cache); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

// decodedCopies lists the decoded-dataset files in dir, whole (*.vds) or
// being written (.*.tmp); the .lock files that order builders are not.
func decodedCopies(dir string) []string {
	whole, _ := filepath.Glob(filepath.Join(dir, "*.vds"))
	partial, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	return append(whole, partial...)
}

// The JPEG path that resizes straight from libjpeg-turbo's bytes gives the
// levels of the general path (values, crop, applyCropped).
func TestTurboFastPathMatchesGeneral(t *testing.T) {
	tj, err := jpegturbo.Open()
	if err != nil {
		t.Skip(err)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, celebagen.Face(11), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []Prep{{Channels: 3, Crop: 148, Size: 64}, {Crop: 101, Size: 48}, {Size: 50}} {
		got, dims, err := decodeOne(b.Bytes(), "x.jpg", p, tj)
		if err != nil {
			t.Fatal(err)
		}
		w, h, grey, _ := tj.Header(b.Bytes())
		raw, _ := tj.Decode(b.Bytes(), w, h, grey)
		r, _ := p.cropRect(h, w)
		var pix []float32
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for _, v := range raw[(y*w+r.Min.X)*3 : (y*w+r.Max.X)*3] {
				pix = append(pix, levelValues[v])
			}
		}
		want, wh, ww, _, err := p.applyCropped(pix, r.Dy(), r.Dx(), 3)
		if err != nil {
			t.Fatal(err)
		}
		if dims != [3]int{wh, ww, 3} || !bytes.Equal(got, levelsOf(want)) {
			t.Errorf("%+v: %v vs %dx%d, equal %v", p, dims, wh, ww, bytes.Equal(got, levelsOf(want)))
		}
	}
}

// Two loaders wanting the same decoded copy at once (two processes do the
// same through the lock file): one decodes it, the other waits and maps it.
func TestDecodedCopyIsBuiltOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "celeba")
	if err := celebagen.Write(context.Background(), dir, 600, true, false); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	cfg := Config{Name: "celeba", TestFraction: 0.1, Seed: 1}.Resolved()
	loaders := []*Loader{{DataDir: filepath.Dir(dir), CacheDir: cache}, {DataDir: filepath.Dir(dir), CacheDir: cache}}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, l := range loaders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = l.Load(context.Background(), cfg)
		}()
	}
	wg.Wait()
	decodes, hits := 0, 0
	for i, l := range loaders {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		d, h := l.Stats()
		decodes, hits = decodes+d, hits+h
	}
	if decodes != 1 || hits != 1 {
		t.Errorf("%d decodes and %d cache hits, want 1 and 1", decodes, hits)
	}
}

// Ctrl-C while a collection decodes stops it and leaves no decoded copy.
func TestDecodingStopsOnCancel(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "celeba")
	if err := celebagen.Write(context.Background(), dir, 1500, true, false); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var log strings.Builder
	l := &Loader{DataDir: filepath.Dir(dir), CacheDir: cache, Progress: cancelOnWrite{&log, cancel}}
	_, err := l.Load(ctx, Config{Name: "celeba", TestFraction: 0.1, Seed: 1}.Resolved())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled decode: %v", err)
	}
	if left := decodedCopies(cache); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

// cancelOnWrite cancels at the first progress line (decoding has begun).
type cancelOnWrite struct {
	w      io.Writer
	cancel func()
}

func (c cancelOnWrite) Write(b []byte) (int, error) {
	c.cancel()
	return c.w.Write(b)
}
