package data

import (
	"bufio"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// CelebA's files: the aligned-faces zip as its authors distribute it (read
// without extracting), the folder it extracts to, and its md5.
const (
	CelebAZip    = "celeba/img_align_celeba.zip"
	CelebAFolder = "celeba/img_align_celeba"
	CelebAMD5    = "00d2c5bc6d35e252742224ab0c1e8fcb"
)

// celebaSet is dataset.name celeba: CelebA's aligned faces, from its zip
// or the folder it extracts to (or dataset.path), with its official
// partition when list_eval_partition.txt sits beside them.
type celebaSet struct{}

func (celebaSet) Doc() string {
	return "CelebA: 202,599 aligned celebrity faces, 178x218 RGB (Liu et al. 2015), from img_align_celeba.zip or its extracted folder; centre crop 148, RGB, 64x64 unless set; official split (list_eval_partition.txt)"
}

func (celebaSet) source() Source {
	return Source{File: CelebAZip, Folder: CelebAFolder, MD5: CelebAMD5, Size: 1_443_490_838,
		About: "CelebA: 202,599 aligned celebrity faces, 178x218 RGB (Liu et al. 2015); put img_align_celeba.zip (or the extracted img_align_celeba/) and list_eval_partition.txt in DATA_DIR/celeba"}
}

// resolve applies the usual protocol: center crop 148, RGB, 64×64.
func (celebaSet) resolve(c Config) Config { return photoDefaults(c, 148) }

// photoDefaults fills the settings a face photograph dataset leaves out:
// a centre crop of crop pixels, RGB, resized to 64×64.
func photoDefaults(c Config, crop int) Config {
	if c.Crop == 0 {
		c.Crop = crop
	}
	if c.Channels == 0 {
		c.Channels = 3
	}
	if c.Size == 0 {
		c.Size = 64
	}
	return c
}

func (k celebaSet) check(c Config) error { return checkFileSettings(c, k) }

// pathRequired is false: without a path, CelebA is its zip (or folder) in
// the data directory.
func (celebaSet) pathRequired() bool { return false }

// CelebA has no identity labels in its image files (they sit in a
// separate identity file vaelab does not read).
func (celebaSet) splits() []string { return []string{"official", "random", "block"} }

// path is dataset.path, else the zip, or, where only that is there, the
// folder it extracts to.
func (celebaSet) path(c Config, dataDir string) string {
	if c.Path != "" {
		return specPath(c, dataDir)
	}
	zip := filepath.Join(dataDir, CelebAZip)
	if _, err := os.Stat(zip); err != nil {
		if folder := filepath.Join(dataDir, CelebAFolder); isDir(folder) {
			return folder
		}
	}
	return zip
}

func (celebaSet) missingHint() string {
	return "download img_align_celeba.zip and list_eval_partition.txt from the CelebA site into DATA_DIR/celeba (the zip is read as it is; an extracted img_align_celeba/ works too)"
}

func (celebaSet) open(c Config, p string) (imageSource, error) { return openImageSource(c, p) }

// meta reads the official partition from beside the images, when it is there.
func (celebaSet) meta(c Config, names []string, p string) (labels, partition []int, source string, err error) {
	if partition, err = readPartition(filepath.Join(filepath.Dir(p), partitionFile), names); err != nil {
		return nil, nil, "", err
	}
	source = fmt.Sprintf("celeba %s (%d images)", filepath.Base(p), len(names))
	if partition != nil {
		source += ", official partition from " + partitionFile
	}
	return nil, partition, source, nil
}

// checkPlan refuses CelebA's official split when its images are there but
// list_eval_partition.txt is not beside them: said before a single image
// is decoded (decoding 200,000 JPEGs takes minutes), at plan time too. A
// dataset that is not there at all is left to the loader's own message.
func (k celebaSet) checkPlan(c Config, dataDir string) error {
	if c.split() != "official" {
		return nil
	}
	images := k.path(c, dataDir)
	if _, err := os.Stat(images); err != nil {
		return nil
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(images), partitionFile)); err != nil {
		return fmt.Errorf("dataset.split: official needs CelebA's %s beside %s (%v); put it there, or use split: random", partitionFile, images, err)
	}
	return nil
}

// partitionFile is CelebA's official split, beside its zip or folder.
const partitionFile = "list_eval_partition.txt"

// readPartition reads "000001.jpg 0" lines (0 train, 1 validation, 2
// test) for the named images; without the file, nil. An image it does not
// list is an error naming it.
func readPartition(file string, names []string) ([]int, error) {
	f, err := os.Open(file)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	part := map[string]int{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 || len(fields[1]) != 1 || fields[1][0] < '0' || fields[1][0] > '2' {
			return nil, fmt.Errorf("%s:%d: %q is not \"IMAGE 0|1|2\"", file, line, sc.Text())
		}
		part[fields[0]] = int(fields[1][0] - '0')
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	out := make([]int, len(names))
	for i, n := range names {
		p, ok := part[path.Base(n)]
		if !ok {
			return nil, fmt.Errorf("%s does not list %s", file, n)
		}
		out[i] = p
	}
	return out, nil
}
