package data

import (
	"fmt"
)

// folderSet is dataset.name folder: the PNG, JPEG and PGM images under
// dataset.path (a folder, or a zip read without extracting), labelled by
// person when they sit in one folder per person (ORL's s1..s40).
type folderSet struct{}

func (folderSet) Doc() string {
	return "a folder (or .zip) of PNG, JPEG and PGM images at dataset.path, such as ORL; identity labels from one subfolder per person; identity split (needs those subfolders; else use random)"
}

func (k folderSet) check(c Config) error { return checkFileSettings(c, k) }

func (folderSet) pathRequired() bool { return true }

// Identity is the default: a folder of people (ORL) is the common case, and
// splitSet names the remedy when the images are not in one folder each.
func (folderSet) splits() []string { return []string{"identity", "random", "block"} }

func (folderSet) path(c Config, dataDir string) string { return specPath(c, dataDir) }

func (folderSet) open(c Config, p string) (imageSource, error) { return openImageSource(c, p) }

// meta labels each image by its first folder below the root.
func (folderSet) meta(c Config, names []string, _ string) (labels, partition []int, source string, err error) {
	labels, labelNames := folderLabels(names)
	return labels, nil, fmt.Sprintf("%s %s (%d images, %d labels)", c.Name, c.Path, len(names), len(labelNames)), nil
}
