package testenv

import (
	"fmt"
	"runtime"
	"strings"
	"time"
)

// GridSpec is a spec of a β × latent grid, two variants (the second,
// "unstable", is the one the fakes make diverge) and seeds 1..seeds; its
// names hold markup-like characters that views must escape.
func GridSpec(name string, betas, latents []int, seeds int) string {
	s := fmt.Sprintf("name: %q\nseeds: %s\nsweep:\n  grid:\n", name, list(Seq(seeds)))
	s += "    - key: objective.beta\n      values: " + list(betas) + "\n    - key: model.latent\n      values: " + list(latents) + "\n"
	s += "  variants:\n    - {name: \"mlp_100% & #1\", set: {model.hidden: [64]}}\n    - {name: unstable, set: {model.hidden: [32]}}\n"
	return s
}

// SweepSpec is a spec of betas × latents configurations (β = 0.25, 0.5, …;
// latent sizes 2, 3, …) × seeds runs, with no variants.
func SweepSpec(name string, betas, latents, seeds int) string {
	bs := make([]string, betas)
	for i := range bs {
		bs[i] = fmt.Sprintf("%g", 0.25*float64(i+1))
	}
	ls := make([]int, latents)
	for i := range ls {
		ls[i] = i + 2
	}
	return fmt.Sprintf("name: %q\nseeds: %s\nsweep:\n  grid:\n    - {key: objective.beta, values: [%s]}\n    - {key: model.latent, values: %s}\n",
		name, list(Seq(seeds)), strings.Join(bs, ", "), list(ls))
}

func list(v []int) string { return strings.ReplaceAll(fmt.Sprint(v), " ", ", ") }

// Seq is 1, 2, …, n.
func Seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

// CountingWriter counts the bytes written to it and keeps none.
type CountingWriter int64

func (c *CountingWriter) Write(p []byte) (int, error) {
	*c += CountingWriter(len(p))
	return len(p), nil
}

// SampleHeap records the largest live heap seen every few milliseconds
// into peak until the returned function is called.
func SampleHeap(peak *uint64) func() {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var ms runtime.MemStats
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			*peak = max(*peak, ms.HeapAlloc)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}
