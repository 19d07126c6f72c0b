package team

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRunRunsEveryJobOnce: every job runs exactly once, on worker numbers
// below the threads asked for, whatever the team's size, the threads and
// the jobs; Run returns only after all of them.
func TestRunRunsEveryJobOnce(t *testing.T) {
	for _, size := range []int{1, 2, 3, 5} {
		tm := New(size)
		for _, threads := range []int{1, 2, 3, 8} {
			for _, jobs := range []int{0, 1, 2, 7, 100} {
				t.Run(fmt.Sprintf("size%d/threads%d/jobs%d", size, threads, jobs), func(t *testing.T) {
					for round := range 50 {
						counts := make([]atomic.Int32, jobs)
						var badWorker atomic.Int32
						tm.Run(threads, jobs, func(w, j int) {
							if w < 0 || w >= max(threads, 1) {
								badWorker.Store(int32(w) + 1)
							}
							counts[j].Add(1)
						})
						for j := range counts {
							if c := counts[j].Load(); c != 1 {
								t.Fatalf("round %d: job %d ran %d times", round, j, c)
							}
						}
						if w := badWorker.Load(); w != 0 {
							t.Fatalf("round %d: worker %d with %d threads", round, w-1, threads)
						}
					}
				})
			}
		}
		tm.Close()
	}
}

// TestRunUsesTheWorkers: with two threads and jobs that wait for each other,
// Run finishes only if a second thread really takes part, after the workers
// have fallen asleep too.
func TestRunUsesTheWorkers(t *testing.T) {
	tm := New(2)
	defer tm.Close()
	for _, pause := range []time.Duration{0, 3 * spinFor} {
		time.Sleep(pause) // past spinFor the worker sleeps and must be woken
		var arrived atomic.Int32
		done := make(chan struct{})
		go func() {
			tm.Run(2, 2, func(_, _ int) {
				arrived.Add(1)
				for arrived.Load() < 2 {
					runtime.Gosched()
				}
			})
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("after a pause of %v: the two jobs never ran side by side", pause)
		}
	}
}

// TestConcurrentAndNestedRuns: Runs from several goroutines at once, and a
// Run inside a job, all complete with every job run once.
func TestConcurrentAndNestedRuns(t *testing.T) {
	tm := New(3)
	defer tm.Close()
	var total atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				tm.Run(3, 6, func(_, _ int) {
					tm.Run(2, 3, func(_, _ int) { total.Add(1) })
				})
			}
		})
	}
	wg.Wait()
	if got, want := total.Load(), int64(4*100*6*3); got != want {
		t.Fatalf("%d jobs ran, want %d", got, want)
	}
}

// TestRunAfterClose still runs every job, on goroutines of its own.
func TestRunAfterClose(t *testing.T) {
	tm := New(2)
	tm.Close()
	tm.Close()
	var n atomic.Int32
	tm.Run(2, 10, func(_, _ int) { n.Add(1) })
	if n.Load() != 10 {
		t.Fatalf("%d of 10 jobs ran after Close", n.Load())
	}
}

// BenchmarkRegions times regions of about 100 µs of work on 2 threads with
// 30 µs of serial work between them, as a conv step's ops have: on the
// team's spinning workers and on goroutines started for each region.
func BenchmarkRegions(b *testing.B) {
	work := func(d time.Duration) {
		for start := time.Now(); time.Since(start) < d; {
		}
	}
	for _, s := range []struct {
		name string
		team *Team
	}{{"team", New(2)}, {"goroutines", nil}} {
		b.Run(s.name, func(b *testing.B) {
			for range b.N {
				s.team.Run(2, 4, func(_, _ int) { work(50 * time.Microsecond) })
				work(30 * time.Microsecond)
			}
		})
		s.team.Close()
	}
}
