// Package threads decides how many threads one training run uses, from the
// threads setting (auto or a number), and measures what threads buy here.
//
// The setting is auto or a positive integer. A number is used as it is.
// Auto divides the machine's effective cores among the runs trained at once:
//
//	N = max(1, effective / workers)
//
// where effective is how many cores' worth of floating-point work the
// machine does side by side: the U usable cores (runtime.GOMAXPROCS, which
// follows CPU affinity and a cgroup's quota), or fewer where more threads do
// not pay. Some VMs report 2 cores whose two vCPUs share one core's
// floating-point units; counting them as 2 would run two threads at the
// speed of one and add their overhead. So the machine's parallel capacity is
// measured: U one-thread copies of a float32 matrix product (192×192×192
// with vaelab's own kernel, each copy on its own OS thread, started
// together) run side by side, and their total throughput is divided by that
// of one copy alone, best of 3 windows of 60 ms each. Effective cores are
// the capacity rounded, between 1 and U: a capacity of 1.0 of 2 copies gives
// 1, 1.9 gives 2.
//
// The measurement (about 0.4 s) runs once per machine and is remembered in
// threads.json in a folder the caller names, keyed by what it depends on:
// the CPU model, the usable cores and the kernel in use. A capacity that
// gives fewer effective cores than usable is remembered for a minute only:
// it may have been measured while another process kept a core busy, and
// auto then measures again at its next start rather than keep the machine
// on fewer threads for good. A file that is
// corrupt, foreign or unwritable is measured around, never an error; deleting
// it measures again. Processes started together measure one at a time
// (threads.json.lock), the others reading the result. Only auto measures,
// and only when the capacity can change N: when usable / workers is at
// least 2. A number never costs a measurement.
package threads

import (
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Auto is the setting's default: N by the rule in the package doc.
const Auto = "auto"

// Decision is how many threads one run uses, and why.
type Decision struct {
	N        int     // threads per run, at least 1
	Setting  string  // the setting: "auto" or the number
	Rule     string  // one line saying why N, e.g. "auto: 2 usable cores / 1 worker; ..."
	Capacity float64 // the measured parallel capacity of Usable copies; 0 if not measured
	Usable   int     // usable cores (GOMAXPROCS)
	Workers  int     // runs trained at once
}

// String is N and its rule, as vaelab doctor prints them.
func (d Decision) String() string { return fmt.Sprintf("%d (%s)", d.N, d.Rule) }

// Parse checks a threads setting: it returns the number of threads it sets,
// or 0 for auto.
func Parse(setting string) (int, error) {
	s := strings.ToLower(strings.TrimSpace(setting))
	if s == Auto {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("threads: %q is neither auto nor a positive integer: set --threads (VAELAB_THREADS, threads: in the settings file) to auto or to a number of threads such as 2", setting)
	}
	return n, nil
}

// Resolve decides the threads of one run from setting, for workers runs
// trained at once. It measures the machine's parallel capacity only for
// auto, when the capacity can change N and dir does not remember it yet
// ("" remembers nothing). Its error is the user's: a setting to fix.
func Resolve(setting string, workers int, dir string) (Decision, error) {
	return thisMachine(dir).resolve(setting, workers)
}

// machine is what a decision depends on; tests build their own.
type machine struct {
	usable   int
	memory   memory
	measure  func(copies int) float64 // the parallel capacity of copies side by side
	identity key
	now      func() time.Time
}

func thisMachine(dir string) machine {
	usable := runtime.GOMAXPROCS(0)
	return machine{usable: usable, memory: memory{dir: dir}, measure: measureCapacity, identity: currentKey(usable), now: time.Now}
}

func (m machine) resolve(setting string, workers int) (Decision, error) {
	n, err := Parse(setting)
	if err != nil {
		return Decision{}, err
	}
	d := Decision{N: n, Setting: Auto, Usable: m.usable, Workers: max(workers, 1)}
	if n > 0 {
		d.Setting = strconv.Itoa(n)
	}
	// With fewer than 2 usable cores per worker, auto gives 1 whatever the capacity.
	if n == 0 && d.Usable/d.Workers >= 2 {
		d.Capacity = m.capacity()
	}
	d.Rule = "set by the threads setting"
	if n == 0 {
		d.N = max(1, effective(d.Capacity, d.Usable)/d.Workers)
		d.Rule = fmt.Sprintf("auto: %s / %s", plural(d.Usable, "usable core"), plural(d.Workers, "worker"))
	}
	if d.Capacity > 0 {
		d.Rule += fmt.Sprintf("; measured parallel capacity %.2f of %s", d.Capacity, plural(d.Usable, "copy"))
	}
	return d, nil
}

// effective is how many cores pay: the capacity rounded, between 1 and
// usable; usable itself when the capacity was not measured (0).
func effective(capacity float64, usable int) int {
	if capacity <= 0 {
		return usable
	}
	return min(max(1, int(math.Round(capacity))), usable)
}

// capacity recalls the machine's parallel capacity, or measures and
// remembers it. Processes started together (workers a scheduler starts)
// measure one at a time, the others waiting to read the result: measured
// side by side, they would time each other.
func (m machine) capacity() float64 {
	if c, ok := m.memory.recall(m.identity, m.now()); ok {
		return c
	}
	defer m.memory.lock()()
	if c, ok := m.memory.recall(m.identity, m.now()); ok {
		return c
	}
	c := m.measure(m.usable)
	m.memory.remember(m.identity, c, m.now())
	return c
}

func plural(n int, noun string) string {
	switch {
	case n == 1:
		return "1 " + noun
	case strings.HasSuffix(noun, "y"):
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
