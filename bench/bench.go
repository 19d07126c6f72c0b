// Package bench is the harness behind `vaelab bench`: training speed against
// PyTorch, its scaling with threads, sweep scaling, both against the
// machine's capacity, and the cost of logging and of evaluation.
package bench

import (
	"bufio"
	"cmp"
	"context"
	"embed"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/internal/blaslib"
	"github.com/vaelab/vaelab/internal/fault"
	"github.com/vaelab/vaelab/metrics"
	"github.com/vaelab/vaelab/runs"
)

// Row is one measurement, as a child process prints it (JSON) or the PyTorch
// peer's line gives it: a line of the training-speed tables.
type Row struct {
	Impl, Model     string
	Batch, Steps    int
	ImagesPerSecond float64
	GFLOPS          float64
	AllocsPerStep   float64 // -1 when unknown (PyTorch)
	PeakMB          float64
	Threads         int       // the threads it ran with: vaelab's BLAS threads, or torch.get_num_threads()
	BLAS            string    // vaelab's BLAS line (blaslib.Info.String); "" for PyTorch
	Seconds         float64   // the measured part's wall time
	Start, End      time.Time // the measured part, for the overlap of copies run side by side
}

// Sections are the parts of the harness, in the order the CLI runs them by default.
func Sections() []string { return []string{"train", "threads", "sweep", "logging", "eval"} }

// Options say what Run measures and with what.
type Options struct {
	Python              string // the Python with torch for the peers; "" skips them
	MLPSteps, ConvSteps int
	Rounds              int      // alternating measurements of each
	Sections            []string // of Sections()
	DlibDir             string   // the face-descriptor weights
	// Child, when set, makes Run the child process measuring what it names
	// (see Child) instead of the harness.
	Child string
	// Executable and ChildArgs start one measurement (a model, the SGEMM
	// peak, a one-run sweep: see Child) in a process of its own, which calls
	// Child; by default this process's own binary with the CLI's arguments
	// for it (vaelab bench --child WHAT and the steps). The child's thread
	// count is VAELAB_THREADS in its environment.
	Executable string
	ChildArgs  func(model string) []string
	// Settle is the pause before each measurement, so that each starts on a
	// machine at rest (the CLI's default: SettleTime); 0 pauses not at all,
	// for a quick look whose figures are not to be compared.
	Settle time.Duration
}

// Check refuses options no measurement can honour, before any starts. Its
// errors are the user's and name the CLI's flags.
func (o Options) Check() error {
	if o.Rounds < 1 {
		return fault.User(fmt.Errorf("--rounds: %d must be at least 1", o.Rounds))
	}
	if o.Settle < 0 {
		return fault.User(fmt.Errorf("--settle: %v is negative; give a pause such as 1s, or 0 for none", o.Settle))
	}
	for _, s := range o.Sections {
		if !slices.Contains(Sections(), s) {
			return fault.User(fmt.Errorf("--sections: unknown section %q (%v)", s, Sections()))
		}
	}
	return nil
}

// Run measures opt.Sections in order and prints each table to w (or, as
// opt.Child, one measurement of the harness's).
func Run(ctx context.Context, w io.Writer, opt Options) error {
	if opt.Child != "" {
		return Child(w, opt.Child, opt.MLPSteps, opt.ConvSteps)
	}
	if err := opt.Check(); err != nil {
		return err
	}
	if opt.Executable == "" {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		opt.Executable = self
	}
	if opt.ChildArgs == nil {
		opt.ChildArgs = func(what string) []string {
			return []string{"bench", "--child", what, "--mlp-steps", strconv.Itoa(opt.MLPSteps), "--conv-steps", strconv.Itoa(opt.ConvSteps)}
		}
	}
	if opt.Settle == 0 {
		fmt.Fprintln(w, "no pause before the measurements (--settle 0): a quick look, not figures to compare")
	} else {
		fmt.Fprintf(w, "a pause of %v before each measurement (--settle)\n", opt.Settle)
	}
	for _, section := range opt.Sections {
		var err error
		switch section {
		case "train":
			err = train(ctx, w, opt)
		case "threads":
			err = threadsBench(ctx, w, opt, blaslib.Cores())
		case "sweep":
			err = sweep(ctx, w, opt)
		case "logging":
			err = logging(ctx, w)
		case "eval":
			err = eval(ctx, w, opt.Python, opt.DlibDir, opt.Rounds)
		}
		if err != nil {
			return fmt.Errorf("bench %s: %w", section, err)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// trainThreads is the thread count of the train section's processes, vaelab
// and PyTorch alike: the comparison is of one core's work.
const trainThreads = 1

func train(ctx context.Context, w io.Writer, opt Options) error {
	var peak Row
	var results []trainResult
	for _, model := range []string{"mlp", "conv"} {
		r, err := trainModel(ctx, opt, model, &peak)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "impl\tmodel\tbatch\tsteps\timages/s\tGFLOP/s\tallocs/step\tpeak MB\t% of SGEMM peak\t")
	var targets []string
	for _, r := range results {
		o, t, model := r.ours, r.theirs, r.ours.Model
		printRow(tw, o, peak.GFLOPS)
		switch {
		case opt.Python == "":
			continue
		case r.torchErr != nil:
			fmt.Fprintf(tw, "pytorch\t%s\t(%v)\t\t\t\t\t\t\t\n", model, r.torchErr)
			continue
		}
		printRow(tw, t, peak.GFLOPS)
		targets = append(targets, twicePeer(model, t.GFLOPS, peak.GFLOPS))
		fmt.Fprintf(tw, "vaelab/pytorch\t%s\t\t\t%.2f\t%.2f\t\t%.2f\t\t\n", model,
			o.ImagesPerSecond/t.ImagesPerSecond, o.GFLOPS/t.GFLOPS, o.PeakMB/t.PeakMB)
	}
	fmt.Fprintf(w, "CPU: %s\n", cpuModel())
	fmt.Fprintf(w, "training steps: float32, %d %s per process (as each reported); vaelab BLAS: %s\n", trainThreads, plural(trainThreads, "thread"), results[0].ours.BLAS)
	fmt.Fprintf(w, "SGEMM peak: %.1f GFLOP/s at %d %s (the Sgemm training calls, %d³; the fastest of %d measurements, one before every round of each model, each the best of %d); kernels: %s\n",
		peak.GFLOPS, peak.Threads, plural(peak.Threads, "thread"), peakSize, len(results)*opt.Rounds, peakRepeats, peak.Impl)
	fmt.Fprintf(w, "each model %d times, alternating with PyTorch; the median round of each (peak MB: the largest)\n", opt.Rounds)
	fmt.Fprintln(w, "GFLOP/s count the direct form's operations: the conv model's stride-2 4x4 convolutions between maps of 16 or more channels run in Winograd form, with 25 of its 64 multiplications (9 of 16 where a map's sides are not multiples of 8), so its share of the SGEMM peak can pass 100 %")
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, line := range targets {
		fmt.Fprintln(w, line)
	}
	return nil
}

// twicePeer says what twice PyTorch's speed asks of a model's step, as a
// share of the SGEMM peak: near or above 100 %, no amount of work outside
// the products reaches it on this machine unless the products do fewer
// operations than the direct form counts (the Winograd convolutions).
func twicePeer(model string, theirs, peak float64) string {
	if peak <= 0 {
		return fmt.Sprintf("%s: 2x PyTorch is %.1f GFLOP/s (no SGEMM peak measured)", model, 2*theirs)
	}
	return fmt.Sprintf("%s: 2x PyTorch is %.1f GFLOP/s, %.0f %% of the SGEMM peak (PyTorch runs at %.0f %% of it)",
		model, 2*theirs, 200*theirs/peak, 100*theirs/peak)
}

// trainResult is the train section's figures for one model: the median
// rounds of vaelab and PyTorch, and why PyTorch's are missing, if they are.
type trainResult struct {
	ours, theirs Row
	torchErr     error
}

// trainModel measures one model opt.Rounds times, alternating with its
// PyTorch peer, and the SGEMM peak before each round, keeping the best in
// peak: on a shared machine one measurement can fall in a slow moment and
// make a step look faster than its products. PyTorch's failure is not
// vaelab's: it is kept apart, and stops only PyTorch's measurements.
func trainModel(ctx context.Context, opt Options, model string, peak *Row) (trainResult, error) {
	var res trainResult
	var ours, theirs []Row
	for range opt.Rounds {
		p, err := opt.measure(ctx, childSGEMM, trainThreads)
		if err != nil {
			return trainResult{}, err
		}
		if p.GFLOPS > peak.GFLOPS {
			*peak = p
		}
		row, err := opt.measure(ctx, model, trainThreads)
		if err != nil {
			return trainResult{}, err
		}
		ours = append(ours, row)
		if opt.Python == "" || res.torchErr != nil {
			continue
		}
		if row, res.torchErr = torchRow(ctx, opt.Python, model, row.Steps, trainThreads, time.Time{}, opt.Settle); res.torchErr == nil {
			theirs = append(theirs, row)
		}
	}
	res.ours = medianRound(ours)
	if len(theirs) > 0 {
		res.theirs = medianRound(theirs)
	}
	return res, nil
}

// medianRound is the round with the median speed (the lower of the middle
// two for an even count), with the largest peak memory of all rounds.
func medianRound(rows []Row) Row {
	sorted := slices.SortedFunc(slices.Values(rows), func(a, b Row) int {
		return cmp.Compare(a.ImagesPerSecond, b.ImagesPerSecond)
	})
	m := sorted[(len(sorted)-1)/2]
	for _, r := range rows {
		m.PeakMB = max(m.PeakMB, r.PeakMB)
	}
	return m
}

// printRow prints a train row; vaelab's GFLOP/s also as a share of peak,
// the SGEMM speed of the kernels it runs (PyTorch runs others).
func printRow(w io.Writer, r Row, peak float64) {
	allocs, share := "-", "-"
	if r.AllocsPerStep >= 0 {
		allocs = fmt.Sprintf("%.0f", r.AllocsPerStep)
	}
	if r.Impl == "vaelab" {
		share = fmt.Sprintf("%.0f %%", percent(r.GFLOPS, peak))
	}
	fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%.1f\t%.2f\t%s\t%.0f\t%s\t\n", r.Impl, r.Model, r.Batch, r.Steps, r.ImagesPerSecond, r.GFLOPS, allocs, r.PeakMB, share)
}

// torchRow runs the PyTorch peer at threads threads and returns its row,
// refusing one that ran with another thread count.
func torchRow(ctx context.Context, python, model string, steps, threads int, start time.Time, pause time.Duration) (Row, error) {
	if err := settle(ctx, pause); err != nil {
		return Row{}, err
	}
	args := []string{"--model", model, "--steps", strconv.Itoa(steps), "--threads", strconv.Itoa(threads)}
	if !start.IsZero() {
		args = append(args, "--start-at", fmt.Sprintf("%.6f", float64(start.UnixMicro())/1e6))
	}
	out, err := runPeer(ctx, python, "torch_vae.py", args...)
	if err != nil {
		return Row{}, err
	}
	row, err := parseTorchLine(lastLine(string(out)))
	if err != nil {
		return Row{}, err
	}
	if err := checkThreads("PyTorch "+model, row.Threads, threads, "--threads "+strconv.Itoa(threads)); err != nil {
		return Row{}, err
	}
	return row, nil
}

// parseTorchLine reads the PyTorch peer's line: "pytorch VERSION MODEL BATCH
// STEPS IMAGES/S GFLOP/S - PEAK_MB THREADS START END", START and END being
// the wall-clock times (Unix seconds) of its measured steps.
func parseTorchLine(line string) (Row, error) {
	f := strings.Fields(line)
	if len(f) != 12 || f[0] != "pytorch" {
		return Row{}, fmt.Errorf("unexpected output of the PyTorch peer %q", line)
	}
	var ints [3]int
	for i, k := range []int{3, 4, 9} {
		v, err := strconv.Atoi(f[k])
		if err != nil {
			return Row{}, fmt.Errorf("the PyTorch peer's line %q, field %d: %w", line, k+1, err)
		}
		ints[i] = v
	}
	var nums [5]float64
	for i, k := range []int{5, 6, 8, 10, 11} {
		v, err := strconv.ParseFloat(f[k], 64)
		if err != nil {
			return Row{}, fmt.Errorf("the PyTorch peer's line %q, field %d: %w", line, k+1, err)
		}
		nums[i] = v
	}
	start, end := unixTime(nums[3]), unixTime(nums[4])
	return Row{Impl: "pytorch " + f[1], Model: f[2], Batch: ints[0], Steps: ints[1], Threads: ints[2],
		ImagesPerSecond: nums[0], GFLOPS: nums[1], AllocsPerStep: -1, PeakMB: nums[2],
		Seconds: end.Sub(start).Seconds(), Start: start, End: end}, nil
}

// unixTime is a time given in Unix seconds, to the microsecond.
func unixTime(sec float64) time.Time { return time.UnixMicro(int64(math.Round(sec * 1e6))) }

// runPeer runs the PyTorch peer bench/NAME (built in: peerScripts) with
// args under python and returns what it printed. The script is written to a
// folder of its own and run from there, so Python's path holds that folder
// and not the working directory, whose files could shadow modules.
func runPeer(ctx context.Context, python, name string, args ...string) ([]byte, error) {
	src, err := peerScripts.ReadFile(name)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "vaelab-peer-")
	if err != nil {
		return nil, fmt.Errorf("the PyTorch peer: %w", err)
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, name)
	if err := os.WriteFile(script, src, 0o600); err != nil {
		return nil, fmt.Errorf("the PyTorch peer: %w", err)
	}
	out, err := exec.CommandContext(ctx, python, append([]string{script}, args...)...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s bench/%s (built in): %v: %s", python, name, err, lastLine(string(out)))
	}
	return out, nil
}

// peerScripts are the PyTorch peers, built into the binary so that vaelab
// bench measures them from any directory.
//
//go:embed torch_vae.py torch_dlib.py
var peerScripts embed.FS

func lastLine(s string) string {
	var last string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if t := strings.TrimSpace(sc.Text()); t != "" {
			last = t
		}
	}
	return last
}

// sweepSpec is 4 equal runs (seeds differ) of an MLP on synthetic faces.
const sweepSpec = `name: bench-sweep
dataset: {name: synthetic, size: 32, count: 3000, test_fraction: 0.1}
model: {hidden: [256], latent: 16}
train: {epochs: 4, batch_size: 64}
eval: {batch_size: 300, grid_images: 16, samples: 300}
seeds: [1, 2, 3, 4]
`

// The sweep section's measurements: the 4-run sweep in this process with 1
// and 2 workers, and the capacity for its work, one-run sweeps in processes
// of their own, one alone and two side by side.
const (
	sweep1Worker  = "1 worker"
	sweep2Workers = "2 workers"
	sweepAlone    = "alone"
	sweepPair     = "side by side"
)

func sweep(ctx context.Context, w io.Writer, opt Options) error {
	fmt.Fprintln(w, "sweep: 4 equal runs (MLP 256, synthetic 32x32, 4 epochs, with evaluation)")
	fmt.Fprintf(w, "  %d round(s), alternating which goes first; the best of each; every sweep in a process of its own, 1 thread per run\n", opt.Rounds)
	best := map[string]time.Duration{}
	var pairOverlap float64
	for i := range opt.Rounds {
		order := []string{sweep1Worker, sweep2Workers, sweepAlone, sweepPair}
		if i%2 == 1 {
			slices.Reverse(order)
		}
		for _, m := range order {
			d, ov, err := sweepMeasure(ctx, opt, m)
			if err != nil {
				return fmt.Errorf("%s: %w", m, err)
			}
			if b, ok := best[m]; !ok || d < b {
				best[m] = d
				if m == sweepPair {
					pairOverlap = ov
				}
			}
		}
	}
	for _, workers := range []string{sweep1Worker, sweep2Workers} {
		fmt.Fprintf(w, "  %s: %.2f s\n", workers, best[workers].Seconds())
	}
	workers := speedUp(best[sweep1Worker], best[sweep2Workers])
	machine := capacity(2, best[sweepAlone], best[sweepPair])
	fmt.Fprintf(w, "  2 workers / 1 worker: %.2f of the wall time (a speed-up of %.2fx)\n", best[sweep2Workers].Seconds()/best[sweep1Worker].Seconds(), workers)
	fmt.Fprintf(w, "  capacity: a 1-run sweep alone %.2f s, two side by side %.2f s (processes of 1 thread, overlapping %.0f %%): a speed-up of %.2fx\n",
		best[sweepAlone].Seconds(), best[sweepPair].Seconds(), 100*pairOverlap, machine)
	fmt.Fprintf(w, "  2-worker speed-up / capacity: %.0f %%\n", percent(workers, machine))
	return nil
}

// sweepMeasure measures one of the sweep section's measurements once: its
// wall time and, for copies side by side, their overlap.
func sweepMeasure(ctx context.Context, opt Options, m string) (time.Duration, float64, error) {
	child, copies := childSweep, 1
	switch m {
	case sweep1Worker:
		child = childSweep4 + "1"
	case sweep2Workers:
		child = childSweep4 + "2"
	case sweepPair:
		copies = 2
	}
	dir, err := os.MkdirTemp("", "vaelab-bench-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	// One thread per run, so that neither the copies nor the workers
	// oversubscribe the cores: the sweeps' speed-up and the machine's
	// capacity measure the same work. Workspaces in dir, removed here even if
	// a child is killed.
	start := startAt(time.Now().Add(opt.Settle + startLead)) // each copy pauses first
	rows, err := sideBySide(ctx, copies, func(ctx context.Context) (Row, error) {
		return opt.measure(ctx, child, 1, "TMPDIR="+dir, start)
	})
	if err != nil {
		return 0, 0, err
	}
	return span(rows), overlap(rows), nil
}

// oneRunSpec is sweepSpec with one run.
func oneRunSpec() string {
	return strings.Replace(sweepSpec, "seeds: [1, 2, 3, 4]", "seeds: [1]", 1)
}

// sweepOnce trains spec's runs (want of them) with workers in a fresh
// workspace and returns the wall time.
func sweepOnce(ctx context.Context, spec string, workers, want int) (time.Duration, error) {
	dir, err := os.MkdirTemp("", "vaelab-bench-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	d, res, err := runs.BenchSweep(ctx, spec, dir, workers)
	if err != nil {
		return 0, err
	}
	if res.Done != want {
		return 0, fmt.Errorf("%d workers: %d of %d runs done: %+v", workers, res.Done, want, res)
	}
	return d, nil
}

func logging(ctx context.Context, w io.Writer) error {
	spec := strings.Replace(oneRunSpec(), "batch_size: 64}", "batch_size: 16}", 1) // more steps, more rows
	dir, err := os.MkdirTemp("", "vaelab-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	stored, discarded, inRecorder, err := runs.BenchLogging(ctx, spec, dir, 5)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "metric logging: one run (MLP 256, batch 16, 4 epochs: 675 steps × 7 metrics), best of 5 each")
	fmt.Fprintf(w, "  metrics to the store: %.3f s\n  metrics discarded:    %.3f s\n  overhead: %+.1f %% of training (wall-time difference)\n",
		stored.Seconds(), discarded.Seconds(), 100*(stored.Seconds()/discarded.Seconds()-1))
	fmt.Fprintf(w, "  time inside the store's recorder: %.3f s, %.2f %% of training\n", inRecorder.Seconds(), 100*inRecorder.Seconds()/discarded.Seconds())
	return nil
}

func eval(ctx context.Context, w io.Writer, python, dlibDir string, rounds int) error {
	a, _, err := data.Synthetic(10000, 32, 1)
	if err != nil {
		return err
	}
	b, _, err := data.Synthetic(10000, 32, 2)
	if err != nil {
		return err
	}
	start := time.Now()
	ex := metrics.NewExtractor(1)
	fa, err := ex.Features(ctx, a)
	if err != nil {
		return err
	}
	fb, err := ex.Features(ctx, b)
	if err != nil {
		return err
	}
	feat := time.Since(start)
	fd, err := metrics.FrechetFeatures(fa, fb)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "evaluation: FD-proxy (%s) between two sets of 10,000 synthetic 32x32 faces\n", metrics.ExtractorID())
	fmt.Fprintf(w, "  features: %.2f s (%.0f images/s); whole FD: %.2f s; FD = %.4f\n", feat.Seconds(), 20000/feat.Seconds(), time.Since(start).Seconds(), fd)
	fmt.Fprintln(w, "  report rendering for 500 runs: go test ./report -run XXX -bench Report500 -benchtime 1x")
	return descriptors(ctx, w, python, dlibDir, rounds)
}

// descriptorImages is how many 64×64 grey faces each descriptor
// measurement describes.
const descriptorImages = 256

// descriptors measures dlib's face descriptor on Olivetti-size faces
// (64×64 grey) against the same network in PyTorch, the median of rounds
// alternating measurements of each.
func descriptors(ctx context.Context, w io.Writer, python, dlibDir string, rounds int) error {
	fmt.Fprintf(w, "face descriptor (dlib ResNet, 150x150 RGB in, %.2f GFLOP per image): %d 64x64 grey faces, batches of 16\n", metrics.DlibFLOPs()/1e9, descriptorImages)
	fmt.Fprintf(w, "  CPU: %s; vaelab BLAS: %s; %d usable cores (one BLAS thread each), PyTorch with 2 threads\n", cpuModel(), blaslib.Current(), blaslib.Cores())
	net, err := metrics.LoadDlib(dlibDir)
	if err != nil {
		fmt.Fprintf(w, "  not measured: %v\n", err)
		return nil
	}
	faces, _, err := data.Synthetic(descriptorImages, 64, 1)
	if err != nil {
		return err
	}
	if _, err := net.Descriptors(ctx, faces.First(32)); err != nil { // warm-up
		return err
	}
	var ours, theirs []float64
	var torchErr error
	for range rounds {
		start := time.Now()
		if _, err := net.Descriptors(ctx, faces); err != nil {
			return err
		}
		ours = append(ours, float64(faces.N)/time.Since(start).Seconds())
		if python == "" || torchErr != nil {
			continue
		}
		var rate float64
		if rate, torchErr = torchDescriptors(ctx, python); torchErr == nil {
			theirs = append(theirs, rate)
		}
	}
	med := func(v []float64) float64 { slices.Sort(v); return v[len(v)/2] }
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  impl\timages/s\tGFLOP/s\t")
	fmt.Fprintf(tw, "  vaelab\t%.1f\t%.1f\t\n", med(ours), med(ours)*metrics.DlibFLOPs()/1e9)
	if len(theirs) > 0 {
		fmt.Fprintf(tw, "  pytorch\t%.1f\t%.1f\t\n", med(theirs), med(theirs)*metrics.DlibFLOPs()/1e9)
	}
	tw.Flush()
	switch {
	case len(theirs) > 0:
		fmt.Fprintf(w, "  vaelab / pytorch: %.2f (median of %d rounds each)\n", med(ours)/med(theirs), rounds)
	case python == "":
		fmt.Fprintln(w, "  pytorch: skipped (--python \"\")")
	default:
		fmt.Fprintf(w, "  pytorch: not measured: %v\n", torchErr)
	}
	return nil
}

// torchDescriptors runs bench/torch_dlib.py and parses its line:
// "pytorch VERSION dlib BATCH IMAGES IMAGES/S GFLOP/S".
func torchDescriptors(ctx context.Context, python string) (float64, error) {
	out, err := runPeer(ctx, python, "torch_dlib.py", "--images", strconv.Itoa(descriptorImages))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(lastLine(string(out)))
	if len(f) != 7 || f[0] != "pytorch" || f[2] != "dlib" {
		return 0, fmt.Errorf("unexpected output %q", lastLine(string(out)))
	}
	return strconv.ParseFloat(f[5], 64)
}

// cpuModel is the CPU's model name from /proc/cpuinfo (Linux), for bench
// headers: figures from one CPU kind do not hold for another.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
