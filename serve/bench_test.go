package serve

import (
	"net/http"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/vaelab/vaelab/internal/testenv"
)

// BenchmarkServe10000Runs serves an experiment of 10,000 runs (100 β × 10
// latent sizes × 10 seeds: 1,000 configurations) of 200 steps × 10 series
// each: the experiments page and the experiment page, each from a fresh
// server (cold: the overview is built, the ranking's tests run) and again
// (warm: within overviewTTL), and the curves the experiment page then asks
// for (its six top configurations' bands, and with every raw run). It
// reports bytes per answer, the live heap and the part of it the server
// holds afterwards (MB-server: the heap less the fake's own). The fake
// synthesises series when read, so that part is the server's. On a 2-core
// AMD EPYC shared with other jobs (nearly idle; median of 3 invocations of
// -benchtime 5x): first views 0.10 s, warm pages 0.3–2.8 ms, curves 1.0
// ms and 2.1 ms with raw runs; 21–24 MB of server heap.
//
//	go test ./serve -run XXX -bench Serve10000 -benchtime 10x
func BenchmarkServe10000Runs(b *testing.B) {
	f := newFake(b, testenv.SweepSpec("big", 100, 10, 10), 200, 10)
	if len(f.runs) != 10000 {
		b.Fatalf("%d runs", len(f.runs))
	}
	benchServe(b, f, "big", 100)
}

// BenchmarkServe100000Runs is BenchmarkServe10000Runs at 100,000 runs (100
// β × 100 latent sizes × 10 seeds: 10,000 configurations) of 50 steps × 10
// series, in memory: what "100,000 runs stay usable" means in numbers. On
// a 2-core AMD EPYC shared with other jobs (nearly idle; median of 5
// invocations of -benchtime 3x): the experiments page 1.9 ms (1.1 kB), the
// experiment page 6.0 ms (49 kB), its last run page 5.6 ms, curves 3.2 ms
// (14 kB), with raw runs 3.6 ms (85 kB); a first view (the overview of
// 10,000 configurations built) 1.2 s (1.1–1.4); 204 MB of server heap.
// Building the fake takes about 11 s.
//
//	go test ./serve -run XXX -bench Serve100000 -benchtime 3x
func BenchmarkServe100000Runs(b *testing.B) {
	start := time.Now()
	f := newFake(b, testenv.SweepSpec("big", 100, 100, 10), 50, 10)
	if len(f.runs) != 100000 {
		b.Fatalf("%d runs", len(f.runs))
	}
	b.Logf("fake of %d runs built in %v", len(f.runs), time.Since(start).Round(time.Millisecond))
	benchServe(b, f, "big", 1000)
}

// benchServe times the pages of experiment name in f; lastPage is the run
// list's last page.
func benchServe(b *testing.B, f *fakeStore, name string, lastPage int) {
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base) // the fake's own heap
	exp := "/experiment?name=" + name
	for _, c := range []struct {
		name, target string
		cold         bool
	}{
		{"experiments-cold", "/", true},
		{"experiments", "/", false},
		{"experiment-cold", exp, true},
		{"experiment", exp, false},
		{"experiment-page-last", exp + "&page=" + strconv.Itoa(lastPage), false},
		{"curves", "/api/curves?name=" + name + "&key=train/elbo", false},
		{"curves-raw", "/api/curves?name=" + name + "&key=train/elbo&raw=1", false},
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
			b.ReportMetric(float64(int64(ms.HeapAlloc)-int64(base.HeapAlloc))/1e6, "MB-server")
			runtime.KeepAlive(s)
		})
	}
}
