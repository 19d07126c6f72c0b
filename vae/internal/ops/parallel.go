package ops

import (
	"github.com/vaelab/vaelab/internal/team"

	G "gorgonia.org/gorgonia"
)

// The ops of a training step that run outside the matrix products (im2row,
// row2im, bias and activation, the ReLU gradient, Adam) split their loops
// over images or chunks between the threads the process's setup allows (the
// threads setting, which the installed BLAS carries). Each part writes its own
// values and sums in the same order as one thread would, so a step's bits do
// not depend on the thread count.

// threadsAllowed is the installed BLAS's thread count, 1 without one.
func threadsAllowed() int {
	if t, ok := G.WhichBLAS().(interface{ Threads() int }); ok {
		return max(t.Threads(), 1)
	}
	return 1
}

// parallel runs f over 0..n cut into ranges of at least minPer items (no
// thread for less work than that), taken in turn by up to threadsAllowed()
// threads. Ranges are handed out as threads come for them, a few per thread:
// a thread that comes late (one the OS ran something else on, or a worker
// that had fallen asleep) then takes fewer, instead of keeping the others
// waiting at the end.
func parallel(n, minPer int, f func(lo, hi int)) {
	threads := min(threadsAllowed(), n/max(minPer, 1))
	if threads <= 1 {
		f(0, n)
		return
	}
	parts := min(n/max(minPer, 1), rangesPerThread*threads)
	shared(threads, parts, func(_, p int) { f(p*n/parts, (p+1)*n/parts) })
}

// rangesPerThread is how many ranges parallel cuts per thread.
const rangesPerThread = 4

// shared runs body(worker, 0..parts-1) on threads workers, each taking the
// next part when it is free; worker numbers the caller's 0 and the others.
// The installed BLAS's workers run them (they wait for the next parallel
// part spinning, where a goroutine started for it would start late).
func shared(threads, parts int, body func(worker, part int)) {
	if r, ok := G.WhichBLAS().(runner); ok {
		r.Run(threads, parts, body)
		return
	}
	(*team.Team)(nil).Run(threads, parts, body)
}

// runner is the installed BLAS's team of threads.
type runner interface {
	Run(threads, jobs int, body func(worker, job int))
}

// minValues is the fewest values a thread takes in a loop over single
// values. With the team's spinning workers (internal/team) a part starts
// within microseconds: at 64k rather than 256k, the serial time of a 2-thread
// conv step (outside parallel parts) fell from 9.1 to 6.0 ms (4 alternating
// runs) and the MLP's 2-thread step from 6.04 to 5.30 ms (3 alternating
// pairs; 16k was no better). Smaller products than 8M multiply-adds a thread still stay whole
// (splitting the MLP's latent products made its step slower).
const minValues = 1 << 16

// elementwise is parallel for loops over single values: ranges of at least
// minValues, cut at multiples of 64 so each part starts on its own cache line.
func elementwise(n int, f func(lo, hi int)) {
	const line = 64
	lines := (n + line - 1) / line
	parallel(lines, minValues/line, func(lo, hi int) { f(lo*line, min(hi*line, n)) })
}

// inBlocks runs body over the N images in blocks of per (the last may be
// short): with several threads and at least as many blocks, each thread
// takes whole blocks (worker numbers its scratch) and body runs with inner
// unset, its work on the calling thread; otherwise the blocks run in order
// and body may split each one between the threads (inner set when there
// are several). A block is computed alike either way.
func inBlocks(b *outBuf, N, per int, body func(worker, i0, m int, inner bool)) {
	blocks, threads := (N+per-1)/per, threadsAllowed()
	if threads == 1 || blocks < threads {
		for i0 := 0; i0 < N; i0 += per {
			body(0, i0, min(per, N-i0), threads > 1)
		}
		return
	}
	b.reserve(2*threads + 2)
	shared(threads, blocks, func(worker, blk int) { body(worker, blk*per, min(per, N-blk*per), false) })
}

// inChannels runs body over channels 0..C cut into one range per thread
// (worker numbers its scratch, inner unset), or over
// all of them at once, with inner set when there are several threads but a
// single channel.
func inChannels(b *outBuf, C int, body func(worker, c0, c1 int, inner bool)) {
	threads := threadsAllowed()
	workers := min(threads, C)
	if workers <= 1 {
		body(0, 0, C, threads > 1)
		return
	}
	// One range per thread (a range repeats the work on the images' side);
	// handed out as threads come, so a late one leaves its range to another.
	b.reserve(2*workers + 2)
	shared(workers, workers, func(worker, p int) { body(worker, p*C/workers, (p+1)*C/workers, false) })
}

// loop runs f(0..m-1), split between the threads when inner is set.
func loop(inner bool, m int, f func(j int)) {
	if !inner {
		for j := range m {
			f(j)
		}
		return
	}
	parallel(m, 1, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			f(j)
		}
	})
}
