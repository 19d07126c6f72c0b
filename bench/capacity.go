package bench

import (
	"slices"
	"time"
)

// The arithmetic of copies run side by side: what N independent one-thread
// processes do together is the machine's capacity for N threads' work (its
// shared caches, memory bandwidth and clock under load included), the bound
// a multi-threaded step or a multi-worker sweep can approach but not pass.

// combined is the rows of copies run side by side as one: their images and
// FLOPs per second added up.
func combined(rows []Row) Row {
	c := rows[0]
	c.ImagesPerSecond, c.GFLOPS = 0, 0
	for _, r := range rows {
		c.ImagesPerSecond += r.ImagesPerSecond
		c.GFLOPS += r.GFLOPS
		c.PeakMB = max(c.PeakMB, r.PeakMB)
	}
	return c
}

// span is the wall time from the first copy's start to the last one's end.
func span(rows []Row) time.Duration {
	if len(rows) == 0 {
		return 0
	}
	first := slices.MinFunc(rows, func(a, b Row) int { return a.Start.Compare(b.Start) }).Start
	last := slices.MaxFunc(rows, func(a, b Row) int { return a.End.Compare(b.End) }).End
	return last.Sub(first)
}

// overlap is the share (0 to 1) of the copies' span during which all of them
// ran: near 1, each copy's figure was measured under the full load of the
// others; lower, part of a copy ran with the machine to fewer copies.
func overlap(rows []Row) float64 {
	s := span(rows)
	if s <= 0 {
		return 1
	}
	lastStart := slices.MaxFunc(rows, func(a, b Row) int { return a.Start.Compare(b.Start) }).Start
	firstEnd := slices.MinFunc(rows, func(a, b Row) int { return a.End.Compare(b.End) }).End
	return max(firstEnd.Sub(lastStart), 0).Seconds() / s.Seconds()
}

// capacity is the speed-up the machine offers n copies of a job that takes
// alone on its own and sideBySide when n copies run at once: n when they do
// not slow each other down.
func capacity(n int, alone, sideBySide time.Duration) float64 {
	return float64(n) * alone.Seconds() / sideBySide.Seconds()
}

// speedUp is how many times faster than before after is.
func speedUp(before, after time.Duration) float64 { return before.Seconds() / after.Seconds() }

// percent is a as a percentage of b.
func percent(a, b float64) float64 { return 100 * a / b }
