package threads

import (
	"bufio"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/vaelab/vaelab/internal/atomicfile"
	"github.com/vaelab/vaelab/internal/safefile"
	"github.com/vaelab/vaelab/internal/sgemm"
)

// FileName is the file, in the folder given to Resolve, that remembers
// measurements.
const FileName = "threads.json"

// maxEntries bounds the file: a home folder shared by a cluster's nodes
// remembers each kind of node, not every node ever seen.
const maxEntries = 32

// key is what a measurement depends on.
type key struct {
	CPU    string `json:"cpu"`    // /proc/cpuinfo's model name
	Usable int    `json:"usable"` // the copies measured side by side
	Kernel string `json:"kernel"` // sgemm.Kernel()
	Method int    `json:"method"` // how it was measured (method)
}

// method numbers the way measureCapacity measures; a measurement remembered
// from another way (none before 2, which gives the copies a spare P) is
// measured again.
const method = 2

// entry is one remembered measurement.
type entry struct {
	key
	Capacity float64   `json:"capacity"`
	Measured time.Time `json:"measured"`
}

// record is the file's content.
type record struct {
	Measurements []entry `json:"measurements"`
}

// memory is the file of measurements in dir; with no dir it remembers
// nothing.
type memory struct{ dir string }

func (m memory) path() string { return filepath.Join(m.dir, FileName) }

// recall returns the capacity remembered for k at now. A missing,
// unreadable, corrupt or foreign file, an implausible value, or a low one
// not measured recently, is no memory.
func (m memory) recall(k key, now time.Time) (float64, bool) {
	for _, e := range m.read().Measurements {
		if e.key == k && plausible(e.Capacity, k.Usable) && (!low(e.Capacity, k.Usable) || recent(e.Measured, now)) {
			return e.Capacity, true
		}
	}
	return 0, false
}

// lowKeptFor is how long a low capacity (low) is remembered: long enough
// for processes started together to share one measurement, short enough
// that a busy moment does not decide the runs of the days after it.
const lowKeptFor = time.Minute

// recent reports a measurement taken at most lowKeptFor before now; one
// dated after now (a clock set back, a file from another machine) is not.
func recent(measured, now time.Time) bool {
	age := now.Sub(measured)
	return age >= 0 && age < lowKeptFor
}

// low reports a capacity that gives fewer effective cores than usable. It
// may be the machine (vCPUs that share one core's floating-point units) or
// a moment when another process kept a core busy: with a busy loop on one of
// the AMD EPYC's 2 cores the measurement gave 1.37, quiet 1.74-2.01.
func low(capacity float64, usable int) bool { return effective(capacity, usable) < usable }

// remember stores capacity for k, measured at now, beside the other keys'
// measurements. Failing to write only means measuring again next time.
func (m memory) remember(k key, capacity float64, now time.Time) {
	if m.dir == "" || os.MkdirAll(m.dir, 0o755) != nil {
		return
	}
	kept := []entry{{key: k, Capacity: capacity, Measured: now.UTC().Truncate(time.Second)}}
	for _, e := range m.read().Measurements {
		if e.key != k && len(kept) < maxEntries {
			kept = append(kept, e)
		}
	}
	_, _, _ = atomicfile.Write(m.path(), 0o644, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(record{Measurements: kept})
	})
}

// lock holds the measurement's lock in dir until unlock; with no dir there
// is nothing to share.
func (m memory) lock() (unlock func()) {
	if m.dir == "" || os.MkdirAll(m.dir, 0o755) != nil {
		return func() {}
	}
	return lock(m.path() + ".lock")
}

func (m memory) read() record {
	var r record
	if m.dir == "" {
		return r
	}
	b, err := safefile.Read(m.path(), safefile.MaxSmall)
	if err != nil || json.Unmarshal(b, &r) != nil {
		return record{}
	}
	return r
}

// plausible is a capacity U copies can have: more than a tenth of one copy,
// at most U and a half.
func plausible(capacity float64, usable int) bool {
	return !math.IsNaN(capacity) && capacity > 0.1 && capacity <= float64(usable)+0.5
}

// currentKey is this process's key: its CPU model, usable cores and kernel.
func currentKey(usable int) key {
	return key{CPU: cpuModel(), Usable: usable, Kernel: sgemm.Kernel(), Method: method}
}

// cpuModel is the first "model name" of /proc/cpuinfo, or the architecture
// where there is none (another OS, or an ARM CPU that names no model).
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			name, value, ok := strings.Cut(sc.Text(), ":")
			if ok && strings.TrimSpace(name) == "model name" {
				return strings.TrimSpace(value)
			}
		}
	}
	return "unknown " + runtime.GOARCH
}
