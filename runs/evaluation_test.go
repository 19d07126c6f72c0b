package runs

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/evaluate"
	"github.com/vaelab/vaelab/internal/testenv"
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

// Each sampler's fit is stored with the evaluation, with a grid of its
// samples; a later evaluation under other settings restores the same fit
// (byte for byte), and a fit whose file was damaged is fitted again, to the
// same result.
func TestSamplerFitsAreStoredAndReused(t *testing.T) {
	st, dir := openTemp(t)
	sc := newScheduler(st, dir)
	ctx := context.Background()
	spec := strings.Replace(tinySpec, "grid_images: 8}", "grid_images: 8, samplers: [prior, gmm, two_stage], gmm_components: 3, two_stage_epochs: 4, two_stage_hidden: 16}", 1)
	p, res := runSpec(t, sc, spec)
	if res.Done != 1 {
		t.Fatalf("%+v", res)
	}
	id := p.Runs[0].ID
	first, err := st.Artifacts(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"fit_gmm", "fit_two_stage", "samples_gmm", "samples_two_stage", "samples"} {
		if a, ok := first[kind]; !ok || a.Bytes == 0 {
			t.Fatalf("no %s artifact after evaluation: %+v", kind, first)
		}
	}
	if _, ok := first["fit_prior"]; ok {
		t.Error("the prior sampler stored a fit it does not have")
	}
	sums, _ := st.Summaries(ctx, id)

	other := strings.Replace(strings.Replace(spec, "name: tiny", "name: tiny-n20", 1), "grid_images: 8,", "grid_images: 8, samples: 20,", 1)
	if _, res := runSpec(t, sc, other); res.Evaluated != 1 {
		t.Fatalf("changed eval: %+v", res)
	}
	second, _ := st.Artifacts(ctx, id)
	for _, kind := range []string{"fit_gmm", "fit_two_stage", "samples_gmm"} {
		if second[kind].EvalHash == first[kind].EvalHash || second[kind].SHA256 != first[kind].SHA256 {
			t.Errorf("%s: evaluation %s sha %s, first %s sha %s; want the same fit under a new evaluation", kind,
				second[kind].EvalHash, second[kind].SHA256, first[kind].EvalHash, first[kind].SHA256)
		}
	}

	events, _ := st.Events(ctx, "", id)
	reused := 0
	for _, e := range events {
		if e.Kind == "sampler-fit" {
			reused++
		}
	}
	if reused != 2 {
		t.Errorf("%d sampler-fit events after the second evaluation, want 2 (gmm and two_stage reused)", reused)
	}

	// Damage the stored fits: re-scoring the first spec fits again.
	for _, a := range []Artifact{first["fit_gmm"], second["fit_gmm"]} {
		if err := os.WriteFile(a.Path, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	specParsed, rs := parseSpec(t, spec)
	again, err := sc.Prepare(ctx, specParsed, rs)
	if err != nil {
		t.Fatal(err)
	}
	if res := sc.Execute(ctx, again.ForEvaluation("tiny")); res.Evaluated != 1 {
		t.Fatalf("re-evaluation: %+v", res)
	}
	refit, _ := st.Summaries(ctx, id)
	for _, k := range []string{"samples_gmm/fd_randconv1", "samples_two_stage/fd_randconv1", "samples/fd_randconv1"} {
		if refit[k].Value != sums[k].Value {
			t.Errorf("%s: %v first, %v after fitting again", k, sums[k].Value, refit[k].Value)
		}
	}
	if a, _ := st.Artifacts(ctx, id); a["fit_gmm"].SHA256 != first["fit_gmm"].SHA256 {
		t.Error("the gmm fit made again differs from the first")
	}
}

// With eval.features: [dlib] a run's evaluation stores the face-space
// metrics beside the randconv1 ones, and the feature space's own check: its
// ORL verification figure, computed once and kept in the cache directory.
func TestDlibFeaturesAreEvaluated(t *testing.T) {
	weights := testenv.DlibWeights(t)
	orl := filepath.Join(testenv.SharedData(t, "orl_att/s1/1.pgm"), "orl_att")
	st, dir := openTemp(t)
	sc := newScheduler(st, dir)
	sc.DataDir, sc.CacheDir = t.TempDir(), t.TempDir()
	if err := os.Symlink(weights, filepath.Join(sc.DataDir, data.DlibFaceDir)); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(orl, filepath.Join(sc.DataDir, "orl_att")); err != nil {
		t.Fatal(err)
	}
	spec := strings.Replace(tinySpec, "grid_images: 8}", "grid_images: 8, features: [dlib]}", 1)
	p, res := runSpec(t, sc, spec)
	if res.Done != 1 {
		t.Fatalf("%+v", res)
	}
	sums, _ := st.Summaries(context.Background(), p.Runs[0].ID)
	for _, k := range []string{"samples/fd_dlib", "samples/fd_dlib_inf", "recon/fd_dlib", "real/fd_dlib", "recon/id_similarity", "recon/id_match"} {
		if v, ok := sums[k]; !ok || math.IsNaN(v.Value) || v.Value < 0 {
			t.Errorf("%s: %v (stored %v)", k, v.Value, ok)
		}
	}
	for _, m := range evaluate.Catalogue() {
		needsPeople := m.Key == "recon/id_nearest" || m.Key == "samples/id_coverage" // synthetic faces have no identities
		if _, ok := sums[m.Key]; !ok && m.Needs == "dlib" && !needsPeople {
			t.Errorf("the catalogue lists %s, which a run with eval.features: [dlib] did not store", m.Key)
		}
	}
	if s := sums["recon/id_similarity"].Value; s > 1 {
		t.Errorf("id_similarity %v is not a cosine", s)
	}
	if auc := sums["features/dlib_orl_auc"]; auc.Value < 0.9 || auc.Value > 1 || !strings.Contains(auc.Protocol, "ORL") {
		t.Errorf("ORL verification figure: %+v", auc)
	}
	// Another process (a new scheduler) reads the kept figure: a doctored
	// copy in the cache directory shows that it is read, not recomputed.
	kept, _ := filepath.Glob(filepath.Join(sc.CacheDir, "dlib-orl-verification-*.json"))
	if len(kept) != 1 {
		t.Fatalf("kept ORL figure: %v", kept)
	}
	if err := os.WriteFile(kept[0], []byte(`{"AUC":0.5,"Same":1800,"Diff":78000,"SameWithin":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	again := newScheduler(st, dir)
	again.DataDir, again.CacheDir = sc.DataDir, sc.CacheDir
	specParsed, rs := parseSpec(t, strings.Replace(spec, "features: [dlib]", "features: [dlib], samples: 50", 1))
	pl, err := again.Prepare(context.Background(), specParsed, rs)
	if err != nil {
		t.Fatal(err)
	}
	if res := again.Execute(context.Background(), pl.ForEvaluation("tiny")); res.Evaluated != 1 {
		t.Fatalf("re-evaluation: %+v", res)
	}
	if latest, _ := st.Summaries(context.Background(), p.Runs[0].ID); latest["features/dlib_orl_auc"].Value != 0.5 {
		t.Errorf("the second process's ORL figure %v is not the kept one", latest["features/dlib_orl_auc"].Value)
	}
	noWeights := newScheduler(st, dir)
	noWeights.DataDir = t.TempDir()
	specParsed, rs = parseSpec(t, spec)
	if _, err := noWeights.Prepare(context.Background(), specParsed, rs); err == nil || !strings.Contains(err.Error(), "vaelab data fetch dlib-face") {
		t.Errorf("dlib without its weights: %v", err)
	}
}
