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
// runs a ranking's tests: hundreds of milliseconds at 10,000 runs. It is
// rebuilt when a run changes status (the counts say so at the cost of one
// small query) or after a while, so that steps and re-evaluations show; the
// while is overviewTTL, or ten times the last build's duration if longer,
// so that a large experiment is not rebuilt back to back. A stale overview
// is answered at once while one rebuild runs behind it: only an
// experiment's first view waits for a build (and ListenAndServe builds the
// first page's experiments when it starts).
const overviewTTL = 5 * time.Second

// rebuildTimeout bounds a rebuild that no request waits for.
const rebuildTimeout = 2 * time.Minute

// expEntry is one experiment's cached overview. Its mutex makes concurrent
// requests wait for one rebuild instead of each doing it.
type expEntry struct {
	mu       sync.Mutex
	key      string // the counts it was built at
	at       time.Time
	ttl      time.Duration
	building bool // a rebuild runs in the background
	// info is the experiment as last read (fresher than ov.Info when ov is
	// stale).
	info  record.ExperimentInfo
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
	return s.overviewAt(ctx, info)
}

// overviewAt is overview of an experiment just read (info).
func (s *Server) overviewAt(ctx context.Context, info record.ExperimentInfo) (*expEntry, error) {
	name := info.Name
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
	switch {
	case e.ov != nil && e.key == key && time.Since(e.at) < e.ttl:
	case e.ov != nil:
		if !e.building {
			e.building = true
			go func() {
				ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rebuildTimeout)
				defer cancel()
				ov, took, err := s.buildOverview(ctx, name, info)
				e.mu.Lock()
				defer e.mu.Unlock()
				e.building = false
				if err != nil {
					s.log.Printf("overview of %s: %v", name, err)
					return
				}
				e.set(ov, key, took)
			}()
		}
	default:
		ov, took, err := s.buildOverview(ctx, name, info)
		if err != nil {
			return nil, err
		}
		e.set(ov, key, took)
	}
	snap := e.snapshot()
	snap.info = info
	return snap, nil
}

func (s *Server) buildOverview(ctx context.Context, name string, info record.ExperimentInfo) (*report.Overview, time.Duration, error) {
	start := time.Now()
	ov, err := report.OverviewOf(ctx, s.st, info)
	if err != nil {
		return nil, 0, fmt.Errorf("overview of %s: %w", name, err)
	}
	return ov, time.Since(start), nil
}

// set installs a built overview; e.mu is held.
func (e *expEntry) set(ov *report.Overview, key string, took time.Duration) {
	e.ov, e.key, e.at, e.ttl = ov, key, time.Now(), max(overviewTTL, 10*took)
	e.runs, e.group, e.extra = map[string]*record.RunInfo{}, map[string]int{}, &entryExtra{}
	for gi, g := range ov.Groups {
		for i := range g.Runs {
			e.runs[g.Runs[i].ID] = &g.Runs[i]
			e.group[g.Runs[i].ID] = gi
		}
	}
}

// warm builds the overviews of the experiments the first page lists, so
// that their first views need not wait.
func (s *Server) warm(ctx context.Context) {
	all, err := s.st.ListExperiments(ctx, record.ListOptions{})
	if err != nil {
		return
	}
	for _, info := range all[:min(len(all), experimentsPerPage)] {
		if _, err := s.overviewAt(ctx, info); err != nil && ctx.Err() != nil {
			return
		}
	}
}

// snapshot is a copy of the entry's fields a request reads without its
// lock; the values they point to are never changed after a build.
func (e *expEntry) snapshot() *expEntry {
	return &expEntry{key: e.key, at: e.at, info: e.info, ov: e.ov, runs: e.runs, group: e.group, extra: e.extra}
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
