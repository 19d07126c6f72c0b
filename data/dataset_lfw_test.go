package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vaelab/vaelab/internal/testenv"
)

// lfwPeople and lfwPerPerson lay the shared subset's 100 faces out as LFW
// does: 20 people of 5 photographs each.
const lfwPeople, lfwPerPerson = 20, 5

// lfwPhotos turns the shared LFW subset's 100 grey 25×25 faces into JPEGs
// shaped like LFW's: 250×250 RGB (each pixel repeated 10×10, grey in all
// three channels), named Person_NN/Person_NN_000K.jpg.
func lfwPhotos(t *testing.T) (names []string, files [][]byte) {
	t.Helper()
	dir := testenv.SharedData(t, LFWSubsetFile)
	im, err := LoadNPY(filepath.Join(dir, LFWSubsetFile))
	if err != nil {
		t.Fatal(err)
	}
	for i := range lfwPeople * lfwPerPerson {
		face := im.At(i)
		rgba := image.NewRGBA(image.Rect(0, 0, lfwSide, lfwSide))
		for y := range lfwSide {
			for x := range lfwSide {
				v := uint8(face[(y/10)*25+x/10]*255 + 0.5)
				rgba.SetRGBA(x, y, color.RGBA{v, v, v, 255})
			}
		}
		var b bytes.Buffer
		if err := jpeg.Encode(&b, rgba, &jpeg.Options{Quality: 90}); err != nil {
			t.Fatal(err)
		}
		person := fmt.Sprintf("Person_%02d", i/lfwPerPerson+1)
		names = append(names, fmt.Sprintf("%s/%s_%04d.jpg", person, person, i%lfwPerPerson+1))
		files = append(files, b.Bytes())
	}
	return names, files
}

// tarEntry is one member of a test archive; typ 0 is a regular file.
type tarEntry struct {
	name string
	typ  byte
	body []byte
}

// writeArchive writes entries as a tar, gzipped when gz, to dir/file.
func writeArchive(t *testing.T, dir, file string, gz bool, entries []tarEntry) string {
	t.Helper()
	var b bytes.Buffer
	var gw *gzip.Writer
	var w io.Writer = &b
	if gz {
		gw = gzip.NewWriter(&b)
		w = gw
	}
	tw := tar.NewWriter(w)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
		switch e.typ {
		case tar.TypeDir:
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeDir, 0o755, 0
		case tar.TypeSymlink:
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeSymlink, "/etc/passwd", 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if gw != nil {
		if err := gw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(dir, file)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// lfwEntries lays the photos out under top ("" for none), with the
// folders' own entries and a non-image file, as real archives have.
func lfwEntries(top string, names []string, files [][]byte) []tarEntry {
	prefix := ""
	var out []tarEntry
	if top != "" {
		prefix = top + "/"
		out = append(out, tarEntry{name: prefix, typ: tar.TypeDir}, tarEntry{name: prefix + "README.txt", body: []byte("not an image")})
	}
	for i, n := range names {
		if i%lfwPerPerson == 0 {
			out = append(out, tarEntry{name: prefix + filepath.Dir(n) + "/", typ: tar.TypeDir})
		}
		out = append(out, tarEntry{name: prefix + n, body: files[i]})
	}
	return out
}

// TestLFWArchiveLoads: LFW's archive, in its three shapes (lfw.tgz,
// lfw-deepfunneled.tgz, an untarred-and-retarred plain tar without a top
// folder), loads every photograph with its person's label, the same pixels
// as the same JPEGs read from a folder, and an identity split keeps each
// person on one side.
func TestLFWArchiveLoads(t *testing.T) {
	names, files := lfwPhotos(t)
	dataDir := t.TempDir()
	// The same photographs as a folder: the reference for the pixels.
	folder := filepath.Join(dataDir, "people")
	for i, n := range names {
		p := filepath.Join(folder, n)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, files[i], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		file, top string
		gz        bool
	}{
		{"lfw.tgz", "lfw", true},
		{"lfw-deepfunneled.tgz", "lfw-deepfunneled", true},
		{"lfw.tar", "", false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			writeArchive(t, dataDir, tc.file, tc.gz, lfwEntries(tc.top, names, files))
			cfg := Config{Name: "lfw", Path: tc.file, TestFraction: 0.2, Seed: 3}.Resolved()
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			ds, err := Load(context.Background(), cfg, dataDir)
			if err != nil {
				t.Fatal(err)
			}
			if n := ds.Train.N + ds.Test.N; n != len(names) {
				t.Fatalf("%d images, want %d", n, len(names))
			}
			if ds.Train.Height != 64 || ds.Train.Width != 64 || ds.Train.Channels != 3 {
				t.Fatalf("images of %dx%dx%d, want the default 64x64x3", ds.Train.Height, ds.Train.Width, ds.Train.Channels)
			}
			if !strings.Contains(ds.Source, fmt.Sprintf("%d images, %d people", len(names), lfwPeople)) || !strings.Contains(ds.Source, "identity split") {
				t.Errorf("source %q does not count the images and people, or name the split", ds.Source)
			}
			perPerson := map[int]int{}
			for _, l := range append(slices.Clone(ds.TrainLabels), ds.TestLabels...) {
				perPerson[l]++
			}
			if len(perPerson) != lfwPeople {
				t.Fatalf("%d identities, want %d", len(perPerson), lfwPeople)
			}
			for l, n := range perPerson {
				if n != lfwPerPerson {
					t.Errorf("identity %d has %d photographs, want %d", l, n, lfwPerPerson)
				}
			}
			for _, l := range ds.TestLabels {
				if slices.Contains(ds.TrainLabels, l) {
					t.Fatalf("identity %d is in both train and test", l)
				}
			}
			if got := len(ds.TestLabels) / lfwPerPerson; got != 4 {
				t.Errorf("%d test people, want 4 (20%% of 20)", got)
			}
			ref, err := Load(context.Background(), Config{Name: "folder", Path: "people", Crop: cfg.Crop, Size: cfg.Size, Channels: cfg.Channels, TestFraction: 0.2, Seed: 3}, dataDir)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ds.Train.Values(), ref.Train.Values()) || !slices.Equal(ds.TestLabels, ref.TestLabels) {
				t.Fatal("the archive's images or labels differ from the same files read from a folder")
			}
		})
	}
}

// TestLFWDecodedCache: a second Loader maps the decoded copy the first one
// wrote instead of reading the archive again; a changed archive is decoded
// afresh.
func TestLFWDecodedCache(t *testing.T) {
	names, files := lfwPhotos(t)
	dataDir, cacheDir := t.TempDir(), t.TempDir()
	writeArchive(t, dataDir, LFWFile, true, lfwEntries("lfw", names, files))
	cfg := Config{Name: "lfw", Size: 32, Channels: 1, TestFraction: 0.1, Seed: 1}.Resolved()
	first := &Loader{DataDir: dataDir, CacheDir: cacheDir}
	a, err := first.Load(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	second := &Loader{DataDir: dataDir, CacheDir: cacheDir}
	b, err := second.Load(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if d, h := second.Stats(); d != 0 || h != 1 {
		t.Fatalf("second loader: %d decodes, %d cache hits; want 0, 1", d, h)
	}
	if !slices.Equal(a.Train.Values(), b.Train.Values()) || !slices.Equal(a.TrainLabels, b.TrainLabels) || a.Train.Channels != 1 || a.Train.Height != 32 {
		t.Fatal("the cached copy differs from the decoded one, or the settings were not applied")
	}
	writeArchive(t, dataDir, LFWFile, true, lfwEntries("lfw", names[:50], files[:50]))
	third := &Loader{DataDir: dataDir, CacheDir: cacheDir}
	c, err := third.Load(context.Background(), cfg)
	if d, _ := third.Stats(); err != nil || d != 1 || c.Train.N+c.Test.N != 50 {
		t.Fatalf("changed archive: %v, %d decodes; want it decoded again", err, d)
	}
}

// TestLFWRefusals: what is not LFW's layout, or not a plain image file, is
// refused with a message naming the member; what is not an image is skipped.
func TestLFWRefusals(t *testing.T) {
	names, files := lfwPhotos(t)
	good := lfwEntries("lfw", names[:10], files[:10])
	photo := files[0]
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		extra []tarEntry
		want  string
	}{
		{"symlink", []tarEntry{{name: "lfw/Person_01/Person_01_0099.jpg", typ: tar.TypeSymlink}}, "not a regular file"},
		{"parent folder", []tarEntry{{name: "../Person_01/Person_01_0099.jpg", body: photo}}, "not a plain relative path"},
		{"absolute", []tarEntry{{name: "/lfw/Person_01/Person_01_0099.jpg", body: photo}}, "not a plain relative path"},
		{"dot-dot inside", []tarEntry{{name: "lfw/../Person_01/x.jpg", body: photo}}, "not a plain relative path"},
		{"too deep", []tarEntry{{name: "lfw/a/b/c.jpg", body: photo}}, "not in LFW's layout"},
		{"second copy", []tarEntry{{name: "lfw-deepfunneled/Person_01/Person_01_0001.jpg", body: photo}}, "one archive holds one copy"},
		{"twice", []tarEntry{{name: "./lfw/Person_01/Person_01_0001.jpg", body: photo}}, "appears twice"},
		{"not a JPEG", []tarEntry{{name: "lfw/Person_01/Person_01_0099.jpg", body: []byte("text")}}, "Person_01_0099.jpg"},
		{"non-image link skipped", []tarEntry{{name: "lfw/latest", typ: tar.TypeSymlink}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := strings.ReplaceAll(tc.name, " ", "_") + ".tgz"
			writeArchive(t, dir, file, true, append(slices.Clone(good), tc.extra...))
			_, err := Load(context.Background(), Config{Name: "lfw", Path: file, Split: "random", TestFraction: 0.2, Seed: 1}.Resolved(), dir)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("%v, want it loaded", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("%v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestLFWOversizedMemberRefusedUnread: a member declaring more than the
// one-image limit is refused from its header, before a byte of it is read
// (the archive here ends right after the header).
func TestLFWOversizedMemberRefusedUnread(t *testing.T) {
	var b bytes.Buffer
	gw := gzip.NewWriter(&b)
	tw := tar.NewWriter(gw)
	tw.WriteHeader(&tar.Header{Name: "lfw/Big/Big_0001.jpg", Mode: 0o644, Size: maxImageFileBytes + 1, Typeflag: tar.TypeReg})
	gw.Close()
	p := filepath.Join(t.TempDir(), "big.tgz")
	os.WriteFile(p, b.Bytes(), 0o644)
	_, err := openTarSource(p, "")
	if err == nil || !strings.Contains(err.Error(), "limit for one image") {
		t.Fatalf("%v, want a refusal naming the limit", err)
	}
}

// TestLFWSettings: the settings LFW takes, its defaults and its checksum.
func TestLFWSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Config
		want string // "" when valid
	}{
		{"default file", Config{Name: "lfw"}, ""},
		{"deep funneled", Config{Name: "lfw", Path: "lfw-deepfunneled.tgz", Split: "identity"}, ""},
		{"grey 32", Config{Name: "lfw", Channels: 1, Size: 32, Crop: 120}, ""},
		{"crop past the photo", Config{Name: "lfw", Crop: 251}, "dataset.crop"},
		{"count", Config{Name: "lfw", Count: 10}, "dataset.count"},
		{"official", Config{Name: "lfw", Split: "official"}, "dataset.split"},
		{"url", Config{Name: "lfw", URL: "https://example.org/lfw.tgz"}, "dataset.url"},
	} {
		c := tc.c
		c.TestFraction = 0.1
		err := c.Resolved().Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if got := (Config{Name: "lfw"}).Resolved(); got.Crop != 150 || got.Size != 64 || got.Channels != 3 || got.split() != "identity" {
		t.Errorf("defaults %+v, split %s; want crop 150, 64x64 RGB, identity split", got, got.split())
	}
	if src, ok := Builtin("lfw"); !ok || src.File != LFWFile || src.MD5 != LFWMD5 {
		t.Errorf("built-in source %+v, want %s with md5 %s", src, LFWFile, LFWMD5)
	}

	// dataset.sha256 pins the archive's content.
	names, files := lfwPhotos(t)
	dir := t.TempDir()
	p := writeArchive(t, dir, "lfw.tgz", true, lfwEntries("lfw", names[:10], files[:10]))
	raw, _ := os.ReadFile(p)
	sum := sha256.Sum256(raw)
	for _, sha := range []string{hex.EncodeToString(sum[:]), strings.Repeat("0", 64)} {
		_, err := Load(context.Background(), Config{Name: "lfw", Path: "lfw.tgz", SHA256: sha, Split: "random", TestFraction: 0.2, Seed: 1}.Resolved(), dir)
		if wantOK := sha == hex.EncodeToString(sum[:]); wantOK != (err == nil) || !wantOK && !strings.Contains(err.Error(), "sha256") {
			t.Errorf("sha256 %s…: %v", sha[:8], err)
		}
	}

	// Missing, it says where to put it.
	_, err := Load(context.Background(), Config{Name: "lfw", TestFraction: 0.1}.Resolved(), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "lfw.tgz") || !strings.Contains(err.Error(), "dataset.path") {
		t.Errorf("missing archive: %v", err)
	}
}
