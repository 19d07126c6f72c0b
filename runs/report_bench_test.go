package runs

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/internal/testenv"
	"github.com/vaelab/vaelab/metrics"
	"github.com/vaelab/vaelab/report"
	"github.com/vaelab/vaelab/vae"
)

// BenchmarkReportFromStore20000Runs is report's BenchmarkReport20000Runs
// read from a SQLite store instead of values in memory: 20,000 runs (50 β ×
// 20 latent sizes × 2 variants × 10 seeds) with 50 steps of curves each. It
// reports the page's size and the peak of the live heap while building and
// rendering it. Filling the store takes minutes; with VAELAB_BENCH_DIR set
// the store is kept there and reused, so `vaelab report huge` can be
// measured on it too (/usr/bin/time -v).
//
//	VAELAB_BENCH_DIR=/tmp/big go test ./runs -run XXX -bench ReportFromStore -benchtime 1x
func BenchmarkReportFromStore20000Runs(b *testing.B) {
	ctx := context.Background()
	spec := testenv.GridSpec("huge", testenv.Seq(50), testenv.Seq(20), 10)
	var st *Store
	name := "huge"
	if dir := os.Getenv("VAELAB_BENCH_DIR"); dir != "" {
		path := filepath.Join(dir, "vaelab.db")
		if _, err := os.Stat(path); err == nil {
			if st, err = OpenReadOnly(ctx, path); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
		} else {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
			st, name = fillStore(b, dir, spec, 50, 7)
		}
	} else {
		st, name = fillStore(b, b.TempDir(), spec, 50, 7)
	}
	b.ResetTimer()
	var size int
	var peak uint64
	for b.Loop() {
		runtime.GC()
		stop := testenv.SampleHeap(&peak)
		p, err := report.Build(ctx, st, []string{name}, report.Options{})
		if err != nil {
			b.Fatal(err)
		}
		var cw testenv.CountingWriter
		if err := report.Render(&cw, p); err != nil {
			b.Fatal(err)
		}
		stop()
		size = int(cw)
	}
	b.ReportMetric(float64(size)/1e6, "MB/page")
	b.ReportMetric(float64(peak)/1e6, "MB-peak-heap")
}

// fillStore records the runs of spec in a store in dir as if they had
// trained: steps steps of curves and plausible final values drawn from seed
// (those of report's tests). Runs of the variant named "unstable" diverge.
// No model is trained.
func fillStore(tb testing.TB, dir, spec string, steps int, seed uint64) (*Store, string) {
	tb.Helper()
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(dir, "vaelab.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	s, err := experiments.Parse([]byte(spec), "fake.yaml")
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
	rng := rand.New(rand.NewPCG(seed, 1))
	id := metrics.ExtractorID()
	for _, r := range rs {
		if ok, err := st.Claim(ctx, r.ID, "fake/1", "fake", "fake", "fake", dir); !ok || err != nil {
			tb.Fatalf("claim: %v", err)
		}
		var tree map[string]any
		if err := json.Unmarshal(r.Config.Canonical(), &tree); err != nil {
			tb.Fatal(err)
		}
		flat := map[string]any{}
		flatten("", tree, flat)
		beta, ok := flat["objective.beta"].(float64)
		if !ok {
			beta = 1
		}
		rows := make([]MetricRow, 0, steps*3)
		for step := 1; step <= steps; step++ {
			loss := 500 + 200/float64(step) + rng.NormFloat64()
			rows = append(rows, MetricRow{Step: step, Epoch: 1 + step*5/steps, Key: vae.KeyLoss, Value: loss},
				MetricRow{Step: step, Epoch: 1 + step*5/steps, Key: vae.KeyKL, Value: 10 / beta},
				MetricRow{Step: step, Epoch: 1 + step*5/steps, Key: vae.KeyRecon, Value: loss - 10})
		}
		if err := st.WriteMetrics(ctx, r.ID, rows); err != nil {
			tb.Fatal(err)
		}
		outcome := Outcome{Status: StatusDone, Steps: steps}
		if r.Variant == "unstable" {
			outcome = Outcome{Status: StatusDiverged, Error: "train/loss is not finite at step 7", DivergedStep: 7, Steps: 7}
		}
		sums := []Summary{
			{Key: "test/elbo", Value: -490 - 3*beta + rng.NormFloat64(), Protocol: "p"},
			{Key: "test/iwae", Value: -488 - 3*beta + rng.NormFloat64(), Protocol: "p"},
			{Key: "test/kl", Value: 10 / beta, Protocol: "p"},
			{Key: "test/recon", Value: 480 + beta + rng.NormFloat64(), Protocol: "p"},
			{Key: "samples/fd_" + id, Value: 0.5/beta + 0.01*rng.Float64(), Protocol: "p"},
			{Key: "samples/kid_" + id, Value: 0.005/beta + 1e-4*rng.Float64(), Protocol: "p"},
			{Key: "samples/sharpness_laplacian", Value: 0.4 + 0.1*rng.Float64(), Protocol: "p"},
			{Key: "recon/sharpness_laplacian", Value: 0.5 + 0.1*rng.Float64(), Protocol: "p"},
			{Key: "posterior/active_units", Value: float64(rng.IntN(16)), Protocol: "p"},
			{Key: "stability/loss_spikes", Value: float64(rng.IntN(2)), Protocol: "p"},
		}
		if err := st.PutSummaries(ctx, r.ID, sums); err != nil {
			tb.Fatal(err)
		}
		if err := st.Finish(ctx, r.ID, "fake/1", outcome); err != nil {
			tb.Fatal(err)
		}
	}
	return st, s.Name
}
