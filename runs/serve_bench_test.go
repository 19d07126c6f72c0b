package runs

import (
	"context"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/internal/testenv"
	"github.com/vaelab/vaelab/metrics"
	"github.com/vaelab/vaelab/serve"
	"github.com/vaelab/vaelab/vae"
)

// BenchmarkServeFromStore10000Runs is serve's BenchmarkServe10000Runs read
// from a SQLite store, as `vaelab serve` reads one: 10,000 runs (100 β × 10
// latent sizes × 10 seeds) of 200 steps × 10 series each, 20 million metric
// rows, opened read-only (OpenReadOnly). It times the experiments page and
// an experiment page from a fresh server (cold) and again (warm), and the
// curves the page asks for, and reports bytes per answer, the live heap and
// the process's resident memory. Filling the store takes minutes; with
// VAELAB_BENCH_DIR set it is kept there and reused.
//
// On a 2-core AMD EPYC shared with other jobs, median of 5 invocations of
// -benchtime 5x (machine nearly idle, load average about 1): an
// experiment's first view (experiment-cold) 248 ms (233–267), the
// experiments page's first view 244 ms (223–251), warm pages 15–19 ms; 30
// MB of live heap, 105–126 MB resident. Before each configuration's config
// was flattened once (report's groupRuns) the first views took 454 and 462
// ms the same way; with the machine loaded (load average 5.5 on its 2
// cores) 427 ms (374–519) against 715 ms (562–2026).
//
//	VAELAB_BENCH_DIR=/tmp/serve10k go test ./runs -run XXX -bench ServeFromStore -benchtime 5x
func BenchmarkServeFromStore10000Runs(b *testing.B) {
	ctx := context.Background()
	dir := os.Getenv("VAELAB_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	path := filepath.Join(dir, "vaelab.db")
	if _, err := os.Stat(path); err != nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		fillServeStore(b, path, 100, 10, 10, 200)
	}
	st, err := OpenReadOnly(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	for _, c := range []struct {
		name, target string
		cold         bool
	}{
		{"experiments-cold", "/", true},
		{"experiments", "/", false},
		{"experiment-cold", "/experiment?name=serve10k", true},
		{"experiment", "/experiment?name=serve10k", false},
		{"curves-cold", "/api/curves?name=serve10k&key=train/elbo", true},
		{"curves", "/api/curves?name=serve10k&key=train/elbo", false},
		{"curves-raw", "/api/curves?name=serve10k&key=train/elbo&raw=1", false},
	} {
		b.Run(c.name, func(b *testing.B) {
			newServer := func() *serve.Server {
				s, err := serve.New(st, serve.Options{})
				if err != nil {
					b.Fatal(err)
				}
				return s
			}
			s := newServer()
			ask := func() int {
				req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080"+c.target, nil)
				w := httptest.NewRecorder()
				s.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", c.target, w.Code, w.Body.String())
				}
				return w.Body.Len()
			}
			ask()
			var size int
			for b.Loop() {
				if c.cold {
					b.StopTimer()
					s = newServer()
					b.StartTimer()
				}
				size = ask()
			}
			b.StopTimer()
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(size), "B/page")
			b.ReportMetric(float64(ms.HeapAlloc)/1e6, "MB-heap")
			b.ReportMetric(residentMB(), "MB-RSS")
			runtime.KeepAlive(s)
		})
	}
}

// residentMB is this process's resident memory (VmRSS), NaN where /proc
// does not say.
func residentMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return math.NaN()
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err == nil {
				return kb / 1024
			}
		}
	}
	return math.NaN()
}

// fillServeStore records betas × latents configurations × seeds runs,
// each done with steps steps of 10 series and plausible final values, in a
// new store at path. No model is trained.
func fillServeStore(tb testing.TB, path string, betas, latents, seeds, steps int) {
	tb.Helper()
	ctx := context.Background()
	st, err := Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	spec := testenv.SweepSpec("serve10k", betas, latents, seeds)
	s, err := experiments.Parse([]byte(spec), "serve10k.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	rs, err := s.Expand()
	if err != nil {
		tb.Fatal(err)
	}
	if err := st.RecordExperiment(ctx, s, CurrentProvenance()); err != nil {
		tb.Fatal(err)
	}
	if _, err := st.RegisterRuns(ctx, s.Name, rs); err != nil {
		tb.Fatal(err)
	}
	keys := []string{vae.KeyELBO, vae.KeyLoss, vae.KeyRecon, vae.KeyKL, vae.KeyGradNorm, vae.KeyBeta, vae.KeyLR, vae.KeyTestELBO, vae.KeyTestKL, vae.KeyTestRecon}
	rng := rand.New(rand.NewPCG(1, 1))
	id := metrics.ExtractorID()
	for i, r := range rs {
		if ok, err := st.Claim(ctx, r.ID, "fake/1", "fake", "fake", "fake", filepath.Dir(path)); !ok || err != nil {
			tb.Fatalf("claim: %v", err)
		}
		beta := 0.25 * float64(1+i/(latents*seeds))
		rows := make([]MetricRow, 0, steps*len(keys))
		for step := 1; step <= steps; step++ {
			for k, key := range keys {
				v := float64(k+1)*100 + 200/math.Sqrt(float64(step)) + rng.NormFloat64()
				rows = append(rows, MetricRow{Step: step, Epoch: 1 + step*10/steps, Key: key, Value: v})
			}
		}
		if err := st.WriteMetrics(ctx, r.ID, rows); err != nil {
			tb.Fatal(err)
		}
		sums := []Summary{
			{Key: "test/elbo", Value: -490 - 3*beta + rng.NormFloat64(), Protocol: "p"},
			{Key: "test/kl", Value: 10 / beta, Protocol: "p"},
			{Key: "test/recon", Value: 480 + beta + rng.NormFloat64(), Protocol: "p"},
			{Key: "samples/fd_" + id, Value: 0.5/beta + 0.01*rng.Float64(), Protocol: "p"},
			{Key: "samples/kid_" + id, Value: 0.005/beta + 1e-4*rng.Float64(), Protocol: "p"},
		}
		if err := st.PutSummaries(ctx, r.ID, sums); err != nil {
			tb.Fatal(err)
		}
		if err := st.Finish(ctx, r.ID, "fake/1", Outcome{Status: StatusDone, Steps: steps}); err != nil {
			tb.Fatal(err)
		}
	}
}
