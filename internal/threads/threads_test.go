package threads

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		setting string
		want    int
		ok      bool
	}{
		{"auto", 0, true},
		{" AUTO ", 0, true},
		{"1", 1, true},
		{"16", 16, true},
		{"0", 0, false},
		{"-2", 0, false},
		{"many", 0, false},
		{"2.5", 0, false},
		{"", 0, false},
		{"99999999999999999999", 0, false},
	} {
		n, err := Parse(tc.setting)
		if (err == nil) != tc.ok || n != tc.want {
			t.Errorf("Parse(%q) = %d, %v; want %d, ok %v", tc.setting, n, err, tc.want, tc.ok)
		}
		if err != nil && (!strings.HasPrefix(err.Error(), "threads: ") || !strings.Contains(err.Error(), "auto or to a number")) {
			t.Errorf("Parse(%q): the error names neither the setting nor what to write: %v", tc.setting, err)
		}
	}
}

// fake is a machine whose measurement returns capacity and counts its calls.
func fake(usable int, capacity float64, dir string, calls *int) machine {
	return machine{usable: usable, memory: memory{dir: dir}, identity: key{CPU: "test CPU", Usable: usable, Kernel: "test"}, now: time.Now,
		measure: func(copies int) float64 {
			*calls++
			if copies != usable {
				panic("measured other than the usable cores")
			}
			return capacity
		}}
}

func TestRule(t *testing.T) {
	for _, tc := range []struct {
		name             string
		setting          string
		usable, workers  int
		capacity         float64
		want, measured   int
		ruleHas, ruleNot string
	}{
		{"real cores", "auto", 2, 1, 1.93, 2, 1, "auto: 2 usable cores / 1 worker; measured parallel capacity 1.93 of 2 copies", ""},
		{"shared FPU", "auto", 2, 1, 1.02, 1, 1, "capacity 1.02 of 2 copies", ""},
		{"four of which three pay, two workers", "auto", 4, 2, 2.6, 1, 1, "4 usable cores / 2 workers", ""},
		{"eight real cores, two workers", "auto", 8, 2, 7.7, 4, 1, "capacity 7.70 of 8 copies", ""},
		{"a worker per core: nothing to measure", "auto", 2, 2, 1.9, 1, 0, "auto: 2 usable cores / 2 workers", "measured"},
		{"more workers than cores", "auto", 2, 5, 1.9, 1, 0, "/ 5 workers", "measured"},
		{"one core", "auto", 1, 1, 1.9, 1, 0, "auto: 1 usable core / 1 worker", ""},
		{"no workers counts as one", "auto", 2, 0, 1.9, 2, 1, "/ 1 worker", ""},
		{"a number is kept", "3", 2, 1, 1.02, 3, 0, "set by the threads setting", "measured"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			d, err := fake(tc.usable, tc.capacity, "", &calls).resolve(tc.setting, tc.workers)
			if err != nil {
				t.Fatal(err)
			}
			if d.N != tc.want || calls != tc.measured || !strings.Contains(d.Rule, tc.ruleHas) || (tc.ruleNot != "" && strings.Contains(d.Rule, tc.ruleNot)) {
				t.Errorf("%d threads (%s) after %d measurements; want %d after %d, a rule with %q", d.N, d.Rule, calls, tc.want, tc.measured, tc.ruleHas)
			}
		})
	}
	if _, err := fake(2, 1, "", new(int)).resolve("none", 1); err == nil {
		t.Error("a bad setting resolves")
	}
}

func TestMemory(t *testing.T) {
	dir := t.TempDir()
	calls := 0
	m := fake(2, 1.93, dir, &calls)
	resolve := func(m machine) Decision {
		t.Helper()
		d, err := m.resolve("auto", 1)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := resolve(m); calls != 1 || d.Capacity != 1.93 {
		t.Fatalf("first resolve: %d measurements, capacity %v", calls, d.Capacity)
	}
	if d := resolve(m); calls != 1 || d.Capacity != 1.93 {
		t.Errorf("a remembered capacity is measured again: %d measurements, capacity %v", calls, d.Capacity)
	}
	other := fake(2, 1.01, dir, &calls)
	other.identity.Kernel = "another kernel"
	if d := resolve(other); calls != 2 || d.Capacity != 1.01 {
		t.Errorf("another key: %d measurements, capacity %v; want a new measurement", calls, d.Capacity)
	}
	if d := resolve(m); calls != 2 || d.Capacity != 1.93 {
		t.Errorf("the first key is forgotten after the second's: %d measurements, capacity %v", calls, d.Capacity)
	}
	for _, bad := range []string{"{not json", `{"measurements": [{"cpu": "test CPU", "usable": 2, "kernel": "test", "capacity": 40}]}`, `["a foreign file"]`, ""} {
		if err := os.WriteFile(filepath.Join(dir, FileName), []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		before := calls
		if d := resolve(m); calls != before+1 || d.Capacity != 1.93 {
			t.Errorf("file %q: %d measurements, capacity %v; want one new measurement", bad, calls-before, d.Capacity)
		}
		if _, ok := m.memory.recall(m.identity, time.Now()); !ok {
			t.Errorf("file %q is not replaced by a sound one", bad)
		}
	}
}

// TestAnOlderMethodIsMeasuredAgain: a capacity remembered without this
// method's number (measured before the copies had a spare P) is measured
// again and replaced.
func TestAnOlderMethodIsMeasuredAgain(t *testing.T) {
	dir := t.TempDir()
	old := `{"measurements": [{"cpu": "test CPU", "usable": 2, "kernel": "test", "capacity": 1.41}]}`
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	calls := 0
	m := fake(2, 1.93, dir, &calls)
	m.identity.Method = method
	for range 2 {
		if d, err := m.resolve("auto", 1); err != nil || d.Capacity != 1.93 || calls != 1 {
			t.Fatalf("%+v, %v after %d measurements; want 1.93 measured once", d, err, calls)
		}
	}
	if k := currentKey(2); k.Method != method {
		t.Errorf("this machine's key has method %d, want %d", k.Method, method)
	}
}

// TestLowCapacityIsMeasuredAgain: a capacity that gives fewer threads than
// cores (a busy moment, perhaps) is shared by the starts of the next minute,
// then measured again; one that gives every core is kept for good.
func TestLowCapacityIsMeasuredAgain(t *testing.T) {
	calls, capacity := 0, 1.10
	clock := time.Date(2026, 12, 7, 19, 0, 0, 0, time.UTC)
	m := fake(2, 0, t.TempDir(), &calls)
	m.measure = func(int) float64 { calls++; return capacity }
	m.now = func() time.Time { return clock }
	for _, step := range []struct {
		after       time.Duration
		measured    float64 // the capacity the machine measures from now on
		threads     int
		measurement int // how many measurements so far
	}{
		{0, 1.10, 1, 1},
		{30 * time.Second, 1.95, 1, 1}, // started with the first: shares its measurement
		{2 * time.Minute, 1.95, 2, 2},  // measured again: the cores pay
		{24 * time.Hour, 1.10, 2, 2},   // kept for good
		{365 * 24 * time.Hour, 1.10, 2, 2},
	} {
		clock, capacity = clock.Add(step.after), step.measured
		d, err := m.resolve("auto", 1)
		if err != nil || d.N != step.threads || calls != step.measurement {
			t.Errorf("%v later: %d threads (%v) after %d measurements; want %d after %d", step.after, d.N, err, calls, step.threads, step.measurement)
		}
	}
}

// TestLowCapacityFromTheFuture: a low capacity dated after now (a clock set
// back since) is measured again rather than trusted until the clock passes it.
func TestLowCapacityFromTheFuture(t *testing.T) {
	calls := 0
	m := fake(2, 1.10, t.TempDir(), &calls)
	later := time.Now().Add(time.Hour)
	m.memory.remember(m.identity, 1.10, later)
	if d, err := m.resolve("auto", 1); err != nil || calls != 1 {
		t.Errorf("%+v, %v after %d measurements; want one new measurement", d, err, calls)
	}
}

// TestMeasuredOnceWhenStartedTogether: resolutions that start together
// (workers a scheduler starts at once) measure once; the others wait and
// read the result.
func TestMeasuredOnceWhenStartedTogether(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no file locks here")
	}
	dir := t.TempDir()
	var calls atomic.Int32
	m := machine{usable: 2, memory: memory{dir: dir}, identity: key{CPU: "test CPU", Usable: 2, Kernel: "test"}, now: time.Now,
		measure: func(int) float64 {
			calls.Add(1)
			time.Sleep(50 * time.Millisecond)
			return 1.8
		}}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if d, err := m.resolve("auto", 1); err != nil || d.Capacity != 1.8 {
				t.Errorf("%+v, %v", d, err)
			}
		})
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("%d measurements, want 1", n)
	}
}

// TestUnwritableMemory: a folder that cannot hold the file costs a
// measurement each time, not an error.
func TestUnwritableMemory(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	calls := 0
	m := fake(2, 1.5, filepath.Join(blocker, "sub"), &calls)
	for range 2 {
		if d, err := m.resolve("auto", 1); err != nil || d.N != 2 {
			t.Fatalf("%v, %v", d, err)
		}
	}
	if calls != 2 {
		t.Errorf("%d measurements, want 2", calls)
	}
}

// TestMeasureCapacity measures this machine once: the capacity of its
// usable cores is above a third of one copy and at most one per core.
func TestMeasureCapacity(t *testing.T) {
	u := runtime.GOMAXPROCS(0)
	if u < 2 {
		t.Skip("one usable core: nothing to measure")
	}
	c := measureCapacity(u)
	t.Logf("parallel capacity %.2f of %d copies (%s, kernel %s)", c, u, cpuModel(), currentKey(u).Kernel)
	if c <= 0.3 || c >= float64(u)+0.5 {
		t.Errorf("parallel capacity %.2f of %d copies", c, u)
	}
}

// TestResolveRemembers: Resolve on this machine measures once, remembers
// the measurement in its folder, and decides the same from it.
func TestResolveRemembers(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one usable core: nothing to measure")
	}
	dir := t.TempDir()
	d, err := Resolve("auto", 1, dir)
	if err != nil || d.Capacity == 0 || !strings.Contains(d.Rule, "measured") {
		t.Fatalf("Resolve measured nothing: %+v, %v", d, err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
		t.Errorf("the measurement is not remembered: %v", err)
	}
	again, err := Resolve("auto", 1, dir)
	if err != nil || again != d {
		t.Errorf("Resolve again: %+v, %v; want the remembered %+v", again, err, d)
	}
}
