// Package team runs the parallel parts of a training step on a fixed set of
// worker goroutines that wait for the next part by spinning briefly, then sleep.
//
// A conv step opens about a hundred parallel regions of 0.1-5 ms each. A
// goroutine started per region, or a sleeping one woken, starts about
// 100 µs late on a VM whose idle vCPU halts (measured: 104 µs on average
// over 1,386 regions on the AMD EPYC Zen 3 under KVM), and the caller then
// waits for it at the end. Workers that spin for a while after each region
// take the next one at once; after spinFor without work they sleep, so an
// idle process costs nothing.
package team

import (
	"sync"
	"sync/atomic"
	"time"
)

// spinFor is how long a worker waits for the next region before it sleeps:
// longer than the serial stretches between a step's regions (tens to
// hundreds of microseconds), short enough that an idle process stops using
// the cores within a millisecond.
const spinFor = time.Millisecond

// Team is a caller and Size()-1 workers. Run is meant for one caller at a
// time; a concurrent or nested Run, or one that asks for more threads than
// Size, is served by goroutines started for it.
type Team struct {
	busy    sync.Mutex
	current atomic.Pointer[region]
	closed  atomic.Bool
	workers []*worker
}

type worker struct {
	asleep atomic.Bool
	wake   chan struct{} // one token: the worker is to look for a region
}

// region is one Run: jobs handed out in turn by next, done counted so the
// caller knows when all are finished.
type region struct {
	f          func(worker, job int)
	jobs       int64
	threads    int // workers numbered from threads on sit this one out
	next, done atomic.Int64
	finished   chan struct{} // closed by whoever finishes the last job
}

// New starts a team of size threads (the caller and size-1 workers); a
// size below 2 starts none, and Run then runs on the caller alone.
func New(size int) *Team {
	t := &Team{}
	for id := 1; id < size; id++ {
		w := &worker{wake: make(chan struct{}, 1)}
		t.workers = append(t.workers, w)
		go t.work(id, w)
	}
	return t
}

// Size is how many threads take part in a Run: the caller and the workers.
func (t *Team) Size() int {
	if t == nil {
		return 1
	}
	return len(t.workers) + 1
}

// Close stops the workers once they finish what they run; Run after Close
// uses goroutines of its own.
func (t *Team) Close() {
	if t == nil || t.closed.Swap(true) {
		return
	}
	for _, w := range t.workers {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// Run calls f(worker, job) for jobs 0..jobs-1 on up to threads threads, the
// calling goroutine among them (worker 0), each taking the next job when it
// is free, and returns when all are done. Worker numbers are below threads.
// A nil Team runs them on goroutines started for it.
func (t *Team) Run(threads, jobs int, f func(worker, job int)) {
	threads = min(threads, jobs)
	if threads <= 1 {
		for j := range jobs {
			f(0, j)
		}
		return
	}
	if t == nil || threads > t.Size() || t.closed.Load() || !t.busy.TryLock() {
		spawn(threads, jobs, f)
		return
	}
	defer t.busy.Unlock()
	r := &region{f: f, jobs: int64(jobs), threads: threads, finished: make(chan struct{})}
	t.current.Store(r)
	for _, w := range t.workers[:threads-1] {
		if w.asleep.CompareAndSwap(true, false) {
			select {
			case w.wake <- struct{}{}:
			default: // a token is there already (Close's)
			}
		}
	}
	r.take(0)
	r.wait()
}

// take runs jobs until none is left.
func (r *region) take(worker int) {
	for j := r.next.Add(1) - 1; j < r.jobs; j = r.next.Add(1) - 1 {
		r.f(worker, int(j))
		if r.done.Add(1) == r.jobs {
			close(r.finished)
		}
	}
}

// wait returns when every job is done: spinning first, since the others
// usually finish within microseconds of the caller.
func (r *region) wait() {
	start := time.Now()
	for i := 0; r.done.Load() < r.jobs; i++ {
		if i%256 == 255 && time.Since(start) > spinFor {
			<-r.finished
			return
		}
	}
}

// work is worker id's loop: take a part in each new region, spinning for
// spinFor between regions, then sleeping until woken.
func (t *Team) work(id int, w *worker) {
	var seen *region
	for !t.closed.Load() {
		r := t.await(w, seen)
		if r == nil {
			continue
		}
		seen = r
		if id < r.threads {
			r.take(id)
		}
	}
}

// await returns a region newer than seen, or nil after a sleep (the caller
// then looks again, or stops when the team is closed).
func (t *Team) await(w *worker, seen *region) *region {
	start := time.Now()
	for i := 0; ; i++ {
		if r := t.current.Load(); r != seen {
			return r
		}
		if i%256 == 255 {
			if t.closed.Load() {
				return nil
			}
			// No runtime.Gosched here: each one woke a thread of the
			// runtime (goschedImpl → wakep → startm, 0.10 of its 0.14 s in
			// a profile of 60 conv steps on 2 threads), which then took
			// time on the cores the step was using. Without them the conv
			// step on 2 threads ran 1-4 % faster on the 2-vCPU AMD EPYC
			// (Zen 5; 8 of 8 rounds of 25 alternating steps). The spin ends
			// within spinFor, and Go preempts a goroutine that runs long.
			if time.Since(start) > spinFor {
				break
			}
		}
	}
	w.asleep.Store(true)
	if r := t.current.Load(); r != seen || t.closed.Load() {
		// A region came (or Close) while falling asleep; if Run already
		// claimed the wake-up, its token must be taken.
		if !w.asleep.CompareAndSwap(true, false) {
			<-w.wake
		}
		return nil
	}
	<-w.wake
	return nil
}

// spawn is Run on goroutines started for it.
func spawn(threads, jobs int, f func(worker, job int)) {
	var next atomic.Int64
	work := func(worker int) {
		for j := int(next.Add(1)) - 1; j < jobs; j = int(next.Add(1)) - 1 {
			f(worker, j)
		}
	}
	var wg sync.WaitGroup
	for w := 1; w < threads; w++ {
		wg.Go(func() { work(w) })
	}
	work(0)
	wg.Wait()
}
