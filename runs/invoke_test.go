package runs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vaelab/vaelab/internal/blaslib"
	"github.com/vaelab/vaelab/internal/fault"
	"github.com/vaelab/vaelab/internal/threads"
	"github.com/vaelab/vaelab/record"
)

// The commands' errors say whose they are: a bad spec, executor or runs
// directory is the user's (exit 2 in the CLI), a missing database or an
// unknown experiment's store a failure, and each names what is wrong.
func TestCommandErrors(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "tiny.yaml")
	os.WriteFile(spec, []byte(tinySpec), 0o644)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("name: bad\nmodel: {latnt: 2}\n"), 0o644)
	ws := Workspace{DB: filepath.Join(dir, "vaelab.db"), DataDir: dir, RunsDir: filepath.Join(dir, "runs")}
	o := func(edit func(*SweepOptions)) SweepOptions {
		s := SweepOptions{Workspace: ws, Workers: 1, Executor: "local", Log: &strings.Builder{}, Progress: &strings.Builder{}}
		if edit != nil {
			edit(&s)
		}
		return s
	}
	ctx := context.Background()
	for _, c := range []struct {
		name string
		err  error
		want string
		user bool
	}{
		{"bad spec", RunSpec(ctx, bad, o(nil)), "latnt", true},
		{"missing spec", RunSpec(ctx, filepath.Join(dir, "none.yaml"), o(nil)), "none.yaml", true},
		{"unknown executor", RunSpec(ctx, spec, o(func(s *SweepOptions) { s.Executor = "cloud" })), `--executor "cloud"`, true},
		{"system runs dir", RunSpec(ctx, spec, o(func(s *SweepOptions) { s.RunsDir = "/etc" })), "system folder", true},
		{"evaluate without a database", Evaluate(ctx, spec, o(nil)), "no database at", false},
		{"worker without a database", WorkExperiment(ctx, "tiny", o(nil)), "no database at", false},
		{"worker given nothing", Work(ctx, "", "", -1, o(nil)), "name an experiment (--experiment NAME) or a Slurm manifest", true},
		{"worker of a missing manifest", Work(ctx, "", filepath.Join(dir, "none.json"), 0, o(nil)), "worker: ", false},
		{"sync of a bad spec", SyncSpec(ctx, bad, ws, false, SlurmOptions{}, &strings.Builder{}), "latnt", true},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) || fault.IsUser(c.err) != c.user {
			t.Errorf("%s: %v; want an error with %q, the user's: %v", c.name, c.err, c.want, c.user)
		}
	}
	if _, err := os.Stat(ws.DB); err == nil {
		t.Error("a refused command created the database")
	}

	// Trained once, the spec is found again by file and by name; an unknown
	// name is the user's error.
	if err := RunSpec(ctx, spec, o(nil)); err != nil {
		t.Fatal(err)
	}
	st, err := OpenExisting(ctx, ws.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, arg := range []string{spec, "tiny"} {
		if s, rs, err := EvaluationSpec(ctx, st, arg, dir); err != nil || s.Name != "tiny" || len(rs) != 1 {
			t.Errorf("EvaluationSpec(%s): %v", arg, err)
		}
	}
	if _, _, err := EvaluationSpec(ctx, st, "nope", dir); !fault.IsUser(err) || !strings.Contains(err.Error(), "neither a spec file nor an experiment") {
		t.Errorf("EvaluationSpec(nope): %v", err)
	}
	status, err := StoredStatuses(ctx, ws.DB, "tiny")
	if err != nil || len(status) != 1 {
		t.Errorf("StoredStatuses: %v, %v", status, err)
	}
	for _, s := range status {
		if s != StatusDone {
			t.Errorf("stored status %q, want done", s)
		}
	}
}

// A sweep's report runs after its runs, and a report that fails is the
// command's error; the report is not written when the sweep stopped.
func TestRunSpecReportsAfter(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "tiny.yaml")
	os.WriteFile(spec, []byte(tinySpec), 0o644)
	var reported []string
	o := SweepOptions{Workspace: Workspace{DB: filepath.Join(dir, "vaelab.db"), DataDir: dir, RunsDir: filepath.Join(dir, "runs")},
		Workers: 1, Executor: "local", Log: &strings.Builder{}, Progress: &strings.Builder{},
		Report: func(_ context.Context, _ record.Reader, experiment string) error {
			reported = append(reported, experiment)
			return errors.New("disk gone")
		}}
	if err := RunSpec(context.Background(), spec, o); err == nil || err.Error() != "disk gone" || len(reported) != 1 || reported[0] != "tiny" {
		t.Errorf("RunSpec: %v, reported %v", err, reported)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	reported = nil
	if err := RunSpec(ctx, spec, o); !errors.Is(err, context.Canceled) && err != nil || len(reported) != 0 {
		t.Errorf("stopped RunSpec: %v, reported %v", err, reported)
	}
}

// CheckOutput refuses the workspace's own files, the settings file and the
// spec being run as the user's errors, and lets any other path through.
func TestCheckOutput(t *testing.T) {
	dir := t.TempDir()
	ws := Workspace{DB: filepath.Join(dir, "vaelab.db"), RunsDir: filepath.Join(dir, "runs")}
	settings, spec := filepath.Join(dir, ".vaelab.yaml"), filepath.Join(dir, "spec.yaml")
	for _, c := range []struct {
		path string
		ok   bool
	}{
		{"", true},
		{filepath.Join(dir, "report.html"), true},
		{ws.DB, false},
		{ws.DB + "-wal", false},
		{filepath.Join(ws.RunsDir, "abc", "checkpoint.vck"), false},
		{settings, false},
		{spec, false},
	} {
		err := CheckOutput(context.Background(), ws, settings, "--output", c.path, spec)
		if (err == nil) != c.ok || (err != nil && !fault.IsUser(err)) {
			t.Errorf("%q: %v, want ok=%v and the user's error", c.path, err, c.ok)
		}
	}
}

func TestParseTags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want map[string]string
	}{
		{[]string{"a=1", " b =x=y", "c="}, map[string]string{"a": "1", "b": "x=y", "c": ""}},
		{[]string{"a=1", "nokey"}, nil},
		{[]string{"=1"}, nil},
	} {
		got, err := ParseTags(c.args)
		if c.want == nil {
			if !fault.IsUser(err) {
				t.Errorf("%v: %v, want the user's error", c.args, err)
			}
			continue
		}
		if err != nil || len(got) != len(c.want) {
			t.Errorf("%v: %v, %v", c.args, got, err)
		}
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("%v: %s=%q, want %q", c.args, k, got[k], v)
			}
		}
	}
}

func TestVersionLine(t *testing.T) {
	for _, c := range []struct {
		p    Provenance
		want string
	}{
		{Provenance{Version: "1.0", VCSRevision: "unknown (built without VCS stamping)"}, "1.0"},
		{Provenance{Version: "1.0"}, "1.0"},
		{Provenance{Version: "1.0", VCSRevision: "abc123"}, "1.0 (commit abc123)"},
		{Provenance{Version: "1.0", VCSRevision: "abc123", VCSModified: true}, "1.0 (commit abc123, modified)"},
	} {
		if got := VersionLine(c.p); got != c.want {
			t.Errorf("%+v: %q, want %q", c.p, got, c.want)
		}
	}
}

// vaelab plan prints the runs with their stored statuses; rm asks first
// and deletes only on y or yes; tags and notes go through their targets.
func TestPlanTagNoteAndRemove(t *testing.T) {
	ctx := context.Background()
	st, dir := openTemp(t)
	sc := newScheduler(st, dir)
	runSpec(t, sc, tinySpec)
	specFile := filepath.Join(dir, "tiny.yaml")
	os.WriteFile(specFile, []byte(tinySpec), 0o644)
	var plan strings.Builder
	if err := PrintPlan(ctx, specFile, Workspace{DB: st.Path(), DataDir: dir}, &plan); err != nil || !strings.Contains(plan.String(), "done") {
		t.Errorf("PrintPlan: %v\n%s", err, plan.String())
	}

	if _, _, err := st.Tag(ctx, "tiny", map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	if _, tags, err := st.Tag(ctx, "tiny", map[string]string{"k": "", "a": "b"}); err != nil || len(tags) != 1 || tags["a"] != "b" {
		t.Errorf("Tag: %v, %v", tags, err)
	}
	if _, err := st.Note(ctx, "tiny", " "); !fault.IsUser(err) {
		t.Errorf("empty note: %v, want the user's error", err)
	}
	if _, err := st.Note(ctx, "nope", "text"); err == nil || fault.IsUser(err) {
		t.Errorf("note on nothing: %v, want a failure", err)
	}
	var log strings.Builder
	if err := st.ArchiveAll(ctx, []string{"tiny", "nope"}, true, &log); err == nil || !strings.HasPrefix(log.String(), "tiny: archived") {
		t.Errorf("ArchiveAll: %v, %q", err, log.String())
	}

	for _, c := range []struct {
		answer  string
		removed bool
	}{{"\n", false}, {"n\n", false}, {"YES\n", true}} {
		log.Reset()
		err := st.RemoveAsked(ctx, "tiny", false, strings.NewReader(c.answer), &log)
		if removed := err == nil; removed != c.removed || !strings.Contains(log.String(), "delete experiment tiny with its records and files? [y/N]") {
			t.Errorf("answer %q: %v, %q", c.answer, err, log.String())
		}
	}
	if !strings.Contains(log.String(), "removed experiment tiny: 1 run, ") {
		t.Errorf("removal: %q", log.String())
	}
	if err := st.RemoveAsked(ctx, "tiny", false, nil, &log); err == nil {
		t.Error("removed twice")
	}
}

func TestSizeText(t *testing.T) {
	for n, want := range map[int64]string{0: "0.0 kB", 1500: "1.5 kB", 2_500_000: "2.5 MB", 3_200_000_000: "3.2 GB"} {
		if got := sizeText(n); got != want {
			t.Errorf("sizeText(%d) = %q, want %q", n, got, want)
		}
	}
}

// doctor prints the BLAS line first, even with no database; a healthy
// store passes with its ok line.
func TestDoctorWorkspace(t *testing.T) {
	ctx := context.Background()
	var w strings.Builder
	gonum := blaslib.Info{Library: "gonum", Reason: "asked for"}
	err := DoctorWorkspace(ctx, filepath.Join(t.TempDir(), "none.db"), false, gonum, threads.Decision{}, &w)
	if err == nil || !strings.Contains(err.Error(), "no database at") || !strings.HasPrefix(w.String(), "blas") || !strings.Contains(w.String(), "note") {
		t.Errorf("no database: %v\n%s", err, w.String())
	}
	st, dir := openTemp(t)
	runSpec(t, newScheduler(st, dir), tinySpec)
	w.Reset()
	if err := DoctorWorkspace(ctx, st.Path(), false, gonum, threads.Decision{}, &w); err != nil || !strings.Contains(w.String(), st.Path()+": ok (integrity check passed") {
		t.Errorf("healthy store: %v\n%s", err, w.String())
	}
}
