package progress

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// Off a terminal: a line at the start, one per Every, the last with the
// time taken; rate and ETA from the clock.
func TestLinesOffATerminal(t *testing.T) {
	var b strings.Builder
	clock := time.Unix(0, 0)
	m := newMeter(&b, "decoding x: images", 1000, false, func() time.Time { return clock })
	for range 10 {
		clock = clock.Add(time.Second)
		m.Add(50)
	}
	m.Done()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := []string{
		"decoding x: images 0 / 1000",
		"decoding x: images 250 / 1000 (50/s, ETA 15s)",
		"decoding x: images 500 / 1000 (50/s, ETA 10s)",
		"decoding x: images 500 / 1000 in 10s (50/s)",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	var nilMeter *Meter
	nilMeter.Add(1) // a nil meter is silent
	nilMeter.Done()
}

// On a terminal the bar is redrawn in place.
func TestBarOnATerminal(t *testing.T) {
	var b strings.Builder
	clock := time.Unix(0, 0)
	m := newMeter(&b, "x", 10, true, func() time.Time { return clock })
	clock = clock.Add(time.Second)
	m.Add(5)
	if !strings.Contains(b.String(), "\r[###############...............] x 5 / 10") {
		t.Errorf("bar: %q", b.String())
	}
}

// Off a terminal (a pipe, a buffer, a file) the bars are nil: callers pass
// them on and the work reports nothing.
func TestNoBarsOffATerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for name, w := range map[string]io.Writer{"buffer": &strings.Builder{}, "file": f, "discard": io.Discard} {
		if IsTerminal(w) || Counter(w, "reading runs", 50) != nil || Bytes(w, "downloading x") != nil {
			t.Errorf("%s: taken for a terminal", name)
		}
	}
}
