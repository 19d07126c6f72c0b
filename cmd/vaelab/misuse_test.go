package main

// Regression tests for misuse: each names the defect it covers.

import (
	"crypto/sha256"
	"database/sql"
	"fmt"
	"github.com/vaelab/vaelab/internal/testenv"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vaelab/vaelab/runs"
)

const misuseSpec = "name: misuse\ndataset: {name: synthetic, size: 8, count: 80, test_fraction: 0.25}\nmodel: {hidden: [8], latent: 2}\ntrain: {epochs: 2, batch_size: 20}\neval: {batch_size: 20, grid_images: 4, samples: 20}\nseeds: [1, 2]\n"

// Defect 1: a run folder left by another database must not be "resumed"
// by a new one (which holds none of its curves): the new database trains
// every run from scratch with complete records, and the old checkpoint is
// kept aside, not deleted.
func TestNewDatabaseBesideOldRunFoldersTrainsFromScratch(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(misuseSpec), 0o644)
	if r := vaelab(t, dir, nil, "run", "s.yaml", "--db", "a.db"); r.code != 0 {
		t.Fatalf("first run: %s%s", r.stdout, r.stderr)
	}
	r := vaelab(t, dir, nil, "run", "s.yaml", "--db", "b.db")
	if r.code != 0 {
		t.Fatalf("second database: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "resume ") {
		t.Errorf("a new database resumed runs it has no records of:\n%s%s", r.stdout, r.stderr)
	}
	assertSameAsReference(t, filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db"), "misuse")
	aside, _ := filepath.Glob(filepath.Join(dir, "vaelab-runs", "*", "checkpoint.vck.unrecorded-*"))
	if len(aside) != 2 {
		t.Errorf("%d old checkpoints kept aside, want 2", len(aside))
	}
	if n := countRows(t, filepath.Join(dir, "b.db"), "SELECT count(*) FROM events WHERE kind='fresh-start'"); n != 2 {
		t.Errorf("%d fresh-start events, want 2", n)
	}
	// Deleting the database and running again is the same case.
	for _, f := range []string{"b.db", "b.db-wal", "b.db-shm"} {
		os.Remove(filepath.Join(dir, f))
	}
	if r := vaelab(t, dir, nil, "run", "s.yaml", "--db", "b.db"); r.code != 0 || strings.Contains(r.stdout, "resume ") {
		t.Fatalf("recreated database: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	assertSameAsReference(t, filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db"), "misuse")
	// The first database still resumes nothing and retrains nothing: its runs are done.
	if r := vaelab(t, dir, nil, "run", "s.yaml", "--db", "a.db"); r.code != 0 || strings.Contains(r.stdout, "fresh start") {
		t.Fatalf("first database again: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// Defect 2: a spec's download may write only inside the data directory; a
// path outside it is refused at plan time unless it is an existing file to
// read. The hostile specs run under a temporary root whose tree is checked.
func TestSpecCannotWriteOutsideTheDataDirectory(t *testing.T) {
	root := t.TempDir()
	ws, dataDir := filepath.Join(root, "ws"), filepath.Join(root, "data")
	os.MkdirAll(ws, 0o755)
	os.MkdirAll(filepath.Join(dataDir, "link"), 0o755)
	os.Symlink(root, filepath.Join(dataDir, "out")) // a symlinked folder leading out
	payload := []byte("#!/bin/sh\necho pwned\n")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(payload) }))
	defer srv.Close()
	sum := sha256.Sum256(payload)
	env := []string{"VAELAB_DATA_DIR=" + dataDir}
	before := treeOf(t, root)
	for _, path := range []string{"../../outside/evil.sh", filepath.Join(root, "abs", "evil.sh"), "out/evil.sh", "link/../../evil.sh"} {
		spec := fmt.Sprintf("name: evil\ndataset: {name: npy, path: %q, url: %q, sha256: %x}\nmodel: {hidden: [8], latent: 2}\ntrain: {epochs: 1}\nseeds: [1]\n", path, srv.URL+"/x.npy", sum)
		os.WriteFile(filepath.Join(ws, "evil.yaml"), []byte(spec), 0o644)
		for _, cmd := range []string{"plan", "run"} {
			r := vaelab(t, ws, env, cmd, "evil.yaml")
			if r.code != 2 || !strings.Contains(r.stderr, "dataset.path") {
				t.Errorf("%s with path %s: exit %d, %q; want 2 naming dataset.path", cmd, path, r.code, r.stderr)
			}
		}
	}
	after := treeOf(t, root)
	for p := range after {
		if !before[p] && p != "ws/evil.yaml" {
			t.Errorf("a refused spec left %s", p)
		}
	}
	// A path outside the data directory that names an existing file is read.
	outside := filepath.Join(root, "faces.npy")
	os.WriteFile(outside, []byte("not an npy file"), 0o644)
	spec := fmt.Sprintf("name: outside\ndataset: {name: npy, path: %q}\nmodel: {hidden: [8], latent: 2}\ntrain: {epochs: 1}\nseeds: [1]\n", outside)
	os.WriteFile(filepath.Join(ws, "outside.yaml"), []byte(spec), 0o644)
	if r := vaelab(t, ws, env, "plan", "outside.yaml"); r.code != 0 {
		t.Errorf("plan of an existing file outside the data directory: exit %d, %q", r.code, r.stderr)
	}
	spec = strings.Replace(spec, "faces.npy", "missing.npy", 1)
	os.WriteFile(filepath.Join(ws, "outside.yaml"), []byte(spec), 0o644)
	if r := vaelab(t, ws, env, "plan", "outside.yaml"); r.code != 2 || !strings.Contains(r.stderr, "must exist") {
		t.Errorf("plan of a missing file outside the data directory: exit %d, %q", r.code, r.stderr)
	}
}

// treeOf lists every path under root, relative to it.
func treeOf(t *testing.T, root string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if rel, _ := filepath.Rel(root, p); err == nil {
			out[rel] = true
		}
		return nil
	})
	return out
}

// Defect 3: report, export, sample and data show -o write by rename, which
// must not replace a FIFO, a symlink or a device node, and must keep an
// existing file's mode.
func TestOutputRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(misuseSpec), 0o644)
	if r := vaelab(t, dir, nil, "run", "s.yaml"); r.code != 0 {
		t.Fatalf("run: %s%s", r.stdout, r.stderr)
	}
	id := regexp.MustCompile(`(?m)^([0-9a-f]{16})`).FindString(vaelab(t, dir, nil, "ls", "misuse").stdout)
	commands := map[string][]string{
		"report":    {"report", "misuse"},
		"export":    {"export", "misuse", "--format", "csv"},
		"sample":    {"sample", id},
		"data show": {"data", "show", "synthetic", "-n", "8"},
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("keep me"), 0o644)
	link := filepath.Join(dir, "link")
	os.Symlink(target, link)
	// A device node of the test's own (the null device's numbers), never the
	// system's: a failing run of this test must not replace /dev/null.
	specials := []string{fifo, link}
	dev := filepath.Join(dir, "null")
	if err := syscall.Mknod(dev, syscall.S_IFCHR|0o666, 1<<8|3); err == nil {
		specials = append(specials, dev)
	} else if os.Getenv("CI") == "true" {
		t.Fatalf("mknod (CI runs as root): %v", err)
	}
	for name, args := range commands {
		for _, special := range specials {
			before, _ := os.Lstat(special)
			r := vaelab(t, dir, nil, append(args, "-o", special)...)
			if r.code == 0 || !strings.Contains(r.stderr, "not a regular file") {
				t.Errorf("%s -o %s: exit %d, %q; want a refusal", name, special, r.code, r.stderr)
			}
			if after, err := os.Lstat(special); err != nil || after.Mode() != before.Mode() {
				t.Errorf("%s -o %s replaced it", name, special)
			}
		}
		private := filepath.Join(dir, "private-"+strings.ReplaceAll(name, " ", "-"))
		os.WriteFile(private, nil, 0o600)
		if r := vaelab(t, dir, nil, append(args, "-o", private)...); r.code != 0 {
			t.Errorf("%s -o a mode-600 file: exit %d, %q", name, r.code, r.stderr)
		}
		if fi, _ := os.Stat(private); fi.Mode().Perm() != 0o600 || fi.Size() == 0 {
			t.Errorf("%s -o a mode-600 file: mode %v, %d bytes; want 600 and the output", name, fi.Mode().Perm(), fi.Size())
		}
	}
	if b, _ := os.ReadFile(target); string(b) != "keep me" {
		t.Errorf("a symlink's target was overwritten: %q", b)
	}
}

// Defect 4: editing a spec and rerunning it under the same name must not
// report different configurations as one: the report and export group by
// the configuration trained and flag runs the current spec no longer has.
func TestChangedSpecUnderOneNameIsNotAveraged(t *testing.T) {
	dir := t.TempDir()
	for _, beta := range []string{"1", "2", "3"} {
		spec := strings.Replace(misuseSpec, "seeds: [1, 2]", "objective: {beta: "+beta+"}\nseeds: [1]", 1)
		os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(spec), 0o644)
		if r := vaelab(t, dir, nil, "run", "s.yaml"); r.code != 0 {
			t.Fatalf("run β=%s: %s%s", beta, r.stdout, r.stderr)
		}
	}
	md := vaelab(t, dir, nil, "export", "misuse", "--format", "md")
	if md.code != 0 {
		t.Fatalf("export: %s%s", md.stdout, md.stderr)
	}
	_, summary, _ := strings.Cut(md.stdout, "## Summary") // after the ranking
	if strings.Contains(summary, "(one configuration) | 3") || strings.Count(summary, "| 1 | 0 |") != 1 {
		t.Errorf("the summary table averages or lists other configurations than the current spec's one:\n%s", md.stdout)
	}
	if !strings.Contains(md.stdout, "2 runs recorded under misuse are not in its current spec") {
		t.Errorf("export does not flag the two runs of earlier specs:\n%s", md.stdout)
	}
	csv := vaelab(t, dir, nil, "export", "misuse", "--format", "csv")
	if strings.Count(csv.stdout, ",false,") != 2 || strings.Count(csv.stdout, ",true,") != 1 {
		t.Errorf("CSV does not mark in_spec per run:\n%s", csv.stdout)
	}
	ls := vaelab(t, dir, nil, "ls", "misuse")
	if strings.Count(ls.stdout, "(not in the current spec)") != 2 {
		t.Errorf("ls does not flag the runs of earlier specs:\n%s", ls.stdout)
	}
	if r := vaelab(t, dir, nil, "report", "misuse", "-o", "r.html"); r.code != 0 {
		t.Fatalf("report: %s%s", r.stdout, r.stderr)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "r.html"))
	if !strings.Contains(string(page), "2 runs recorded under this experiment by an earlier version of its spec") {
		t.Error("the report does not flag the runs of earlier specs")
	}
	// Named explicitly, the old runs are compared, each as its own configuration.
	ids := regexp.MustCompile(`(?m)^([0-9a-f]{16})`).FindAllString(ls.stdout, -1)
	all := vaelab(t, dir, nil, "export", "misuse", "--format", "md", "--runs", strings.Join(ids, ","))
	for _, beta := range []string{"1", "2", "3"} {
		if !strings.Contains(all.stdout, "objective.beta="+beta+" | 1 |") {
			t.Errorf("with --runs, β=%s is not its own row:\n%s", beta, all.stdout)
		}
	}
}

// Defect 5: sample must not trust a checkpoint copied from another run.
// Defect 6 (sample): -n 0 and -n -1 are refused, not a panic.
func TestSampleChecksTheCheckpoint(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(misuseSpec), 0o644)
	if r := vaelab(t, dir, nil, "run", "s.yaml"); r.code != 0 {
		t.Fatalf("run: %s%s", r.stdout, r.stderr)
	}
	ids := regexp.MustCompile(`(?m)^([0-9a-f]{16})`).FindAllString(vaelab(t, dir, nil, "ls", "misuse").stdout, -1)
	if len(ids) != 2 {
		t.Fatalf("want 2 runs, got %v", ids)
	}
	a, b := ids[0], ids[1]
	if r := vaelab(t, dir, nil, "sample", a, "-o", "a.png"); r.code != 0 {
		t.Fatalf("sample of an intact run: exit %d, %s", r.code, r.stderr)
	}
	for _, n := range []string{"0", "-1", "1000000"} {
		if r := vaelab(t, dir, nil, "sample", a, "-n", n, "-o", "n.png"); r.code != 2 || !strings.Contains(r.stderr, "-n "+n) || strings.Contains(r.stderr, "panic") {
			t.Errorf("sample -n %s: exit %d, %q; want a usage error naming -n", n, r.code, r.stderr)
		}
	}
	ck := func(id string) string { return filepath.Join(dir, "vaelab-runs", id, "checkpoint.vck") }
	theirs, _ := os.ReadFile(ck(b))
	os.WriteFile(ck(a), theirs, 0o644)
	r := vaelab(t, dir, nil, "sample", a, "-o", "copied.png")
	if r.code == 0 || !strings.Contains(r.stderr, "is not the") {
		t.Errorf("sample with run B's checkpoint in run A's folder: exit %d, %q; want a refusal", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "copied.png")); err == nil {
		t.Error("a refused sample wrote its output")
	}
}

// Defects 6 and 7 through the CLI: inputs that used to exhaust memory, block
// or build a graph for minutes are refused at once, naming the limit, with
// no run left behind.
func TestHostileInputsAreRefusedAtPlanTime(t *testing.T) {
	dir := t.TempDir()
	hidden := strings.TrimSuffix(strings.Repeat("8, ", 100000), ", ")
	for name, tc := range map[string]struct{ spec, want string }{
		"huge synthetic dataset": {"name: big\ndataset: {name: synthetic, size: 512, count: 100000}\nmodel: {hidden: [8], latent: 2}\nseeds: [1]\n", "dataset.count"},
		"100,000 hidden layers":  {"name: deep\ndataset: {name: synthetic, size: 8, count: 60}\nmodel: {hidden: [" + hidden + "], latent: 2}\nseeds: [1]\n", "at most 64"},
	} {
		os.WriteFile(filepath.Join(dir, "h.yaml"), []byte(tc.spec), 0o644)
		start := time.Now()
		r := vaelab(t, dir, nil, "run", "h.yaml")
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) || time.Since(start) > time.Minute {
			t.Errorf("%s: exit %d after %v, %q; want 2 naming %q", name, r.code, time.Since(start), r.stderr, tc.want)
		}
		if _, err := os.Stat(filepath.Join(dir, "vaelab.db")); err == nil {
			t.Errorf("%s: a refused spec created the database", name)
		}
	}
	r := vaelab(t, dir, nil, "plan", "/dev/zero")
	if r.code != 2 || !strings.Contains(r.stderr, "not a regular file") {
		t.Errorf("/dev/zero as a spec: exit %d, %q", r.code, r.stderr)
	}
}

// Defect 8: a dataset too small for the evaluation is refused at plan time,
// naming the setting to change, instead of failing after training.
func TestTooSmallForEvaluationIsRefusedBeforeTraining(t *testing.T) {
	dir := t.TempDir()
	spec := "name: small\ndataset: {name: synthetic, size: 8, count: 60}\nmodel: {hidden: [8], latent: 2}\ntrain: {epochs: 1, batch_size: 4}\nseeds: [1]\n"
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(spec), 0o644)
	r := vaelab(t, dir, nil, "plan", "s.yaml")
	if r.code != 2 || !strings.Contains(r.stderr, "dataset.test_fraction") {
		t.Fatalf("plan of a 60-image dataset: exit %d, %q; want a refusal naming dataset.test_fraction", r.code, r.stderr)
	}
}

// Defect 8: run files are recorded relative to the workspace, so doctor,
// report and sample find them from any working directory.
func TestArtifactsAreFoundFromAnotherDirectory(t *testing.T) {
	root := t.TempDir()
	ws := filepath.Join(root, "ws")
	os.MkdirAll(ws, 0o755)
	os.WriteFile(filepath.Join(ws, "s.yaml"), []byte(misuseSpec), 0o644)
	// Trained from inside the workspace, read from its parent, and the other way round.
	for _, tc := range []struct{ runIn, readIn, db string }{
		{ws, root, filepath.Join("ws", "vaelab.db")},
		{root, ws, "vaelab.db"},
	} {
		for _, f := range []string{"vaelab.db", "vaelab.db-wal", "vaelab.db-shm"} {
			os.Remove(filepath.Join(ws, f))
		}
		os.RemoveAll(filepath.Join(ws, "vaelab-runs"))
		runDB := filepath.Join(ws, "vaelab.db")
		if tc.runIn == ws {
			runDB = "vaelab.db"
		}
		if r := vaelab(t, tc.runIn, nil, "run", filepath.Join(ws, "s.yaml"), "--db", runDB); r.code != 0 {
			t.Fatalf("run in %s: %s%s", tc.runIn, r.stdout, r.stderr)
		}
		if r := vaelab(t, tc.readIn, nil, "doctor", "--db", tc.db); r.code != 0 || !strings.Contains(r.stdout, ": ok") {
			t.Errorf("doctor from %s: exit %d\n%s%s", tc.readIn, r.code, r.stdout, r.stderr)
		}
		out := filepath.Join(root, "r.html")
		if r := vaelab(t, tc.readIn, nil, "report", "misuse", "--db", tc.db, "-o", out); r.code != 0 {
			t.Fatalf("report from %s: %s", tc.readIn, r.stderr)
		}
		if page, _ := os.ReadFile(out); strings.Contains(string(page), "missing") || strings.Count(string(page), `<img class="grid"`) < 4 {
			t.Errorf("report from %s lost its image grids", tc.readIn)
		}
		id := regexp.MustCompile(`(?m)^([0-9a-f]{16})`).FindString(vaelab(t, tc.readIn, nil, "ls", "misuse", "--db", tc.db).stdout)
		if r := vaelab(t, tc.readIn, nil, "sample", id, "--db", tc.db, "-o", filepath.Join(root, "s.png")); r.code != 0 {
			t.Errorf("sample from %s: exit %d, %s", tc.readIn, r.code, r.stderr)
		}
	}
}

// Defect 8: a workspace nobody can write (a read-only mount) can still be
// listed and reported on.
func TestReadOnlyWorkspaceCanBeRead(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("this test mounts a tmpfs and needs root; CI runs as root")
		}
		t.Skip("needs root to mount a read-only tmpfs")
	}
	ws := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", ws).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	defer exec.Command("umount", ws).Run()
	os.WriteFile(filepath.Join(ws, "s.yaml"), []byte(misuseSpec), 0o644)
	if r := vaelab(t, ws, nil, "run", "s.yaml"); r.code != 0 {
		t.Fatalf("run: %s%s", r.stdout, r.stderr)
	}
	if out, err := exec.Command("mount", "-o", "remount,ro", ws).CombinedOutput(); err != nil {
		t.Fatalf("remount read-only: %v %s", err, out)
	}
	out := filepath.Join(t.TempDir(), "r.html")
	for _, args := range [][]string{{"ls"}, {"ls", "misuse"}, {"report", "misuse", "-o", out}, {"export", "misuse", "--format", "md"}, {"doctor"}} {
		if r := vaelab(t, ws, nil, args...); r.code != 0 {
			t.Errorf("%v in a read-only workspace: exit %d, %s", args, r.code, r.stderr)
		}
	}
}

// TestMisuseSoak: two `vaelab run` processes on one workspace, SIGKILLed at
// random moments and restarted, while a third process renders the report in
// a loop; then a final run. Every run must end done with its curves and
// figures equal to an uninterrupted sweep's, the database intact and doctor
// clean; a fresh database beside the old run folders must then train every
// run from scratch with complete records. VAELAB_SOAK_SECONDS sets the soak's
// length (default 30; the closing note's figure is a 600-second soak).
func TestMisuseSoak(t *testing.T) {
	testenv.Full(t, "misuse soak: SIGKILLs and hostile commands during a sweep")
	soak := 30 * time.Second
	if s := os.Getenv("VAELAB_SOAK_SECONDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("VAELAB_SOAK_SECONDS=%q", s)
		}
		soak = time.Duration(n) * time.Second
	}
	// Enough runs that the killed sweep is still training when the soak ends.
	seeds := make([]string, max(16, int(16*soak/(30*time.Second))))
	for i := range seeds {
		seeds[i] = strconv.Itoa(i + 1)
	}
	spec := `name: soak
dataset: {name: synthetic, size: 16, count: 400, test_fraction: 0.2}
model: {hidden: [32], latent: 4}
train: {epochs: 4, batch_size: 20}
eval: {batch_size: 80, grid_images: 8, samples: 80, iwae_k: 2}
seeds: [` + strings.Join(seeds, ", ") + "]\n"
	env := []string{"VAELAB_CACHE_DIR=" + filepath.Join(t.TempDir(), "cache")}
	ref := referenceSweep(t, spec, env)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(spec), 0o644)
	db := filepath.Join(dir, "vaelab.db")
	deadline := time.Now().Add(soak)
	var mu sync.Mutex
	kills, reports := 0, 0
	var failures []string
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(w)))
			for time.Now().Before(deadline) {
				cmd := exec.Command(binary, "run", "s.yaml", "--workers", "1")
				cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
				if err := cmd.Start(); err != nil {
					t.Error(err)
					return
				}
				exited := make(chan error, 1)
				go func() { exited <- cmd.Wait() }()
				select {
				case <-exited: // finished (or found nothing left): start again
				case <-time.After(200*time.Millisecond + time.Duration(rng.Float64()*float64(1500*time.Millisecond))):
					cmd.Process.Signal(syscall.SIGKILL)
					<-exited
					mu.Lock()
					kills++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for time.Now().Before(deadline) {
			if _, err := os.Stat(db); err != nil {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			cmd := exec.Command(binary, "report", "soak", "-o", filepath.Join(dir, "r.html"))
			cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
			out, err := cmd.CombinedOutput()
			mu.Lock()
			reports++
			if err != nil && !strings.Contains(string(out), `no experiment named "soak"`) {
				failures = append(failures, fmt.Sprintf("report: %v: %s", err, out))
			}
			mu.Unlock()
		}
	}()
	wg.Wait()
	t.Logf("%v soak: %d SIGKILLs of the runners, %d reports rendered meanwhile", soak, kills, reports)
	if len(failures) > 0 {
		t.Fatalf("%d reports failed during the soak; first: %s", len(failures), failures[0])
	}
	if kills < 20 {
		t.Fatalf("only %d SIGKILLs; want at least 20", kills)
	}
	if r := vaelab(t, dir, env, "run", "s.yaml", "--workers", "2"); r.code != 0 {
		t.Fatalf("final run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	assertSameAsReference(t, filepath.Join(ref, "vaelab.db"), db, "soak")
	if r := vaelab(t, dir, env, "doctor"); r.code != 0 || !strings.Contains(r.stdout, ": ok") {
		t.Fatalf("doctor after the soak: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := vaelab(t, dir, env, "run", "s.yaml", "--workers", "2", "--db", "fresh.db"); r.code != 0 || strings.Contains(r.stdout, "resume ") {
		t.Fatalf("fresh database beside the old run folders: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	assertSameAsReference(t, filepath.Join(ref, "vaelab.db"), filepath.Join(dir, "fresh.db"), "soak")
}

// Defect 8: CSV text cells that a spreadsheet would run as a formula are
// quoted; names with control characters never reach the terminal raw; a
// database from a newer vaelab says to upgrade, from every command.
func TestHostileNamesAndNewerDatabase(t *testing.T) {
	dir := t.TempDir()
	spec := "name: \"=HYPERLINK(\\\"http://x\\\")\\e[2J\"\ndataset: {name: synthetic, size: 8, count: 80, test_fraction: 0.25}\nmodel: {hidden: [8], latent: 2}\ntrain: {epochs: 1, batch_size: 20}\neval: {batch_size: 20, grid_images: 4, samples: 20}\nseeds: [1]\nsweep:\n  variants:\n    - {name: \"@SUM(A1)\\e]0;pwned\\a\", set: {objective.beta: 2}}\n"
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(spec), 0o644)
	name := "=HYPERLINK(\"http://x\")\x1b[2J"
	for _, args := range [][]string{{"plan", "s.yaml"}, {"run", "s.yaml"}, {"ls"}, {"ls", name}} {
		r := vaelab(t, dir, nil, args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d, %s", args[0], r.code, r.stderr)
		}
		if strings.ContainsAny(r.stdout+r.stderr, "\x1b\a") {
			t.Errorf("%v printed a raw control character: %q", args[0], r.stdout)
		}
	}
	id := regexp.MustCompile(`(?m)^([0-9a-f]{16})`).FindString(vaelab(t, dir, nil, "ls", name).stdout)
	if r := vaelab(t, dir, nil, "show", id); strings.ContainsAny(r.stdout, "\x1b\a") || !strings.Contains(r.stdout, `\x1b`) {
		t.Errorf("show printed the name raw or not at all: %q", r.stdout)
	}
	csv := vaelab(t, dir, nil, "export", name, "--format", "csv")
	if !strings.Contains(csv.stdout, `"'=HYPERLINK(`) || !strings.Contains(csv.stdout, "'@SUM(A1)") {
		t.Errorf("CSV cells that start a formula are not quoted:\n%s", csv.stdout)
	}
	// A database from a newer vaelab: every command says to upgrade.
	db, err := sql.Open("sqlite3", filepath.Join(dir, "vaelab.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.Exec("PRAGMA user_version = 99")
	db.Close()
	for _, args := range [][]string{{"ls"}, {"run", "s.yaml"}, {"report", name, "-o", "r.html"}} {
		if r := vaelab(t, dir, nil, args...); r.code == 0 || !strings.Contains(r.stderr, "newer") || strings.Contains(r.stderr, "run a spec") {
			t.Errorf("%v on a newer database: exit %d, %q; want an error saying it is newer", args[0], r.code, r.stderr)
		}
	}
}

// Acceptance of "Trustworthy under misuse": a full session of commands under
// a temporary root, with a spec that downloads its dataset, writes only in
// the workspace, the data directory, the cache directory and the -o targets
// named: the home and temporary folders stay empty.
func TestNothingIsWrittenOutsideTheWorkspace(t *testing.T) {
	root := t.TempDir()
	dirs := map[string]string{}
	for _, d := range []string{"ws", "data", "cache", "out", "home", "tmp"} {
		dirs[d] = filepath.Join(root, d)
		os.MkdirAll(dirs[d], 0o755)
	}
	pix := make([]byte, 100*8*8)
	for i := range pix {
		pix[i] = byte(i * 37 % 251)
	}
	header := "{'descr': '|u1', 'fortran_order': False, 'shape': (100, 8, 8), }"
	header += strings.Repeat(" ", 63-(10+len(header))%64) + "\n"
	npy := append([]byte("\x93NUMPY\x01\x00"), byte(len(header)), byte(len(header)>>8))
	npy = append(append(npy, header...), pix...)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(npy) }))
	defer srv.Close()
	sum := sha256.Sum256(npy)
	spec := fmt.Sprintf("name: contained\ndataset: {name: npy, path: faces/faces.npy, url: %q, sha256: %x, test_fraction: 0.25}\nmodel: {hidden: [8], latent: 2}\ntrain: {epochs: 1, batch_size: 20}\neval: {batch_size: 25, grid_images: 4, samples: 25}\nseeds: [1]\n", srv.URL+"/faces.npy", sum)
	os.WriteFile(filepath.Join(dirs["ws"], "s.yaml"), []byte(spec), 0o644)
	env := []string{"HOME=" + dirs["home"], "TMPDIR=" + dirs["tmp"], "XDG_CACHE_HOME=" + filepath.Join(dirs["home"], ".cache"),
		"VAELAB_DATA_DIR=" + dirs["data"], "VAELAB_CACHE_DIR=" + dirs["cache"]}
	before := treeOf(t, root)
	for _, args := range [][]string{
		{"plan", "s.yaml"}, {"run", "s.yaml", "--report", filepath.Join(dirs["out"], "run.html")}, {"ls"}, {"ls", "contained"},
		{"report", "contained", "-o", filepath.Join(dirs["out"], "r.html")},
		{"export", "contained", "--format", "csv", "-o", filepath.Join(dirs["out"], "e.csv")},
		{"data", "show", "synthetic", "-n", "8", "-o", filepath.Join(dirs["out"], "grid.png")},
		{"doctor"}, {"bench", "--settle", "0", "--python", "", "--mlp-steps", "1", "--conv-steps", "1", "--rounds", "1", "--sections", "train"},
	} {
		if r := vaelab(t, dirs["ws"], env, args...); r.code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
	}
	id := regexp.MustCompile(`(?m)^([0-9a-f]{16})`).FindString(vaelab(t, dirs["ws"], env, "ls", "contained").stdout)
	if r := vaelab(t, dirs["ws"], env, "sample", id, "-o", filepath.Join(dirs["out"], "s.png")); r.code != 0 {
		t.Fatalf("sample: %s", r.stderr)
	}
	allowed := []string{"ws", "data", "cache", "out"}
	for p := range treeOf(t, root) {
		top := strings.Split(p, string(filepath.Separator))[0]
		if !before[p] && !slices.Contains(allowed, top) {
			t.Errorf("written outside the workspace, data, cache and -o targets: %s", p)
		}
	}
	if _, err := os.Stat(filepath.Join(dirs["data"], "faces", "faces.npy")); err != nil {
		t.Errorf("the download is not in the data directory: %v", err)
	}
}

// A workspace recorded by vaelab with database schema 1 (before runs were
// flagged in_spec and paths made relative to the workspace), committed under
// testdata: it migrates once when first read, lists its runs, renders its
// report with every image, passes doctor, and running its spec trains nothing.
func TestSchema1WorkspaceMigrates(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(abs(t, "testdata/v1-workspace"))); err != nil {
		t.Fatal(err)
	}
	if v := queryString(t, filepath.Join(dir, "vaelab.db"), "PRAGMA user_version"); v != "1" {
		t.Fatalf("the fixture has schema %s, want 1", v)
	}
	ls := vaelab(t, dir, nil, "ls", "fixture-v1")
	if ls.code != 0 || strings.Count(ls.stdout, " done ") != 4 || strings.Contains(ls.stdout, "not in the current spec") {
		t.Fatalf("ls of the schema-1 workspace: exit %d\n%s%s", ls.code, ls.stdout, ls.stderr)
	}
	if v := queryString(t, filepath.Join(dir, "vaelab.db"), "PRAGMA user_version"); v != strconv.Itoa(runs.SchemaVersion) {
		t.Errorf("after the first read the schema is %s, want %d", v, runs.SchemaVersion)
	}
	checkReportAndDoctor(t, dir, "fixture-v1", 4)
	r := vaelab(t, dir, nil, "run", "spec.yaml")
	if r.code != 0 || !strings.Contains(r.stdout, "all 4 runs are finished") || strings.Contains(r.stdout, "done        ") {
		t.Fatalf("run of the fixture's spec trained something: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
