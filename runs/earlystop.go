package runs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/vaelab/vaelab/experiments"
)

// Early stopping (sweep.early_stop, decisions: sync) is successive halving:
// every configuration (a trial, grid point or variant, run over all seeds)
// trains to the first rung's epoch and pauses; the top 1/eta of them by the
// rung's metric (mean over seeds) go on to the next rung, the others stop;
// after the last rung the survivors train to train.epochs.
//
// Decisions depend only on stored metrics: each phase recomputes every rung
// decision the epoch values in the store allow, so a sweep
// killed at any moment and started again decides the same, and running the
// spec again with a larger budget (more rungs, a smaller eta) promotes the
// stopped runs that now qualify: they resume from their checkpoints, so
// their series end exactly as if they had never stopped. A configuration
// whose run diverged or failed before a rung ranks last there.

// configKey names a run's configuration: its id with the seed left out.
func configKey(r experiments.Run) string {
	c := r.Config
	c.Seed = 0
	return c.ID()
}

// configGroup is one configuration's runs, in spec order.
type configGroup struct {
	key  string
	runs []experiments.Run
}

func groupConfigs(rs []experiments.Run) []*configGroup {
	var out []*configGroup
	byKey := map[string]*configGroup{}
	for _, r := range rs {
		k := configKey(r)
		g := byKey[k]
		if g == nil {
			g = &configGroup{key: k}
			byKey[k] = g
			out = append(out, g)
		}
		g.runs = append(g.runs, r)
	}
	return out
}

// rungDecision is the outcome of one rung: the configurations that go on
// and, for each stopped run, why.
type rungDecision struct {
	alive []*configGroup
	stops map[string]string
}

// decideRung ranks the alive configurations by the mean over seeds of the
// metric at the rung's epoch (values: run id → value; a run missing there
// ranks last) and keeps the top ceil(n/eta), ties broken by spec order.
func decideRung(e *experiments.EarlyStop, rung int, alive []*configGroup, values map[string]float64) rungDecision {
	type scored struct {
		g     *configGroup
		score float64
		pos   int
	}
	worst := math.Inf(-1)
	if e.Mode == "min" {
		worst = math.Inf(1)
	}
	var s []scored
	for i, g := range alive {
		sum := 0.0
		for _, r := range g.runs {
			v, ok := values[r.ID]
			if !ok || math.IsNaN(v) {
				sum = worst
				break
			}
			sum += v
		}
		s = append(s, scored{g, sum / float64(len(g.runs)), i})
	}
	sort.SliceStable(s, func(i, j int) bool {
		if s[i].score != s[j].score {
			if e.Mode == "min" {
				return s[i].score < s[j].score
			}
			return s[i].score > s[j].score
		}
		return s[i].pos < s[j].pos
	})
	keep := (len(s) + e.Eta - 1) / e.Eta
	d := rungDecision{stops: map[string]string{}}
	var kept []scored
	for i, x := range s {
		if i < keep {
			kept = append(kept, x)
			continue
		}
		for _, r := range x.g.runs {
			d.stops[r.ID] = fmt.Sprintf("stopped at rung %d (epoch %d): %s %.6g (mean over %d seeds) ranks %d of %d; the top %d went on (the last of them %.6g)",
				rung+1, e.Rungs[rung], e.Metric, x.score, len(x.g.runs), i+1, len(s), keep, s[keep-1].score)
		}
	}
	sort.SliceStable(kept, func(i, j int) bool { return kept[i].pos < kept[j].pos })
	for _, x := range kept {
		d.alive = append(d.alive, x.g)
	}
	return d
}

// decide recomputes from the store every rung decision that can be made
// (every run of the configurations alive there has the rung's value, or
// diverged or failed before it) and returns the configurations alive after
// the last of them and every stopped run's reason.
func (sc *Scheduler) decide(ctx context.Context, e *experiments.EarlyStop, groups []*configGroup, statuses map[string]string) ([]*configGroup, map[string]string, error) {
	alive, stops := groups, map[string]string{}
	for rung := range e.Rungs {
		values, err := sc.Store.EpochValues(ctx, e.Metric, e.Rungs[rung], runIDs(alive))
		if err != nil {
			return nil, nil, err
		}
		if !decidable(alive, values, statuses) {
			break
		}
		d := decideRung(e, rung, alive, values)
		for id, why := range d.stops {
			stops[id] = why
		}
		alive = d.alive
	}
	return alive, stops, nil
}

// decidable: every run of the groups has a value, or ended before it could.
func decidable(groups []*configGroup, values map[string]float64, statuses map[string]string) bool {
	for _, g := range groups {
		for _, r := range g.runs {
			if _, ok := values[r.ID]; !ok && statuses[r.ID] != StatusDiverged && statuses[r.ID] != StatusFailed {
				return false
			}
		}
	}
	return true
}

// executeRungs runs a plan with early stopping phase by phase: to each rung,
// then to the end; run executes a phase (the local pool, or a Slurm job
// array).
func (sc *Scheduler) executeRungs(ctx context.Context, p *Plan, run func(context.Context, *Plan) Result) Result {
	e := p.EarlyStop
	total := Result{Total: len(p.Runs)}
	groups := groupConfigs(p.Runs)
	evaluate := p.ToEvaluate
	for k := 0; k <= len(e.Rungs); k++ {
		statuses, err := sc.Store.Statuses(ctx, p.Experiment)
		if err != nil {
			total.Stopped = err
			return total
		}
		alive, stops, err := sc.decide(ctx, e, groups, statuses)
		if err == nil {
			err = sc.decideStops(ctx, p.Experiment, stops, runIDs(alive))
		}
		if err != nil {
			total.Stopped = err
			return total
		}
		target := 0 // the last phase trains to train.epochs
		if k < len(e.Rungs) {
			target = e.Rungs[k]
		}
		phase, err := sc.phasePlan(ctx, p, alive, target)
		if err != nil {
			total.Stopped = err
			return total
		}
		phase.ToEvaluate, evaluate = evaluate, nil
		res := run(ctx, phase)
		total.add(res)
		if ctx.Err() != nil || res.Stopped != nil || res.Running > 0 {
			total.Stopped, total.Running = res.Stopped, res.Running
			return total
		}
		if k < len(e.Rungs) {
			// A rung can only be decided once all its runs reached it: runs
			// still training in another process (or on Slurm) hold it.
			statuses, err := sc.Store.Statuses(ctx, p.Experiment)
			if err != nil {
				total.Stopped = err
				return total
			}
			if n := countStatus(alive, statuses, StatusRunning); n > 0 {
				sc.logf("rung %d (epoch %d): %d runs are still training elsewhere; the rung is decided when they finish (run the spec again)", k+1, e.Rungs[k], n)
				total.Running = n
				return total
			}
			sc.logf("rung %d (epoch %d): %d configurations reached it", k+1, e.Rungs[k], len(alive))
		}
	}
	statuses, err := sc.Store.Statuses(ctx, p.Experiment)
	if err == nil {
		for _, r := range p.Runs {
			if statuses[r.ID] == StatusStopped {
				total.EarlyStopped++
			}
		}
	}
	for _, r := range p.Runs {
		if st := p.Status[r.ID]; st == StatusDone || st == StatusDiverged {
			total.Skipped++
		}
	}
	total.Skipped -= len(p.ToEvaluate)
	return total
}

// phasePlan lists the runs of the alive configurations that still have to
// train to target (0: to the end): not finished, and not past it already.
func (sc *Scheduler) phasePlan(ctx context.Context, p *Plan, alive []*configGroup, target int) (*Plan, error) {
	statuses, err := sc.Store.Statuses(ctx, p.Experiment)
	if err != nil {
		return nil, err
	}
	reached, err := sc.Store.EpochsReached(ctx, runIDs(alive))
	if err != nil {
		return nil, err
	}
	phase := &Plan{Runs: p.Runs, Status: statuses, StopAfterEpoch: target}
	for _, g := range alive {
		for _, r := range g.runs {
			switch statuses[r.ID] {
			case StatusPending, StatusFailed, StatusInterrupted, StatusPaused:
				if target == 0 || reached[r.ID] < target {
					phase.ToTrain = append(phase.ToTrain, r)
				}
			}
		}
	}
	return phase, nil
}

func countStatus(groups []*configGroup, statuses map[string]string, status string) int {
	n := 0
	for _, g := range groups {
		for _, r := range g.runs {
			if statuses[r.ID] == status {
				n++
			}
		}
	}
	return n
}

func runIDs(groups []*configGroup) []string {
	var ids []string
	for _, g := range groups {
		for _, r := range g.runs {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

func (r *Result) add(o Result) {
	r.Done += o.Done
	r.Diverged += o.Diverged
	r.Failed += o.Failed
	r.Interrupted += o.Interrupted
	r.Running += o.Running
	r.Evaluated += o.Evaluated
	r.EvalFailed += o.EvalFailed
}

// EpochValues returns each of the runs' value of an epoch metric at epoch
// (runs without one are absent). One lookup per run on the metrics table's
// key (run, metric): decisions run often, over a database of many runs.
func (s *Store) EpochValues(ctx context.Context, key string, epoch int, runIDs []string) (map[string]float64, error) {
	out := map[string]float64{}
	err := s.perRun(ctx, runIDs, "SELECT value FROM metrics WHERE run_id=? AND key=? AND epoch=?", func(id string, row *sql.Row) error {
		var v float64
		switch err := row.Scan(&v); {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			out[id] = v
		}
		return nil
	}, key, epoch)
	if err != nil {
		return nil, fmt.Errorf("read %s at epoch %d: %w", key, epoch, err)
	}
	return out, nil
}

// EpochsReached returns the last epoch each of the runs has test metrics
// for (0 for none).
func (s *Store) EpochsReached(ctx context.Context, runIDs []string) (map[string]int, error) {
	out := map[string]int{}
	err := s.perRun(ctx, runIDs, "SELECT COALESCE(MAX(epoch), 0) FROM metrics WHERE run_id=? AND key=?", func(id string, row *sql.Row) error {
		var e int
		if err := row.Scan(&e); err != nil {
			return err
		}
		out[id] = e
		return nil
	}, "test/elbo")
	if err != nil {
		return nil, fmt.Errorf("read the epochs runs reached: %w", err)
	}
	return out, nil
}

// perRun runs a one-row query for each run id, the id its first argument.
func (s *Store) perRun(ctx context.Context, runIDs []string, query string, scan func(id string, row *sql.Row) error, args ...any) error {
	stmt, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, id := range runIDs {
		if err := scan(id, stmt.QueryRowContext(ctx, append([]any{id}, args...)...)); err != nil {
			return err
		}
	}
	return nil
}

// Statuses returns the status of every run of an experiment.
func (s *Store) Statuses(ctx context.Context, experiment string) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT r.id, r.status FROM runs r JOIN experiment_runs er ON er.run_id = r.id WHERE er.experiment=?", experiment)
	if err != nil {
		return nil, fmt.Errorf("read the statuses of %s: %w", experiment, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, st string
		if err := rows.Scan(&id, &st); err != nil {
			return nil, err
		}
		out[id] = st
	}
	return out, rows.Err()
}

// ReopenStopped makes the stopped runs among ids waiting to train again
// (interrupted: they resume from their checkpoints) where experiment's own
// budget is not what stopped them: early stopping's decisions belong to the
// experiment that made them, and a run is shared by every spec that expands
// to it. With all (the spec has no sweep.early_stop: a full budget) every
// stopped run is reopened; otherwise only those no decision of experiment
// stopped. It returns the ids reopened.
func (s *Store) ReopenStopped(ctx context.Context, experiment string, ids []string, all bool) ([]string, error) {
	var reopened []string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		reopened = reopened[:0]
		for _, id := range ids {
			var st string
			if err := tx.QueryRowContext(ctx, "SELECT status FROM runs WHERE id=?", id).Scan(&st); err != nil {
				return fmt.Errorf("read run %s: %w", id, err)
			}
			if st != StatusStopped {
				continue
			}
			var own int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE run_id=? AND kind='early-stop' AND experiment=?", id, experiment).Scan(&own); err != nil {
				return fmt.Errorf("read the decisions on run %s: %w", id, err)
			}
			if own > 0 && !all {
				continue
			}
			why := fmt.Sprintf("experiment %s trains it with its own budget (it was stopped early by a search); resumes from its checkpoint", experiment)
			if _, err := tx.ExecContext(ctx, "UPDATE runs SET status=?, error=? WHERE id=? AND status=?", StatusInterrupted, why, id, StatusStopped); err != nil {
				return fmt.Errorf("reopen run %s: %w", id, err)
			}
			if err := addEvent(ctx, tx, experiment, id, "info", "reopened", why); err != nil {
				return err
			}
			reopened = append(reopened, id)
		}
		return nil
	})
	return reopened, err
}

// Status returns one run's stored status.
func (s *Store) Status(ctx context.Context, runID string) (string, error) {
	var st string
	if err := s.db.QueryRowContext(ctx, "SELECT status FROM runs WHERE id=?", runID).Scan(&st); err != nil {
		return "", fmt.Errorf("read the status of run %s: %w", runID, err)
	}
	return st, nil
}

// Decide records early stopping's decisions in one transaction: each run
// of stops waiting to train (pending, paused, failed, interrupted) becomes
// stopped with its reason; each of alive that is stopped is promoted
// (paused again, to resume from its checkpoint). A run both stopped and
// alive cannot arise: the two come from one decision. It returns the runs
// this decision stopped.
func (s *Store) Decide(ctx context.Context, experiment string, stops map[string]string, alive []string) (stopped []string, err error) {
	ids := make([]string, 0, len(stops))
	for id := range stops {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	err = s.tx(ctx, func(tx *sql.Tx) error {
		stopped = stopped[:0]
		for _, id := range ids {
			res, err := tx.ExecContext(ctx, "UPDATE runs SET status=?, error=?, owner='' WHERE id=? AND status IN (?,?,?,?)",
				StatusStopped, stops[id], id, StatusPending, StatusPaused, StatusFailed, StatusInterrupted)
			if err != nil {
				return fmt.Errorf("stop run %s: %w", id, err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				stopped = append(stopped, id)
				if err := addEvent(ctx, tx, experiment, id, "info", "early-stop", stops[id]); err != nil {
					return err
				}
			}
		}
		for _, id := range alive {
			res, err := tx.ExecContext(ctx, "UPDATE runs SET status=?, error='' WHERE id=? AND status=?", StatusPaused, id, StatusStopped)
			if err != nil {
				return fmt.Errorf("promote run %s: %w", id, err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				if err := addEvent(ctx, tx, experiment, id, "info", "promoted", "promoted by the current early-stopping budget; resumes from its checkpoint"); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return stopped, nil
}

// describeRung is a paused run's reason.
func describeRung(epoch int) string {
	return fmt.Sprintf("paused after epoch %d, a rung of sweep.early_stop: waiting for the rung's decision", epoch)
}
