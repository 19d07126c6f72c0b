package bench

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vaelab/vaelab/internal/blaslib"
	"github.com/vaelab/vaelab/internal/sgemm"
)

// setup is one measurement of the threads section: an implementation
// ("vaelab" or "pytorch") with threads threads in each of copies processes
// started side by side.
type setup struct {
	impl            string
	threads, copies int
}

func (s setup) String() string {
	if s.copies > 1 {
		return fmt.Sprintf("%s, %d copies of %d thread(s)", s.impl, s.copies, s.threads)
	}
	return fmt.Sprintf("%s at %d thread(s)", s.impl, s.threads)
}

// label is the setup's threads column: "2" for one process of 2 threads,
// "2×1" for 2 processes of 1.
func (s setup) label() string {
	if s.copies > 1 {
		return fmt.Sprintf("%d×%d", s.copies, s.threads)
	}
	return strconv.Itoa(s.threads)
}

// setups are the threads section's measurements with n usable cores, in the
// order of a round: vaelab and PyTorch alternate.
func setups(n int) []setup {
	s := []setup{{"vaelab", 1, 1}, {"pytorch", 1, 1}}
	if n > 1 {
		s = append(s, setup{"vaelab", n, 1}, setup{"pytorch", n, 1}, setup{"vaelab", 1, n}, setup{"pytorch", 1, n})
	}
	return s
}

// inRound is the order in which a round measures the setups: vaelab's at 1
// thread, n threads and n copies one after the other, so that the ratios
// between them are measured seconds apart (a shared machine's speed may
// drift by a fifth within minutes), and each PyTorch setup next to vaelab's
// alike.
func inRound(n int) []setup {
	s := []setup{{"pytorch", 1, 1}, {"vaelab", 1, 1}}
	if n > 1 {
		s = append(s, setup{"vaelab", n, 1}, setup{"vaelab", 1, n}, setup{"pytorch", n, 1}, setup{"pytorch", 1, n})
	}
	return s
}

// sample is a setup's measurement in one round: copies side by side count
// as one row (their rates added up), with their overlap.
type sample struct {
	row     Row
	overlap float64
	round   int
}

// threadsBench measures each model with vaelab and PyTorch at 1 and n
// threads, and n one-thread copies of each side by side: the machine's
// capacity for n threads' work, which n threads in one process can approach
// but not pass.
func threadsBench(ctx context.Context, w io.Writer, opt Options, n int) error {
	fmt.Fprintf(w, "threads: each model at 1 and %d threads, and %d one-thread copies side by side (the machine's capacity)\n", n, n)
	fmt.Fprintf(w, "  CPU: %s; N = %d usable cores (GOMAXPROCS %d with the spare P, NumCPU %d)\n", cpuModel(), n, runtime.GOMAXPROCS(0), runtime.NumCPU())
	fmt.Fprintf(w, "  vaelab BLAS (this process): %s; vaelab sgemm kernel: %s\n", blaslib.Current(), sgemm.Kernel())
	fmt.Fprintf(w, "  steps: mlp %d, conv %d; %d round(s), vaelab's setups one after another between PyTorch's; the median round of each\n", opt.MLPSteps, opt.ConvSteps, opt.Rounds)
	if n < 2 {
		fmt.Fprintf(w, "  only 1 usable core: measured at 1 thread only\n")
	}
	results := map[string]modelResult{}
	for _, model := range []string{"mlp", "conv"} {
		r, err := threadsModel(ctx, opt, model, n)
		if err != nil {
			return err
		}
		results[model] = r
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  impl\tmodel\tthreads\timages/s\tGFLOP/s\tcopies overlap\t")
	for _, model := range []string{"mlp", "conv"} {
		r := results[model]
		for _, s := range setups(n) {
			if rs, ok := r.rounds[s]; ok {
				smp := medianSample(rs)
				ov := "-"
				if s.copies > 1 {
					ov = fmt.Sprintf("%.0f %%", 100*smp.overlap)
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%.1f\t%.2f\t%s\t\n", smp.row.Impl, model, s.label(), smp.row.ImagesPerSecond, smp.row.GFLOPS, ov)
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	printTorchNotes(w, opt.Python, results)
	fmt.Fprintln(w, "  ratios: the median of each round's ratio (the rounds' ratios in parentheses)")
	for _, model := range []string{"mlp", "conv"} {
		printThreadRatios(w, model, n, results[model].rounds)
	}
	return nil
}

// modelResult is the threads section's figures for one model: each setup's
// rounds, in order, and why PyTorch's are missing, if they are.
type modelResult struct {
	rounds   map[setup][]sample
	torchErr error
}

// threadsModel measures every setup of one model, opt.Rounds times, and
// keeps every round. PyTorch's failure is not vaelab's: it is
// kept apart, and stops only PyTorch's measurements.
func threadsModel(ctx context.Context, opt Options, model string, n int) (modelResult, error) {
	rounds := map[setup][]sample{}
	var torchErr error
	for round := range opt.Rounds {
		for _, s := range inRound(n) {
			if s.impl == "pytorch" && (opt.Python == "" || torchErr != nil) {
				continue
			}
			smp, err := measureSetup(ctx, opt, model, s)
			switch {
			case err == nil:
				smp.round = round
				rounds[s] = append(rounds[s], smp)
			case s.impl == "pytorch" && ctx.Err() == nil:
				torchErr = fmt.Errorf("%s: %w", s, err)
			default:
				return modelResult{}, fmt.Errorf("%s, %s: %w", model, s, err)
			}
		}
	}
	return modelResult{rounds: rounds, torchErr: torchErr}, nil
}

// measureSetup measures one setup of model once.
func measureSetup(ctx context.Context, opt Options, model string, s setup) (sample, error) {
	var start time.Time // copies side by side start their timed steps together
	if s.copies > 1 {
		start = time.Now().Add(opt.Settle + startLead) // each copy pauses first
	}
	one := func(ctx context.Context) (Row, error) {
		if s.impl != "vaelab" {
			return torchRow(ctx, opt.Python, model, opt.steps(model), s.threads, start, opt.Settle)
		}
		if start.IsZero() {
			return opt.measure(ctx, model, s.threads)
		}
		return opt.measure(ctx, model, s.threads, startAt(start))
	}
	if s.copies == 1 {
		r, err := one(ctx)
		return sample{row: r, overlap: 1}, err
	}
	rows, err := sideBySide(ctx, s.copies, one)
	if err != nil {
		return sample{}, err
	}
	return sample{row: combined(rows), overlap: overlap(rows)}, nil
}

// steps is the training steps both implementations run of model.
func (o Options) steps(model string) int {
	if model == "conv" {
		return o.ConvSteps
	}
	return o.MLPSteps
}

// medianSample is the round with the median speed (the lower middle one
// for an even count).
func medianSample(s []sample) sample {
	sorted := slices.SortedFunc(slices.Values(s), func(a, b sample) int {
		return cmp.Compare(a.row.ImagesPerSecond, b.row.ImagesPerSecond)
	})
	return sorted[(len(sorted)-1)/2]
}

// printThreadRatios prints what the threads table says of one model: how
// much of the machine's capacity n threads reach, their speed-up over one,
// and vaelab's speed against PyTorch's (PyTorch's in parentheses). Each is
// the median of the rounds' own ratios, which cancel the machine's drift
// between rounds, followed by those ratios.
func printThreadRatios(w io.Writer, model string, n int, rounds map[setup][]sample) {
	line := func(what, value string) { fmt.Fprintf(w, "  %-5s %-44s %s\n", model+":", what, value) }
	show := func(format string, scale float64, a, b setup) (string, bool) {
		r := pairedRatios(rounds, a, b)
		if len(r) == 0 {
			return "", false
		}
		each := make([]string, len(r))
		for i, v := range r {
			each[i] = fmt.Sprintf(format, scale*v)
		}
		return fmt.Sprintf(format+" (%s)", scale*median(r), strings.Join(each, ", ")), true
	}
	both := func(format string, scale float64, a, b setup) string {
		out, ok := show(format, scale, a, b)
		if !ok {
			return "-"
		}
		a.impl, b.impl = "pytorch", "pytorch"
		if p, ok := show(format, scale, a, b); ok {
			out += "  (PyTorch: " + p + ")"
		}
		return out
	}
	if n > 1 {
		line(fmt.Sprintf("vaelab %d threads / capacity of %d copies", n, n), both("%.1f %%", 100, setup{"vaelab", n, 1}, setup{"vaelab", 1, n}))
		line(fmt.Sprintf("vaelab %d threads / 1 thread", n), both("%.2fx", 1, setup{"vaelab", n, 1}, setup{"vaelab", 1, 1}))
	}
	for _, threads := range slices.Compact([]int{1, n}) {
		if v, ok := show("%.2fx", 1, setup{"vaelab", threads, 1}, setup{"pytorch", threads, 1}); ok {
			line(fmt.Sprintf("vaelab / PyTorch at %d %s", threads, plural(threads, "thread")), v)
		}
	}
}

// pairedRatios are a's images/s over b's in each round that measured both,
// in round order.
func pairedRatios(rounds map[setup][]sample, a, b setup) []float64 {
	of := map[int]float64{}
	for _, s := range rounds[b] {
		of[s.round] = s.row.ImagesPerSecond
	}
	var r []float64
	for _, s := range rounds[a] {
		if d, ok := of[s.round]; ok && d > 0 {
			r = append(r, s.row.ImagesPerSecond/d)
		}
	}
	return r
}

// median is the middle value (the lower middle one for an even count), as
// medianSample's.
func median(v []float64) float64 {
	sorted := slices.Sorted(slices.Values(v))
	return sorted[(len(sorted)-1)/2]
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// printTorchNotes says why PyTorch has no figures, when it has none.
func printTorchNotes(w io.Writer, python string, results map[string]modelResult) {
	if python == "" {
		fmt.Fprintln(w, "  pytorch: skipped (--python \"\")")
		return
	}
	for _, model := range []string{"mlp", "conv"} {
		if err := results[model].torchErr; err != nil {
			fmt.Fprintf(w, "  pytorch, %s: not measured: %v\n", model, err)
		}
	}
}
