// Package bench is the harness behind `vaelab bench`: training speed against
// PyTorch, sweep scaling, the cost of logging and of evaluation.
package bench

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/internal/blaslib"
	"github.com/vaelab/vaelab/internal/fault"
	"github.com/vaelab/vaelab/metrics"
	"github.com/vaelab/vaelab/runs"
	"github.com/vaelab/vaelab/vae"
)

// Row is one line of the training-speed table.
type Row struct {
	Impl, Model     string
	Batch, Steps    int
	ImagesPerSecond float64
	GFLOPS          float64
	AllocsPerStep   float64 // -1 when unknown (PyTorch)
	PeakMB          float64
}

// Sections are the parts of the harness, in the order the CLI runs them by default.
func Sections() []string { return []string{"train", "sweep", "logging", "eval"} }

// Options say what Run measures and with what.
type Options struct {
	Python              string // the Python with torch for the peers; "" skips them
	MLPSteps, ConvSteps int
	Rounds              int      // alternating measurements of each
	Sections            []string // of train, sweep, logging, eval
	DlibDir             string   // the face-descriptor weights
	// Executable and ChildArgs start one model's measurement in a process of
	// its own, which calls Child; by default this process's own binary with
	// the CLI's arguments for it (vaelab bench --child MODEL and the steps).
	Executable string
	ChildArgs  func(model string) []string
}

// Check refuses options no measurement can honour, before any starts. Its
// errors are the user's and name the CLI's flags.
func (o Options) Check() error {
	if o.Rounds < 1 {
		return fault.User(fmt.Errorf("--rounds: %d must be at least 1", o.Rounds))
	}
	for _, s := range o.Sections {
		if !slices.Contains(Sections(), s) {
			return fault.User(fmt.Errorf("--sections: unknown section %q (%v)", s, Sections()))
		}
	}
	return nil
}

// Run measures opt.Sections in order and prints each table to w.
func Run(ctx context.Context, w io.Writer, opt Options) error {
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
		opt.ChildArgs = func(model string) []string {
			return []string{"bench", "--child", model, "--mlp-steps", strconv.Itoa(opt.MLPSteps), "--conv-steps", strconv.Itoa(opt.ConvSteps)}
		}
	}
	for _, section := range opt.Sections {
		var err error
		switch section {
		case "train":
			err = train(ctx, w, opt)
		case "sweep":
			err = sweep(ctx, w, opt.Rounds)
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

// Child measures one model ("mlp" or "conv") and prints its row as JSON:
// each model runs in a process of its own, started by Run through
// Options.Executable with ChildArgs, so that its peak memory is its own.
func Child(w io.Writer, model string, mlpSteps, convSteps int) error {
	bm, conv := vae.BenchModels()
	n := mlpSteps
	if model == "conv" {
		bm, n = conv, convSteps
	}
	r, err := vae.BenchmarkSteps(bm.Config, bm.Shape, bm.Batch, n)
	if err != nil {
		return err
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return json.NewEncoder(w).Encode(Row{Impl: "vaelab", Model: bm.Name, Batch: bm.Batch, Steps: n,
		ImagesPerSecond: r.ImagesPerSecond, GFLOPS: r.GFLOPS, AllocsPerStep: r.AllocsPerStep, PeakMB: float64(ru.Maxrss) / 1024})
}

func train(ctx context.Context, w io.Writer, opt Options) error {
	python, rounds := opt.Python, opt.Rounds
	fmt.Fprintf(w, "CPU: %s\n", cpuModel())
	fmt.Fprintf(w, "training steps: float32, one BLAS thread; vaelab BLAS: %s\n", blaslib.Current())
	fmt.Fprintf(w, "each model %d times, alternating with PyTorch; the median round of each (peak MB: the largest)\n", rounds)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "impl\tmodel\tbatch\tsteps\timages/s\tGFLOP/s\tallocs/step\tpeak MB\t")
	for _, model := range []string{"mlp", "conv"} {
		var ours, theirs []Row
		var torchErr error
		for range rounds {
			out, err := exec.CommandContext(ctx, opt.Executable, opt.ChildArgs(model)...).Output()
			if err != nil {
				return fmt.Errorf("measure %s: %w", model, err)
			}
			var row Row
			if err := json.Unmarshal(out, &row); err != nil {
				return fmt.Errorf("measure %s: %w", model, err)
			}
			ours = append(ours, row)
			if python == "" || torchErr != nil {
				continue
			}
			row, torchErr = torchRow(ctx, python, model, row.Steps)
			if torchErr == nil {
				theirs = append(theirs, row)
			}
		}
		o := medianRound(ours)
		printRow(tw, o)
		switch {
		case python == "":
			continue
		case torchErr != nil:
			fmt.Fprintf(tw, "pytorch\t%s\t(%v)\t\t\t\t\t\t\n", model, torchErr)
			continue
		}
		t := medianRound(theirs)
		printRow(tw, t)
		fmt.Fprintf(tw, "vaelab/pytorch\t%s\t\t\t%.2f\t%.2f\t\t%.2f\t\n", model,
			o.ImagesPerSecond/t.ImagesPerSecond, o.GFLOPS/t.GFLOPS, o.PeakMB/t.PeakMB)
	}
	return tw.Flush()
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

func printRow(w io.Writer, r Row) {
	allocs := "-"
	if r.AllocsPerStep >= 0 {
		allocs = fmt.Sprintf("%.0f", r.AllocsPerStep)
	}
	fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%.1f\t%.2f\t%s\t%.0f\t\n", r.Impl, r.Model, r.Batch, r.Steps, r.ImagesPerSecond, r.GFLOPS, allocs, r.PeakMB)
}

// torchRow runs the PyTorch peer and parses its line:
// "pytorch VERSION MODEL BATCH STEPS IMAGES/S GFLOP/S - PEAK_MB".
func torchRow(ctx context.Context, python, model string, steps int) (Row, error) {
	script, err := findScript("torch_vae.py")
	if err != nil {
		return Row{}, err
	}
	out, err := exec.CommandContext(ctx, python, script, "--model", model, "--steps", strconv.Itoa(steps)).CombinedOutput()
	if err != nil {
		return Row{}, fmt.Errorf("%s %s: %v: %s", python, script, err, lastLine(string(out)))
	}
	f := strings.Fields(lastLine(string(out)))
	if len(f) != 9 || f[0] != "pytorch" {
		return Row{}, fmt.Errorf("unexpected output %q", lastLine(string(out)))
	}
	num := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
	return Row{Impl: "pytorch " + f[1], Model: f[2], Batch: int(num(f[3])), Steps: int(num(f[4])),
		ImagesPerSecond: num(f[5]), GFLOPS: num(f[6]), AllocsPerStep: -1, PeakMB: num(f[8])}, nil
}

// findScript looks for bench/NAME in the working directory and the
// folders above it.
func findScript(name string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "bench", name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("bench/%s not found: run vaelab bench inside the repository", name)
		}
		dir = parent
	}
}

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

func sweep(ctx context.Context, w io.Writer, rounds int) error {
	fmt.Fprintln(w, "sweep: 4 equal runs (MLP 256, synthetic 32x32, 4 epochs, with evaluation)")
	fmt.Fprintf(w, "  %d rounds, alternating which goes first; the best of each\n", rounds)
	best := map[int]time.Duration{}
	for i := range rounds {
		order := []int{1, 2}
		if i%2 == 1 {
			order = []int{2, 1}
		}
		for _, workers := range order {
			d, err := sweepOnce(ctx, workers)
			if err != nil {
				return err
			}
			if b, ok := best[workers]; !ok || d < b {
				best[workers] = d
			}
		}
	}
	for _, workers := range []int{1, 2} {
		fmt.Fprintf(w, "  %d worker(s): %.2f s\n", workers, best[workers].Seconds())
	}
	fmt.Fprintf(w, "  2 workers / 1 worker: %.2f of the wall time\n", best[2].Seconds()/best[1].Seconds())
	return nil
}

func sweepOnce(ctx context.Context, workers int) (time.Duration, error) {
	dir, err := os.MkdirTemp("", "vaelab-bench-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	d, res, err := runs.BenchSweep(ctx, sweepSpec, dir, workers)
	if err != nil {
		return 0, err
	}
	if res.Done != 4 {
		return 0, fmt.Errorf("%d workers: %+v", workers, res)
	}
	return d, nil
}

func logging(ctx context.Context, w io.Writer) error {
	spec := strings.Replace(sweepSpec, "seeds: [1, 2, 3, 4]", "seeds: [1]", 1)
	spec = strings.Replace(spec, "batch_size: 64}", "batch_size: 16}", 1) // more steps, more rows
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
	fmt.Fprintf(w, "  CPU: %s; vaelab BLAS: %s; GOMAXPROCS=%d (one BLAS thread per core), PyTorch with 2 threads\n", cpuModel(), blaslib.Current(), runtime.GOMAXPROCS(0))
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
	script, err := findScript("torch_dlib.py")
	if err != nil {
		return 0, err
	}
	out, err := exec.CommandContext(ctx, python, script, "--images", strconv.Itoa(descriptorImages)).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%s %s: %v: %s", python, script, err, lastLine(string(out)))
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
