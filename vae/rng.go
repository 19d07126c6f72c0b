package vae

import (
	"hash/fnv"
	"math/rand/v2"
)

// Stream names one use of randomness within a run. Each gets its own generator
// derived from the run seed, so adding draws to one use never shifts another.
type Stream string

const (
	StreamInit    Stream = "init"    // weight initialisation
	StreamBatches Stream = "batches" // minibatch order
	StreamEpsilon Stream = "epsilon" // reparameterisation noise in training
	StreamEval    Stream = "eval"    // noise for test-set ELBO estimates
	StreamSamples Stream = "samples" // prior samples for image grids
	StreamMetrics Stream = "metrics" // prior samples and subsets for the final metrics
	StreamIWAE    Stream = "iwae"    // importance samples of the IWAE bound
	StreamTC      Stream = "tc"      // codes of the aggregate posterior's total correlation
	StreamFaces   Stream = "faces"   // subsets of the face-space FD extrapolation
)

// NewRand returns the generator for stream s of a run with the given seed.
func NewRand(seed uint64, s Stream) *rand.Rand {
	r, _ := newStream(seed, s)
	return r
}

// newStream is NewRand with access to its source, whose state checkpoints keep.
func newStream(seed uint64, s Stream) (*rand.Rand, *rand.PCG) {
	h := fnv.New64a()
	h.Write([]byte(s))
	src := rand.NewPCG(seed, h.Sum64())
	return rand.New(src), src
}
