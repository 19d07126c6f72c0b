package runs

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/vaelab/vaelab/evaluate"
)

// Scoring a run again from its final checkpoint gives exactly the values the
// evaluation at the end of training gave (the checkpoint holds the whole
// model), under the same evaluation hash; a changed eval setting gives a
// second evaluation beside the first, and each experiment reads its own.
func TestReevaluationFromCheckpointIsExact(t *testing.T) {
	st, dir := openTemp(t)
	sc := newScheduler(st, dir)
	ctx := context.Background()
	p, res := runSpec(t, sc, tinySpec)
	if res.Done != 1 {
		t.Fatalf("training: %+v", res)
	}
	id := p.Runs[0].ID
	before, err := st.Summaries(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	spec, rs := parseSpec(t, tinySpec)
	again, err := sc.Prepare(ctx, spec, rs)
	if err != nil || len(again.ToTrain)+len(again.ToEvaluate) != 0 {
		t.Fatalf("a finished spec plans work: %v %+v", err, again)
	}
	if res := sc.Execute(ctx, again.ForEvaluation("tiny")); res.Evaluated != 1 {
		t.Fatalf("re-evaluation: %+v", res)
	}
	after, err := st.Summaries(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("%d summaries after re-evaluation, %d before", len(after), len(before))
	}
	for k, v := range before {
		if k != evaluate.KeyEvalSeconds && after[k].Value != v.Value {
			t.Errorf("%s: %v at the end of training, %v from the checkpoint", k, v.Value, after[k].Value)
		}
	}

	other := strings.Replace(strings.Replace(tinySpec, "name: tiny", "name: tiny-n20", 1), "grid_images: 8}", "grid_images: 8, samples: 20}", 1)
	p2, res2 := runSpec(t, sc, other)
	if p2.Runs[0].ID != id || len(p2.ToTrain) != 0 || res2.Evaluated != 1 {
		t.Fatalf("changed eval: same run %v, trained %d, evaluated %d", p2.Runs[0].ID == id, len(p2.ToTrain), res2.Evaluated)
	}
	evals, err := st.Evaluations(ctx, id)
	if err != nil || len(evals) != 2 {
		t.Fatalf("%d evaluations (%v), want 2", len(evals), err)
	}
	for _, tc := range []struct {
		experiment, n string
	}{{"tiny", "N=30 real"}, {"tiny-n20", "N=20 real"}} {
		sums, err := st.ExperimentSummaries(ctx, tc.experiment)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(sums[id]["samples/kid_randconv1"].Protocol, tc.n) {
			t.Errorf("experiment %s reads the protocol %q, want %s", tc.experiment, sums[id]["samples/kid_randconv1"].Protocol, tc.n)
		}
	}
}

// The gmm sampler's block of sample metrics is stored beside the prior's.
func TestGMMSamplerIsEvaluated(t *testing.T) {
	st, dir := openTemp(t)
	spec := strings.Replace(tinySpec, "grid_images: 8}", "grid_images: 8, samplers: [prior, gmm], gmm_components: 3}", 1)
	p, res := runSpec(t, newScheduler(st, dir), spec)
	if res.Done != 1 {
		t.Fatalf("%+v", res)
	}
	sums, err := st.Summaries(context.Background(), p.Runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"samples/fd_randconv1", "samples_gmm/fd_randconv1", "samples_gmm/precision_randconv1", "samples_gmm/sharpness_laplacian"} {
		if v, ok := sums[k]; !ok || math.IsNaN(v.Value) || math.IsInf(v.Value, 0) {
			t.Errorf("%s: %v (stored %v)", k, v.Value, ok)
		}
	}
	if sums["samples_gmm/fd_randconv1"].Value == sums["samples/fd_randconv1"].Value {
		t.Error("the gmm sampler's FD equals the prior's: its draws were not used")
	}
}
