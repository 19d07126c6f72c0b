package data

import (
	"fmt"
	"math/rand/v2"
)

// RandomSplit returns a permutation of 0..n-1 split into train and test index sets,
// drawn from seed. nTest images go to the test set.
func RandomSplit(n, nTest int, seed uint64) (train, test []int) {
	perm := rand.New(rand.NewPCG(seed, 0x5eed5917)).Perm(n)
	return perm[nTest:], perm[:nTest]
}

// BlockSplit holds out the last nTest images as one contiguous block. Video-like
// data (Frey Face) needs it: neighbouring frames are near-duplicates, so a random
// split would leak test images into training.
func BlockSplit(n, nTest int) (train, test []int) {
	train = make([]int, n-nTest)
	for i := range train {
		train[i] = i
	}
	test = make([]int, nTest)
	for i := range test {
		test[i] = n - nTest + i
	}
	return train, test
}

// testCount turns a test fraction into an image count, keeping at least one image on each side.
func testCount(n int, fraction float64) (int, error) {
	if !(fraction > 0 && fraction < 1) {
		return 0, fmt.Errorf("test fraction %v must be in (0, 1)", fraction)
	}
	k := int(float64(n)*fraction + 0.5)
	if k < 1 || k >= n {
		return 0, fmt.Errorf("test fraction %v of %d images leaves an empty split", fraction, n)
	}
	return k, nil
}
