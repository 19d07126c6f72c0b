package serve

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vaelab/vaelab/record"
	"github.com/vaelab/vaelab/report"
)

// An experiment's overview (its runs, configurations and ranking) takes
// one read of its runs and one of its final values, and for thousands of
// runs a ranking's tests: it is kept until a run changes status (the
// counts say so at the cost of one small query) or for overviewTTL, so
// that steps and re-evaluations show within seconds.
const overviewTTL = 5 * time.Second

// expEntry is one experiment's cached overview. Its mutex makes concurrent
// requests wait for one rebuild instead of each doing it.
type expEntry struct {
	mu    sync.Mutex
	key   string // the counts it was built at
	at    time.Time
	ov    *report.Overview
	runs  map[string]*record.RunInfo // by id
	group map[string]int             // run id → index in ov.Groups
	extra *entryExtra
}

// entryExtra holds what an overview's views build from it on demand.
type entryExtra struct {
	mu     sync.Mutex
	search **report.Search // nil until built (then possibly a nil view)
}

// countsKey summarises an experiment's counts: any status change, new run
// or respecified spec changes it.
func countsKey(info record.ExperimentInfo) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(info.Counts)) {
		fmt.Fprintf(&b, "%s=%d,", k, info.Counts[k])
	}
	fmt.Fprintf(&b, "n=%d,out=%d,%s", info.RunCount, info.NotInSpec, info.SpecHash)
	return b.String()
}

// overview returns the experiment's overview, rebuilt when stale.
func (s *Server) overview(ctx context.Context, name string) (*expEntry, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	info, err := s.st.Experiment(ctx, name)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, notFound{fmt.Sprintf("no experiment %q", name)}
	}
	s.mu.Lock()
	e := s.exps[name]
	if e == nil {
		e = &expEntry{}
		s.exps[name] = e
	}
	s.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	key := countsKey(info)
	if e.ov != nil && e.key == key && time.Since(e.at) < overviewTTL {
		return e.snapshot(), nil
	}
	ov, err := report.BuildOverview(ctx, s.st, name)
	if err != nil {
		return nil, fmt.Errorf("overview of %s: %w", name, err)
	}
	ov.Info = info
	e.ov, e.key, e.at = ov, key, time.Now()
	e.runs, e.group, e.extra = map[string]*record.RunInfo{}, map[string]int{}, &entryExtra{}
	for gi, g := range ov.Groups {
		for i := range g.Runs {
			e.runs[g.Runs[i].ID] = &g.Runs[i]
			e.group[g.Runs[i].ID] = gi
		}
	}
	return e.snapshot(), nil
}

// snapshot is a copy of the entry's fields a request reads without its
// lock; the values they point to are never changed after a build.
func (e *expEntry) snapshot() *expEntry {
	return &expEntry{key: e.key, at: e.at, ov: e.ov, runs: e.runs, group: e.group, extra: e.extra}
}

// checkName refuses an experiment name no spec could have: empty, too
// long or with control characters.
func checkName(name string) error {
	if name == "" {
		return badf("name: give an experiment's name (?name=...)")
	}
	if len(name) > 200 {
		return badf("name: %d bytes is longer than any experiment's name", len(name))
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return badf("name: control characters are not allowed")
		}
	}
	return nil
}

// checkRunID refuses anything that is not a run id (lowercase hex).
func checkRunID(id string) error {
	if len(id) < 8 || len(id) > 64 {
		return badf("run id %q: want the run's hex id", clip(id))
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return badf("run id %q: want the run's hex id", clip(id))
		}
	}
	return nil
}

// clip shortens a value quoted back in a message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// findRun finds a run of experiment name by its full id.
func (s *Server) findRun(ctx context.Context, name, id string) (*expEntry, *record.RunInfo, error) {
	if err := checkRunID(id); err != nil {
		return nil, nil, err
	}
	e, err := s.overview(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	r := e.runs[id]
	if r == nil {
		return nil, nil, notFound{fmt.Sprintf("experiment %q has no run %s", name, id)}
	}
	return e, r, nil
}
