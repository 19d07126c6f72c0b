package data

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
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
	b, err := os.ReadFile(path)
	if err != nil {
		return Images{}, "", fmt.Errorf("load Frey Face: %w", err)
	}
	sum := sha256.Sum256(b)
	arr, err := readMatV5(b)
	if err != nil {
		return Images{}, "", fmt.Errorf("load Frey Face %s: %w", path, err)
	}
	d := FreyHeight * FreyWidth
	if arr.Class != mxUINT8 || arr.DataType != miUINT8 || len(arr.Dims) != 2 || arr.Dims[0] != d || arr.Dims[1] != FreyCount {
		return Images{}, "", fmt.Errorf("load Frey Face %s: array %q is class %d, dims %v; want uint8 %dx%d",
			path, arr.Name, arr.Class, arr.Dims, d, FreyCount)
	}
	if len(arr.Data) != d*FreyCount {
		return Images{}, "", fmt.Errorf("load Frey Face %s: %d data bytes, want %d", path, len(arr.Data), d*FreyCount)
	}
	im := Images{N: FreyCount, Height: FreyHeight, Width: FreyWidth, Channels: 1, Pix: make([]float32, len(arr.Data))}
	for i, v := range arr.Data {
		im.Pix[i] = float32(v) / 255
	}
	return im, hex.EncodeToString(sum[:]), nil
}
