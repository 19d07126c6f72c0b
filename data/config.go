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
	// Name is a dataset of the table in dataset.go (Names lists them, and
	// each one's Doc says what it is and its defaults): synthetic faces, a
	// built-in dataset such as Frey or Olivetti, an npy file or a folder of
	// PNG, JPEG and PGM images (such as ORL).
	Name string `json:"name"`
	// Path is the dataset's file, folder or archive, for the datasets that
	// take one (their Doc says so), relative to the data directory unless
	// absolute.
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
	// the dataset's default, the first of the splits its Kind supports: block
	// for frey and synthetic, identity for olivetti and labelled folders,
	// official for celeba, random otherwise.
	Split string `json:"split,omitempty"`
	// Seed drives synthesis and the split. It is separate from the run seed so
	// that seeds of a sweep vary the model, not the data.
	Seed uint64 `json:"seed"`
}

// Resolved fills in the defaults that depend on the dataset (synthetic
// faces are 32×32 and 4000 unless set; see each Kind's resolve). Run configs
// are resolved before they are hashed, so a spec that names the defaults and
// one that omits them agree.
func (c Config) Resolved() Config {
	if r, ok := kindOf(c).(resolver); ok {
		return r.resolve(c)
	}
	return c
}

// Validate reports the first impossible value, naming its spec key: first
// the settings the dataset owns (its Kind's check), then those all share.
func (c Config) Validate() error {
	k, err := KindNamed(c.Name)
	if err != nil {
		return err
	}
	if err := k.check(c); err != nil {
		return err
	}
	if c.Channels != 0 && c.Channels != 1 && c.Channels != 3 {
		return fmt.Errorf("dataset.channels: %d must be 1 or 3", c.Channels)
	}
	if c.Crop < 0 || c.Crop > 8192 {
		return fmt.Errorf("dataset.crop: %d must be between 0 and 8192", c.Crop)
	}
	if _, takesURL := k.(urlTaker); c.URL != "" && (!takesURL || !strings.HasPrefix(c.URL, "http")) {
		return fmt.Errorf("dataset.url: only %s datasets take a url, and it must be http(s)", namesWith(func(k Kind) bool { _, ok := k.(urlTaker); return ok }))
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
		if !supports(k, "official") {
			return fmt.Errorf("dataset.split: official is CelebA's partition (list_eval_partition.txt); %s has none", c.Name)
		}
	default:
		return fmt.Errorf("dataset.split: %q is not one of random, block, identity, official", c.Split)
	}
	if c.Split == "identity" && !supports(k, "identity") {
		return fmt.Errorf("dataset.split: %s has no identity labels; use random or block", c.Name)
	}
	if c.Split != "" && !supports(k, c.Split) {
		return fmt.Errorf("dataset.split: %s does not support the %s split; use one of %s", c.Name, c.Split, strings.Join(k.splits(), ", "))
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
	if s, isSizer := kindOf(c).(splitSizer); isSizer {
		return s.splitSizes(c)
	}
	return 0, 0, false
}

// CheckMemory refuses, at plan time, a dataset known not to fit in
// MemoryLimit before it is made: synthetic faces, whose size the spec gives.
func (c Config) CheckMemory() error {
	if m, ok := kindOf(c).(memoryChecker); ok {
		return m.checkMemory(c)
	}
	return nil
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

// CheckPartition refuses, at plan time, what the dataset can tell is
// missing from the data directory before a single image is decoded
// (CelebA's official split without list_eval_partition.txt). A dataset that
// is not there at all is left to the loader's own message.
func (c Config) CheckPartition(dataDir string) error {
	if p, ok := kindOf(c).(planChecker); ok {
		return p.checkPlan(c, dataDir)
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

// path resolves the dataset's file or folder under dataDir.
func (c Config) path(dataDir string) string {
	if k := kindOf(c); k != nil {
		return k.path(c, dataDir)
	}
	return specPath(c, dataDir)
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
	if tc, ok := kindOf(c).(trainCounter); ok {
		return tc.trainCount(c)
	}
	return 0, fmt.Errorf("dataset %s: size unknown until loaded", c.Name)
}

// split is the split c uses, resolving "" to the dataset's default.
func (c Config) split() string {
	if c.Split != "" {
		return c.Split
	}
	if k := kindOf(c); k != nil {
		return k.splits()[0]
	}
	return "random"
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
