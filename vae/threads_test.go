package vae

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/internal/blaslib"
)

// withThreads sets the process's BLAS up with n threads for the rest of the
// test, as the CLI would with --threads n, and puts the tests' setup back
// after it.
func withThreads(t testing.TB, n int) blaslib.Info {
	t.Helper()
	info := setThreads(t, n)
	t.Cleanup(func() {
		threads, _ := strconv.Atoi(os.Getenv("VAELAB_THREADS"))
		setThreads(t, threads)
	})
	return info
}

// setThreads sets the process's BLAS up with n threads.
func setThreads(t testing.TB, n int) blaslib.Info {
	t.Helper()
	info, err := blaslib.Setup(blaslib.Options{Choice: os.Getenv("VAELAB_BLAS"), Threads: n})
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// BenchmarkConvThreadsInterleaved times the conv model's step (BenchModels)
// at one thread and at as many as there are usable cores, in turn, step
// after step in one process: both then see the same machine, where separate
// runs minutes apart see its speed drift. speedup is the ratio of their
// total times; each count's images/s is reported too.
//
//	go test ./vae -run XXX -bench ConvThreadsInterleaved -benchtime 20x
func BenchmarkConvThreadsInterleaved(b *testing.B) {
	n := withThreads(b, 1).Cores
	if n < 2 {
		b.Skip("one usable core: nothing to interleave")
	}
	_, bm := BenchModels()
	_, step, err := benchStepper(bm.Config, bm.Shape, bm.Batch)
	if err != nil {
		b.Fatal(err)
	}
	timed := func(threads int) time.Duration {
		b.StopTimer() // a setup checks the kernels: not part of a step
		setThreads(b, threads)
		b.StartTimer()
		start := time.Now()
		if err := step(); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	timed(1) // warm-up at each count: buffers, packing space, the team's workers
	timed(n)
	b.ResetTimer()
	var one, all time.Duration
	for range b.N {
		one += timed(1)
		all += timed(n)
	}
	images := float64(bm.Batch * b.N)
	b.ReportMetric(one.Seconds()/all.Seconds(), "speedup")
	b.ReportMetric(images/one.Seconds(), "images/s@1")
	b.ReportMetric(images/all.Seconds(), fmt.Sprintf("images/s@%d", n))
}

// TestTrainingBitsPerThreadCount trains a conv VAE and an MLP large enough
// that every parallel path splits (products past the threshold, batches of
// several images) twice at each thread count: the same seed, BLAS core and
// thread count must give the same bits. Where vaelab's own kernels carry the
// products, the bits do not depend on the thread count either (every sum
// keeps its order); with the library's products they may differ in the last
// bits, as the README says, and the test only reports it.
func TestTrainingBitsPerThreadCount(t *testing.T) {
	im, _, err := data.Synthetic(192, 32, 11)
	if err != nil {
		t.Fatal(err)
	}
	idxTrain, idxTest := data.BlockSplit(im.N, 32)
	train, test := im.Subset(idxTrain), im.Subset(idxTest)
	conv := smallSetup(3)
	conv.Model = ModelConfig{Architecture: "conv", Channels: []int{16, 32}, Kernel: 4, Stride: 2, Decoder: "transpose", Norm: "none",
		Latent: 8, Activation: "relu", Likelihood: "bernoulli"}
	conv.Train.Epochs, conv.Train.BatchSize = 1, 32
	mlp := smallSetup(3)
	mlp.Model.Hidden = []int{1024} // 64×1024×1024 products: split between 2 and 3 threads
	mlp.Train.Epochs, mlp.Train.BatchSize = 1, 64
	for _, s := range []struct {
		name  string
		setup Setup
	}{{"conv", conv}, {"mlp", mlp}} {
		t.Run(s.name, func(t *testing.T) {
			var first *recording
			for _, threads := range []int{1, 2, 3} {
				info := withThreads(t, threads)
				a, b := trainRecording(t, s.setup, train, test), trainRecording(t, s.setup, train, test)
				if !sameMetrics(a.steps, b.steps) || !sameMetrics(a.epochs, b.epochs) {
					t.Fatalf("%d threads: two runs with the same seed recorded different metrics", threads)
				}
				if first == nil {
					first = a
					continue
				}
				same := sameMetrics(a.steps, first.steps) && sameMetrics(a.epochs, first.epochs)
				switch {
				case same:
				case strings.HasPrefix(info.Products, "vaelab "):
					t.Errorf("%d threads: other bits than 1 thread, though vaelab's own kernels (%s) ran", threads, info.Products)
				default:
					t.Logf("%d threads differ from 1 thread in the last bits (float32 products: %s)", threads, info.Products)
				}
			}
		})
	}
}

func trainRecording(t *testing.T, s Setup, train, test data.Images) *recording {
	t.Helper()
	rec := &recording{}
	if _, _, err := Train(context.Background(), s, train, test, rec); err != nil {
		t.Fatal(err)
	}
	return rec
}
