package data

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Config selects and prepares a dataset. It is part of every run's resolved
// config, so a field's meaning must never change; new fields need omitempty and
// a zero value that keeps the old behaviour.
type Config struct {
	// Name is "synthetic" (built in, no download), a built-in dataset ("frey",
	// "olivetti", "lfw-subset", "celeba": its zip or folder, crop 148, RGB,
	// 64×64 unless set), "npy" (a NumPy array file) or "folder" (a folder of
	// PNG, JPEG and PGM images, such as ORL).
	Name string `json:"name"`
	// Path is the npy file or image folder, relative to the data directory
	// unless absolute.
	Path string `json:"path,omitempty"`
	// URL and SHA256 let an npy dataset be downloaded on first use; SHA256 alone
	// pins the file's content.
	URL    string `json:"url,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	// Size is the side of the synthetic faces; for other datasets the side the
	// images are resized to (0 keeps their size).
	Size int `json:"size,omitempty"`
	// Count is the number of synthetic faces.
	Count int `json:"count,omitempty"`
	// Channels is 1 (grayscale) or 3 (RGB); 0 keeps the dataset's own.
	Channels int `json:"channels,omitempty"`
	// Crop is the side of a center square crop taken before resizing (CelebA is
	// usually cropped to 140 or 148); 0 for none.
	Crop int `json:"crop,omitempty"`
	// TestFraction is the share of images (or of identities) held out.
	TestFraction float64 `json:"test_fraction"`
	// Split is "random", "block" (the last images, for video-like data),
	// "identity" (whole people held out; needs labels) or "official"
	// (CelebA's list_eval_partition.txt: its train partition to train, its
	// test partition to test; the validation partition is left out). "" picks
	// the dataset's default: block for frey and synthetic, identity for
	// olivetti and labelled folders, official for celeba, random otherwise.
	Split string `json:"split,omitempty"`
	// Seed drives synthesis and the split. It is separate from the run seed so
	// that seeds of a sweep vary the model, not the data.
	Seed uint64 `json:"seed"`
}

// DefaultConfig is the built-in dataset: synthetic faces (4000 of 32×32 once
// resolved).
func DefaultConfig() Config {
	return Config{Name: "synthetic", TestFraction: 0.1, Seed: 1}
}

// Resolved fills in the defaults that depend on the dataset: synthetic faces
// are 32×32 and 4000 unless set. Run configs are resolved before they are
// hashed, so a spec that names the defaults and one that omits them agree.
func (c Config) Resolved() Config {
	if c.Name == "celeba" { // the usual protocol: center crop 148, RGB, 64×64
		if c.Crop == 0 {
			c.Crop = 148
		}
		if c.Channels == 0 {
			c.Channels = 3
		}
		if c.Size == 0 {
			c.Size = 64
		}
	}
	if c.Name == "synthetic" {
		if c.Size == 0 {
			c.Size = 32
		}
		if c.Count == 0 {
			c.Count = 4000
		}
	}
	return c
}

// Validate reports the first impossible value, naming its spec key.
func (c Config) Validate() error {
	_, builtin := Builtin(c.Name)
	switch {
	case c.Name == "synthetic":
		if c.Size < 8 || c.Size > 512 {
			return fmt.Errorf("dataset.size: %d must be between 8 and 512", c.Size)
		}
		if c.Count < 2 || c.Count > 10_000_000 {
			return fmt.Errorf("dataset.count: %d must be between 2 and 10000000", c.Count)
		}
		if c.Channels > 1 || c.Crop != 0 || c.Path != "" || c.URL != "" {
			return fmt.Errorf("dataset: synthetic faces are grayscale and take no channels, crop, path or url")
		}
	case builtin || c.Name == "npy" || c.Name == "folder":
		if c.Count != 0 {
			return fmt.Errorf("dataset.count: only synthetic faces take a count")
		}
		if (c.Name == "npy" || c.Name == "folder") && c.Path == "" || builtin && c.Name != "celeba" && c.Path != "" {
			return fmt.Errorf("dataset.path: npy and folder datasets need a path, and only they and celeba take one")
		}
		if c.Size != 0 && (c.Size < 4 || c.Size > 1024) {
			return fmt.Errorf("dataset.size: %d must be 0 (keep) or between 4 and 1024", c.Size)
		}
	default:
		return fmt.Errorf("dataset.name: unknown dataset %q (known: synthetic, frey, olivetti, lfw-subset, celeba, npy, folder)", c.Name)
	}
	if c.Channels != 0 && c.Channels != 1 && c.Channels != 3 {
		return fmt.Errorf("dataset.channels: %d must be 1 or 3", c.Channels)
	}
	if c.Crop < 0 || c.Crop > 8192 {
		return fmt.Errorf("dataset.crop: %d must be between 0 and 8192", c.Crop)
	}
	if c.URL != "" && (c.Name != "npy" || !strings.HasPrefix(c.URL, "http")) {
		return fmt.Errorf("dataset.url: only npy datasets take a url, and it must be http(s)")
	}
	if c.SHA256 != "" && !isHex64(c.SHA256) {
		return fmt.Errorf("dataset.sha256: %q is not 64 hexadecimal digits", c.SHA256)
	}
	if c.URL != "" && c.SHA256 == "" {
		return fmt.Errorf("dataset.sha256: a download (dataset.url) needs the file's sha256")
	}
	if !(c.TestFraction > 0 && c.TestFraction < 1) {
		return fmt.Errorf("dataset.test_fraction: %v must be strictly between 0 and 1", c.TestFraction)
	}
	switch c.Split {
	case "", "random", "block", "identity":
	case "official":
		if c.Name != "celeba" {
			return fmt.Errorf("dataset.split: official is CelebA's partition (list_eval_partition.txt); %s has none", c.Name)
		}
	default:
		return fmt.Errorf("dataset.split: %q is not one of random, block, identity, official", c.Split)
	}
	if c.Split == "identity" && (c.Name == "synthetic" || c.Name == "frey" || c.Name == "npy" || c.Name == "lfw-subset" || c.Name == "celeba") {
		return fmt.Errorf("dataset.split: %s has no identity labels; use random or block", c.Name)
	}
	return nil
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// prep is the preprocessing c asks for.
func (c Config) prep() Prep { return Prep{Channels: c.Channels, Crop: c.Crop, Size: c.Size} }

// SplitSizes are the train and test image counts, when the spec alone fixes
// them (synthetic faces); ok is false for datasets known only once read.
func (c Config) SplitSizes() (train, test int, ok bool) {
	if c.Name != "synthetic" {
		return 0, 0, false
	}
	test, err := testCount(c.Count, c.TestFraction)
	if err != nil {
		return 0, 0, false
	}
	return c.Count - test, test, true
}

// CheckMemory refuses, at plan time, a dataset known not to fit in
// MemoryLimit before it is made: synthetic faces, whose size the spec gives.
func (c Config) CheckMemory() error {
	if c.Name != "synthetic" {
		return nil
	}
	return CheckFits(syntheticBytes(c.Count, c.Size), fmt.Sprintf("dataset: %d synthetic faces of %dx%d", c.Count, c.Size, c.Size), "lower dataset.count or dataset.size")
}

// CheckPath refuses, before anything is written, a dataset path that would
// make vaelab write outside the data directory. A download (dataset.url) is
// saved inside it, so its path must be relative and stay inside (no "..",
// not absolute, no symlinked folder leading out). A path outside the data
// directory is only ever read, so it must name a file or folder that exists;
// so must one inside it that no url downloads.
func (c Config) CheckPath(dataDir string) error {
	if c.Path == "" {
		return nil
	}
	inside := filepath.IsLocal(c.Path)
	if c.URL != "" {
		if !inside {
			return fmt.Errorf("dataset.path: %q is outside the data directory; a downloaded dataset (dataset.url) is saved inside it, so give a path relative to it, such as %q", c.Path, filepath.Base(c.Path))
		}
		return checkNoSymlinkOut(dataDir, c.Path)
	}
	if !inside {
		if _, err := os.Stat(c.path(dataDir)); err != nil {
			return fmt.Errorf("dataset.path: %q is outside the data directory and cannot be read (%v); such a path is only read, so it must exist", c.Path, err)
		}
		return nil
	}
	// Without a url nothing would ever put it there: every run would fail.
	if _, err := os.Stat(c.path(dataDir)); err != nil {
		return fmt.Errorf("dataset.path: %q is not in the data directory %s (%v); put the dataset there, point --data-dir at the folder that holds it, or give dataset.url to download it", c.Path, dataDir, err)
	}
	return nil
}

// CheckPartition refuses CelebA's official split when its images are there
// but list_eval_partition.txt is not beside them: said before a single image
// is decoded (decoding 200,000 JPEGs takes minutes), at plan time too. A
// dataset that is not there at all is left to the loader's own message.
func (c Config) CheckPartition(dataDir string) error {
	if c.Name != "celeba" || c.split() != "official" {
		return nil
	}
	images := c.path(dataDir)
	if _, err := os.Stat(images); err != nil {
		return nil
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(images), partitionFile)); err != nil {
		return fmt.Errorf("dataset.split: official needs CelebA's %s beside %s (%v); put it there, or use split: random", partitionFile, images, err)
	}
	return nil
}

// checkNoSymlinkOut fails when a folder on the way from dataDir to rel that
// exists already resolves (through symlinks) to a place outside dataDir.
func checkNoSymlinkOut(dataDir, rel string) error {
	root, err := filepath.EvalSymlinks(dataDir)
	if err != nil {
		return nil // no data directory yet: nothing on the way can lead out
	}
	dir := filepath.Dir(filepath.Join(dataDir, rel))
	for ; ; dir = filepath.Dir(dir) {
		real, err := filepath.EvalSymlinks(dir)
		if err != nil {
			continue // not made yet; look at its parent
		}
		if r, err := filepath.Rel(root, real); err != nil || !filepath.IsLocal(r) && r != "." {
			return fmt.Errorf("dataset.path: %q leads out of the data directory through a symlinked folder (%s); a download is saved only inside the data directory", rel, real)
		}
		return nil
	}
}

// path resolves the dataset's file or folder under dataDir. CelebA is its
// zip, or, where only that is there, the folder it extracts to.
func (c Config) path(dataDir string) string {
	if c.Name == "celeba" {
		if c.Path != "" {
			return Config{Name: "folder", Path: c.Path}.path(dataDir)
		}
		zip := filepath.Join(dataDir, CelebAZip)
		if _, err := os.Stat(zip); err != nil {
			if folder := filepath.Join(dataDir, CelebAFolder); isDir(folder) {
				return folder
			}
		}
		return zip
	}
	if src, ok := Builtin(c.Name); ok {
		return filepath.Join(dataDir, src.File)
	}
	if filepath.IsAbs(c.Path) {
		return c.Path
	}
	return filepath.Join(dataDir, c.Path)
}

// ErrMissing marks a dataset whose files are not in the data directory.
var ErrMissing = errors.New("dataset not found")

// Load builds the dataset c describes, with no decoded-dataset cache. dataDir
// holds the dataset files (frey/frey_rawface.mat, ...).
func Load(ctx context.Context, c Config, dataDir string) (*Dataset, error) {
	return (&Loader{DataDir: dataDir}).Load(ctx, c)
}

// TrainCount is the number of training images c yields, when it is known
// without loading them (synthetic faces and the built-in sets).
func (c Config) TrainCount() (int, error) {
	if err := c.Validate(); err != nil {
		return 0, err
	}
	n := map[string]int{"synthetic": c.Count, "frey": FreyCount, "olivetti": OlivettiCount, "lfw-subset": lfwSubsetFaces}[c.Name]
	if n == 0 {
		return 0, fmt.Errorf("dataset %s: size unknown until loaded", c.Name)
	}
	if c.Name == "olivetti" && c.split() == "identity" {
		people, err := testCount(40, c.TestFraction)
		return (40 - people) * 10, err
	}
	nTest, err := testCount(n, c.TestFraction)
	return n - nTest, err
}

// split is the split c uses, resolving "" to the dataset's default.
func (c Config) split() string {
	if c.Split != "" {
		return c.Split
	}
	switch c.Name {
	case "synthetic", "frey":
		return "block"
	case "olivetti", "folder":
		return "identity"
	case "celeba":
		return "official"
	}
	return "random"
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
