package threads

import (
	"runtime"
	"sync"
	"time"

	"github.com/vaelab/vaelab/internal/sgemm"
)

// The measurement's kernel and timing: a product big enough to be bound by
// floating-point work, not memory, and small enough to fit each core's
// cache; windows long enough for many products with the compiled kernels.
const (
	side   = 192
	window = 60 * time.Millisecond
	rounds = 3 // best of: another process's burst lowers one window, not all
)

// measureCapacity is the total throughput of copies one-thread products run
// side by side over the throughput of one alone, each the best of rounds
// windows, alternating so that a slow spell touches both.
func measureCapacity(copies int) float64 {
	// The copies run as training's threads do, with one P beyond them (the
	// spare P of package blaslib's setup): with every P in a C call, the
	// runtime's handoffs take a core from the copies (a 2-core Xeon measured
	// 1.4-1.8 without it).
	prev := runtime.GOMAXPROCS(max(runtime.GOMAXPROCS(0), copies+1))
	defer runtime.GOMAXPROCS(prev)
	var one, all float64
	for range rounds {
		one = max(one, throughput(1))
		all = max(all, throughput(copies))
	}
	return all / one
}

// throughput runs copies of the product, each on its own OS thread, started
// together, for a window, and returns their summed products per second.
func throughput(copies int) float64 {
	rates := make([]float64, copies)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(copies)
	for i := range copies {
		done.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			p := newProduct()
			p.run() // the first touches its pages outside the window
			ready.Done()
			<-start
			t0 := time.Now()
			n := 0
			for time.Since(t0) < window {
				p.run()
				n++
			}
			rates[i] = float64(n) / time.Since(t0).Seconds()
		})
	}
	ready.Wait()
	close(start)
	done.Wait()
	var sum float64
	for _, r := range rates {
		sum += r
	}
	return sum
}

// product is one copy's matrices.
type product struct{ a, b, c []float32 }

func newProduct() product {
	p := product{a: make([]float32, side*side), b: make([]float32, side*side), c: make([]float32, side*side)}
	for i := range p.a {
		p.a[i] = float32(i%7) / 7 // values that neither overflow nor denormalise
		p.b[i] = float32(i%5) / 5
	}
	return p
}

func (p product) run() {
	sgemm.Gemm(false, false, side, side, side, 1, p.a, side, p.b, side, 0, p.c, side, 1)
}
