package runs

import (
	"context"
	"fmt"
	"runtime"
	"sort"

	"github.com/vaelab/vaelab/experiments"
)

// Asynchronous successive halving (ASHA, Li et al. 2020; sweep.early_stop
// with decisions: async) keeps every worker busy: whenever one is free it
// promotes, from the highest rung down, a configuration that is in the top
// 1/eta of those that have completed that rung so far, and otherwise starts
// the next configuration at the first rung. No worker waits for a rung to
// fill, so decisions depend on the order in which runs finish: each is
// logged as an event with the numbers it compared. When nothing can be
// promoted and nothing is left to start or running, the configurations left
// at a rung are stopped.

// ashaConfig is one configuration's state.
type ashaConfig struct {
	*configGroup
	pos      int
	rung     int  // the highest rung all its runs completed, −1 for none
	promoted int  // the highest rung it was promoted from, −1 for none
	running  int  // its runs being trained
	finished bool // trained to the end, or a run of it failed or diverged
	launched bool // its runs were handed to workers in this invocation
	// resume: its runs stopped (a kill, Ctrl-C, a full disk) after a
	// promotion, or after their last epoch but before being recorded done:
	// they train on from their checkpoints without a new decision.
	resume bool
}

type ashaJob struct {
	run    experiments.Run
	target int // the epoch to pause after, 0 for the end
}

func (sc *Scheduler) executeASHA(ctx context.Context, p *Plan) Result {
	e := p.EarlyStop
	total := Result{Total: len(p.Runs)}
	if len(p.ToEvaluate) > 0 {
		total.add(sc.executePool(ctx, &Plan{Runs: p.Runs, Status: p.Status, ToEvaluate: p.ToEvaluate}))
	}
	configs, err := sc.ashaState(ctx, p)
	if err != nil {
		total.Stopped = err
		return total
	}
	workers := sc.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	loader, refs := sc.shared()
	type outcome struct {
		c      *ashaConfig
		status string
	}
	outcomes := make(chan outcome)
	var pending []ashaJob
	owner := map[string]*ashaConfig{}
	running := 0
	for {
		if len(pending) == 0 && ctx.Err() == nil {
			// Another process sharing the search moves configurations on
			// too: decide on what the store holds now.
			var err error
			for _, c := range configs {
				if c.running == 0 && err == nil {
					err = sc.ashaRefresh(ctx, e, c)
				}
			}
			next, err := ashaNextAfter(ctx, sc, e, configs, err)
			if err != nil {
				total.Stopped = err
				break
			}
			pending = next
		}
		if len(pending) > 0 && running < workers && ctx.Err() == nil {
			j := pending[0]
			pending = pending[1:]
			c := owner[j.run.ID]
			if c == nil {
				c = configOf(configs, j.run.ID)
				owner[j.run.ID] = c
			}
			if st, err := sc.Store.Status(ctx, j.run.ID); err == nil && (st == StatusDone || st == StatusDiverged) {
				continue // a seed of a resumed configuration that had finished
			}
			if reached, err := sc.Store.EpochsReached(ctx, []string{j.run.ID}); err == nil && j.target > 0 && reached[j.run.ID] >= j.target {
				if c.running == 0 {
					_ = sc.ashaRefresh(ctx, e, c)
				}
				continue // already at the rung (a restart)
			}
			c.running++
			running++
			go func() { outcomes <- outcome{c, sc.runOne(ctx, stop, j.run, j.target, loader, refs)} }()
			continue
		}
		if running == 0 {
			break
		}
		o := <-outcomes
		running--
		o.c.running--
		switch o.status {
		case StatusDone:
			total.Done++
		case StatusDiverged:
			total.Diverged++
			o.c.finished = true
		case StatusFailed:
			total.Failed++
			o.c.finished = true
		case StatusInterrupted:
			total.Interrupted++
		case StatusRunning:
			total.Running++
		}
		if o.c.running == 0 && ctx.Err() == nil {
			if err := sc.ashaRefresh(ctx, e, o.c); err != nil {
				total.Stopped = err
			}
		}
	}
	if ctx.Err() == nil && total.Stopped == nil {
		total.EarlyStopped, total.Stopped = sc.ashaStopRest(ctx, p.Experiment, e, configs)
	}
	if cause := context.Cause(ctx); cause != nil && IsDiskFull(cause) {
		total.Stopped = cause
	}
	return total
}

// ashaNextAfter is ashaNext unless an earlier step failed.
func ashaNextAfter(ctx context.Context, sc *Scheduler, e *experiments.EarlyStop, configs []*ashaConfig, err error) ([]ashaJob, error) {
	if err != nil {
		return nil, err
	}
	return sc.ashaNext(ctx, e, configs)
}

func configOf(configs []*ashaConfig, runID string) *ashaConfig {
	for _, c := range configs {
		for _, r := range c.runs {
			if r.ID == runID {
				return c
			}
		}
	}
	return nil
}

// ashaState rebuilds every configuration's rung from the store, so that a
// restarted sweep continues where it was.
func (sc *Scheduler) ashaState(ctx context.Context, p *Plan) ([]*ashaConfig, error) {
	var configs []*ashaConfig
	for i, g := range groupConfigs(p.Runs) {
		c := &ashaConfig{configGroup: g, pos: i, rung: -1, promoted: -1}
		configs = append(configs, c)
	}
	statuses, err := sc.Store.Statuses(ctx, p.Experiment)
	if err != nil {
		return nil, err
	}
	for _, c := range configs {
		ended := false // by a decision or an outcome no rerun changes
		for _, r := range c.runs {
			switch statuses[r.ID] {
			case StatusDiverged, StatusFailed, StatusStopped:
				c.finished, ended = true, true
			}
		}
		if err := sc.ashaRefresh(ctx, p.EarlyStop, c); err != nil {
			return nil, err
		}
		if ended {
			continue
		}
		waiting := false
		for _, r := range c.runs {
			switch statuses[r.ID] {
			case StatusPending, StatusInterrupted, StatusPaused:
				waiting = true
			}
		}
		// Promoted from its rung and trained past it, or trained to the
		// end, yet not all done: a stopped attempt to finish.
		c.resume = waiting && c.rung >= 0 && (c.promoted >= c.rung || c.finished)
	}
	return configs, nil
}

// ashaRefresh reads the rungs a configuration's runs have all completed; a
// configuration that reached a rung above another was promoted from it.
func (sc *Scheduler) ashaRefresh(ctx context.Context, e *experiments.EarlyStop, c *ashaConfig) error {
	reached, err := sc.Store.EpochsReached(ctx, runIDs([]*configGroup{c.configGroup}))
	if err != nil {
		return err
	}
	least, most := -1, 0
	for i, r := range c.runs {
		if i == 0 || reached[r.ID] < least {
			least = reached[r.ID]
		}
		most = max(most, reached[r.ID])
	}
	c.rung = -1
	for k, epoch := range e.Rungs {
		if least >= epoch {
			c.rung = k
		}
	}
	if c.rung >= 0 && most > e.Rungs[c.rung] {
		c.promoted = c.rung // a run trained beyond the rung: promoted from it
	}
	for k := range c.rung {
		c.promoted = max(c.promoted, k)
	}
	if least >= c.runs[0].Config.Train.Epochs {
		c.finished = true
	}
	return nil
}

// ashaNext is the next work: a promotion from the highest rung that has
// one, else the next configuration not started.
func (sc *Scheduler) ashaNext(ctx context.Context, e *experiments.EarlyStop, configs []*ashaConfig) ([]ashaJob, error) {
	for _, c := range configs {
		if !c.resume || c.running > 0 || c.launched {
			continue
		}
		c.resume = false
		target := 0
		if !c.finished && c.rung+1 < len(e.Rungs) {
			target = e.Rungs[c.rung+1]
		}
		sc.logf("asha        resuming %s (stopped after its promotion from rung %d)", c.runs[0].Label(), c.rung+1)
		return runJobs(c, target), nil
	}
	for k := len(e.Rungs) - 1; k >= 0; k-- {
		c, why, err := sc.ashaPromotable(ctx, e, configs, k)
		if err != nil || c == nil {
			if err != nil {
				return nil, err
			}
			continue
		}
		c.promoted = k
		target := 0
		if k+1 < len(e.Rungs) {
			target = e.Rungs[k+1]
		}
		for _, r := range c.runs {
			_ = sc.Store.AddEvent(ctx, "", r.ID, "info", "asha-promoted", why)
		}
		sc.logf("asha        %s", why)
		return runJobs(c, target), nil
	}
	for _, c := range configs {
		if c.rung < 0 && c.running == 0 && !c.finished && !c.started() {
			return runJobs(c, e.Rungs[0]), nil
		}
	}
	return nil, nil
}

func (c *ashaConfig) started() bool {
	return c.promoted >= 0 || c.rung >= 0 || c.running > 0 || c.launched
}

func runJobs(c *ashaConfig, target int) []ashaJob {
	c.launched = true
	var jobs []ashaJob
	for _, r := range c.runs {
		jobs = append(jobs, ashaJob{r, target})
	}
	return jobs
}

// ashaPromotable finds a configuration at rung k, not yet promoted from it,
// in the top floor(n/eta) of the n configurations that completed rung k.
func (sc *Scheduler) ashaPromotable(ctx context.Context, e *experiments.EarlyStop, configs []*ashaConfig, k int) (*ashaConfig, string, error) {
	var ids []string
	for _, c := range configs {
		if c.rung >= k && c.running == 0 {
			ids = append(ids, runIDs([]*configGroup{c.configGroup})...)
		}
	}
	values, err := sc.Store.EpochValues(ctx, e.Metric, e.Rungs[k], ids)
	if err != nil {
		return nil, "", err
	}
	type scored struct {
		c     *ashaConfig
		score float64
	}
	var done []scored
	for _, c := range configs {
		if c.rung < k || c.running > 0 {
			continue
		}
		sum, ok := 0.0, true
		for _, r := range c.runs {
			v, has := values[r.ID]
			ok = ok && has
			sum += v
		}
		if ok {
			done = append(done, scored{c, sum / float64(len(c.runs))})
		}
	}
	sort.SliceStable(done, func(i, j int) bool {
		if e.Mode == "min" {
			return done[i].score < done[j].score
		}
		return done[i].score > done[j].score
	})
	top := len(done) / e.Eta
	for i := range top {
		c := done[i].c
		if c.promoted < k && !c.finished {
			why := fmt.Sprintf("promoted from rung %d (epoch %d): %s %.6g (mean over %d seeds) ranks %d of the %d configurations that completed the rung; the top %d qualify",
				k+1, e.Rungs[k], e.Metric, done[i].score, len(c.runs), i+1, len(done), top)
			return c, why, nil
		}
	}
	return nil, "", nil
}

// ashaStopRest stops the configurations left at a rung once no promotion or
// start remains.
func (sc *Scheduler) ashaStopRest(ctx context.Context, experiment string, e *experiments.EarlyStop, configs []*ashaConfig) (int, error) {
	// Runs another process trains can still complete a rung and make a
	// configuration waiting there qualify: the last process to finish stops
	// the rest (or the next run of the spec does).
	current, err := sc.Store.Statuses(ctx, experiment)
	if err != nil {
		return 0, err
	}
	elsewhere := 0
	for _, st := range current {
		if st == StatusRunning {
			elsewhere++
		}
	}
	if elsewhere > 0 {
		sc.logf("asha        %d runs still train in another process; the configurations left at a rung are stopped when they finish", elsewhere)
		return 0, nil
	}
	stops := map[string]string{}
	for _, c := range configs {
		// Another process may have moved it on since this one last looked.
		if err := sc.ashaRefresh(ctx, e, c); err != nil {
			return 0, err
		}
		if c.finished || c.rung < 0 || c.promoted >= c.rung {
			continue
		}
		for _, r := range c.runs {
			stops[r.ID] = fmt.Sprintf("stopped at rung %d (epoch %d): never in the top 1/%d of the configurations that completed the rung (asynchronous successive halving)", c.rung+1, e.Rungs[c.rung], e.Eta)
		}
	}
	if err := sc.decideStops(ctx, experiment, stops, nil); err != nil {
		return 0, err
	}
	statuses, err := sc.Store.Statuses(ctx, experiment)
	n := 0
	for _, st := range statuses {
		if st == StatusStopped {
			n++
		}
	}
	return n, err
}
