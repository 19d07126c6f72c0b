package serve

import (
	"net/http"
	"runtime"
	"testing"
)

// BenchmarkServe10000Runs serves an experiment of 10,000 runs (100 β × 10
// latent sizes × 10 seeds: 1,000 configurations) of 200 steps × 10 series
// each: the experiments page and the experiment page, each from a fresh
// server (cold: the overview is built, the ranking's tests run) and again
// (warm: within overviewTTL), and the curves the experiment page then asks
// for (its six top configurations' bands, and with every raw run). It
// reports bytes per answer and the live heap the server holds afterwards.
// The fake store synthesises series when read, so the heap is the server's.
//
//	go test ./serve -run XXX -bench Serve10000 -benchtime 10x
func BenchmarkServe10000Runs(b *testing.B) {
	f := newFake(b, specWithRuns("big", 100, 10, 10), 200, 10)
	if len(f.runs) != 10000 {
		b.Fatalf("%d runs", len(f.runs))
	}
	for _, c := range []struct {
		name, target string
		cold         bool
	}{
		{"experiments-cold", "/", true},
		{"experiments", "/", false},
		{"experiment-cold", "/experiment?name=big", true},
		{"experiment", "/experiment?name=big", false},
		{"experiment-page-last", "/experiment?name=big&page=100", false},
		{"curves", "/api/curves?name=big&key=train/elbo", false},
		{"curves-raw", "/api/curves?name=big&key=train/elbo&raw=1", false},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := newTestServer(b, f, Options{})
			get(b, s, c.target) // cache what a warm page finds cached
			var size int
			for b.Loop() {
				if c.cold {
					b.StopTimer()
					s = newTestServer(b, f, Options{})
					b.StartTimer()
				}
				w := get(b, s, c.target)
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", c.target, w.Code, w.Body.String())
				}
				size = w.Body.Len()
			}
			b.StopTimer()
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(size), "B/page")
			b.ReportMetric(float64(ms.HeapAlloc)/1e6, "MB-heap")
			runtime.KeepAlive(s)
		})
	}
}
