package data

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Olivetti faces (AT&T Laboratories Cambridge): 400 grayscale 64×64 faces of 40
// people, ten each; the same photographs as ORL/AT&T at a lower resolution.
const (
	OlivettiFile   = "olivetti/olivettifaces.mat"
	OlivettiSide   = 64
	OlivettiCount  = 400
	OlivettiSHA256 = "b1988d02c72fe5b8ee82b5ef3bb7982eafc74f1e1ff0ae0ade35061ad0af534d"
)

// LoadOlivetti decodes olivettifaces.mat: one zlib-compressed array "faces",
// class double stored as uint8, 4096 × 400. Image i is column i, itself stored
// column-major, so it is transposed here into upright row-major pixels. Values
// are scaled by /255 (they span 0..242). Labels are the subject, i/10. It also
// returns the file's sha256.
func LoadOlivetti(path string) (Images, []int, string, error) {
	b, err := ReadRegular(path, 0)
	if err != nil {
		return Images{}, nil, "", fmt.Errorf("load Olivetti: %w", err)
	}
	sum := sha256.Sum256(b)
	arr, err := readMatV5(b)
	if err != nil {
		return Images{}, nil, "", fmt.Errorf("load Olivetti %s: %w", path, err)
	}
	const side, d = OlivettiSide, OlivettiSide * OlivettiSide
	raw, err := matUint8Images(arr, d, OlivettiCount)
	if err != nil {
		return Images{}, nil, "", fmt.Errorf("load Olivetti %s: %w", path, err)
	}
	im := Images{N: OlivettiCount, Height: side, Width: side, Channels: 1, Pix: make([]float32, len(raw))}
	labels := make([]int, OlivettiCount)
	for i := range OlivettiCount {
		col := raw[i*d : (i+1)*d]
		dst := im.At(i)
		for x := range side { // column-major: element (y, x) at x*side + y
			for y := range side {
				dst[y*side+x] = float32(col[x*side+y]) / 255
			}
		}
		labels[i] = i / 10
	}
	return im, labels, hex.EncodeToString(sum[:]), nil
}

// olivettiSet is dataset.name olivetti. ORL (AT&T) holds the same
// photographs at 92×112; it is read as an image folder (dataset.name
// folder, path orl_att), never as a second dataset.
type olivettiSet struct{}

func (olivettiSet) Doc() string {
	return "Olivetti faces: 400 faces of 40 people, 64x64 grey (AT&T Laboratories Cambridge); identity split (whole people held out)"
}

func (olivettiSet) source() Source {
	return Source{File: OlivettiFile, URL: "https://ndownloader.figshare.com/files/5976027", SHA256: OlivettiSHA256, Size: 1_432_511,
		About: "Olivetti faces: 400 faces of 40 people, 64x64 grey (AT&T Laboratories Cambridge)"}
}

func (k olivettiSet) check(c Config) error { return checkFileSettings(c, k) }

func (olivettiSet) splits() []string { return []string{"identity", "random", "block"} }

func (k olivettiSet) path(_ Config, dataDir string) string { return builtinPath(k, dataDir) }

func (olivettiSet) decode(_ Config, path string) (*decodedSet, error) {
	im, labels, _, err := LoadOlivetti(path)
	return &decodedSet{Images: im, Labels: labels, Source: "olivettifaces.mat sha256=" + OlivettiSHA256}, err
}

// trainCount holds out whole people under the identity split: ten
// photographs each of 40.
func (olivettiSet) trainCount(c Config) (int, error) {
	if c.split() == "identity" {
		people, err := testCount(40, c.TestFraction)
		return (40 - people) * 10, err
	}
	return trainShare(OlivettiCount, c)
}
