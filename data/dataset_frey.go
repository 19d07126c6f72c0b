package data

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Frey Face: 1965 grayscale frames of one face, 28 rows × 20 columns, from a video.
const (
	FreyFile   = "frey/frey_rawface.mat"
	FreyHeight = 28
	FreyWidth  = 20
	FreyCount  = 1965
	// FreySHA256 is the checksum of the canonical frey_rawface.mat.
	FreySHA256 = "265a83a23adb081755cd3de375509828e690324d1d60f076b8ecebc840d59c64"
)

// LoadFrey decodes frey_rawface.mat: a uint8 array "ff" of 560 × 1965, one image
// per column, each image stored row-major (28 rows of 20). Values are scaled to
// [0, 1] by /255. It also returns the file's sha256.
func LoadFrey(path string) (Images, string, error) {
	b, err := ReadRegular(path, 0)
	if err != nil {
		return Images{}, "", fmt.Errorf("load Frey Face: %w", err)
	}
	sum := sha256.Sum256(b)
	arr, err := readMatV5(b)
	if err != nil {
		return Images{}, "", fmt.Errorf("load Frey Face %s: %w", path, err)
	}
	raw, err := matUint8Images(arr, FreyHeight*FreyWidth, FreyCount)
	if err == nil && arr.Class != mxUINT8 {
		err = fmt.Errorf("array %q has class %d, want uint8 (%d)", arr.Name, arr.Class, mxUINT8)
	}
	if err != nil {
		return Images{}, "", fmt.Errorf("load Frey Face %s: %w", path, err)
	}
	// Each column is one image, already row-major (28 rows of 20).
	im := Images{N: FreyCount, Height: FreyHeight, Width: FreyWidth, Channels: 1, Pix: bytesToUnit(raw)}
	return im, hex.EncodeToString(sum[:]), nil
}

// bytesToUnit scales 8-bit values to [0, 1].
func bytesToUnit(b []byte) []float32 {
	out := make([]float32, len(b))
	for i, v := range b {
		out[i] = float32(v) / 255
	}
	return out
}

// freySet is dataset.name frey.
type freySet struct{}

func (freySet) Doc() string {
	return "Frey Face: 1965 video frames of one face, 28x20 grey (Brendan Frey); block split, since neighbouring frames are near-duplicates"
}

func (freySet) source() Source {
	return Source{File: FreyFile, URL: "https://cs.nyu.edu/~roweis/data/frey_rawface.mat", SHA256: FreySHA256, Size: 1_100_584,
		About: "Frey Face: 1965 video frames of one face, 28x20 grey (Brendan Frey)"}
}

func (k freySet) check(c Config) error { return checkFileSettings(c, k) }

// A random split of video frames leaks near-duplicates into the test set.
func (freySet) splits() []string { return []string{"block", "random"} }

func (k freySet) path(_ Config, dataDir string) string { return builtinPath(k, dataDir) }

func (freySet) decode(_ Config, path string) (*decodedSet, error) {
	im, _, err := LoadFrey(path)
	return &decodedSet{Images: im, Source: "frey_rawface.mat sha256=" + FreySHA256}, err
}

func (freySet) trainCount(c Config) (int, error) { return trainShare(FreyCount, c) }
