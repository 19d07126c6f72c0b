package experiments

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Run is one expanded run of a spec.
type Run struct {
	ID     string
	Config RunConfig
	// Variant is the variant's name, "" when the spec has none.
	Variant string
	// Values are the grid values of this run, in axis order, then its
	// trial's draws of the random parameters.
	Values []Setting
	// Trial is the run's trial of the spec's random search (1-based), 0
	// without one.
	Trial int
}

// Label names the run by what varies: variant, grid values and seed.
func (r Run) Label() string {
	var parts []string
	if r.Variant != "" {
		parts = append(parts, r.Variant)
	}
	if r.Trial > 0 {
		parts = append(parts, "trial="+strconv.Itoa(r.Trial))
	}
	for _, v := range r.Values {
		parts = append(parts, v.Key+"="+v.Value.String())
	}
	parts = append(parts, "seed="+strconv.FormatUint(r.Config.Seed, 10))
	return strings.Join(parts, " ")
}

// Varying returns the values that distinguish this run within its experiment, as
// key → text, including "variant" and "seed".
func (r Run) Varying() map[string]string {
	out := map[string]string{"seed": strconv.FormatUint(r.Config.Seed, 10)}
	if r.Variant != "" {
		out["variant"] = r.Variant
	}
	if r.Trial > 0 {
		out["trial"] = strconv.Itoa(r.Trial)
	}
	for _, v := range r.Values {
		out[v.Key] = v.Value.String()
	}
	return out
}

// Expand resolves the spec into runs: variants × grid (last axis fastest) ×
// trials of the random search × seeds. The order and the ids depend only on the spec's content, so expanding
// the same spec always gives the same runs.
func (s *Spec) Expand() ([]Run, error) {
	variants := s.Variants
	if len(variants) == 0 {
		variants = []Variant{{}}
	}
	var runs []Run
	seen := map[string]Run{}
	idx := make([]int, len(s.Grid))
	for _, v := range variants {
		for {
			for trial := range s.trials() {
				for _, seed := range s.Seeds {
					r, err := s.resolve(v, idx, trial, seed)
					if err != nil {
						return nil, err
					}
					if prev, dup := seen[r.ID]; dup {
						// Two different draws that round to the same values
						// train the same run: it is trained once, under the
						// first trial.
						if prev.Trial > 0 && r.Trial > 0 && prev.Config.EvalHash() == r.Config.EvalHash() && !s.Random.sameDraw(prev.Trial-1, r.Trial-1) {
							continue
						}
						return nil, s.duplicateRun(v, prev, r)
					}
					seen[r.ID] = r
					runs = append(runs, r)
				}
			}
			if !s.nextGridPoint(idx) {
				break
			}
		}
	}
	return runs, nil
}

// trials is the number of trials of the random search, 1 without one.
func (s *Spec) trials() int {
	if s.Random == nil {
		return 1
	}
	return s.Random.Trials
}

func (s *Spec) duplicateRun(v Variant, prev, r Run) error {
	if prev.Config.EvalHash() != r.Config.EvalHash() {
		return s.errorf(v.line, "sweep: runs %q and %q train the same model and differ only in eval: settings, which do not define a run; evaluate with one setting per spec (changing eval: and running again re-scores the trained runs)", prev.Label(), r.Label())
	}
	if r.Trial > 0 {
		return s.errorf(s.Random.line, "sweep: runs %q and %q resolve to the same config (the search drew the same values twice: a choice or a narrow int range); lower sweep.random.trials or widen the ranges", prev.Label(), r.Label())
	}
	return s.errorf(v.line, "sweep: runs %q and %q resolve to the same config; remove one", prev.Label(), r.Label())
}

// runLine is the line of the variant setting or grid value that set the
// key an error starts with, 0 if neither did (the base's line is used then).
func runLine(err error, v Variant, vals []Setting) int {
	key, _, _ := strings.Cut(err.Error(), ":")
	for _, st := range slices.Concat(v.Set, vals) {
		if st.Key == key {
			return st.Value.line()
		}
	}
	return 0
}

// nextGridPoint advances idx like an odometer; false when it wraps around.
func (s *Spec) nextGridPoint(idx []int) bool {
	for a := len(idx) - 1; a >= 0; a-- {
		idx[a]++
		if idx[a] < len(s.Grid[a].Values) {
			return true
		}
		idx[a] = 0
	}
	return false
}

func (s *Spec) resolve(v Variant, idx []int, trial int, seed uint64) (Run, error) {
	r := Run{Config: s.Base.clone(), Variant: v.Name}
	for _, st := range v.Set {
		if err := setPath(&r.Config, st.Key, st.Value); err != nil {
			return r, s.keyError(err, st.Value.line())
		}
	}
	for a, ax := range s.Grid {
		val := ax.Values[idx[a]]
		if err := setPath(&r.Config, ax.Key, val); err != nil {
			return r, s.keyError(err, val.line())
		}
		r.Values = append(r.Values, Setting{Key: ax.Key, Value: val})
	}
	if s.Random != nil {
		r.Trial = trial + 1
		for _, st := range s.Random.Trial(trial) {
			if err := setPath(&r.Config, st.Key, st.Value); err != nil {
				return r, s.keyError(err, st.Value.line())
			}
			r.Values = append(r.Values, st)
		}
	}
	r.Config.Seed = seed
	r.Config.Dataset = r.Config.Dataset.Resolved()
	r.Config.Model = r.Config.Model.Resolved()
	if err := r.Config.Validate(); err != nil {
		return r, s.keyError(fmt.Errorf("%w (in run %s)", err, r.Label()), runLine(err, v, r.Values))
	}
	if e := s.EarlyStop; e != nil {
		if err := e.checkRungs(r.Config.Train.Epochs); err != nil {
			return r, s.keyError(fmt.Errorf("%w (in run %s)", err, r.Label()), 0)
		}
	}
	r.ID = r.Config.ID()
	return r, nil
}
