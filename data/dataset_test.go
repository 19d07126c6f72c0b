package data

import (
	"slices"
	"strings"
	"testing"
)

// TestEveryKindIsComplete: each dataset of the table documents itself in one
// line, supports known splits, has exactly one way of being loaded, and a
// built-in one has a file and a checksum (data ls and data verify need them).
func TestEveryKindIsComplete(t *testing.T) {
	known := []string{"random", "block", "identity", "official"}
	for _, name := range Names() {
		k, err := KindNamed(name)
		if err != nil {
			t.Fatal(err)
		}
		if doc := k.Doc(); doc == "" || strings.Contains(doc, "\n") {
			t.Errorf("%s: Doc %q is not one line", name, doc)
		}
		if len(k.splits()) == 0 {
			t.Errorf("%s: no splits", name)
		}
		for _, s := range k.splits() {
			if !slices.Contains(known, s) {
				t.Errorf("%s: split %q is not one of %v", name, s, known)
			}
		}
		ways := 0
		for _, is := range []bool{is[generator](k), is[arrayFile](k), is[collection](k)} {
			if is {
				ways++
			}
		}
		if ways != 1 {
			t.Errorf("%s: %d ways of loading, want exactly one of generator, arrayFile, collection", name, ways)
		}
		if src, ok := Builtin(name); ok && (src.File == "" || src.SHA256 == "" && src.MD5 == "" || src.Name != name) {
			t.Errorf("%s: built-in source %+v lacks its file, a checksum or its name", name, src)
		}
	}
	if err := DefaultConfig().Resolved().Validate(); err != nil {
		t.Errorf("the default dataset is invalid: %v", err)
	}
}

func is[T any](k Kind) bool { _, ok := k.(T); return ok }

// TestValidateNamesTheKey: each refusal names the spec key to change.
func TestValidateNamesTheKey(t *testing.T) {
	ok := func(c Config) Config { c.TestFraction, c.Seed = 0.1, 1; return c.Resolved() }
	for _, tc := range []struct {
		name string
		c    Config
		want string // "" when valid
	}{
		{"synthetic defaults", ok(Config{Name: "synthetic"}), ""},
		{"unknown name", ok(Config{Name: "mnist"}), `dataset.name: unknown dataset "mnist" (known: `},
		{"synthetic too small", ok(Config{Name: "synthetic", Size: 4}), "dataset.size"},
		{"synthetic path", ok(Config{Name: "synthetic", Path: "x"}), "take no channels, crop, path or url"},
		{"frey with count", ok(Config{Name: "frey", Count: 3}), "dataset.count"},
		{"frey with path", ok(Config{Name: "frey", Path: "x.mat"}), "dataset.path"},
		{"npy without path", ok(Config{Name: "npy"}), "dataset.path"},
		{"folder without path", ok(Config{Name: "folder"}), "dataset.path"},
		{"celeba without path", ok(Config{Name: "celeba"}), ""},
		{"olivetti huge size", ok(Config{Name: "olivetti", Size: 2048}), "dataset.size"},
		{"url on frey", ok(Config{Name: "frey", URL: "https://x"}), "dataset.url"},
		{"npy url without sha", ok(Config{Name: "npy", Path: "a.npy", URL: "https://x"}), "dataset.sha256"},
		{"official on olivetti", ok(Config{Name: "olivetti", Split: "official"}), "dataset.split: official is CelebA's partition"},
		{"identity on frey", ok(Config{Name: "frey", Split: "identity"}), "dataset.split: frey has no identity labels"},
		{"identity on celeba", ok(Config{Name: "celeba", Split: "identity"}), "has no identity labels"},
		{"identity on folder", ok(Config{Name: "folder", Path: "orl", Split: "identity"}), ""},
		{"official on celeba", ok(Config{Name: "celeba", Split: "official"}), ""},
		{"bad split", ok(Config{Name: "frey", Split: "odd"}), "dataset.split"},
		{"bad channels", ok(Config{Name: "olivetti", Channels: 2}), "dataset.channels"},
	} {
		err := tc.c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v, want valid", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

// TestResolvedDefaults: the defaults a dataset fills in are part of every
// run id, so they are pinned here; datasets without defaults are unchanged.
func TestResolvedDefaults(t *testing.T) {
	for _, tc := range []struct {
		in, want Config
	}{
		{Config{Name: "synthetic"}, Config{Name: "synthetic", Size: 32, Count: 4000}},
		{Config{Name: "synthetic", Size: 16, Count: 10}, Config{Name: "synthetic", Size: 16, Count: 10}},
		{Config{Name: "celeba"}, Config{Name: "celeba", Crop: 148, Channels: 3, Size: 64}},
		{Config{Name: "celeba", Crop: 140, Channels: 1, Size: 32}, Config{Name: "celeba", Crop: 140, Channels: 1, Size: 32}},
		{Config{Name: "frey"}, Config{Name: "frey"}},
		{Config{Name: "olivetti"}, Config{Name: "olivetti"}},
		{Config{Name: "folder", Path: "orl_att"}, Config{Name: "folder", Path: "orl_att"}},
		{Config{Name: "npy", Path: "a.npy"}, Config{Name: "npy", Path: "a.npy"}},
		{Config{Name: "unknown"}, Config{Name: "unknown"}},
	} {
		if got := tc.in.Resolved(); got != tc.want {
			t.Errorf("%+v resolved to %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// TestDefaultSplitsAndCounts: the split "" picks and the training count
// known without loading.
func TestDefaultSplitsAndCounts(t *testing.T) {
	for _, tc := range []struct {
		c     Config
		split string
		train int // -1: unknown until loaded
	}{
		{Config{Name: "synthetic", Count: 100, Size: 32}, "block", 90},
		{Config{Name: "frey"}, "block", 1768},
		{Config{Name: "olivetti"}, "identity", 360},
		{Config{Name: "olivetti", Split: "random"}, "random", 360},
		{Config{Name: "lfw-subset"}, "random", 90},
		{Config{Name: "npy", Path: "a.npy"}, "random", -1},
		{Config{Name: "folder", Path: "orl_att"}, "identity", -1},
		{Config{Name: "celeba"}, "official", -1},
	} {
		c := tc.c
		c.TestFraction, c.Seed = 0.1, 1
		if got := c.split(); got != tc.split {
			t.Errorf("%s: default split %s, want %s", c.Name, got, tc.split)
		}
		n, err := c.TrainCount()
		if tc.train < 0 && err == nil || tc.train >= 0 && (err != nil || n != tc.train) {
			t.Errorf("%s: TrainCount %d, %v; want %d", c.Name, n, err, tc.train)
		}
	}
}
