package runs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/evaluate"
	"github.com/vaelab/vaelab/internal/testenv"
	"github.com/vaelab/vaelab/metrics"
	"github.com/vaelab/vaelab/vae"
)

func TestOpenMigratesOnceWhenManyStartTogether(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vaelab.db")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := Open(context.Background(), path)
			if err == nil {
				err = st.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	st, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var v int
	var mode string
	st.db.QueryRow("PRAGMA user_version").Scan(&v)
	st.db.QueryRow("PRAGMA journal_mode").Scan(&mode)
	if v != schemaVersion || mode != "wal" {
		t.Fatalf("schema version %d, journal mode %q; want %d, wal", v, mode, schemaVersion)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	st, dir := openTemp(t)
	if _, err := st.db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), filepath.Join(dir, "vaelab.db"))
	if err == nil || !strings.Contains(err.Error(), "newer than this vaelab") {
		t.Fatalf("opening a newer schema: %v", err)
	}
}

// TestSweepRecordsEveryOutcome: in one sweep a run that diverges is stored as
// diverged with its step, a run whose dataset is missing fails with the reason,
// and the others finish with metrics, summaries and checked artifacts. Running
// the spec again trains only the failed run.
func TestSweepRecordsEveryOutcome(t *testing.T) {
	st, dir := openTemp(t)
	sc := newScheduler(st, dir)
	spec := tinySpec + `
sweep:
  variants:
    - {name: "<script>alert(1)</script>", set: {objective.beta: 1}}
    - {name: β=4, set: {objective.beta: 4}}
    - {name: absurd-lr, set: {train.learning_rate: 1e9}}
    - {name: no-data, set: {dataset.name: frey, dataset.size: 0, dataset.count: 0}}
`
	p, res := runSpec(t, sc, spec)
	if len(p.ToTrain) != 4 || res.Done != 2 || res.Diverged != 1 || res.Failed != 1 {
		t.Fatalf("plan %d runs; result %+v; want 2 done, 1 diverged, 1 failed", len(p.ToTrain), res)
	}
	got := statuses(t, st, "tiny")
	div := got["absurd-lr seed=1"]
	if div.Status != StatusDiverged || div.DivergedStep < 1 || !strings.Contains(div.Error, "not finite") {
		t.Fatalf("diverged run stored as %+v", div)
	}
	if sums, _ := st.Summaries(context.Background(), div.ID); sums["stability/diverged"].Value != 1 {
		t.Fatalf("diverged run's stability summary: %+v", sums["stability/diverged"])
	}
	if f := got["no-data seed=1"]; f.Status != StatusFailed || !strings.Contains(f.Error, "frey_rawface.mat") {
		t.Fatalf("run without data stored as %s: %q", f.Status, f.Error)
	}
	for _, label := range []string{"<script>alert(1)</script> seed=1", "β=4 seed=1"} {
		r := got[label]
		if r.Status != StatusDone || r.Steps != 2*(90/30) {
			t.Fatalf("%s: %s after %d steps", label, r.Status, r.Steps)
		}
		checkRecorded(t, st, r)
	}

	p, res = runSpec(t, sc, spec)
	if len(p.ToTrain) != 1 || p.ToTrain[0].Variant != "no-data" || res.Skipped != 3 {
		t.Fatalf("second run trains %d runs, skips %d; want only the failed one", len(p.ToTrain), res.Skipped)
	}
	if !strings.Contains(p.Note, "2 done (skipped)") || !strings.Contains(p.Note, "1 diverged (kept)") {
		t.Fatalf("note does not say what is skipped: %q", p.Note)
	}
}

// checkRecorded verifies a finished run's metrics, summaries and artifact files.
func checkRecorded(t *testing.T, st *Store, r RunInfo) {
	t.Helper()
	ctx := context.Background()
	m, err := st.Metrics(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"train/loss", "train/recon", "train/kl", "train/elbo", "train/grad_norm"} {
		if len(m[key]) != r.Steps {
			t.Fatalf("run %s: %d values of %s for %d steps", r.ID, len(m[key]), key, r.Steps)
		}
	}
	if len(m["test/elbo"]) != 2 {
		t.Fatalf("run %s: %d epoch evaluations, want 2", r.ID, len(m["test/elbo"]))
	}
	sums, err := st.Summaries(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := m["test/elbo"][1].Value
	if s, ok := sums["test/elbo"]; !ok || s.Value != last || s.Protocol == "" {
		t.Fatalf("run %s: summary test/elbo %+v, last epoch value %v", r.ID, s, last)
	}
	// Every metric carries the protocol that produced it.
	id := metrics.ExtractorID()
	for _, key := range []string{"test/iwae", "posterior/active_units", "posterior/kl_dim_000", "disent/mig", "disent/sap",
		"samples/fd_" + id, "samples/fd_" + id + "_inf", "samples/kid_" + id, "samples/precision_" + id, "samples/recall_" + id,
		"samples/density_" + id, "samples/coverage_" + id, "samples/swd", "samples/sharpness_laplacian", "samples/sharpness_highfreq",
		"samples/sharpness_gradient", "recon/fd_" + id, "recon/swd", "recon/sharpness_laplacian", "real/fd_" + id, "real/kid_" + id,
		"stability/loss_spikes", "stability/grad_norm_p90", "stability/oscillation", "stability/diverged"} {
		s, ok := sums[key]
		if !ok || math.IsNaN(s.Value) {
			t.Errorf("run %s: no %s", r.ID, key)
		}
		if strings.HasPrefix(key, "samples/") || strings.HasPrefix(key, "recon/") || strings.HasPrefix(key, "real/") {
			if !strings.Contains(s.Protocol, "N=") && !strings.Contains(s.Protocol, "real test images") {
				t.Errorf("run %s: %s protocol %q does not give N", r.ID, key, s.Protocol)
			}
		}
		if strings.Contains(key, id) && !strings.Contains(s.Protocol, fmt.Sprintf("%s-v%d", metrics.ExtractorName, metrics.ExtractorVersion)) {
			t.Errorf("run %s: %s protocol %q does not name the extractor version", r.ID, key, s.Protocol)
		}
	}
	for key, s := range sums {
		if s.Protocol == "" && !strings.HasPrefix(key, "train/") && key != "model/parameters" {
			t.Errorf("run %s: %s has no protocol", r.ID, key)
		}
	}
	arts, err := st.Artifacts(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"reconstructions", "samples"} {
		a, ok := arts[kind]
		if !ok {
			t.Fatalf("run %s: no %s artifact", r.ID, kind)
		}
		b, err := os.ReadFile(a.Path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != a.SHA256 || int64(len(b)) != a.Bytes || string(b[1:4]) != "PNG" {
			t.Fatalf("run %s: %s file does not match its record", r.ID, kind)
		}
	}
}

// TestInterruptedRunResumes: cancelling mid-run stores it as interrupted with
// the metrics flushed so far; the next invocation trains it again from the
// start, and it ends with exactly one value per step.
func TestInterruptedRunResumes(t *testing.T) {
	st, dir := openTemp(t)
	sc := newScheduler(st, dir)
	if res := stopAtStep(t, sc, tinySpec, 3); res.Interrupted != 1 {
		t.Fatalf("result %+v, want 1 interrupted", res)
	}
	r := statuses(t, st, "tiny")["seed=1"]
	m, _ := st.Metrics(context.Background(), r.ID)
	if r.Status != StatusInterrupted || r.Steps != 3 || len(m["train/loss"]) != 3 {
		t.Fatalf("interrupted run: %s at step %d with %d losses; want interrupted, 3, 3", r.Status, r.Steps, len(m["train/loss"]))
	}
	p, res := runSpec(t, sc, tinySpec)
	if len(p.ToTrain) != 1 || res.Done != 1 {
		t.Fatalf("resume: %d to train, result %+v", len(p.ToTrain), res)
	}
	r = statuses(t, st, "tiny")["seed=1"]
	m, _ = st.Metrics(context.Background(), r.ID)
	if r.Status != StatusDone || r.Attempts != 2 || len(m["train/loss"]) != r.Steps || m["train/loss"][0].Step != 1 {
		t.Fatalf("after resume: %s, attempt %d, %d losses over %d steps", r.Status, r.Attempts, len(m["train/loss"]), r.Steps)
	}
}

func TestDeadWorkerIsMarkedInterrupted(t *testing.T) {
	st, dir := openTemp(t)
	sc := newScheduler(st, dir)
	spec, rs := parseSpec(t, tinySpec)
	if _, err := sc.Prepare(context.Background(), spec, rs); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	dead := fmt.Sprintf("%s/%d", host, 1<<22+12345) // above Linux's pid_max default
	if ok, err := st.Claim(context.Background(), rs[0].ID, dead, host, "", "", filepath.Join(dir, "runs", rs[0].ID)); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	p, err := sc.Prepare(context.Background(), spec, rs)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.ToTrain) != 1 || p.Status[rs[0].ID] != StatusInterrupted {
		t.Fatalf("a run owned by a dead process is %q and not queued", p.Status[rs[0].ID])
	}
	// A live owner's run is left alone.
	if ok, _ := st.Claim(context.Background(), rs[0].ID, owner(), host, "", "", filepath.Join(dir, "runs", rs[0].ID)); !ok {
		t.Fatal("could not claim the interrupted run")
	}
	if p, _ = sc.Prepare(context.Background(), spec, rs); len(p.ToTrain) != 0 || p.Status[rs[0].ID] != StatusRunning {
		t.Fatalf("a run owned by a live process was taken over: %q", p.Status[rs[0].ID])
	}
}

// TestSameSeedGivesIdenticalStoredSeries runs the same spec in two workspaces
// and compares every stored metric value bit for bit.
func TestSameSeedGivesIdenticalStoredSeries(t *testing.T) {
	series := func() map[string][]Point {
		st, dir := openTemp(t)
		runSpec(t, newScheduler(st, dir), tinySpec)
		r := statuses(t, st, "tiny")["seed=1"]
		m, err := st.Metrics(context.Background(), r.ID)
		if err != nil || len(m) == 0 {
			t.Fatalf("metrics: %v (%d series)", err, len(m))
		}
		return m
	}
	a, b := series(), series()
	for key, pa := range a {
		pb := b[key]
		if len(pa) != len(pb) {
			t.Fatalf("%s: %d vs %d points", key, len(pa), len(pb))
		}
		for i := range pa {
			if pa[i] != pb[i] {
				t.Fatalf("%s step %d: %v vs %v", key, pa[i].Step, pa[i].Value, pb[i].Value)
			}
		}
	}
}

// TestSweepDecodesItsDatasetOnce: three runs on a real dataset share one decoded copy.
func TestSweepDecodesItsDatasetOnce(t *testing.T) {
	dataDir := testenv.SharedData(t, data.LFWSubsetFile)
	st, dir := openTemp(t)
	sc := newScheduler(st, dir)
	sc.Loader = &data.Loader{DataDir: dataDir, CacheDir: filepath.Join(dir, "cache")}
	_, res := runSpec(t, sc, `
name: lfw
dataset: {name: lfw-subset, test_fraction: 0.2}
model: {hidden: [8], latent: 2}
train: {epochs: 1, batch_size: 20}
eval: {batch_size: 20, grid_images: 8}
seeds: [1, 2, 3]
`)
	if res.Done != 3 {
		t.Fatalf("result %+v, want 3 done", res)
	}
	if decoded, hits := sc.Loader.Stats(); decoded != 1 || hits != 0 {
		t.Fatalf("3 runs decoded the dataset %d times (%d cache hits); want once", decoded, hits)
	}
}

// TestStoppedRunResumesFromCheckpoint: a run stopped in its third epoch
// checkpoints at the step it reached, resumes from there and ends with the
// same metric series and final weights as a run that was never stopped.
func TestStoppedRunResumesFromCheckpoint(t *testing.T) {
	for _, tc := range []struct{ name, spec string }{
		{"elbo", fourEpochs},
		{"capacity objective", fourEpochs + "objective: {type: capacity, gamma: 10, capacity_max: 3, capacity_steps: 8}\n"},
		{"mmd objective", fourEpochs + "objective: {type: mmd, beta: 0.5, lambda: 20}\n"},
		{"iwae objective", fourEpochs + "objective: {type: iwae, k: 3}\n"},
		{"beta_tc objective", fourEpochs + "objective: {type: beta_tc, beta: 6, gamma: 0}\n"},
		{"geco objective", fourEpochs + "objective: {type: geco, kappa: 0.02}\n"},
		{"mog prior", strings.Replace(fourEpochs, "model: {hidden: [8], latent: 2}", "model: {hidden: [8], latent: 2, prior: mog, prior_components: 3}", 1)},
		{"vamp prior", strings.Replace(fourEpochs, "model: {hidden: [8], latent: 2}", "model: {hidden: [8], latent: 2, prior: vamp, prior_components: 3}", 1)},
		{"gmm sampler", strings.Replace(fourEpochs, "grid_images: 8}", "grid_images: 8, samplers: [prior, gmm], gmm_components: 2}", 1)},
		{"two_stage sampler", strings.Replace(fourEpochs, "grid_images: 8}", "grid_images: 8, samplers: [prior, two_stage], two_stage_epochs: 3, two_stage_hidden: 8}", 1)},
	} {
		t.Run(tc.name, func(t *testing.T) { checkStoppedRunResumes(t, tc.spec) })
	}
}

// checkStoppedRunResumes: a run of spec stopped at step 7 and resumed ends
// with the curves, weights and final values of an uninterrupted one.
func checkStoppedRunResumes(t *testing.T, spec string) {
	whole := func() (*Store, RunInfo) {
		st, dir := openTemp(t)
		runSpec(t, newScheduler(st, dir), spec)
		return st, statuses(t, st, "tiny")["seed=1"]
	}
	refStore, ref := whole()

	st, dir := openTemp(t)
	sc := newScheduler(st, dir)
	if res := stopAtStep(t, sc, spec, 7); res.Interrupted != 1 {
		t.Fatalf("result %+v, want 1 interrupted", res)
	}
	if _, res := runSpec(t, sc, spec); res.Done != 1 {
		t.Fatalf("resume: %+v", res)
	}
	got := statuses(t, st, "tiny")["seed=1"]
	events, _ := st.Events(context.Background(), "", got.ID)
	resumed := false
	for _, e := range events {
		resumed = resumed || (e.Kind == "resume" && strings.Contains(e.Message, "at step 7 (step 1 of epoch 3)"))
	}
	if !resumed {
		t.Fatalf("no resume event from step 7: %+v", events)
	}
	a, _ := refStore.Metrics(context.Background(), ref.ID)
	b, _ := st.Metrics(context.Background(), got.ID)
	for key, pa := range a {
		if !slices.Equal(pa, b[key]) {
			t.Fatalf("%s differs after resume:\n%v\n%v", key, pa, b[key])
		}
	}
	wa, _ := os.ReadFile(filepath.Join(ref.Dir, checkpointFile))
	wb, _ := os.ReadFile(filepath.Join(got.Dir, checkpointFile))
	ca, errA := vae.ReadCheckpoint(bytes.NewReader(wa))
	cb, errB := vae.ReadCheckpoint(bytes.NewReader(wb))
	if errA != nil || errB != nil || ca.Step != 12 || cb.Step != 12 {
		t.Fatalf("final checkpoints: %v %v", errA, errB)
	}
	for i := range ca.Tensors {
		if !slices.Equal(ca.Tensors[i].W, cb.Tensors[i].W) {
			t.Fatalf("final weights of %s differ after resume", ca.Tensors[i].Name)
		}
	}
	aa, _ := refStore.Artifacts(context.Background(), ref.ID)
	ab, _ := st.Artifacts(context.Background(), got.ID)
	for kind, a := range aa {
		if strings.HasPrefix(kind, "fit_") && ab[kind].SHA256 != a.SHA256 {
			t.Errorf("%s: the sampler's fit differs after resume", kind)
		}
	}
	sa, _ := refStore.Summaries(context.Background(), ref.ID)
	sb, _ := st.Summaries(context.Background(), got.ID)
	if len(sa) != len(sb) {
		t.Errorf("%d summaries uninterrupted, %d resumed", len(sa), len(sb))
	}
	for k := range sa {
		if k == "train/seconds" || k == "train/images_per_second" || k == "eval/seconds" {
			continue
		}
		if sa[k].Value != sb[k].Value {
			t.Errorf("%s: %v uninterrupted, %v resumed", k, sa[k].Value, sb[k].Value)
		}
	}
}

// TestCorruptCheckpointKeepsRecords: a damaged checkpoint fails the run with
// the file's name and deletes nothing the earlier attempt recorded.
func TestCorruptCheckpointKeepsRecords(t *testing.T) {
	spec := fourEpochs
	st, dir := openTemp(t)
	sc := newScheduler(st, dir)
	if res := stopAtStep(t, sc, spec, 5); res.Interrupted != 1 {
		t.Fatalf("result %+v, want 1 interrupted", res)
	}
	r := statuses(t, st, "tiny")["seed=1"]
	before, _ := st.Metrics(context.Background(), r.ID)
	path := filepath.Join(r.Dir, checkpointFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	os.WriteFile(path, b, 0o644)
	if _, res := runSpec(t, sc, spec); res.Failed != 1 {
		t.Fatalf("result %+v, want the run failed", res)
	}
	r = statuses(t, st, "tiny")["seed=1"]
	after, _ := st.Metrics(context.Background(), r.ID)
	if r.Status != StatusFailed || !strings.Contains(r.Error, path) || !strings.Contains(r.Error, "corrupt checkpoint") {
		t.Fatalf("run %s: %q", r.Status, r.Error)
	}
	if len(after["train/loss"]) != 5 || !slices.Equal(before["train/loss"], after["train/loss"]) {
		t.Fatalf("the earlier attempt's %d losses became %d", len(before["train/loss"]), len(after["train/loss"]))
	}
}

// TestDoctorFindsAndRepairs: a changed image, a missing one and an orphaned
// run are found; --repair marks the orphaned run interrupted and leaves files alone.
func TestDoctorFindsAndRepairs(t *testing.T) {
	st, dir := openTemp(t)
	sc := newScheduler(st, dir)
	runSpec(t, sc, strings.Replace(tinySpec, "seeds: [1]", "seeds: [1, 2]", 1))
	if f, err := st.Check(context.Background()); err != nil || len(f) != 0 {
		t.Fatalf("a clean workspace: %v, %+v", err, f)
	}
	done := statuses(t, st, "tiny")
	arts, _ := st.Artifacts(context.Background(), done["seed=1"].ID)
	os.WriteFile(arts["samples"].Path, []byte("not a png"), 0o644)
	os.Remove(arts["traversals"].Path)
	host, _ := os.Hostname()
	orphan := done["seed=2"].ID
	if _, err := st.db.Exec("UPDATE runs SET status='running', owner=? WHERE id=?", fmt.Sprintf("%s/%d", host, 1<<22+4321), orphan); err != nil {
		t.Fatal(err)
	}
	f, err := st.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, x := range f {
		kinds[x.Kind]++
	}
	if len(f) != 3 || kinds["artifact"] != 2 || kinds["orphaned"] != 1 {
		t.Fatalf("findings %+v; want 2 artifacts and 1 orphaned run", f)
	}
	if n, err := st.Repair(context.Background(), f); n != 1 || err != nil {
		t.Fatalf("repair: %d, %v", n, err)
	}
	if r := statuses(t, st, "tiny")["seed=2"]; r.Status != StatusInterrupted {
		t.Fatalf("orphaned run is %s after repair", r.Status)
	}
	// Interrupted now, it waits for its spec to run again: doctor says how.
	if f, _ = st.Check(context.Background()); len(f) != 3 || f[0].Kind != "stuck" || !strings.Contains(f[0].Detail, "vaelab run") {
		t.Fatalf("after repair: %+v; want the 2 file problems left for a person and the run to resume", f)
	}
}

// TestOwnerAlive: a local worker is gone when its heartbeat is stale or its
// process is dead; a Slurm task's run is never judged by heartbeat (its worker
// writes elsewhere), so neither a sweep nor doctor takes it away from Slurm.
func TestOwnerAlive(t *testing.T) {
	host, _ := os.Hostname()
	old := time.Now().Add(-time.Hour)
	for _, tc := range []struct {
		owner     string
		heartbeat time.Time
		want      bool
	}{
		{owner(), time.Now(), true},
		{owner(), old, false},
		{fmt.Sprintf("%s/%d", host, 1<<30), time.Now(), false}, // no such process
		{"elsewhere/123", time.Now(), true},
		{"elsewhere/123", old, false},
		{"slurm:sweep-20260101T000000:3", old, true},
	} {
		if got := ownerAlive(tc.owner, tc.heartbeat, staleAfter); got != tc.want {
			t.Errorf("ownerAlive(%q, %v ago) = %v, want %v", tc.owner, time.Since(tc.heartbeat).Round(time.Second), got, tc.want)
		}
	}
}

// TestUnrecordedCheckpointWithItsCurvesResumes: a worker killed after writing
// a checkpoint but before recording it leaves a file whose sha256 the store
// lacks while the store holds its curves: that run resumes, and the store
// records the file it resumed from (were it written at the end of training,
// no later checkpoint would replace the stale record); a store that holds
// neither (a new database) starts it from scratch with the file kept.
func TestUnrecordedCheckpointWithItsCurvesResumes(t *testing.T) {
	st, dir := openTemp(t)
	sc := newScheduler(st, dir)
	if res := stopAtStep(t, sc, fourEpochs, 5); res.Interrupted != 1 {
		t.Fatalf("result %+v, want 1 interrupted", res)
	}
	r := statuses(t, st, "tiny")["seed=1"]
	path := filepath.Join(r.Dir, checkpointFile)
	if err := st.PutArtifact(context.Background(), Artifact{RunID: r.ID, Kind: "checkpoint", Path: path, SHA256: strings.Repeat("0", 64)}); err != nil {
		t.Fatal(err)
	}
	var recordedAtResume string
	sc.OnStep = func() {
		if recordedAtResume != "" {
			return
		}
		b, err := os.ReadFile(path)
		arts, aerr := st.Artifacts(context.Background(), r.ID)
		if err != nil || aerr != nil {
			t.Errorf("read %s: %v; artifacts: %v", path, err, aerr)
			return
		}
		sum := sha256.Sum256(b)
		if a := arts["checkpoint"]; a.SHA256 != hex.EncodeToString(sum[:]) || a.Bytes != int64(len(b)) {
			t.Errorf("at the first step after the resume the store records the checkpoint as sha256 %.12s, %d bytes; the file resumed from is %.12s, %d bytes", a.SHA256, a.Bytes, hex.EncodeToString(sum[:]), len(b))
		}
		recordedAtResume = "checked"
	}
	_, res := runSpec(t, sc, fourEpochs)
	sc.OnStep = nil
	if res.Done != 1 {
		t.Fatalf("result %+v, want the run done", res)
	}
	if recordedAtResume == "" {
		t.Fatal("no training step ran after the resume")
	}
	events, _ := st.Events(context.Background(), "", r.ID)
	resumed := slices.ContainsFunc(events, func(e Event) bool { return e.Kind == "resume" })
	fresh := slices.ContainsFunc(events, func(e Event) bool { return e.Kind == "fresh-start" })
	if !resumed || fresh {
		t.Fatalf("resumed %v, fresh start %v; want a resume: %+v", resumed, fresh, events)
	}
}

// TestCatalogueMatchesWhatIsStored: every metric of the catalogue is a
// summary that a finished run on synthetic faces stores.
func TestCatalogueMatchesWhatIsStored(t *testing.T) {
	st, dir := openTemp(t)
	if _, res := runSpec(t, newScheduler(st, dir), fourEpochs); res.Done != 1 {
		t.Fatalf("result %+v, want the run done", res)
	}
	r := statuses(t, st, "tiny")["seed=1"]
	sums, err := st.Summaries(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range evaluate.Catalogue() {
		if _, ok := sums[m.Key]; !ok && m.Needs == "" {
			t.Errorf("the catalogue lists %s, which the run did not store", m.Key)
		}
	}
}
