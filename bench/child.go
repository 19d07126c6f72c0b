package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"

	"github.com/vaelab/vaelab/internal/blaslib"
	"github.com/vaelab/vaelab/internal/fault"
	"github.com/vaelab/vaelab/vae"
)

// What a child measures besides the models ("mlp", "conv").
const (
	childSGEMM = "sgemm"  // the installed BLAS's Sgemm on a large square product
	childSweep = "sweep1" // a sweep of one run with one worker
	// childSweep4 with the workers appended ("sweep4w1", "sweep4w2") is the
	// 4-run sweep with that many workers.
	childSweep4 = "sweep4w"
)

// threadsEnv is the setting a child reads its thread count from.
const threadsEnv = "VAELAB_THREADS"

// startEnv, in a child's environment, is when (Unix seconds) its timed work
// is to begin, so that copies side by side are timed together: each sets
// itself up, then waits for that moment.
const startEnv = "VAELAB_BENCH_START"

// startLead is how far ahead copies are given their common start: enough
// for a process to start and set itself up (PyTorch's import included).
const startLead = 5 * time.Second

// SettleTime is the default pause before each measurement (vaelab bench
// --settle): the last measured process's memory returned and its threads
// gone, each measurement starts on a machine at rest (on the 2-core VMs, a
// 2-thread run started right after PyTorch's exit was at times a third
// slower).
const SettleTime = time.Second

// settle waits d, or until ctx ends.
func settle(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitForStart sleeps until the start a parent gave in startEnv, if any.
func waitForStart() {
	at, err := strconv.ParseFloat(os.Getenv(startEnv), 64)
	if err != nil {
		return
	}
	time.Sleep(time.Until(time.UnixMicro(int64(at * 1e6))))
}

// startAt is the environment entry for a common start at t.
func startAt(t time.Time) string {
	return fmt.Sprintf("%s=%.6f", startEnv, float64(t.UnixMicro())/1e6)
}

// Child measures one thing and prints it as a JSON Row: a model's training
// steps ("mlp" or "conv"), the installed BLAS's SGEMM ("sgemm") or a one-run
// sweep ("sweep1"). Run starts each in a process of its own, through
// Options.Executable with ChildArgs, so that its peak memory and its thread
// count (VAELAB_THREADS in its environment) are its own, and so that copies
// can run side by side. The row says which threads and BLAS the child used.
func Child(w io.Writer, what string, mlpSteps, convSteps int) error {
	var row Row
	var err error
	switch what {
	case "mlp", "conv":
		row, err = modelSteps(what, mlpSteps, convSteps)
	case childSGEMM:
		row = sgemmPeak()
	case childSweep:
		row, err = sweepRun(oneRunSpec(), 1, 1)
	case childSweep4 + "1", childSweep4 + "2":
		row, err = sweepRun(sweepSpec, int(what[len(what)-1]-'0'), 4)
	default:
		return fault.User(fmt.Errorf("--child: %q is none of mlp, conv, %s, %s, %s1, %s2", what, childSGEMM, childSweep, childSweep4, childSweep4))
	}
	if err != nil {
		return fmt.Errorf("bench child %s: %w", what, err)
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		row.PeakMB = float64(ru.Maxrss) / 1024
	}
	row.Threads, row.BLAS = blaslib.Threads(), blaslib.Current().String()
	return json.NewEncoder(w).Encode(row)
}

func modelSteps(model string, mlpSteps, convSteps int) (Row, error) {
	bm, conv := vae.BenchModels()
	n := mlpSteps
	if model == "conv" {
		bm, n = conv, convSteps
	}
	r, err := vae.BenchmarkSteps(bm.Config, bm.Shape, bm.Batch, n, waitForStart)
	if err != nil {
		return Row{}, err
	}
	end := time.Now()
	return Row{Impl: "vaelab", Model: bm.Name, Batch: bm.Batch, Steps: n,
		ImagesPerSecond: r.ImagesPerSecond, GFLOPS: r.GFLOPS, AllocsPerStep: r.AllocsPerStep,
		Seconds: r.Seconds, Start: end.Add(-seconds(r.Seconds)), End: end}, nil
}

// peakSize and peakRepeats give the product SGEMM's peak is measured on:
// square and large enough for the kernels' cache blocking to reach full
// speed; the best of several, the first of which also warms up.
const peakSize, peakRepeats = 1024, 5

// sgemmPeak times the Sgemm training calls (the BLAS installed in Gorgonia)
// on a peakSize³ product, at the thread count of this process.
func sgemmPeak() Row {
	n := peakSize
	rng := rand.New(rand.NewPCG(1, 2))
	a, b, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
	for i := range a {
		a[i], b[i] = rng.Float32()*2-1, rng.Float32()*2-1
	}
	impl := G.WhichBLAS()
	var best time.Duration
	for range peakRepeats {
		start := time.Now()
		impl.Sgemm(blas.NoTrans, blas.NoTrans, n, n, n, 1, a, n, b, n, 0, c, n)
		if d := time.Since(start); best == 0 || d < best {
			best = d
		}
	}
	return Row{Impl: kernelOf(blaslib.Current()), Model: childSGEMM,
		GFLOPS: 2 * float64(n) * float64(n) * float64(n) / best.Seconds() / 1e9, Seconds: best.Seconds()}
}

// kernelOf names the kernels behind a BLAS's Sgemm.
func kernelOf(i blaslib.Info) string {
	switch {
	case i.Products != "":
		return i.Products
	case i.Library == "OpenBLAS":
		return "OpenBLAS's " + i.Core
	}
	return i.Library + "'s"
}

// sweepRun trains spec's want runs with workers, after the common start
// its parent gave (waitForStart), and times it.
func sweepRun(spec string, workers, want int) (Row, error) {
	// The parent ends this process with its own context (exec.CommandContext)
	// and removes its temporary folder (TMPDIR): nothing here outlives it.
	waitForStart()
	d, err := sweepOnce(context.Background(), spec, workers, want)
	if err != nil {
		return Row{}, err
	}
	end := time.Now()
	return Row{Impl: "vaelab", Model: fmt.Sprintf("sweep of %d with %d worker(s)", want, workers), Seconds: d.Seconds(), Start: end.Add(-d), End: end}, nil
}

// measure runs the child measurement what in a process of its own, with
// VAELAB_THREADS=threads and env in its environment. It refuses a child that
// ran with another thread count: its figures would be labelled with threads
// it did not use.
func (o Options) measure(ctx context.Context, what string, threads int, env ...string) (Row, error) {
	if err := settle(ctx, o.Settle); err != nil {
		return Row{}, err
	}
	cmd := exec.CommandContext(ctx, o.Executable, o.ChildArgs(what)...)
	cmd.Env = append(append(os.Environ(), threadsEnv+"="+strconv.Itoa(threads)), env...) // the last of a duplicate wins
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && len(ee.Stderr) > 0 {
			err = fmt.Errorf("%w: %s", err, lastLine(string(ee.Stderr)))
		}
		return Row{}, fmt.Errorf("measure %s at %d thread(s): %w", what, threads, err)
	}
	var row Row
	if err := json.Unmarshal(out, &row); err != nil {
		return Row{}, fmt.Errorf("measure %s: the child printed %q: %w", what, lastLine(string(out)), err)
	}
	if err := checkThreads("vaelab "+what, row.Threads, threads, threadsEnv+"="+strconv.Itoa(threads)); err != nil {
		return Row{}, err
	}
	return row, nil
}

// checkThreads refuses a measurement (who) that ran with got threads when
// asked for want (by how).
func checkThreads(who string, got, want int, how string) error {
	if got != want {
		return fmt.Errorf("%s ran with %d thread(s), not the %d asked by %s: its figures would be mislabelled", who, got, want, how)
	}
	return nil
}

// sideBySide runs n copies of one at once and returns their rows. The first
// error cancels the other copies and is the one returned.
func sideBySide(ctx context.Context, n int, one func(context.Context) (Row, error)) ([]Row, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	rows := make([]Row, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var err error
			if rows[i], err = one(ctx); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return rows, nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
