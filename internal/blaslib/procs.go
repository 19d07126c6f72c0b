package blaslib

import (
	"runtime"

	G "gorgonia.org/gorgonia"
)

// A training step spends its time in C (the products, im2row, the kernels
// of vae/internal/ops), called from goroutines that keep their P, Go's right
// to run Go code, while the call lasts. When every P is in such a call, the
// runtime, to keep one for Go code, hands a P to a new thread that spins
// looking for work: with as many busy threads as cores, that thread takes a
// core from the work, and each call's return then waits to get a P back.
// One P more than the usable cores leaves the runtime an idle P instead.
// Measured on a 2-core Xeon with the conv bench model, steps interleaved in
// one process: one run on 2 threads 11–12 % faster, two one-thread runs side
// by side 16–21 % faster. vaelab never has more busy threads than usable
// cores (package threads), so the spare P only runs the runtime's
// bookkeeping.

// withSpareProc sets GOMAXPROCS to the usable cores plus one and returns
// the usable cores: GOMAXPROCS as the process found it, or as the previous
// Setup found it (a second Setup must not add a second spare).
func withSpareProc() (cores int) {
	cores = runtime.GOMAXPROCS(0)
	if in, ok := G.WhichBLAS().(installed); ok && in.info.Cores > 0 {
		cores = in.info.Cores
	}
	runtime.GOMAXPROCS(cores + 1)
	return cores
}

// Cores is how many cores the process may use: GOMAXPROCS without the spare
// P that Setup adds (GOMAXPROCS itself when no setup ran). Work that runs one
// goroutine per core sizes itself by it.
func Cores() int {
	if c := Current().Cores; c > 0 {
		return c
	}
	return runtime.GOMAXPROCS(0)
}
