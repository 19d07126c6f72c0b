package bench

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vaelab/vaelab/internal/fault"
	"github.com/vaelab/vaelab/internal/testenv"
)

// fakeChildEnv makes the test binary a fake bench child (see fakeChild):
// "honour" runs with the VAELAB_THREADS it is given, "ignore" with 1.
const fakeChildEnv = "VAELAB_BENCH_FAKE_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeChildEnv); mode != "" {
		os.Exit(fakeChild(mode, os.Args[1:]))
	}
	testenv.SetupBLAS()
	os.Exit(m.Run())
}

// fakeChild prints the row of a child measurement (args[0]) at once: 100
// images/s and 10 GFLOP/s per thread, 50 GFLOP/s of SGEMM peak.
func fakeChild(mode string, args []string) int {
	threads := 1
	if mode == "honour" {
		threads, _ = strconv.Atoi(os.Getenv(threadsEnv))
	}
	now := time.Now()
	row := Row{Impl: "vaelab", Model: args[0], Batch: 10, Steps: 1, Threads: threads, BLAS: "fake BLAS",
		ImagesPerSecond: 100 * float64(threads), GFLOPS: 10 * float64(threads), Seconds: 0.1, Start: now.Add(-100 * time.Millisecond), End: now}
	if args[0] == childSGEMM {
		row.Impl, row.GFLOPS = "fake kernel", 50
	}
	if err := json.NewEncoder(os.Stdout).Encode(row); err != nil {
		return 1
	}
	return 0
}

// fakeOptions start the test binary as a fake child with mode.
func fakeOptions(t *testing.T, mode string) Options {
	t.Setenv(fakeChildEnv, mode)
	return Options{Rounds: 1, MLPSteps: 1, ConvSteps: 1, Executable: os.Args[0],
		ChildArgs: func(what string) []string { return []string{what} }}
}

func TestTwicePeer(t *testing.T) {
	for _, tc := range []struct {
		theirs, peak float64
		want         string
	}{
		{42.5, 85, "conv: 2x PyTorch is 85.0 GFLOP/s, 100 % of the SGEMM peak (PyTorch runs at 50 % of it)"},
		{20, 200, "conv: 2x PyTorch is 40.0 GFLOP/s, 20 % of the SGEMM peak (PyTorch runs at 10 % of it)"},
		{20, 0, "conv: 2x PyTorch is 40.0 GFLOP/s (no SGEMM peak measured)"},
	} {
		if got := twicePeer("conv", tc.theirs, tc.peak); got != tc.want {
			t.Errorf("twicePeer(conv, %v, %v) = %q, want %q", tc.theirs, tc.peak, got, tc.want)
		}
	}
}

func TestMedianRound(t *testing.T) {
	rows := func(speeds ...float64) []Row {
		var out []Row
		for i, s := range speeds {
			out = append(out, Row{ImagesPerSecond: s, PeakMB: float64(10 * (i + 1))})
		}
		return out
	}
	for _, tc := range []struct {
		speeds    []float64
		want, mem float64
	}{
		{[]float64{5}, 5, 10},
		{[]float64{3, 1, 2}, 2, 30},
		{[]float64{4, 1, 3, 2}, 2, 40}, // the lower middle
	} {
		got := medianRound(rows(tc.speeds...))
		if got.ImagesPerSecond != tc.want || got.PeakMB != tc.mem {
			t.Errorf("medianRound(%v) = %v images/s, %v MB; want %v, %v", tc.speeds, got.ImagesPerSecond, got.PeakMB, tc.want, tc.mem)
		}
	}
}

// The eval section's descriptor line measures the Go network (with its
// weights) and says why when it cannot: no weights, no PyTorch.
func TestBenchDescriptors(t *testing.T) {
	var out strings.Builder
	if err := descriptors(context.Background(), &out, "", testenv.DlibWeights(t), 1); err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`(?m)^\s+vaelab\s+([0-9.]+)\s+([0-9.]+)$`).FindStringSubmatch(out.String())
	if row == nil || row[1] == "0.0" || !strings.Contains(out.String(), "pytorch: skipped") {
		t.Errorf("no measured vaelab row or no word on PyTorch:\n%s", out.String())
	}
	out.Reset()
	if err := descriptors(context.Background(), &out, "", t.TempDir(), 1); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "not measured") || !strings.Contains(out.String(), "vaelab data fetch dlib-face") {
		t.Errorf("without weights:\n%s", out.String())
	}
}

func TestCheckOptions(t *testing.T) {
	if err := (Options{Rounds: 1, Sections: []string{"threads", "sweep"}}).Check(); err != nil {
		t.Errorf("threads and sweep: %v", err)
	}
	if err := (Options{Rounds: 1, Settle: -time.Second}).Check(); err == nil || !fault.IsUser(err) || !strings.Contains(err.Error(), "--settle") {
		t.Errorf("a negative settle: %v, want a user error naming --settle", err)
	}
	if err := (Options{Rounds: 1, Sections: []string{"thread"}}).Check(); err == nil || !fault.IsUser(err) {
		t.Errorf("an unknown section: %v, want the user's error", err)
	}
	if !strings.Contains(strings.Join(Sections(), " "), "train threads sweep") {
		t.Errorf("default sections %v: threads should run after train", Sections())
	}
}

func TestParseTorchLine(t *testing.T) {
	r, err := parseTorchLine("pytorch 1.13.0a0       conv     64     3      132.8    43.24            -       376   2 1765000000.250000 1765000002.750000")
	if err != nil {
		t.Fatal(err)
	}
	want := Row{Impl: "pytorch 1.13.0a0", Model: "conv", Batch: 64, Steps: 3, ImagesPerSecond: 132.8, GFLOPS: 43.24, AllocsPerStep: -1, PeakMB: 376, Threads: 2, Seconds: 2.5}
	got := r
	got.Start, got.End = time.Time{}, time.Time{}
	if got != want || r.Start.UnixMilli() != 1765000000250 || r.End.Sub(r.Start) != 2500*time.Millisecond {
		t.Errorf("parsed %+v, want %+v from 1765000000.25 to .75+2", r, want)
	}
	for _, bad := range []string{
		"pytorch 1.13.0a0 conv 64 3 132.8 43.24 - 376", // the line before threads
		"pytorch 1.13.0a0 conv 64 3 132.8 43.24 - 376 two 1765000000.25 1765000002.75",
		"pytorch 1.13.0a0 conv 64 3 fast 43.24 - 376 2 1765000000.25 1765000002.75",
		"Traceback (most recent call last): a b c d e f g h i j",
	} {
		if _, err := parseTorchLine(bad); err == nil {
			t.Errorf("parseTorchLine(%q) accepted", bad)
		}
	}
}

// The PyTorch peer is built into the binary: it runs from a directory far
// from the repository, and its line is read.
func TestPeerRunsFromAnyDirectory(t *testing.T) {
	testenv.Full(t, "the PyTorch peer run from outside the repository, 3 s")
	const python = "/usr/bin/python3"
	if out, err := exec.Command(python, "-c", "import torch").CombinedOutput(); err != nil {
		if testenv.InCI() {
			t.Fatalf("%s has no torch (.ci/run installs python3-torch): %v: %s", python, err, out)
		}
		t.Skipf("%s has no torch (Debian: apt-get install python3-torch): %v", python, err)
	}
	// A module of the working directory's that would shadow argparse must
	// not be imported: the peer runs from a folder of its own.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "argparse.py"), []byte("raise SystemExit('the working directory was on the path')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	r, err := torchRow(context.Background(), python, "mlp", 2, 1, time.Time{}, 0)
	if err != nil || !strings.HasPrefix(r.Impl, "pytorch ") || r.Model != "mlp" || r.Steps != 2 || r.Threads != 1 || !(r.ImagesPerSecond > 0) {
		t.Fatalf("PyTorch peer: %+v, %v", r, err)
	}
	if _, err := runPeer(context.Background(), "/bin/false", "torch_vae.py"); err == nil || !strings.Contains(err.Error(), "bench/torch_vae.py") {
		t.Errorf("a failing peer: %v, want an error naming bench/torch_vae.py", err)
	}
}

// A child that does not run with the threads asked is refused, naming both
// counts: a table would otherwise label one thread's figures with two.
func TestChildThreadsRefused(t *testing.T) {
	opt := fakeOptions(t, "ignore")
	if r, err := opt.measure(context.Background(), "conv", 1); err != nil || r.Threads != 1 || r.Model != "conv" {
		t.Fatalf("at 1 thread: %+v, %v", r, err)
	}
	_, err := opt.measure(context.Background(), "conv", 2)
	if err == nil || !strings.Contains(err.Error(), "ran with 1 thread(s), not the 2 asked by VAELAB_THREADS=2") {
		t.Errorf("a child at 1 thread when 2 were asked: %v", err)
	}
	if err := threadsBench(context.Background(), &strings.Builder{}, opt, 2); err == nil || !strings.Contains(err.Error(), "not the 2 asked") {
		t.Errorf("the threads section with such a child: %v", err)
	}
	opt = fakeOptions(t, "honour")
	if r, err := opt.measure(context.Background(), "conv", 2); err != nil || r.Threads != 2 {
		t.Errorf("a child that honours VAELAB_THREADS=2: %+v, %v", r, err)
	}
}

// With children that run as asked, the threads table has a row per setup
// and its ratios follow from the rows (the fake's 100 images/s per thread).
func TestThreadsSectionTable(t *testing.T) {
	var out strings.Builder
	if err := threadsBench(context.Background(), &out, fakeOptions(t, "honour"), 2); err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{
		`(?m)^\s+vaelab\s+conv\s+1\s+100\.0\s+10\.00\s+-$`,
		`(?m)^\s+vaelab\s+conv\s+2\s+200\.0\s+20\.00\s+-$`,
		`(?m)^\s+vaelab\s+mlp\s+2×1\s+200\.0\s+20\.00\s+\d+ %$`,
		`(?m)^  pytorch: skipped \(--python ""\)$`,
		`(?m)^  conv: vaelab 2 threads / capacity of 2 copies\s+100\.0 % \(100\.0 %\)$`,
		`(?m)^  mlp:  vaelab 2 threads / 1 thread\s+2\.00x \(2\.00x\)$`,
		`N = 2 usable cores`,
	} {
		if !regexp.MustCompile(re).MatchString(out.String()) {
			t.Errorf("no match for %s in:\n%s", re, out.String())
		}
	}
	if strings.Contains(out.String(), "vaelab / PyTorch") {
		t.Errorf("a ratio to PyTorch without PyTorch:\n%s", out.String())
	}
	out.Reset()
	if err := threadsBench(context.Background(), &out, fakeOptions(t, "honour"), 1); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "measured at 1 thread only") || strings.Contains(out.String(), "×") {
		t.Errorf("with one core:\n%s", out.String())
	}
}

// The train table gives vaelab's GFLOP/s as a share of the SGEMM peak the
// sgemm child measured (the fake's 10 of 50) and the threads each used.
func TestTrainShareOfPeak(t *testing.T) {
	var out strings.Builder
	if err := train(context.Background(), &out, fakeOptions(t, "honour")); err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{
		`(?m)^\s*vaelab\s+conv\s+10\s+1\s+100\.0\s+10\.00\s+0\s+\d+\s+20 %$`,
		`(?m)^SGEMM peak: 50\.0 GFLOP/s at 1 thread \(.*\); kernels: fake kernel$`,
		`(?m)^training steps: float32, 1 thread per process .*vaelab BLAS: fake BLAS$`,
	} {
		if !regexp.MustCompile(re).MatchString(out.String()) {
			t.Errorf("no match for %s in:\n%s", re, out.String())
		}
	}
}

func TestChildRefusesUnknown(t *testing.T) {
	if err := Child(&strings.Builder{}, "resnet", 1, 1); err == nil || !fault.IsUser(err) {
		t.Errorf("Child(resnet) = %v, want the user's error", err)
	}
}

func TestSideBySide(t *testing.T) {
	rows, err := sideBySide(context.Background(), 3, func(context.Context) (Row, error) { return Row{Threads: 1}, nil })
	if err != nil || len(rows) != 3 || rows[2].Threads != 1 {
		t.Errorf("3 copies: %+v, %v", rows, err)
	}
	boom := errors.New("boom")
	if _, err := sideBySide(context.Background(), 2, func(ctx context.Context) (Row, error) { return Row{}, boom }); !errors.Is(err, boom) {
		t.Errorf("failing copies: %v, want %v", err, boom)
	}
}

func TestCapacityArithmetic(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(start, end float64) Row {
		return Row{ImagesPerSecond: 10, GFLOPS: 1, PeakMB: end, Start: t0.Add(seconds(start)), End: t0.Add(seconds(end))}
	}
	rows := []Row{at(0, 4), at(1, 5)}
	if c := combined(rows); c.ImagesPerSecond != 20 || c.GFLOPS != 2 || c.PeakMB != 5 {
		t.Errorf("combined = %+v, want 20 images/s, 2 GFLOP/s, 5 MB", c)
	}
	if s := span(rows); s != 5*time.Second {
		t.Errorf("span = %v, want 5s", s)
	}
	for _, c := range []struct {
		rows []Row
		want float64
	}{
		{rows, 3.0 / 5},                // together from 1 to 4, of 0 to 5
		{[]Row{at(0, 2), at(3, 5)}, 0}, // one after the other
		{[]Row{at(0, 2), at(0, 2)}, 1},
		{[]Row{at(0, 2)}, 1},
	} {
		if got := overlap(c.rows); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("overlap = %v, want %v", got, c.want)
		}
	}
	if c := capacity(2, 3*time.Second, 4*time.Second); c != 1.5 {
		t.Errorf("capacity(2, 3s alone, 4s side by side) = %v, want 1.5", c)
	}
	if s := speedUp(12*time.Second, 8*time.Second); s != 1.5 {
		t.Errorf("speedUp(12s, 8s) = %v, want 1.5", s)
	}
	if p := percent(1.5, 2); p != 75 {
		t.Errorf("percent(1.5, 2) = %v, want 75", p)
	}
}

// TestPairedRatios: a ratio is taken within each round, so a machine that
// slows down between rounds leaves it alone (a ratio of the setups' medians
// would mix rounds: here 160/200 = 80 %, not 90 %), and a round that lacks
// one of the two setups gives no ratio.
func TestPairedRatios(t *testing.T) {
	threads, copies := setup{"vaelab", 2, 1}, setup{"vaelab", 1, 2}
	at := func(round int, v float64) sample { return sample{row: Row{ImagesPerSecond: v}, round: round} }
	rounds := map[setup][]sample{
		threads: {at(0, 180), at(1, 135), at(2, 160)},
		copies:  {at(0, 200), at(1, 150), at(3, 100)},
	}
	got := pairedRatios(rounds, threads, copies)
	if len(got) != 2 || got[0] != 0.9 || got[1] != 0.9 {
		t.Errorf("pairedRatios = %v, want [0.9 0.9]", got)
	}
	if m := median([]float64{0.9, 0.7, 0.8, 1.0}); m != 0.8 {
		t.Errorf("median = %v, want the lower middle 0.8", m)
	}
	var out strings.Builder
	printThreadRatios(&out, "conv", 2, rounds)
	if !strings.Contains(out.String(), "90.0 % (90.0 %, 90.0 %)") {
		t.Errorf("printed:\n%s", out.String())
	}
}

func TestSetups(t *testing.T) {
	if s := setups(1); len(s) != 2 || s[0] != (setup{"vaelab", 1, 1}) || s[1] != (setup{"pytorch", 1, 1}) {
		t.Errorf("setups(1) = %v, want vaelab and PyTorch at 1 thread only", s)
	}
	s := setups(4)
	if len(s) != 6 || s[4] != (setup{"vaelab", 1, 4}) || s[4].label() != "4×1" || s[2].label() != "4" {
		t.Errorf("setups(4) = %v", s)
	}
	r := inRound(4)
	if len(r) != len(s) || r[1] != (setup{"vaelab", 1, 1}) || r[2] != (setup{"vaelab", 4, 1}) || r[3] != (setup{"vaelab", 1, 4}) {
		t.Errorf("inRound(4) = %v: vaelab's three setups are not one after another", r)
	}
	for _, x := range s {
		if !slices.Contains(r, x) {
			t.Errorf("inRound(4) leaves out %v", x)
		}
	}
}
