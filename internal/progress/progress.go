// Package progress reports long data work (decoding, cache building): a
// count, a rate and an ETA, as a redrawn bar on a terminal and otherwise
// as a line every few seconds, the first at once.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Every is how often a line is written when the output is not a terminal.
const Every = 5 * time.Second

// Meter counts work done out of a total and reports it to w. Safe for
// concurrent use. A nil *Meter does nothing, so callers need not check.
type Meter struct {
	mu       sync.Mutex
	w        io.Writer
	what     string
	total    int
	done     int
	terminal bool
	start    time.Time
	last     time.Time
	now      func() time.Time
}

// New starts a meter for total units of what (for example "decoding
// celeba: images") and reports the start at once.
func New(w io.Writer, what string, total int, terminal bool) *Meter {
	return newMeter(w, what, total, terminal, time.Now)
}

func newMeter(w io.Writer, what string, total int, terminal bool, now func() time.Time) *Meter {
	m := &Meter{w: w, what: what, total: total, terminal: terminal, now: now, start: now()}
	m.last = m.start
	m.report(false)
	return m
}

// Add records n more units done, reporting when it is time to.
func (m *Meter) Add(n int) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.done += n
	t := m.now()
	if m.terminal && t.Sub(m.last) >= 200*time.Millisecond || t.Sub(m.last) >= Every {
		m.last = t
		m.report(false)
	}
}

// Done writes the final count and the time taken.
func (m *Meter) Done() {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.report(true)
}

func (m *Meter) report(final bool) {
	elapsed := m.now().Sub(m.start)
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(m.done) / s
	}
	line := fmt.Sprintf("%s %d / %d", m.what, m.done, m.total)
	switch {
	case final:
		line += fmt.Sprintf(" in %s (%.0f/s)", elapsed.Round(100*time.Millisecond), rate)
	case rate > 0:
		eta := time.Duration(float64(m.total-m.done) / rate * float64(time.Second))
		line += fmt.Sprintf(" (%.0f/s, ETA %s)", rate, eta.Round(time.Second))
	}
	if !m.terminal {
		fmt.Fprintln(m.w, line)
		return
	}
	const width = 30
	filled := 0
	if m.total > 0 {
		filled = min(width, width*m.done/m.total)
	}
	fmt.Fprintf(m.w, "\r[%s%s] %s\x1b[K", strings.Repeat("#", filled), strings.Repeat(".", width-filled), line)
	if final {
		fmt.Fprintln(m.w)
	}
}
