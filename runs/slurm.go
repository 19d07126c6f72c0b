package runs

// Running a sweep on Slurm
//
// The Slurm executor hands pending runs to Slurm as one job array and keeps
// vaelab's guarantees (each run trained once, nothing lost, resumable) without
// sharing one SQLite file between nodes: SQLite's WAL needs shared memory that
// network filesystems do not give, and its locks are unreliable there.
//
//   - Submitting: the runs are claimed in the main database under the owner
//     "slurm:<job folder>:<index>", so no local sweep takes them, and a job
//     folder under the runs directory receives the manifest (the spec's text,
//     the run id of each array index, the data and cache directories) and the
//     batch script; `sbatch` submits it as an array, one task per run.
//   - Each task runs `vaelab worker MANIFEST`: it reads its run id from
//     SLURM_ARRAY_TASK_ID and trains that run with the local scheduler, into
//     a database of its own, <runs dir>/<run id>/run.db (OpenRunDB: rollback
//     journal, full sync, one writer), with its checkpoint and images beside
//     it. Tasks run in the submitting directory (--chdir), so artifact paths
//     read the same as a local run's. SIGTERM, which Slurm sends when it
//     cancels a task or its time runs out (--signal=B:TERM@120 with a time
//     limit), checkpoints and stops the run as Ctrl-C does.
//   - Status comes from Slurm: squeue for tasks in the queue, then sacct (or
//     scontrol where accounting is off) for how they ended. When a task has
//     ended, its run database is imported into the main one in one
//     transaction (Store.ImportRun). A task that completed brings its run's
//     own status (done, diverged, failed); one that was cancelled, timed out,
//     preempted or lost its node leaves its run interrupted, and running the
//     spec again submits only such runs, which resume from their checkpoints.
//   - `vaelab run --executor slurm` waits and imports as tasks end; Ctrl-C
//     leaves the jobs running, and `vaelab sync` imports them later. Runs owned
//     by Slurm are never reaped by a local sweep.
//
// Slurm and the local worker pool are both Executors; another engine
// (Kubernetes Jobs, HTCondor) would be a third, claiming runs the same way
// and importing per-run databases with ImportRun.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/internal/atomicfile"
	"github.com/vaelab/vaelab/internal/safefile"
)

// An Executor trains the runs of a Plan and records them in the store: each
// run once (claim it before training), results in the store, runs stopped on
// the way left interrupted with their checkpoints.
type Executor interface {
	Execute(ctx context.Context, p *Plan) Result
}

var (
	_ Executor = (*Scheduler)(nil)
	_ Executor = (*Local)(nil)
	_ Executor = (*Slurm)(nil)
)

// slurmRefuses refuses what a job array cannot do.
func slurmRefuses(spec *experiments.Spec) error {
	if spec.EarlyStop != nil && spec.EarlyStop.Decisions == "async" {
		return fmt.Errorf("sweep.early_stop.decisions: async promotes runs as workers free up, which a Slurm job array cannot; use decisions: sync with --executor slurm")
	}
	return nil
}

// newSlurmExecutor is the table's Slurm entry: it imports the tasks that
// ended since the last look, so that the plan resubmits only the rest.
func newSlurmExecutor(ctx context.Context, sc *Scheduler, spec *experiments.Spec, o ExecutorOptions) (Executor, error) {
	sl, err := NewSlurm(sc, spec, o.Slurm, o.Log)
	if err != nil {
		return nil, err
	}
	if _, err := sl.Sync(ctx, spec.Name, false); err != nil {
		return nil, err
	}
	return sl, nil
}

// NewSlurm makes the Slurm executor: tasks run this binary, in this
// directory, with absolute data and cache directories (made so in sc).
func NewSlurm(sc *Scheduler, spec *experiments.Spec, o SlurmOptions, log io.Writer) (*Slurm, error) {
	for _, tool := range []string{"sbatch", "squeue", "scontrol"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("--executor slurm: %s is not on the PATH; run vaelab where Slurm's commands are (a login node), or set SLURM_CONF for a local test cluster", tool)
		}
	}
	bin, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the vaelab executable for the Slurm tasks: %w", err)
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	for _, d := range []*string{&sc.DataDir, &sc.CacheDir} {
		if *d != "" && !filepath.IsAbs(*d) {
			*d = filepath.Join(wd, *d)
		}
	}
	sc.Log = log
	return &Slurm{Scheduler: sc, Options: o, Binary: bin, Spec: spec, Workspace: wd}, nil
}

// SlurmOptions are the sbatch settings of a submission.
type SlurmOptions struct {
	Partition   string // --partition, "" for the cluster's default
	Time        string // --time, the limit per task, e.g. "2:00:00"
	CPUsPerTask int    // --cpus-per-task, 0 for the default
	Mem         string // --mem, e.g. "4G"
	MaxTasks    int    // at most this many tasks at once (the array's %N); 0 for no cap
	// Extra are further sbatch options, one per line ("--account=ml" or
	// "#SBATCH --qos=low").
	Extra []string
	// Poll is how often squeue is asked while waiting (default 10 s).
	Poll time.Duration
}

// Slurm submits runs to a Slurm cluster. Its Scheduler gives the store, the
// directories and the log; the directories must be on a filesystem every
// node sees.
type Slurm struct {
	*Scheduler
	Options SlurmOptions
	// Binary is the vaelab executable the tasks run (usually os.Executable()).
	Binary string
	// Spec is the experiment; its text travels in the manifest.
	Spec *experiments.Spec
	// Workspace is the directory the tasks run in: the one vaelab was run in.
	Workspace string
}

const slurmOwnerPrefix = "slurm:"

// slurmHoldsClaim says whether a run's owner is a Slurm task: alive until
// Slurm's own records (Sync) say it ended.
func slurmHoldsClaim(owner string) bool { return strings.HasPrefix(owner, slurmOwnerPrefix) }

// slurmManifest tells a task what to train.
type slurmManifest struct {
	Experiment      string   `json:"experiment"`
	SpecText        string   `json:"spec_text"`
	Runs            []string `json:"runs"` // the run of each array index
	DataDir         string   `json:"data_dir"`
	CacheDir        string   `json:"cache_dir"`
	RunsDir         string   `json:"runs_dir"`
	CheckpointEvery int      `json:"checkpoint_every"`
	// StopAfterEpoch pauses each run after that epoch: a phase of early
	// stopping (0: train to the end).
	StopAfterEpoch int `json:"stop_after_epoch,omitempty"`
}

// runDBFile is the database a task writes, in its run's directory.
const runDBFile = "run.db"

// Execute submits the plan's runs as one job array, then waits for the tasks
// and imports each run as its task ends. When ctx is cancelled it stops
// waiting and leaves the jobs running (Result.Running counts their runs).
//
// Runs that only need evaluating again (p.ToEvaluate) are scored by this
// process's worker pool, without training, before the submission: they
// take a fraction of a run's time and need no node of their own.
func (sl *Slurm) Execute(ctx context.Context, p *Plan) Result {
	var res Result
	if p.EarlyStop != nil && p.StopAfterEpoch == 0 {
		// Successive halving: a job array per phase, decisions made here.
		res = sl.Scheduler.executeRungs(ctx, p, sl.executePhase)
	} else {
		res = sl.executePhase(ctx, p)
	}
	res.Queued = res.Running
	return res
}

// executePhase submits a plan's runs as one job array and waits for them.
func (sl *Slurm) executePhase(ctx context.Context, p *Plan) Result {
	res := Result{Total: len(p.Runs), Skipped: len(p.Runs) - len(p.ToTrain) - len(p.ToEvaluate)}
	if len(p.ToEvaluate) > 0 {
		ev := sl.Scheduler.Execute(ctx, &Plan{Runs: p.ToEvaluate, Status: p.Status, ToEvaluate: p.ToEvaluate})
		res.Evaluated, res.EvalFailed = ev.Evaluated, ev.EvalFailed
	}
	if len(p.ToTrain) == 0 {
		return res
	}
	if err := sl.submit(ctx, p.ToTrain, p.StopAfterEpoch); err != nil {
		sl.logf("slurm: %v", err)
		res.Failed = len(p.ToTrain)
		res.Stopped = err
		return res
	}
	out, err := sl.wait(ctx, sl.Spec.Name, true)
	if err != nil && !errors.Is(err, context.Canceled) {
		res.Stopped = err
	}
	res.Done, res.Diverged, res.Failed, res.Interrupted, res.Running = out.Done, out.Diverged, out.Failed, out.Interrupted, out.Running
	return res
}

// submit claims the runs, writes the job folder and calls sbatch.
func (sl *Slurm) submit(ctx context.Context, rs []experiments.Run, stopAfter int) error {
	stamp := sl.Spec.Name + "-" + time.Now().UTC().Format("20060102T150405.000000000")
	jobDir := filepath.Join(sl.RunsDir, "slurm", stamp)
	if err := os.MkdirAll(jobDir, 0o755); err != nil {
		return fmt.Errorf("create job folder: %w", err)
	}
	m := slurmManifest{Experiment: sl.Spec.Name, SpecText: string(sl.Spec.Text), DataDir: sl.DataDir, CacheDir: sl.CacheDir,
		RunsDir: sl.RunsDir, CheckpointEvery: sl.CheckpointEvery, StopAfterEpoch: stopAfter}
	prov := CurrentProvenance()
	var claimed []string
	for _, r := range rs {
		owner := fmt.Sprintf("%s%s:%d", slurmOwnerPrefix, stamp, len(m.Runs))
		ok, err := sl.Store.Claim(ctx, r.ID, owner, "slurm", prov.BLAS, prov.Version, filepath.Join(sl.RunsDir, r.ID))
		if err != nil {
			sl.release(claimed, stamp, err)
			return err
		}
		if !ok {
			sl.logf("skipped     %s  %s (claimed by another process)", r.ID, r.Label())
			continue
		}
		m.Runs = append(m.Runs, r.ID)
		claimed = append(claimed, r.ID)
	}
	if len(m.Runs) == 0 {
		os.RemoveAll(jobDir)
		return nil
	}
	manifest := filepath.Join(jobDir, "manifest.json")
	if _, _, err := atomicfile.Write(manifest, 0o644, func(w io.Writer) error { return json.NewEncoder(w).Encode(m) }); err != nil {
		sl.release(claimed, stamp, err)
		return err
	}
	script := filepath.Join(jobDir, "job.sh")
	if err := os.WriteFile(script, []byte(sl.batchScript(jobDir, manifest, len(m.Runs))), 0o755); err != nil {
		sl.release(claimed, stamp, err)
		return err
	}
	out, err := slurmCmd(ctx, "sbatch", "--parsable", script)
	if err != nil {
		err = fmt.Errorf("sbatch %s: %w", script, err)
		sl.release(claimed, stamp, err)
		return err
	}
	job := strings.TrimSpace(strings.SplitN(out, ";", 2)[0])
	if _, err := strconv.Atoi(job); err != nil {
		err = fmt.Errorf("sbatch %s printed %q, not a job id", script, out)
		sl.release(claimed, stamp, err)
		return err
	}
	if err := os.WriteFile(filepath.Join(jobDir, "job_id"), []byte(job+"\n"), 0o644); err != nil {
		return fmt.Errorf("record job id %s: %w (the job is submitted; scancel %s if it must not run)", job, err, job)
	}
	for i, id := range m.Runs {
		sl.Store.AddEvent(ctx, sl.Spec.Name, id, "info", "slurm", fmt.Sprintf("submitted as Slurm task %s_%d", job, i))
	}
	sl.logf("slurm: submitted %s as job array %s (%s)", Plural(len(m.Runs), "run"), job, jobDir)
	return nil
}

// release gives claimed runs back when a submission fails before sbatch.
func (sl *Slurm) release(ids []string, stamp string, cause error) {
	for i, id := range ids {
		owner := fmt.Sprintf("%s%s:%d", slurmOwnerPrefix, stamp, i)
		sl.Store.Finish(context.Background(), id, owner, Outcome{Status: StatusFailed, Error: "not submitted to Slurm: " + cause.Error()})
	}
}

func (sl *Slurm) batchScript(jobDir, manifest string, n int) string {
	var b strings.Builder
	q := strconv.Quote
	b.WriteString("#!/bin/sh\n")
	array := fmt.Sprintf("0-%d", n-1)
	if sl.Options.MaxTasks > 0 {
		array += fmt.Sprintf("%%%d", sl.Options.MaxTasks)
	}
	lines := []string{"--job-name=vaelab-" + sl.Spec.Name, "--array=" + array, "--chdir=" + sl.Workspace,
		"--output=" + filepath.Join(jobDir, "task-%a.log")}
	if o := sl.Options; o.Partition != "" {
		lines = append(lines, "--partition="+o.Partition)
	}
	if o := sl.Options; o.Time != "" {
		// SIGTERM two minutes before the limit: the worker checkpoints and stops.
		lines = append(lines, "--time="+o.Time, "--signal=B:TERM@120")
	}
	if o := sl.Options; o.CPUsPerTask > 0 {
		lines = append(lines, fmt.Sprintf("--cpus-per-task=%d", o.CPUsPerTask))
	}
	if o := sl.Options; o.Mem != "" {
		lines = append(lines, "--mem="+o.Mem)
	}
	for _, l := range lines {
		b.WriteString("#SBATCH " + l + "\n")
	}
	for _, l := range sl.Options.Extra {
		if l = strings.TrimSpace(l); !strings.HasPrefix(l, "#SBATCH") {
			l = "#SBATCH " + l
		}
		b.WriteString(l + "\n")
	}
	// exec: the worker is the batch step's process and gets Slurm's signals.
	fmt.Fprintf(&b, "exec %s worker %s\n", q(sl.Binary), q(manifest))
	return b.String()
}

// SyncResult counts what a wait or sync saw.
type SyncResult struct {
	Done, Diverged, Failed, Interrupted int
	// Running counts the runs whose tasks are still queued or running.
	Running int
}

// Sync imports the runs of experiment whose Slurm tasks have ended and, with
// wait, keeps polling until none is queued or running.
func (sl *Slurm) Sync(ctx context.Context, experiment string, wait bool) (SyncResult, error) {
	return sl.wait(ctx, experiment, wait)
}

// wait polls Slurm for the tasks of experiment's Slurm-owned runs, importing
// each run whose task has ended. Without untilDone it makes one pass.
func (sl *Slurm) wait(ctx context.Context, experiment string, untilDone bool) (SyncResult, error) {
	var total SyncResult
	poll := sl.Options.Poll
	if poll <= 0 {
		poll = 10 * time.Second
	}
	for {
		// A pass runs to its end even after Ctrl-C, so that a stop right
		// after submitting still counts the runs left on Slurm (and the
		// user is told to sync them) instead of reporting none.
		pass, err := sl.syncOnce(context.WithoutCancel(ctx), experiment)
		total.Done += pass.Done
		total.Diverged += pass.Diverged
		total.Failed += pass.Failed
		total.Interrupted += pass.Interrupted
		total.Running = pass.Running
		if err != nil || !untilDone || pass.Running == 0 {
			return total, err
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// slurmTask is one array task of a submission and the run it trains.
type slurmTask struct {
	run        RunInfo
	owner, job string
	index      int
	jobDir     string
}

func (sl *Slurm) syncOnce(ctx context.Context, experiment string) (SyncResult, error) {
	var out SyncResult
	rs, err := sl.Store.Runs(ctx, experiment)
	if err != nil {
		return out, err
	}
	byJob := map[string][]slurmTask{}
	for _, r := range rs {
		if r.Status != StatusRunning || !strings.HasPrefix(r.Owner, slurmOwnerPrefix) {
			continue
		}
		t, err := sl.task(r)
		if err != nil {
			return out, err
		}
		byJob[t.job] = append(byJob[t.job], t)
	}
	for job, tasks := range byJob {
		states, err := sl.taskStates(ctx, job)
		if err != nil {
			return out, err
		}
		for _, t := range tasks {
			state := states[t.index]
			if state == "" {
				state = "GONE"
			}
			if !slurmEnded(state) {
				out.Running++
				continue
			}
			status, err := sl.importTask(ctx, t, state)
			if err != nil {
				return out, err
			}
			switch status {
			case StatusPaused: // at an early-stopping rung: the phase decides
			case StatusDone:
				out.Done++
			case StatusDiverged:
				out.Diverged++
			case StatusFailed:
				out.Failed++
			default:
				out.Interrupted++
			}
		}
	}
	return out, nil
}

// task finds the job folder, job id and array index of a Slurm-owned run.
func (sl *Slurm) task(r RunInfo) (slurmTask, error) {
	rest := strings.TrimPrefix(r.Owner, slurmOwnerPrefix)
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return slurmTask{}, fmt.Errorf("run %s: owner %q is not a Slurm task", r.ID, r.Owner)
	}
	idx, err := strconv.Atoi(rest[i+1:])
	if err != nil {
		return slurmTask{}, fmt.Errorf("run %s: owner %q is not a Slurm task", r.ID, r.Owner)
	}
	jobDir := filepath.Join(sl.RunsDir, "slurm", rest[:i])
	b, err := safefile.Read(filepath.Join(jobDir, "job_id"), safefile.MaxSmall)
	if err != nil {
		return slurmTask{}, fmt.Errorf("run %s: the job id of its Slurm submission: %w", r.ID, err)
	}
	return slurmTask{run: r, owner: r.Owner, job: strings.TrimSpace(string(b)), index: idx, jobDir: jobDir}, nil
}

// slurmEnded reports whether a job state is final.
func slurmEnded(state string) bool {
	switch state {
	case "PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED",
		"RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED", "RESV_DEL_HOLD":
		return false
	}
	return true
}

// importTask records in the main database how a task's run ended, and
// returns the run's status there.
func (sl *Slurm) importTask(ctx context.Context, t slurmTask, state string) (string, error) {
	log := filepath.Join(t.jobDir, fmt.Sprintf("task-%d.log", t.index))
	where := fmt.Sprintf("Slurm task %s_%d", t.job, t.index)
	killed := state != "COMPLETED" && state != "FAILED" && state != "OUT_OF_MEMORY" && state != "BOOT_FAIL"
	dbPath := filepath.Join(sl.RunsDir, t.run.ID, runDBFile)
	if _, err := os.Stat(dbPath); err != nil {
		// The task ended before its worker opened the run's database.
		o := Outcome{Status: StatusFailed, Error: fmt.Sprintf("%s ended %s before vaelab started; see %s", where, state, log)}
		if killed {
			o.Status, o.Error = StatusInterrupted, fmt.Sprintf("%s ended %s before it started; run the spec again to submit it again", where, state)
		}
		if err := sl.Store.Finish(ctx, t.run.ID, t.owner, o); err != nil {
			return "", err
		}
		sl.logf("%-11s %s  %s  (%s)", o.Status, t.run.ID, t.run.Label, o.Error)
		return o.Status, nil
	}
	src, err := OpenRunDB(ctx, dbPath)
	if err != nil {
		return "", fmt.Errorf("%s: %w", where, err)
	}
	defer src.Close()
	var status, msg string
	if err := src.db.QueryRowContext(ctx, "SELECT status, error FROM runs WHERE id=?", t.run.ID).Scan(&status, &msg); err != nil {
		return "", fmt.Errorf("%s: read %s: %w", where, dbPath, err)
	}
	var override *Outcome
	switch {
	case status == StatusDone || status == StatusDiverged || status == StatusFailed || status == StatusPaused:
	case killed:
		override = &Outcome{Status: StatusInterrupted, Error: fmt.Sprintf("%s ended %s; run the spec again to resume from its checkpoint", where, state)}
	default:
		override = &Outcome{Status: StatusFailed, Error: fmt.Sprintf("%s ended %s with the run %s (%s); see %s", where, state, status, msg, log)}
	}
	if err := sl.Store.ImportRun(ctx, src, t.run.ID, override); err != nil {
		return "", err
	}
	if override != nil {
		status, msg = override.Status, override.Error
	}
	detail := where
	if msg != "" {
		detail = msg
	}
	sl.logf("%-11s %s  %s  (%s)", status, t.run.ID, t.run.Label, detail)
	return status, nil
}

// taskStates returns the state of each array task of job, by index: from
// squeue while queued or running, then from sacct, or from scontrol on
// clusters without accounting.
func (sl *Slurm) taskStates(ctx context.Context, job string) (map[int]string, error) {
	states := map[int]string{}
	out, err := slurmCmd(ctx, "squeue", "-h", "-r", "-j", job, "-o", "%i|%T")
	if err != nil && !strings.Contains(err.Error(), "Invalid job id") {
		return nil, fmt.Errorf("squeue: %w", err)
	}
	parseStates(out, job, states)
	if out, err := slurmCmd(ctx, "sacct", "-X", "-n", "-P", "-j", job, "-o", "JobID,State"); err == nil {
		parseStates(out, job, states)
	}
	if out, err := slurmCmd(ctx, "scontrol", "-o", "show", "job", job); err == nil {
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			f := map[string]string{}
			for _, kv := range strings.Fields(sc.Text()) {
				if k, v, ok := strings.Cut(kv, "="); ok {
					f[k] = v
				}
			}
			if i, err := strconv.Atoi(f["ArrayTaskId"]); err == nil && f["JobState"] != "" {
				if _, known := states[i]; !known {
					states[i] = f["JobState"]
				}
			}
		}
	}
	return states, nil
}

// parseStates reads "JOB_INDEX|STATE" lines; squeue's come first and win.
// sacct writes "CANCELLED by 0": the first word is the state.
func parseStates(out, job string, states map[int]string) {
	for _, line := range strings.Split(out, "\n") {
		id, state, ok := strings.Cut(strings.TrimSpace(line), "|")
		if !ok || !strings.HasPrefix(id, job+"_") {
			continue
		}
		i, err := strconv.Atoi(strings.TrimPrefix(id, job+"_"))
		if err != nil {
			continue // a pending range such as 12_[4-7] without -r
		}
		if _, known := states[i]; !known {
			states[i] = strings.Fields(state + " ")[0]
		}
	}
}

// slurmCmd runs a Slurm command and returns its output; its error carries
// the command's own message.
func slurmCmd(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(context.WithoutCancel(ctx), name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return stdout.String(), fmt.Errorf("%s: %s", name, msg)
	}
	return stdout.String(), nil
}

// Worker trains the run of one Slurm array task: the manifest names the
// runs, index picks this task's. The run's records go to its own database in
// its run directory.
func Worker(ctx context.Context, manifestPath string, index int, log io.Writer) (Result, error) {
	var res Result
	b, err := safefile.Read(manifestPath, safefile.MaxManifest)
	if err != nil {
		return res, fmt.Errorf("worker: %w", err)
	}
	var m slurmManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return res, fmt.Errorf("worker: manifest %s: %w", manifestPath, err)
	}
	if index < 0 { // the array task's own index
		if index, err = strconv.Atoi(os.Getenv("SLURM_ARRAY_TASK_ID")); err != nil {
			return res, fmt.Errorf("worker: no --index and no SLURM_ARRAY_TASK_ID (%q)", os.Getenv("SLURM_ARRAY_TASK_ID"))
		}
	}
	if index < 0 || index >= len(m.Runs) {
		return res, fmt.Errorf("worker: task index %d, but the manifest %s has %d runs", index, manifestPath, len(m.Runs))
	}
	spec, err := experiments.Parse([]byte(m.SpecText), manifestPath)
	if err != nil {
		return res, fmt.Errorf("worker: %w", err)
	}
	all, err := spec.Expand()
	if err != nil {
		return res, fmt.Errorf("worker: %w", err)
	}
	i := slices.IndexFunc(all, func(r experiments.Run) bool { return r.ID == m.Runs[index] })
	if i < 0 {
		return res, fmt.Errorf("worker: run %s is not in the spec of %s (was it made by another vaelab version?)", m.Runs[index], manifestPath)
	}
	run := all[i]
	dir := filepath.Join(m.RunsDir, run.ID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, fmt.Errorf("worker: %w", err)
	}
	st, err := OpenRunDB(ctx, filepath.Join(dir, runDBFile))
	if err != nil {
		return res, fmt.Errorf("worker: %w", err)
	}
	defer st.Close()
	sc := &Scheduler{Store: st, Workers: 1, DataDir: m.DataDir, CacheDir: m.CacheDir, RunsDir: m.RunsDir,
		CheckpointEvery: m.CheckpointEvery, Log: log}
	// Slurm runs one task per run at a time, so a "running" record here is
	// left by an earlier task that was killed: take the run over.
	if prev, err := st.Runs(ctx, spec.Name); err == nil {
		for _, r := range prev {
			if r.ID == run.ID && r.Status == StatusRunning {
				st.MarkInterrupted(ctx, r.ID, r.Owner, "its Slurm task ended without finishing it")
			}
		}
	}
	plan, err := sc.Prepare(ctx, spec, []experiments.Run{run})
	if err != nil {
		return res, fmt.Errorf("worker: %w", err)
	}
	// Early stopping is decided by the submitting process; a task trains
	// its run to the phase's epoch only.
	plan.EarlyStop, plan.StopAfterEpoch = nil, m.StopAfterEpoch
	return sc.Execute(ctx, plan), nil
}
