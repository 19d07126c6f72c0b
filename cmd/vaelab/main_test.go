package main

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vaelab/vaelab/internal/testenv"
	"github.com/vaelab/vaelab/runs"
)

// binary is the vaelab command built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	testenv.SetupBLAS() // for the commands' parts tested in process
	dir, err := os.MkdirTemp("", "vaelab-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "vaelab")
	// Every command the tests start, with this process's environment or a
	// helper's, keeps its per-machine files (decoded datasets, the threads
	// measurement) out of the user's cache: one taken while other test
	// packages run would otherwise be remembered there as this machine's.
	if err := os.Setenv("VAELAB_CACHE_DIR", filepath.Join(dir, "cache")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// VAELAB_TEST_BINARY runs the end-to-end tests against another build,
	// e.g. an older commit's, to show which of them it fails.
	if b := os.Getenv("VAELAB_TEST_BINARY"); b != "" {
		binary = b
	} else if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build vaelab: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// vaelab runs the built binary in dir with a clean VAELAB_* environment plus env.
func vaelab(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VAELAB_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	// Decoded-dataset copies go to the test's folder, not the user's cache.
	cmd.Env = append(cmd.Env, "VAELAB_CACHE_DIR="+filepath.Join(dir, "decoded-cache"))
	cmd.Env = append(cmd.Env, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errOut.String()}
}

func abs(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(rel)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestQuickstartRunsThenResumes runs the README's main job: the quickstart spec
// trains, fills the database and writes the report; a second run trains nothing.
func TestQuickstartRunsThenResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("the quickstart trains 6 runs; skipped with -short")
	}
	dir := t.TempDir()
	spec := abs(t, "../../experiments/quickstart.yaml")
	r := vaelab(t, dir, nil, "run", spec, "--report", "report.html")
	if r.code != 0 || !strings.Contains(r.stdout, "finished: 6 done, 0 diverged, 0 failed") {
		t.Fatalf("quickstart: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	st, err := runs.Open(context.Background(), filepath.Join(dir, "vaelab.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rs, err := st.Runs(context.Background(), "quickstart")
	if err != nil || len(rs) != 6 {
		t.Fatalf("stored %d runs, %v", len(rs), err)
	}
	// Higher β buys a smaller KL: the rate falls monotonically across the sweep.
	kl := map[string]float64{}
	for _, run := range rs {
		s, err := st.Summaries(context.Background(), run.ID)
		if err != nil || run.Status != runs.StatusDone {
			t.Fatalf("run %s: %s, %v", run.Label, run.Status, err)
		}
		kl[run.Varying["objective.beta"]] += s["test/kl"].Value / 2
	}
	if !(kl["0.5"] > kl["1"] && kl["1"] > kl["4"]) {
		t.Errorf("mean test KL by β: %v; want decreasing in β", kl)
	}
	if fi, err := os.Stat(filepath.Join(dir, "report.html")); err != nil || fi.Size() < 10000 {
		t.Fatalf("report: %v", err)
	}
	again := vaelab(t, dir, nil, "run", spec)
	if again.code != 0 || !strings.Contains(again.stdout, "all 6 runs are finished") || strings.Contains(again.stdout, "\ndone ") {
		t.Fatalf("second run: exit %d\n%s%s", again.code, again.stdout, again.stderr)
	}
}

func TestPlanListsStableDistinctRuns(t *testing.T) {
	dir := t.TempDir()
	spec := abs(t, "../../experiments/testdata/plan36.yaml")
	first := vaelab(t, dir, nil, "plan", spec)
	if first.code != 0 {
		t.Fatalf("plan: exit %d: %s", first.code, first.stderr)
	}
	ids := regexp.MustCompile(`(?m)^([0-9a-f]{16})\s`).FindAllStringSubmatch(first.stdout, -1)
	distinct := map[string]bool{}
	for _, m := range ids {
		distinct[m[1]] = true
	}
	if len(ids) != 36 || len(distinct) != 36 || !strings.Contains(first.stdout, "36 runs") {
		t.Fatalf("plan listed %d ids (%d distinct), want 36:\n%s", len(ids), len(distinct), first.stdout)
	}
	if !strings.Contains(first.stdout, "OBJECTIVE.BETA") || !strings.Contains(first.stdout, "Tanh") {
		t.Fatalf("plan does not show the varying values:\n%s", first.stdout)
	}
	if second := vaelab(t, dir, nil, "plan", spec); second.stdout != first.stdout {
		t.Fatal("plan printed different runs for the same spec")
	}
	if _, err := os.Stat(filepath.Join(dir, "vaelab.db")); err == nil {
		t.Fatal("plan created a database")
	}
}

// TestBadSpecWritesNothing: a malformed spec exits with status 2, names the key,
// and leaves no database behind (and an existing one untouched).
func TestBadSpecWritesNothing(t *testing.T) {
	for _, tc := range []struct{ name, spec, want string }{
		{"unknown key", "name: x\nmodel:\n  latnet: 4\n", "bad.yaml:3: model.latnet: unknown key"},
		{"wrong type", "name: x\ntrain:\n  epochs: many\n", `bad.yaml:3: train.epochs: want an integer, got "many"`},
		{"negative beta", "name: x\nobjective:\n  beta: -0.5\n", "bad.yaml:3: objective.beta: -0.5 must be between 0 and 1e6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte(tc.spec), 0o644); err != nil {
				t.Fatal(err)
			}
			r := vaelab(t, dir, nil, "run", "bad.yaml")
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, tc.want)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Fatalf("the failed run left files behind: %v", entries)
			}
		})
	}
}

// TestReportIsSelfContainedAndEscapesNames runs a sweep whose names hold markup
// and where one variant diverges, then checks the report.
func TestReportIsSelfContainedAndEscapesNames(t *testing.T) {
	dir := t.TempDir()
	r := vaelab(t, dir, nil, "run", abs(t, "testdata/tiny.yaml"), "--report", "report.html")
	if r.code != 0 || !strings.Contains(r.stdout, "2 done, 2 diverged, 0 failed") {
		t.Fatalf("run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{
		`&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; seed=1`, // the variant name, as text
		`tiny &lt;b&gt;bold&lt;/b&gt;`,                           // the experiment name, as text
		`diverged at step`,
		`data:image/png;base64,`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if n := strings.Count(page, "<script"); n != 1 {
		t.Errorf("report has %d <script> elements; only the table sorter should be there", n)
	}
	if n := strings.Count(page, "<svg"); n < 4 {
		t.Errorf("report has %d inline SVG plots, want 4", n)
	}
	// Nothing is fetched: no external scripts, styles, fonts or images.
	for _, bad := range []string{`src="http`, `href="http`, "<link", "@import", "url(http", "<iframe"} {
		if strings.Contains(page, bad) {
			t.Errorf("report refers to an external resource: %q", bad)
		}
	}
	// Each of the 2 finished runs shows its reconstructions, samples and
	// traversals, each grid once (the configuration's sections link to them).
	if grids := strings.Count(page, `<img class="grid"`); grids != 2*3 {
		t.Errorf("%d image grids; want 6", grids)
	}

	ls := vaelab(t, dir, nil, "ls", "tiny <b>bold</b>")
	m := regexp.MustCompile(`(?m)^([0-9a-f]{16})\s+absurd learning rate seed=1\s+diverged \(step (\d+)\)`).FindStringSubmatch(ls.stdout)
	if ls.code != 0 || m == nil {
		t.Fatalf("ls does not list the diverged run with its step:\n%s%s", ls.stdout, ls.stderr)
	}
	show := vaelab(t, dir, nil, "show", m[1][:8])
	if show.code != 0 || !strings.Contains(show.stdout, "status     diverged") || !strings.Contains(show.stdout, "not finite at step "+m[2]) {
		t.Fatalf("show %s:\n%s%s", m[1][:8], show.stdout, show.stderr)
	}
	if r := vaelab(t, dir, nil, "show", "ffffffff"); r.code != 1 || !strings.Contains(r.stderr, "no run with id ffffffff") {
		t.Fatalf("show of an unknown run: exit %d, %q", r.code, r.stderr)
	}
}

// TestSettingsPrecedence: flag > VAELAB_* environment > config file > default,
// observed through the database path that ls reports missing.
func TestSettingsPrecedence(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".vaelab.yaml"), []byte("db: from-config.db\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"flag wins", []string{"VAELAB_DB=from-env.db"}, []string{"--db", "from-flag.db"}, "from-flag.db"},
		{"env over config", []string{"VAELAB_DB=from-env.db"}, nil, "from-env.db"},
		{"config over default", nil, nil, "from-config.db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := vaelab(t, dir, tc.env, append([]string{"ls"}, tc.args...)...)
			if r.code == 0 || !strings.Contains(r.stderr, "no database at "+tc.want) {
				t.Fatalf("exit %d, stderr %q; want the database %s", r.code, r.stderr, tc.want)
			}
		})
	}
	os.Remove(filepath.Join(dir, ".vaelab.yaml"))
	if r := vaelab(t, dir, nil, "ls"); !strings.Contains(r.stderr, "no database at vaelab.db") {
		t.Fatalf("default database: %q", r.stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, ".vaelab.yaml"), []byte("dbb: x.db\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := vaelab(t, dir, nil, "ls"); r.code != 2 || !strings.Contains(r.stderr, `unknown key "dbb"`) {
		t.Fatalf("unknown settings key: exit %d, %q", r.code, r.stderr)
	}
	if r := vaelab(t, dir, []string{"VAELAB_WORKERS=0"}, "--config", "/nonexistent.yaml", "ls"); r.code != 2 {
		t.Fatalf("missing --config file: exit %d, %q", r.code, r.stderr)
	}
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }

// TestExportAndMultiExperimentReport: export prints the summary table; a report
// of two experiments compares them; --runs keeps only the runs asked for.
func TestExportAndMultiExperimentReport(t *testing.T) {
	dir := t.TempDir()
	// The first experiment is a conv VAE with batch norm, so that sample and
	// report work from a conv model's checkpoint; the second is an MLP.
	models := map[string]string{"first": "{architecture: conv, channels: [4, 8], norm: batch, hidden: [8], latent: 2}", "second": "{hidden: [8], latent: 2}"}
	for _, name := range []string{"first", "second"} {
		spec := fmt.Sprintf("name: %s\ndataset: {name: synthetic, size: 10, count: 120, test_fraction: 0.25}\nmodel: %s\ntrain: {epochs: 1, batch_size: 30}\neval: {batch_size: 30, grid_images: 8, samples: 30}\nseeds: [1, 2]\n", name, models[name])
		os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(spec), 0o644)
		if r := vaelab(t, dir, nil, "run", name+".yaml"); r.code != 0 {
			t.Fatalf("run %s: %s%s", name, r.stdout, r.stderr)
		}
	}
	if r := vaelab(t, dir, nil, "doctor"); r.code != 0 || !strings.Contains(r.stdout, ": ok (integrity check passed") {
		t.Fatalf("doctor on a clean workspace: exit %d, %s%s", r.code, r.stdout, r.stderr)
	}
	md := vaelab(t, dir, nil, "export", "first", "--format", "md")
	if md.code != 0 || !strings.HasPrefix(md.stdout, "## Ranking by ") || !strings.Contains(md.stdout, "## Summary\n\n| configuration | seeds | diverged | test ELBO ↑ |") {
		t.Fatalf("export md: exit %d\n%s%s", md.code, md.stdout, md.stderr)
	}
	if r := vaelab(t, dir, nil, "export", "first", "--format", "pdf"); r.code != 1 || !strings.Contains(r.stderr, "unknown format") {
		t.Fatalf("export pdf: exit %d, %q", r.code, r.stderr)
	}
	both := vaelab(t, dir, nil, "report", "first", "second", "-o", "both.html")
	page, _ := os.ReadFile(filepath.Join(dir, "both.html"))
	if both.code != 0 || !strings.Contains(string(page), "Comparison of experiments") || !strings.Contains(string(page), "Experiment second") {
		t.Fatalf("report of two experiments: exit %d, %s", both.code, both.stderr)
	}
	ls := vaelab(t, dir, nil, "ls", "first")
	id := regexp.MustCompile(`(?m)^([0-9a-f]{16})\s+seed=1`).FindStringSubmatch(ls.stdout)
	if id == nil {
		t.Fatalf("ls first:\n%s", ls.stdout)
	}
	// sample rebuilds the model from the run's final checkpoint: 10x10 images,
	// 8 per row (traversals: 9 per row, one row per latent dimension), scale 2.
	for _, tc := range []struct {
		kind string
		w, h int
	}{{"samples", 8*22 + 2, 2*22 + 2}, {"reconstructions", 8*22 + 2, 2*22 + 2}, {"traversals", 9*22 + 2, 2*22 + 2}} {
		out := filepath.Join(dir, tc.kind+".png")
		r := vaelab(t, dir, nil, "sample", id[1][:8], "--kind", tc.kind, "-n", "16", "-o", out)
		if r.code != 0 {
			t.Fatalf("sample --kind %s: exit %d, %s", tc.kind, r.code, r.stderr)
		}
		f, _ := os.Open(out)
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.Width != tc.w || cfg.Height != tc.h {
			t.Fatalf("sample --kind %s: %dx%d (%v), want %dx%d", tc.kind, cfg.Width, cfg.Height, err, tc.w, tc.h)
		}
	}
	if r := vaelab(t, dir, nil, "sample", id[1][:8], "--kind", "dreams"); r.code != 2 || !strings.Contains(r.stderr, `--kind "dreams"`) {
		t.Fatalf("sample of an unknown kind: exit %d, %q", r.code, r.stderr)
	}
	one := vaelab(t, dir, nil, "report", "first", "--runs", id[1][:8], "-o", "one.html")
	page, _ = os.ReadFile(filepath.Join(dir, "one.html"))
	if one.code != 0 || strings.Count(string(page), `<div class="run" id="run-`) != 1 || !strings.Contains(string(page), "run-"+id[1]) {
		t.Fatalf("--runs: exit %d, %d runs in the page", one.code, strings.Count(string(page), `<div class="run" id="run-`))
	}
}

// TestReportDuringSweep makes reports and listings while another process is
// training: the reader never blocks or fails the writer, and both succeed.
func TestReportDuringSweep(t *testing.T) {
	dir := t.TempDir()
	spec := "name: busy\ndataset: {name: synthetic, size: 16, count: 600, test_fraction: 0.2}\nmodel: {hidden: [64], latent: 4}\ntrain: {epochs: 6, batch_size: 16}\neval: {batch_size: 60, grid_images: 8, samples: 60}\nseeds: [1, 2, 3, 4]\n"
	os.WriteFile(filepath.Join(dir, "busy.yaml"), []byte(spec), 0o644)
	cmd := exec.Command(binary, "run", "busy.yaml", "--workers", "2")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "VAELAB_CACHE_DIR="+filepath.Join(dir, "cache"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reports := 0
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "vaelab.db")); err != nil {
			continue
		}
		r := vaelab(t, dir, nil, "report", "busy", "-o", "during.html")
		if r.code != 0 && !strings.Contains(r.stderr, "no experiment named") {
			t.Fatalf("report during the sweep: exit %d, %s", r.code, r.stderr)
		}
		if r.code == 0 {
			reports++
			if ls := vaelab(t, dir, nil, "ls", "busy"); ls.code != 0 || !strings.Contains(ls.stdout, "running") {
				break // the sweep may have finished between the two
			}
		}
		if reports >= 3 {
			break
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("sweep: %v\n%s", err, out.String())
	}
	if reports == 0 || !strings.Contains(out.String(), "finished: 4 done") || strings.Contains(out.String(), "locked") {
		t.Fatalf("%d reports during the sweep; sweep output:\n%s", reports, out.String())
	}
}

// TestBenchPrintsItsTables runs the speed harness's training section with
// tiny step counts and no PyTorch: a row per model, measured in its own process.
func TestBenchPrintsItsTables(t *testing.T) {
	r := vaelab(t, t.TempDir(), nil, "bench", "--settle", "0", "--python", "", "--mlp-steps", "2", "--conv-steps", "1", "--rounds", "2", "--sections", "train")
	if r.code != 0 {
		t.Fatalf("bench: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"vaelab    mlp    100      2", "vaelab   conv     64      1", "no pause before the measurements (--settle 0)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("bench output lacks %q:\n%s", want, r.stdout)
		}
	}
}
