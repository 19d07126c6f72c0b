package data

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Config selects and prepares a dataset. It is part of every run's resolved
// config, so a field's meaning must never change; new fields need a zero value
// that keeps the old behaviour.
type Config struct {
	// Name is "synthetic" (built in, no download) or "frey".
	Name string `json:"name"`
	// Size is the side of the synthetic faces in pixels.
	Size int `json:"size,omitempty"`
	// Count is the number of synthetic faces.
	Count int `json:"count,omitempty"`
	// TestFraction is the share of images held out for evaluation.
	TestFraction float64 `json:"test_fraction"`
	// Seed drives synthesis and the train/test split. It is separate from the run
	// seed so that seeds of a sweep vary the model, not the data.
	Seed uint64 `json:"seed"`
}

// DefaultConfig is the built-in dataset: 4000 synthetic 32×32 faces.
func DefaultConfig() Config {
	return Config{Name: "synthetic", Size: 32, Count: 4000, TestFraction: 0.1, Seed: 1}
}

// Validate reports the first impossible value, naming its spec key.
func (c Config) Validate() error {
	switch c.Name {
	case "synthetic":
		if c.Size < 8 || c.Size > 512 {
			return fmt.Errorf("dataset.size: %d must be between 8 and 512", c.Size)
		}
		if c.Count < 2 {
			return fmt.Errorf("dataset.count: %d must be at least 2", c.Count)
		}
	case "frey":
	default:
		return fmt.Errorf("dataset.name: unknown dataset %q (known: synthetic, frey)", c.Name)
	}
	if !(c.TestFraction > 0 && c.TestFraction < 1) {
		return fmt.Errorf("dataset.test_fraction: %v must be strictly between 0 and 1", c.TestFraction)
	}
	return nil
}

// ErrMissing marks a dataset whose files are not in the data directory.
var ErrMissing = errors.New("dataset not found")

// Load builds the dataset c describes. dataDir is where downloaded datasets live
// (it holds frey/frey_rawface.mat); synthetic faces need none.
func Load(ctx context.Context, c Config, dataDir string) (*Dataset, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch c.Name {
	case "synthetic":
		return loadSynthetic(c)
	case "frey":
		return loadFrey(c, dataDir)
	}
	return nil, fmt.Errorf("dataset %q: no loader", c.Name)
}

func loadSynthetic(c Config) (*Dataset, error) {
	im, f, err := Synthetic(c.Count, c.Size, c.Seed)
	if err != nil {
		return nil, err
	}
	nTest, err := testCount(im.N, c.TestFraction)
	if err != nil {
		return nil, fmt.Errorf("dataset.test_fraction: %w", err)
	}
	// Synthetic faces are independent draws, so any split is fair; the first block is as
	// good as a random one and keeps the test set fixed when only count grows.
	train, test := BlockSplit(im.N, nTest)
	return &Dataset{
		Name:  "synthetic",
		Train: im.Subset(train), Test: im.Subset(test),
		TrainFactors: f.subset(train), TestFactors: f.subset(test),
		Source: fmt.Sprintf("%s size=%d count=%d seed=%d", SyntheticVersion, c.Size, c.Count, c.Seed),
	}, nil
}

func loadFrey(c Config, dataDir string) (*Dataset, error) {
	path := filepath.Join(dataDir, FreyFile)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%w: Frey Face expected at %s (set data_dir, flag --data-dir or VAELAB_DATA_DIR, to the folder holding frey/): %v",
			ErrMissing, path, err)
	}
	im, sum, err := LoadFrey(path)
	if err != nil {
		return nil, err
	}
	if sum != FreySHA256 {
		return nil, fmt.Errorf("load Frey Face %s: sha256 %s, want %s: the file is not the canonical frey_rawface.mat", path, sum, FreySHA256)
	}
	nTest, err := testCount(im.N, c.TestFraction)
	if err != nil {
		return nil, fmt.Errorf("dataset.test_fraction: %w", err)
	}
	train, test := BlockSplit(im.N, nTest)
	return &Dataset{
		Name:  "frey",
		Train: im.Subset(train), Test: im.Subset(test),
		Source: "frey_rawface.mat sha256=" + sum + fmt.Sprintf(" test=last %d frames", nTest),
	}, nil
}

// TrainCount is the number of training images c yields, without loading them.
func (c Config) TrainCount() (int, error) {
	if err := c.Validate(); err != nil {
		return 0, err
	}
	n := c.Count
	if c.Name == "frey" {
		n = FreyCount
	}
	nTest, err := testCount(n, c.TestFraction)
	return n - nTest, err
}
