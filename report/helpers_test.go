package report

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/metrics"
	"github.com/vaelab/vaelab/runs"
	"github.com/vaelab/vaelab/vae"
)

// fakeExperiment fills a store with the runs of spec as if they had trained:
// steps steps of curves and plausible final values drawn from seed. Runs of
// the variant named "unstable" diverge. No model is trained.
func fakeExperiment(tb testing.TB, spec string, steps int, seed uint64) (*runs.Store, string) {
	tb.Helper()
	return fakeExperimentIn(tb, tb.TempDir(), spec, steps, seed)
}

// fakeExperimentIn is fakeExperiment with the store in dir.
func fakeExperimentIn(tb testing.TB, dir, spec string, steps int, seed uint64) (*runs.Store, string) {
	tb.Helper()
	ctx := context.Background()
	st, err := runs.Open(ctx, filepath.Join(dir, "vaelab.db"))
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
	if err := st.RecordExperiment(ctx, s, runs.CurrentProvenance()); err != nil {
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
		beta := r.Config.Objective.Beta
		rows := make([]runs.MetricRow, 0, steps*3)
		for step := 1; step <= steps; step++ {
			loss := 500 + 200/float64(step) + rng.NormFloat64()
			rows = append(rows, runs.MetricRow{Step: step, Epoch: 1 + step*5/steps, Key: vae.KeyLoss, Value: loss},
				runs.MetricRow{Step: step, Epoch: 1 + step*5/steps, Key: vae.KeyKL, Value: 10 / beta},
				runs.MetricRow{Step: step, Epoch: 1 + step*5/steps, Key: vae.KeyRecon, Value: loss - 10})
		}
		if err := st.WriteMetrics(ctx, r.ID, rows); err != nil {
			tb.Fatal(err)
		}
		outcome := runs.Outcome{Status: runs.StatusDone, Steps: steps}
		if r.Variant == "unstable" {
			outcome = runs.Outcome{Status: runs.StatusDiverged, Error: "train/loss is not finite at step 7", DivergedStep: 7, Steps: 7}
		}
		sums := []runs.Summary{
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

func specWithRuns(name string, betas, latents []int, seeds int) string {
	s := fmt.Sprintf("name: %q\nseeds: [", name)
	for i := range seeds {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprint(i + 1)
	}
	s += "]\nsweep:\n  grid:\n    - key: objective.beta\n      values: " + strings.ReplaceAll(fmt.Sprint(betas), " ", ", ") + "\n    - key: model.latent\n      values: " + strings.ReplaceAll(fmt.Sprint(latents), " ", ", ") + "\n"
	s += "  variants:\n    - {name: \"mlp_100% & #1\", set: {model.hidden: [64]}}\n    - {name: unstable, set: {model.hidden: [32]}}\n"
	return s
}
