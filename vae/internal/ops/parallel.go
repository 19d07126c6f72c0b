package ops

import (
	"sync"

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

// parallel runs f over 0..n split into at most threadsAllowed() ranges, each
// of at least minPer items (no thread for less work than that).
func parallel(n, minPer int, f func(lo, hi int)) {
	parts := min(threadsAllowed(), n/max(minPer, 1))
	if parts <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for p := 1; p < parts; p++ {
		wg.Go(func() { f(p*n/parts, (p+1)*n/parts) })
	}
	f(0, n/parts)
	wg.Wait()
}

// elementwise is parallel for loops over single values: ranges of at least
// 16k values, cut at multiples of 64 so each part starts on its own cache line.
func elementwise(n int, f func(lo, hi int)) {
	const line, minPer = 64, 1 << 14
	lines := (n + line - 1) / line
	parallel(lines, minPer/line, func(lo, hi int) { f(lo*line, min(hi*line, n)) })
}
