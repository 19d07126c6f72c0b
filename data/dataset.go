package data

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// A Kind is one value of dataset.name: which settings it takes and their
// defaults, where its file or folder is, how it is decoded, which splits it
// supports (identity needs identity labels) and, for the datasets vaelab
// knows by file, their checksum and download address. Each lives in a file
// of its own (dataset_*.go) and is named by one line of kinds; no code
// outside its file compares a dataset's name.
//
// Besides the methods below, a Kind provides one way of loading: a
// generator (made from the settings, no file), an arrayFile (one small
// file decoded whole) or a collection (many image files, decoded on every
// core and streamed into the decoded-dataset cache).
type Kind interface {
	// Doc is one line for the docs: what the dataset is, and its defaults.
	Doc() string
	// check validates the settings the dataset owns (size, count, path,
	// crop), in errors naming the spec key. The settings every dataset
	// shares (channels, crop's range, url, sha256, test_fraction, split) are
	// checked by Config.Validate after it.
	check(c Config) error
	// splits are the splits it supports; the first is its default.
	splits() []string
	// path is its file or folder: dataset.path resolved under dataDir, or
	// its built-in file there.
	path(c Config, dataDir string) string
}

// kinds names every dataset for dataset.name.
func kinds() map[string]Kind {
	return map[string]Kind{
		"synthetic":  syntheticSet{},
		"frey":       freySet{},
		"olivetti":   olivettiSet{},
		"lfw-subset": lfwSubsetSet{},
		"npy":        npySet{},
		"folder":     folderSet{},
		"celeba":     celebaSet{},
		"lfw":        lfwSet{},
	}
}

// A generator is made from its settings, with no file to read (synthetic
// faces): the Loader asks it for the split dataset directly.
type generator interface {
	generate(l *Loader, c Config) (*Dataset, error)
}

// An arrayFile is one small file decoded whole, then preprocessed; its
// file's sha256 is checked first when one is expected.
type arrayFile interface {
	decode(c Config, path string) (*decodedSet, error)
}

// A collection is a dataset of image files.
type collection interface {
	// open lists its image files at path.
	open(c Config, path string) (imageSource, error)
	// meta is what it knows besides the pixels of the images called names:
	// identity labels, an official partition, and the description of its
	// source (the JPEG decoder is added to it).
	meta(c Config, names []string, path string) (labels, partition []int, source string, err error)
}

// A builtin is a dataset vaelab knows by file: its checksum, where it sits
// in the data directory and, when it can be, where to download it. Its
// Name is filled in from the table.
type builtin interface {
	source() Source
}

// A pathTaker takes dataset.path; required when it has no file of its own.
// Datasets that are not pathTakers refuse a path.
type pathTaker interface {
	pathRequired() bool
}

// A urlTaker may be downloaded from dataset.url on first use.
type urlTaker interface {
	takesURL()
}

// A resolver fills in the defaults that depend on the dataset.
type resolver interface {
	resolve(c Config) Config
}

// A trainCounter knows its training images' count without loading them.
type trainCounter interface {
	trainCount(c Config) (int, error)
}

// A splitSizer knows both split sizes from the spec alone.
type splitSizer interface {
	splitSizes(c Config) (train, test int, ok bool)
}

// A memoryChecker can tell at plan time whether it will fit in memory.
type memoryChecker interface {
	checkMemory(c Config) error
}

// A planChecker has something to check in the data directory before any
// image is decoded (CelebA's partition file).
type planChecker interface {
	checkPlan(c Config, dataDir string) error
}

// A hinter says how to get the dataset when it is missing.
type hinter interface {
	missingHint() string
}

// KindNamed returns the dataset called name.
func KindNamed(name string) (Kind, error) {
	k, ok := kinds()[name]
	if !ok {
		return nil, fmt.Errorf("dataset.name: unknown dataset %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return k, nil
}

// Names lists the datasets' names, sorted.
func Names() []string {
	var names []string
	for name := range kinds() {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Generated reports whether the dataset called name is made by vaelab from
// its settings alone, with no file to fetch or read.
func Generated(name string) bool {
	_, ok := kinds()[name].(generator)
	return ok
}

// kindOf is c's dataset, nil when its name is unknown.
func kindOf(c Config) Kind { return kinds()[c.Name] }

// namesWith lists, sorted, the datasets for which has holds, as "a, b and c".
func namesWith(has func(Kind) bool) string {
	var out []string
	for _, name := range Names() {
		if has(kinds()[name]) {
			out = append(out, name)
		}
	}
	if len(out) < 2 {
		return strings.Join(out, "")
	}
	return strings.Join(out[:len(out)-1], ", ") + " and " + out[len(out)-1]
}

// specPath resolves dataset.path: relative to the data directory unless
// absolute.
func specPath(c Config, dataDir string) string {
	if filepath.IsAbs(c.Path) {
		return c.Path
	}
	return filepath.Join(dataDir, c.Path)
}

// builtinPath is a built-in dataset's file under dataDir.
func builtinPath(k Kind, dataDir string) string {
	return filepath.Join(dataDir, k.(builtin).source().File)
}

// checkFileSettings checks the settings of a dataset read from files: no
// count, a path only where the dataset takes one (and where it needs one),
// a size to resize to within reason.
func checkFileSettings(c Config, k Kind) error {
	if c.Count != 0 {
		return fmt.Errorf("dataset.count: only synthetic faces take a count")
	}
	pt, takesPath := k.(pathTaker)
	if takesPath && pt.pathRequired() && c.Path == "" || !takesPath && c.Path != "" {
		required := func(k Kind) bool { pt, ok := k.(pathTaker); return ok && pt.pathRequired() }
		optional := func(k Kind) bool { pt, ok := k.(pathTaker); return ok && !pt.pathRequired() }
		return fmt.Errorf("dataset.path: %s datasets need a path, %s may take one, and no other dataset does", namesWith(required), namesWith(optional))
	}
	if c.Size != 0 && (c.Size < 4 || c.Size > 1024) {
		return fmt.Errorf("dataset.size: %d must be 0 (keep) or between 4 and 1024", c.Size)
	}
	return nil
}

// supports reports whether k supports the split called split.
func supports(k Kind, split string) bool { return slices.Contains(k.splits(), split) }

// trainShare is the training images of n once test_fraction is held out.
func trainShare(n int, c Config) (int, error) {
	nTest, err := testCount(n, c.TestFraction)
	return n - nTest, err
}
