package experiments

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/vaelab/vaelab/vae"
)

// Search is a spec's random axes (sweep.random): Trials configurations, each
// a draw of every parameter, run over all seeds and combined with the grid
// and variants. Trial i's draw depends only on the search's seed, method
// and i, so raising Trials keeps the first ones (and their run ids).
type Search struct {
	Trials int
	Seed   uint64
	Method string // random (independent uniform draws) or sobol (a quasi-random sequence)
	Params []SearchParam
	line   int
}

// SearchParam is one searched config key and its distribution.
type SearchParam struct {
	Key     string
	Dist    string // log_uniform, uniform, int or choice
	Lo, Hi  float64
	Choices []value
	line    int
}

// maxTrials bounds a search.
const maxTrials = 10_000

// parseRandom reads sweep.random.
func (s *Spec) parseRandom(n *yaml.Node) error {
	fields, err := s.fields(n, "sweep.random", "trials", "seed", "method", "params")
	if err != nil {
		return err
	}
	r := &Search{Method: "random", Seed: 1, line: n.Line}
	t := fields["trials"]
	if t == nil {
		return s.errorf(n.Line, "sweep.random.trials: give the number of trials")
	}
	if f, ok := number(t); !ok || f != math.Trunc(f) || f < 1 || f > maxTrials {
		return s.errorf(t.Line, "sweep.random.trials: want an integer between 1 and %d, got %s", maxTrials, describe(t))
	} else {
		r.Trials = int(f)
	}
	if sd := fields["seed"]; sd != nil {
		f, ok := number(sd)
		if !ok || f != math.Trunc(f) || f < 0 || f > 1<<53 {
			return s.errorf(sd.Line, "sweep.random.seed: want a non-negative integer, got %s", describe(sd))
		}
		r.Seed = uint64(f)
	}
	if m := fields["method"]; m != nil {
		if m.Value != "random" && m.Value != "sobol" {
			return s.errorf(m.Line, "sweep.random.method: %q is not a method (random or sobol)", m.Value)
		}
		r.Method = m.Value
	}
	ps := fields["params"]
	if ps == nil || ps.Kind != yaml.MappingNode || len(ps.Content) == 0 {
		return s.errorf(n.Line, "sweep.random.params: want a mapping of config keys to distributions, e.g. objective.beta: {log_uniform: [0.1, 10]}")
	}
	for i := 0; i+1 < len(ps.Content); i += 2 {
		p, err := s.parseSearchParam(ps.Content[i], ps.Content[i+1])
		if err != nil {
			return err
		}
		if slices.ContainsFunc(r.Params, func(q SearchParam) bool { return q.Key == p.Key }) {
			return s.errorf(ps.Content[i].Line, "sweep.random.params.%s: key appears twice", p.Key)
		}
		r.Params = append(r.Params, p)
	}
	if r.Method == "sobol" && len(r.Params) > maxSobolDims {
		return s.errorf(ps.Line, "sweep.random.params: %d parameters; the sobol method draws at most %d (use method: random)", len(r.Params), maxSobolDims)
	}
	s.Random = r
	return nil
}

func (s *Spec) parseSearchParam(k, v *yaml.Node) (SearchParam, error) {
	where := "sweep.random.params." + k.Value
	p := SearchParam{Key: k.Value, line: k.Line}
	if v.Kind != yaml.MappingNode || len(v.Content) != 2 {
		return p, s.errorf(v.Line, "%s: want one distribution: {log_uniform: [lo, hi]}, {uniform: [lo, hi]}, {int: [lo, hi]} or {choice: [...]}", where)
	}
	p.Dist = v.Content[0].Value
	arg := v.Content[1]
	switch p.Dist {
	case "log_uniform", "uniform", "int":
		if arg.Kind != yaml.SequenceNode || len(arg.Content) != 2 {
			return p, s.errorf(arg.Line, "%s.%s: want [lo, hi]", where, p.Dist)
		}
		lo, ok1 := number(arg.Content[0])
		hi, ok2 := number(arg.Content[1])
		switch {
		case !ok1 || !ok2:
			return p, s.errorf(arg.Line, "%s.%s: want two numbers [lo, hi]", where, p.Dist)
		case !(lo < hi):
			return p, s.errorf(arg.Line, "%s.%s: lo %v must be below hi %v", where, p.Dist, lo, hi)
		case p.Dist == "log_uniform" && lo <= 0:
			return p, s.errorf(arg.Line, "%s.log_uniform: lo %v must be positive (a log scale)", where, lo)
		case p.Dist == "int" && (lo != math.Trunc(lo) || hi != math.Trunc(hi)):
			return p, s.errorf(arg.Line, "%s.int: want integer bounds, got [%v, %v]", where, lo, hi)
		}
		p.Lo, p.Hi = lo, hi
	case "choice":
		if arg.Kind != yaml.SequenceNode || len(arg.Content) == 0 {
			return p, s.errorf(arg.Line, "%s.choice: want a non-empty list of values", where)
		}
		for _, c := range arg.Content {
			p.Choices = append(p.Choices, value{c})
		}
	default:
		return p, s.errorf(v.Content[0].Line, "%s: %q is not a distribution (log_uniform, uniform, int, choice)", where, p.Dist)
	}
	// Every value it can take must be settable and, where the key's own
	// range decides, valid.
	for _, val := range p.extremes() {
		probe := s.Base.clone()
		if err := setPath(&probe, p.Key, val); err != nil {
			return p, s.keyError(fmt.Errorf("%s: %w", where, err), k.Line)
		}
		probe.Dataset, probe.Model = probe.Dataset.Resolved(), probe.Model.Resolved()
		if err := probe.Validate(); err != nil && strings.HasPrefix(err.Error(), p.Key+":") {
			return p, s.keyError(fmt.Errorf("%s: %w", where, err), k.Line)
		}
	}
	s.lines[p.Key] = k.Line
	return p, nil
}

// extremes are the values at either end of the distribution (every choice).
func (p SearchParam) extremes() []value {
	if p.Dist == "choice" {
		return p.Choices
	}
	return []value{p.at(0), p.at(math.Nextafter(1, 0))}
}

// at maps u in [0, 1) to the parameter's value. Continuous draws keep 4
// significant digits, so that labels stay readable and ids stable.
func (p SearchParam) at(u float64) value {
	var x float64
	switch p.Dist {
	case "choice":
		return p.Choices[min(int(u*float64(len(p.Choices))), len(p.Choices)-1)]
	case "int":
		n := int64(p.Hi - p.Lo + 1)
		return scalar(strconv.FormatInt(int64(p.Lo)+min(int64(u*float64(n)), n-1), 10), "!!int", p.line)
	case "log_uniform":
		x = math.Exp(math.Log(p.Lo) + u*(math.Log(p.Hi)-math.Log(p.Lo)))
	default:
		x = p.Lo + u*(p.Hi-p.Lo)
	}
	return scalar(strconv.FormatFloat(x, 'g', 4, 64), "!!float", p.line)
}

func scalar(text, tag string, line int) value {
	return value{&yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: text, Line: line}}
}

// Trial is draw i (0-based) of every parameter.
func (r *Search) Trial(i int) []Setting {
	u := r.draw(i)
	out := make([]Setting, len(r.Params))
	for j, p := range r.Params {
		out[j] = Setting{Key: p.Key, Value: p.at(u[j])}
	}
	return out
}

// sameDraw reports whether trials i and j drew the same value of every
// parameter before rounding to 4 significant digits (the same choice or
// integer, or the same number): a true repeat, not two close draws.
func (r *Search) sameDraw(i, j int) bool {
	a, b := r.draw(i), r.draw(j)
	for k, p := range r.Params {
		switch p.Dist {
		case "choice", "int":
			if p.at(a[k]).String() != p.at(b[k]).String() {
				return false
			}
		default:
			if a[k] != b[k] {
				return false
			}
		}
	}
	return true
}

// draw is trial i's point in the unit cube, one coordinate per parameter.
func (r *Search) draw(i int) []float64 {
	var u []float64
	if r.Method == "sobol" {
		// A random digital shift per dimension from the seed, so that seeds
		// give different point sets, equally stratified.
		g := rand.New(rand.NewPCG(r.Seed, 0x50b01))
		shift := make([]uint32, len(r.Params))
		for j := range shift {
			shift[j] = g.Uint32()
		}
		u = sobolPoint(i, len(r.Params), shift)
	} else {
		g := rand.New(rand.NewPCG(r.Seed, uint64(i)))
		for range r.Params {
			u = append(u, g.Float64())
		}
	}
	return u
}

// EarlyStop is sweep.early_stop: rung epochs at which weak trials stop,
// ranked by an epoch metric (mean over seeds).
type EarlyStop struct {
	Metric    string
	Mode      string // max or min
	Rungs     []int  // epochs, increasing
	Eta       int    // keep the top 1/Eta at each rung
	Decisions string // sync (successive halving) or async (ASHA)
	line      int
}

// EpochMetrics are the metrics recorded after every epoch, which rungs can rank by.
func EpochMetrics() []string {
	var keys []string
	for _, m := range (vae.EvalResult{}).Metrics() {
		keys = append(keys, m.Key)
	}
	return keys
}

func (s *Spec) parseEarlyStop(n *yaml.Node) error {
	fields, err := s.fields(n, "sweep.early_stop", "metric", "mode", "rungs", "eta", "decisions")
	if err != nil {
		return err
	}
	e := &EarlyStop{Metric: "test/elbo", Eta: 3, Decisions: "sync", line: n.Line}
	if m := fields["metric"]; m != nil {
		if !slices.Contains(EpochMetrics(), m.Value) {
			return s.errorf(m.Line, "sweep.early_stop.metric: %q is not a metric recorded after each epoch (%v)", m.Value, EpochMetrics())
		}
		e.Metric = m.Value
	}
	e.Mode = "max"
	if e.Metric != vae.KeyTestELBO {
		e.Mode = "min"
	}
	if m := fields["mode"]; m != nil {
		if m.Value != "max" && m.Value != "min" {
			return s.errorf(m.Line, "sweep.early_stop.mode: %q: want max or min", m.Value)
		}
		e.Mode = m.Value
	}
	r := fields["rungs"]
	if r == nil || r.Kind != yaml.SequenceNode || len(r.Content) == 0 {
		return s.errorf(n.Line, "sweep.early_stop.rungs: want a non-empty list of epochs, e.g. [2, 6]")
	}
	for i, c := range r.Content {
		f, ok := number(c)
		if !ok || f != math.Trunc(f) || f < 1 {
			return s.errorf(c.Line, "sweep.early_stop.rungs[%d]: want a positive number of epochs, got %s", i, describe(c))
		}
		if i > 0 && int(f) <= e.Rungs[i-1] {
			return s.errorf(c.Line, "sweep.early_stop.rungs[%d]: %v is not after the rung before it (%d); rungs must increase", i, f, e.Rungs[i-1])
		}
		e.Rungs = append(e.Rungs, int(f))
	}
	if v := fields["eta"]; v != nil {
		f, ok := number(v)
		if !ok || f != math.Trunc(f) || f < 2 || f > 100 {
			return s.errorf(v.Line, "sweep.early_stop.eta: want an integer from 2 to 100 (each rung keeps the top 1/eta), got %s", describe(v))
		}
		e.Eta = int(f)
	}
	if d := fields["decisions"]; d != nil {
		if d.Value != "sync" && d.Value != "async" {
			return s.errorf(d.Line, "sweep.early_stop.decisions: %q: want sync (successive halving) or async (ASHA)", d.Value)
		}
		e.Decisions = d.Value
	}
	s.lines["sweep.early_stop.rungs"] = r.Line
	s.EarlyStop = e
	return nil
}

// checkRungs refuses a rung at or beyond the run's training epochs: its
// last rung must leave epochs to train after the last decision.
func (e *EarlyStop) checkRungs(epochs int) error {
	if last := e.Rungs[len(e.Rungs)-1]; last >= epochs {
		return fmt.Errorf("sweep.early_stop.rungs: the last rung, epoch %d, is not before train.epochs %d; rungs must come before the end of training", last, epochs)
	}
	return nil
}
