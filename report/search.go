package report

import (
	"fmt"
	"html/template"
	"image/color"
	"math"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/record"
)

// Search is the report's view of a random search (sweep.random) and its
// early stopping: the rung table, a parallel-coordinates plot of the trials
// coloured by the metric, and the metric against each searched parameter.
type Search struct {
	Metric   string
	Rungs    []RungRow
	Parallel template.HTML
	ByParam  []template.HTML
}

// RungRow is one rung: the configurations that reached it, were stopped
// there, and went on.
type RungRow struct {
	Rung                     string
	Reached, Stopped, WentOn int
}

// trial is one configuration of the search with its runs' state.
type trial struct {
	n      int
	values map[string]string
	metric float64 // at the last epoch every seed reached (mean over seeds)
	epoch  int
	done   bool
	runs   []runData
}

// buildSearch reads the search from the experiment's stored spec; nil when
// the spec has no random axes.
func buildSearch(info record.ExperimentInfo, rs []runData, series map[string]map[string][]record.Point) (*Search, error) {
	spec, err := experiments.Parse([]byte(info.SpecText), info.Name)
	if err != nil || spec.Random == nil {
		return nil, nil //nolint:nilerr // an unreadable old spec has no search view
	}
	metric, _ := searchMetric(info)
	trials := searchTrials(rs, series, metric)
	s := &Search{Metric: metric}
	if e := spec.EarlyStop; e != nil {
		s.Rungs = rungTable(e, spec.Base.Train.Epochs, trials)
	}
	if s.Parallel, err = parallelSVG(spec.Random, trials, metric); err != nil {
		return nil, err
	}
	for _, p := range spec.Random.Params {
		svg, err := paramSVG(p, trials, metric)
		if err != nil {
			return nil, err
		}
		s.ByParam = append(s.ByParam, svg)
	}
	return s, nil
}

// searchMetric is the metric a random search is judged by, the one series
// of each run its view needs; ok is false when the experiment is no search.
func searchMetric(info record.ExperimentInfo) (metric string, ok bool) {
	spec, err := experiments.Parse([]byte(info.SpecText), info.Name)
	if err != nil || spec.Random == nil {
		return "", false
	}
	if spec.EarlyStop != nil {
		return spec.EarlyStop.Metric, true
	}
	return "test/elbo", true
}

func searchTrials(rs []runData, series map[string]map[string][]record.Point, metric string) []*trial {
	byN := map[int]*trial{}
	for _, r := range rs {
		n, err := strconv.Atoi(r.info.Varying["trial"])
		if err != nil {
			continue
		}
		t := byN[n]
		if t == nil {
			t = &trial{n: n, values: r.info.Varying, done: true}
			byN[n] = t
		}
		t.runs = append(t.runs, r)
		t.done = t.done && r.info.Status == record.StatusDone
	}
	var out []*trial
	for _, t := range byN {
		// The last epoch all seeds reached, and the metric's mean there.
		t.epoch = math.MaxInt
		for _, r := range t.runs {
			pts := series[r.info.ID][metric]
			last := 0
			if len(pts) > 0 {
				last = pts[len(pts)-1].Epoch
			}
			t.epoch = min(t.epoch, last)
		}
		t.metric = math.NaN()
		if t.epoch > 0 {
			sum := 0.0
			for _, r := range t.runs {
				for _, p := range series[r.info.ID][metric] {
					if p.Epoch == t.epoch {
						sum += p.Value
					}
				}
			}
			t.metric = sum / float64(len(t.runs))
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].n < out[j].n })
	return out
}

// rungTable counts, per rung, the trials that reached it and those stopped
// there (by the reason their runs carry).
func rungTable(e *experiments.EarlyStop, epochs int, trials []*trial) []RungRow {
	var rows []RungRow
	for k, epoch := range e.Rungs {
		row := RungRow{Rung: fmt.Sprintf("rung %d: epoch %d", k+1, epoch)}
		prefix := fmt.Sprintf("stopped at rung %d ", k+1)
		for _, t := range trials {
			if t.epoch >= epoch {
				row.Reached++
			}
			if len(t.runs) > 0 && t.runs[0].info.Status == record.StatusStopped && strings.HasPrefix(t.runs[0].info.Error, prefix) {
				row.Stopped++
			}
		}
		row.WentOn = row.Reached - row.Stopped
		rows = append(rows, row)
	}
	end := RungRow{Rung: fmt.Sprintf("end: epoch %d", epochs)}
	for _, t := range trials {
		if t.done {
			end.Reached++
		}
	}
	return append(rows, end)
}

// unit maps a parameter's value to [0, 1] on its scale.
func unit(p experiments.SearchParam, text string) (float64, bool) {
	if p.Dist == "choice" {
		for i, c := range p.Choices {
			if c.String() == text {
				return float64(i) / math.Max(1, float64(len(p.Choices)-1)), true
			}
		}
		return 0, false
	}
	v, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return 0, false
	}
	if p.Dist == "log_uniform" {
		return (math.Log(v) - math.Log(p.Lo)) / (math.Log(p.Hi) - math.Log(p.Lo)), true
	}
	return (v - p.Lo) / (p.Hi - p.Lo), true
}

// metricColor runs from blue (the worst trial) to red (the best).
func metricColor(f float64) color.Color {
	return color.RGBA{R: uint8(40 + 200*f), G: 60, B: uint8(240 - 200*f), A: 255}
}

// metricRange is the metric's span over the trials, and whether higher is better.
func metricRange(trials []*trial) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, t := range trials {
		if !math.IsNaN(t.metric) {
			lo, hi = math.Min(lo, t.metric), math.Max(hi, t.metric)
		}
	}
	if hi <= lo {
		hi = lo + 1
	}
	return lo, hi
}

// parallelSVG draws one line per trial across an axis per searched
// parameter and one for the metric, each scaled to its range, coloured by
// the metric at the last epoch the trial reached.
func parallelSVG(r *experiments.Search, trials []*trial, metric string) (template.HTML, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Trials across the searched parameters, coloured by %s at the last epoch reached (red: highest)", metric)
	p.Add(plotter.NewGrid())
	lo, hi := metricRange(trials)
	for _, t := range trials {
		if math.IsNaN(t.metric) {
			continue
		}
		var xy plotter.XYs
		for i, par := range r.Params {
			if u, ok := unit(par, t.values[par.Key]); ok {
				xy = append(xy, plotter.XY{X: float64(i), Y: u})
			}
		}
		f := (t.metric - lo) / (hi - lo)
		xy = append(xy, plotter.XY{X: float64(len(r.Params)), Y: f})
		l, err := plotter.NewLine(xy)
		if err != nil {
			return "", fmt.Errorf("plot the trials: %w", err)
		}
		l.Color = metricColor(f)
		l.Width = vg.Points(1)
		p.Add(l)
	}
	ticks := []plot.Tick{}
	for i, par := range r.Params {
		ticks = append(ticks, plot.Tick{Value: float64(i), Label: par.Key})
	}
	ticks = append(ticks, plot.Tick{Value: float64(len(r.Params)), Label: metric})
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min, p.X.Max = -0.2, float64(len(r.Params))+0.2
	p.Y.Min, p.Y.Max = 0, 1
	p.Y.Label.Text = "position in its range (metric: lowest to highest)"
	return renderSVG(p, 7*vg.Inch, 3.6*vg.Inch)
}

// paramSVG plots the metric at the last epoch reached against one searched
// parameter, trials that trained to the end apart from those stopped.
func paramSVG(par experiments.SearchParam, trials []*trial, metric string) (template.HTML, error) {
	var pts []point
	for _, t := range trials {
		if math.IsNaN(t.metric) {
			continue
		}
		x, err := strconv.ParseFloat(t.values[par.Key], 64)
		if err != nil { // a choice: its position
			u, _ := unit(par, t.values[par.Key])
			x = u * float64(max(1, len(par.Choices)-1))
		}
		g := "stopped (value at its last epoch)"
		if t.done {
			g = "trained to the end"
		}
		pts = append(pts, point{X: x, Y: t.metric, Group: g})
	}
	return scatterSVG(fmt.Sprintf("%s vs %s (%s)", metric, par.Key, par.Dist), par.Key, metric, pts,
		[]string{"trained to the end", "stopped (value at its last epoch)"}, true)
}
