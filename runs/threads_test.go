package runs

import (
	"strings"
	"testing"

	"github.com/vaelab/vaelab/internal/blaslib"
	"github.com/vaelab/vaelab/internal/threads"
)

// TestBLASText: the provenance names the thread count once, whether the
// BLAS's line has it (OpenBLAS, vaelab's products) or not (plain gonum).
func TestBLASText(t *testing.T) {
	openblas := blaslib.Info{Library: "OpenBLAS", Version: "0.3.21", File: "libopenblas.so.0", Core: "Zen", Reason: "detected", Threads: 2}
	for _, tc := range []struct {
		name string
		info blaslib.Info
		want string
	}{
		{"OpenBLAS, 2 threads", openblas, "OpenBLAS 0.3.21 (libopenblas.so.0), core Zen (detected), 2 threads, GOMAXPROCS=4"},
		{"gonum, 3 threads", blaslib.Info{Library: "gonum", Reason: "asked for", Threads: 3}, "gonum (pure Go): asked for, 3 threads, GOMAXPROCS=4"},
		{"no setup: one thread", blaslib.Info{Library: "gonum", Reason: "no setup"}, "gonum (pure Go): no setup, 1 thread, GOMAXPROCS=4"},
		{"vaelab's products", blaslib.Info{Library: "gonum", Reason: "asked for", Products: "vaelab's avx512 kernels", Threads: 2}, "gonum (pure Go): asked for; float32 products: vaelab's avx512 kernels, 2 threads, GOMAXPROCS=4"},
		{"OpenBLAS and vaelab's products", blaslib.Info{Library: "OpenBLAS", File: "libopenblas.so.0", Core: "Haswell", Reason: "set by the user", Products: "vaelab's avx512 kernels", Threads: 12}, "OpenBLAS (libopenblas.so.0), core Haswell (set by the user), 12 threads; float32 products: vaelab's avx512 kernels, GOMAXPROCS=4"},
		{"a spare P", blaslib.Info{Library: "gonum", Reason: "asked for", Threads: 2, Cores: 3}, "gonum (pure Go): asked for, 2 threads, GOMAXPROCS=4 (3 usable cores and a spare P for the runtime)"},
		{"GOMAXPROCS changed after setup", blaslib.Info{Library: "gonum", Reason: "asked for", Threads: 2, Cores: 4}, "gonum (pure Go): asked for, 2 threads, GOMAXPROCS=4"},
	} {
		if got := blasText(tc.info, 4); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestPrintBLASThreads: doctor's threads line gives the number, its rule
// and the capacity; a number set by hand says how to measure.
func TestPrintBLASThreads(t *testing.T) {
	gonum := blaslib.Info{Library: "gonum", Reason: "asked for", Threads: 2}
	for _, tc := range []struct {
		name     string
		decision threads.Decision
		want     []string
	}{
		{"auto", threads.Decision{N: 2, Setting: "auto", Rule: "auto: 2 usable cores / 1 worker; measured parallel capacity 1.93 of 2 copies", Capacity: 1.93},
			[]string{"threads", "2 (auto: 2 usable cores / 1 worker; measured parallel capacity 1.93 of 2 copies)", "--workers"}},
		{"a number", threads.Decision{N: 3, Setting: "3", Rule: "set by the threads setting"}, []string{"3 (set by the threads setting) per run", "--threads auto measures"}},
		{"none decided", threads.Decision{}, nil},
	} {
		var w strings.Builder
		PrintBLAS(&w, gonum, tc.decision)
		lines := strings.Split(strings.TrimSpace(w.String()), "\n")
		if !strings.HasPrefix(lines[0], "blas ") {
			t.Errorf("%s: the blas line is not first:\n%s", tc.name, w.String())
		}
		if tc.want == nil && strings.Contains(w.String(), "threads ") {
			t.Errorf("%s: a threads line without a decision:\n%s", tc.name, w.String())
		}
		for _, s := range tc.want {
			if len(lines) < 2 || !strings.HasPrefix(lines[1], "threads ") || !strings.Contains(lines[1], s) {
				t.Errorf("%s: no %q in the threads line:\n%s", tc.name, s, w.String())
			}
		}
	}
}
