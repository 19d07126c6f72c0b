package main

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

	"github.com/spf13/cobra"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/internal/blaslib"
	"github.com/vaelab/vaelab/metrics"
	"github.com/vaelab/vaelab/runs"
	"github.com/vaelab/vaelab/vae"
)

// benchRow is one line of the training-speed table.
type benchRow struct {
	Impl, Model     string
	Batch, Steps    int
	ImagesPerSecond float64
	GFLOPS          float64
	AllocsPerStep   float64 // -1 when unknown (PyTorch)
	PeakMB          float64
}

func benchCmd(s *settings, stdout io.Writer) *cobra.Command {
	var child, python string
	var mlpSteps, convSteps, rounds int
	var sections []string
	cmd := &cobra.Command{
		Use:         "bench",
		Annotations: map[string]string{needsBLAS: "yes"},
		Short:       "Measure training speed against PyTorch, sweep scaling, logging and evaluation costs",
		Long: `Bench prints, for the two reference models (an MLP 560-400-20 at batch 100 and a
conv VAE 64x64x3 with 32-64-128-256 4x4 stride-2 convolutions at batch 64, both
float32), images per second, GFLOP/s, heap allocations per step and peak memory,
each model in its own process, beside the same figures from PyTorch running
bench/torch_vae.py with one thread, and their ratio: the median of --rounds
measurements of each, taken alternately. Then: the wall time of 4
equal runs with 1 and with 2 workers (the best of --rounds each), the cost of recording metrics in the
store against discarding them, the FD-proxy's cost on 10,000 images, and
dlib's face descriptor in images per second on 64x64 grey faces beside the
same network in PyTorch (bench/torch_dlib.py, random weights, two threads).
The machine is shared and noisy: compare figures from one invocation.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if child != "" {
				return benchChild(stdout, child, mlpSteps, convSteps)
			}
			if rounds < 1 {
				return &exitError{exitUsage, fmt.Errorf("--rounds: %d must be at least 1", rounds)}
			}
			for _, section := range sections {
				var err error
				switch section {
				case "train":
					err = benchTrain(ctx, stdout, python, mlpSteps, convSteps, rounds)
				case "sweep":
					err = benchSweep(ctx, stdout, rounds)
				case "logging":
					err = benchLogging(ctx, stdout)
				case "eval":
					err = benchEval(ctx, stdout, python, filepath.Join(s.dataDir(), data.DlibFaceDir), rounds)
				default:
					return &exitError{exitUsage, fmt.Errorf("--sections: unknown section %q (train, sweep, logging, eval)", section)}
				}
				if err != nil {
					return &exitError{exitFailure, fmt.Errorf("bench %s: %w", section, err)}
				}
				fmt.Fprintln(stdout)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&python, "python", "/usr/bin/python3", "the Python with torch that runs bench/torch_vae.py (\"\" to skip PyTorch)")
	f.IntVar(&mlpSteps, "mlp-steps", 200, "training steps of the MLP")
	f.IntVar(&convSteps, "conv-steps", 10, "training steps of the conv VAE")
	f.IntVar(&rounds, "rounds", 3, "measurements of each model and its PyTorch peer, and of each sweep, alternating")
	f.StringSliceVar(&sections, "sections", []string{"train", "sweep", "logging", "eval"}, "what to measure")
	f.StringVar(&child, "child", "", "internal: measure one model in this process and print it as JSON")
	f.MarkHidden("child")
	return cmd
}

// benchChild measures one model and prints its row as JSON: each model runs
// in a process of its own so that its peak memory is its own.
func benchChild(w io.Writer, model string, mlpSteps, convSteps int) error {
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
	return json.NewEncoder(w).Encode(benchRow{Impl: "vaelab", Model: bm.Name, Batch: bm.Batch, Steps: n,
		ImagesPerSecond: r.ImagesPerSecond, GFLOPS: r.GFLOPS, AllocsPerStep: r.AllocsPerStep, PeakMB: float64(ru.Maxrss) / 1024})
}

func benchTrain(ctx context.Context, w io.Writer, python string, mlpSteps, convSteps, rounds int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "CPU: %s\n", cpuModel())
	fmt.Fprintf(w, "training steps: float32, one BLAS thread; vaelab BLAS: %s\n", blaslib.Current())
	fmt.Fprintf(w, "each model %d times, alternating with PyTorch; the median round of each (peak MB: the largest)\n", rounds)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "impl\tmodel\tbatch\tsteps\timages/s\tGFLOP/s\tallocs/step\tpeak MB\t")
	for _, model := range []string{"mlp", "conv"} {
		var ours, theirs []benchRow
		var torchErr error
		for range rounds {
			out, err := exec.CommandContext(ctx, self, "bench", "--child", model,
				"--mlp-steps", strconv.Itoa(mlpSteps), "--conv-steps", strconv.Itoa(convSteps)).Output()
			if err != nil {
				return fmt.Errorf("measure %s: %w", model, err)
			}
			var row benchRow
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
		printBenchRow(tw, o)
		switch {
		case python == "":
			continue
		case torchErr != nil:
			fmt.Fprintf(tw, "pytorch\t%s\t(%v)\t\t\t\t\t\t\n", model, torchErr)
			continue
		}
		t := medianRound(theirs)
		printBenchRow(tw, t)
		fmt.Fprintf(tw, "vaelab/pytorch\t%s\t\t\t%.2f\t%.2f\t\t%.2f\t\n", model,
			o.ImagesPerSecond/t.ImagesPerSecond, o.GFLOPS/t.GFLOPS, o.PeakMB/t.PeakMB)
	}
	return tw.Flush()
}

// medianRound is the round with the median speed (the lower of the middle
// two for an even count), with the largest peak memory of all rounds.
func medianRound(rows []benchRow) benchRow {
	sorted := slices.SortedFunc(slices.Values(rows), func(a, b benchRow) int {
		return cmp.Compare(a.ImagesPerSecond, b.ImagesPerSecond)
	})
	m := sorted[(len(sorted)-1)/2]
	for _, r := range rows {
		m.PeakMB = max(m.PeakMB, r.PeakMB)
	}
	return m
}

func printBenchRow(w io.Writer, r benchRow) {
	allocs := "-"
	if r.AllocsPerStep >= 0 {
		allocs = fmt.Sprintf("%.0f", r.AllocsPerStep)
	}
	fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%.1f\t%.2f\t%s\t%.0f\t\n", r.Impl, r.Model, r.Batch, r.Steps, r.ImagesPerSecond, r.GFLOPS, allocs, r.PeakMB)
}

// torchRow runs the PyTorch peer and parses its line:
// "pytorch VERSION MODEL BATCH STEPS IMAGES/S GFLOP/S - PEAK_MB".
func torchRow(ctx context.Context, python, model string, steps int) (benchRow, error) {
	script, err := findBenchScript("torch_vae.py")
	if err != nil {
		return benchRow{}, err
	}
	out, err := exec.CommandContext(ctx, python, script, "--model", model, "--steps", strconv.Itoa(steps)).CombinedOutput()
	if err != nil {
		return benchRow{}, fmt.Errorf("%s %s: %v: %s", python, script, err, lastLine(string(out)))
	}
	f := strings.Fields(lastLine(string(out)))
	if len(f) != 9 || f[0] != "pytorch" {
		return benchRow{}, fmt.Errorf("unexpected output %q", lastLine(string(out)))
	}
	num := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
	return benchRow{Impl: "pytorch " + f[1], Model: f[2], Batch: int(num(f[3])), Steps: int(num(f[4])),
		ImagesPerSecond: num(f[5]), GFLOPS: num(f[6]), AllocsPerStep: -1, PeakMB: num(f[8])}, nil
}

// findBenchScript looks for bench/NAME in the working directory and the
// folders above it.
func findBenchScript(name string) (string, error) {
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

// benchSweepSpec is 4 equal runs (seeds differ) of an MLP on synthetic faces.
const benchSweepSpec = `name: bench-sweep
dataset: {name: synthetic, size: 32, count: 3000, test_fraction: 0.1}
model: {hidden: [256], latent: 16}
train: {epochs: 4, batch_size: 64}
eval: {batch_size: 300, grid_images: 16, samples: 300}
seeds: [1, 2, 3, 4]
`

func benchSweep(ctx context.Context, w io.Writer, rounds int) error {
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
	d, res, err := runs.BenchSweep(ctx, benchSweepSpec, dir, workers)
	if err != nil {
		return 0, err
	}
	if res.Done != 4 {
		return 0, fmt.Errorf("%d workers: %+v", workers, res)
	}
	return d, nil
}

func benchLogging(ctx context.Context, w io.Writer) error {
	spec := strings.Replace(benchSweepSpec, "seeds: [1, 2, 3, 4]", "seeds: [1]", 1)
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

func benchEval(ctx context.Context, w io.Writer, python, dlibDir string, rounds int) error {
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
	return benchDescriptors(ctx, w, python, dlibDir, rounds)
}

// benchDescriptorImages is how many 64×64 grey faces each descriptor
// measurement describes.
const benchDescriptorImages = 256

// benchDescriptors measures dlib's face descriptor on Olivetti-size faces
// (64×64 grey) against the same network in PyTorch, the median of rounds
// alternating measurements of each.
func benchDescriptors(ctx context.Context, w io.Writer, python, dlibDir string, rounds int) error {
	fmt.Fprintf(w, "face descriptor (dlib ResNet, 150x150 RGB in, %.2f GFLOP per image): %d 64x64 grey faces, batches of 16\n", metrics.DlibFLOPs()/1e9, benchDescriptorImages)
	fmt.Fprintf(w, "  CPU: %s; vaelab BLAS: %s; GOMAXPROCS=%d (one BLAS thread per core), PyTorch with 2 threads\n", cpuModel(), blaslib.Current(), runtime.GOMAXPROCS(0))
	net, err := metrics.LoadDlib(dlibDir)
	if err != nil {
		fmt.Fprintf(w, "  not measured: %v\n", err)
		return nil
	}
	faces, _, err := data.Synthetic(benchDescriptorImages, 64, 1)
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
	script, err := findBenchScript("torch_dlib.py")
	if err != nil {
		return 0, err
	}
	out, err := exec.CommandContext(ctx, python, script, "--images", strconv.Itoa(benchDescriptorImages)).CombinedOutput()
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
