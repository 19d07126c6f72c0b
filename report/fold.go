package report

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"slices"
	"sort"

	"github.com/vaelab/vaelab/record"
	"github.com/vaelab/vaelab/vae"
)

// A report reads each run's series once, folds it into its configuration's
// binned curves and its stability figures, and drops it: memory grows with
// the number of configurations and bins, not with runs × steps, so a report
// of 20,000 runs stays small (issue 28, point 9).

// binStat is one bin of a configuration's curve: over the runs that have
// points in it, the mean of their bin means, their min and max, and the
// mean position of the bin's points.
type binStat struct {
	n              int
	xSum, ySum     float64
	lo, hi         float64
	hasLo, hasHigh bool
}

// curveAcc is a configuration's curve of one key, binned by step (or epoch)
// in bins of width x units.
type curveAcc struct {
	width float64
	bins  []binStat
}

// newCurveAcc bins a curve of up to span x units into about n bins.
func newCurveAcc(span, n int) *curveAcc {
	return &curveAcc{width: math.Max(1, math.Ceil(float64(span)/float64(max(1, n))))}
}

// fold adds one run's series: its points are averaged within each bin
// first, so that every run weighs the same in a bin whatever its sampling.
func (c *curveAcc) fold(pts []record.Point, byEpoch bool) {
	var idx, cnt int
	var xs, ys float64
	flush := func() {
		if cnt == 0 {
			return
		}
		for len(c.bins) <= idx {
			c.bins = append(c.bins, binStat{})
		}
		b := &c.bins[idx]
		x, y := xs/float64(cnt), ys/float64(cnt)
		b.n++
		b.xSum += x
		b.ySum += y
		if !b.hasLo || y < b.lo {
			b.lo, b.hasLo = y, true
		}
		if !b.hasHigh || y > b.hi {
			b.hi, b.hasHigh = y, true
		}
		cnt, xs, ys = 0, 0, 0
	}
	for _, p := range pts {
		if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
			continue // a diverged step: it would blank the whole bin
		}
		x := float64(p.Step)
		if byEpoch {
			x = float64(p.Epoch)
		}
		i := int(math.Max(0, x) / c.width)
		if i != idx {
			flush()
			idx = i
		}
		cnt++
		xs += x
		ys += p.Value
	}
	flush()
}

// band is the configuration's mean curve over its runs with the min–max
// envelope of the runs' bin means.
func (c *curveAcc) band(name string) band {
	b := band{Name: name}
	for _, s := range c.bins {
		if s.n == 0 {
			continue
		}
		n := float64(s.n)
		b.X, b.Mean = append(b.X, s.xSum/n), append(b.Mean, s.ySum/n)
		b.Lower, b.Upper = append(b.Lower, s.lo), append(b.Upper, s.hi)
	}
	return b
}

// Spike detection, in the training loss and in the gradient norm: a step
// is a spike when its value exceeds the median of the previous spikeWindow
// steps by more than spikeMADs median absolute deviations. Median and MAD
// are shift- and scale-free, so the rule means the same for a loss near
// zero, one that crosses zero (GECO's Lagrangian, a Gaussian likelihood's
// −log p) and one in the thousands; std/|mean| does not (it explodes near
// a zero mean). unstableShare is the share of steps with loss spikes above
// which, or any divergence, a configuration is called unstable.
const (
	spikeWindow   = 50
	spikeMADs     = 6
	unstableShare = 0.01
)

// spikeShare is the share of steps (of those with a full window before
// them) that are spikes; 0 for series shorter than the window.
func spikeShare(v []float64) float64 {
	if len(v) <= spikeWindow {
		return 0
	}
	win := make([]float64, spikeWindow)
	dev := make([]float64, spikeWindow)
	spikes := 0
	for t := spikeWindow; t < len(v); t++ {
		copy(win, v[t-spikeWindow:t])
		med, mad := medianMADInto(win, dev)
		// A flat window has no spread: a floor relative to the level and an
		// absolute one keep rounding noise from counting as spikes.
		floor := 1e-6*math.Abs(med) + 1e-9
		if v[t] > med+spikeMADs*math.Max(mad, floor) {
			spikes++
		}
	}
	return float64(spikes) / float64(len(v)-spikeWindow)
}

// medianMADInto sorts w in place and uses dev (as long) as scratch.
func medianMADInto(w, dev []float64) (float64, float64) {
	sort.Float64s(w)
	med := median(w)
	for i, x := range w {
		dev[i] = math.Abs(x - med)
	}
	sort.Float64s(dev)
	return med, median(dev)
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// runStability is what one run's curves say of its stability.
type runStability struct {
	lossSpikes, gradSpikes float64 // shares of steps
	// measured says the run has more loss points than the window, so that
	// a share could be measured (a short run's 0 would claim too much).
	measured bool
}

func measureRun(series map[string][]record.Point, lossKey, gradKey string) runStability {
	values := func(pts []record.Point) []float64 {
		v := make([]float64, 0, len(pts))
		for _, p := range pts {
			if !math.IsNaN(p.Value) && !math.IsInf(p.Value, 0) {
				v = append(v, p.Value)
			}
		}
		return v
	}
	loss := values(series[lossKey])
	return runStability{lossSpikes: spikeShare(loss), gradSpikes: spikeShare(values(series[gradKey])), measured: len(loss) > spikeWindow}
}

// maxDetailedRuns bounds the runs that get a row in the runs table and a
// block of details: past it a page would grow with every run (127 MB at
// 20,000 runs) while no reader reads that far. The rest are counted, and
// `vaelab show RUN` or `vaelab report --runs` shows them.
const maxDetailedRuns = 200

// detailed picks the runs that get details, in their order: all when they
// fit, else the runs that failed, diverged or stopped unfinished first (they
// need a look), then the others in order.
func detailed(rs []runData, limit int) []bool {
	keep := make([]bool, len(rs))
	if len(rs) <= limit {
		for i := range keep {
			keep[i] = true
		}
		return keep
	}
	order := make([]int, len(rs))
	for i := range order {
		order[i] = i
	}
	finished := func(i int) bool { return rs[i].info.Status == record.StatusDone }
	slices.SortStableFunc(order, func(a, b int) int {
		switch fa, fb := finished(a), finished(b); {
		case fa == fb:
			return 0
		case !fa:
			return -1
		default:
			return 1
		}
	})
	for _, i := range order[:limit] {
		keep[i] = true
	}
	return keep
}

// panel is one plot of the training-curves section: a curve of some of the
// configurations (those of one objective, for the training loss).
type panel struct {
	c       curve
	members []bool      // by group index
	acc     []*curveAcc // by group index, nil until a run has points
	bins    int         // per configuration
}

// folder accumulates a section's curves and stability, run by run.
type folder struct {
	groups  []*Group
	groupOf map[string]int // run id → group index
	maxStep []int          // by group: the most steps any of its runs trained
	panels  []*panel
	stab    [][]runStability // by group, one per run with a loss series
}

// objectiveOf is the objective a configuration trains ("elbo" when unset).
func objectiveOf(g *Group) string {
	if len(g.Runs) == 0 {
		return "elbo"
	}
	var name string
	if err := json.Unmarshal([]byte(flatConfig(g.Runs[0].Config)["objective.type"]), &name); err != nil || name == "" {
		return "elbo"
	}
	return name
}

// lossPanels draws the training loss once per objective: each objective's
// loss is another quantity (GECO's Lagrangian, the IWAE bound, …), so they
// never share an axis or a title. The ELBO and its terms, which every
// objective records alike, are drawn for every run in curves().
func lossPanels(objectives []string) []curve {
	var out []curve
	seen := map[string]bool{}
	for _, name := range objectives {
		if seen[name] {
			continue
		}
		seen[name] = true
		text := "its own training loss"
		if o, err := vae.ObjectiveNamed(name); err == nil {
			text = o.LossText()
		}
		out = append(out, curve{key: vae.KeyLoss, objective: name,
			title: fmt.Sprintf("Training loss of the %s objective: %s, per step", name, text), xLabel: "step", yLabel: "nats per image"})
	}
	return out
}

func newFolder(groups []*Group) *folder {
	f := &folder{groups: groups, groupOf: map[string]int{}, maxStep: make([]int, len(groups)), stab: make([][]runStability, len(groups))}
	objectives := make([]string, len(groups))
	for i, g := range groups {
		objectives[i] = objectiveOf(g)
		for _, r := range g.Runs {
			f.groupOf[r.ID] = i
			f.maxStep[i] = max(f.maxStep[i], r.Steps)
		}
	}
	for _, c := range append(lossPanels(objectives), curves()...) {
		p := &panel{c: c, members: make([]bool, len(groups)), acc: make([]*curveAcc, len(groups))}
		n := 0
		for i := range groups {
			p.members[i] = c.objective == "" || objectives[i] == c.objective
			if p.members[i] {
				n++
			}
		}
		// The panel's point budget is shared by its lines.
		p.bins = min(maxPoints, max(20, pointBudget/max(1, n)))
		f.panels = append(f.panels, p)
	}
	return f
}

// add folds one run's series into its configuration's curves and notes its
// stability; the series can be dropped afterwards.
func (f *folder) add(runID string, series map[string][]record.Point) {
	g, ok := f.groupOf[runID]
	if !ok {
		return
	}
	for _, p := range f.panels {
		pts := series[p.c.key]
		if !p.members[g] || len(pts) == 0 {
			continue
		}
		if p.acc[g] == nil {
			// Bins are as wide for every run of the configuration: their
			// width comes from the longest run's steps (or this run's epochs).
			last := pts[len(pts)-1]
			span := max(f.maxStep[g], last.Step)
			if p.c.byEpoch {
				span = last.Epoch
			}
			p.acc[g] = newCurveAcc(span, p.bins)
		}
		p.acc[g].fold(pts, p.c.byEpoch)
	}
	if s := measureRun(series, vae.KeyLoss, vae.KeyGradNorm); s.measured {
		f.stab[g] = append(f.stab[g], s)
	}
}

// curves draws each panel: each configuration's mean curve over its seeds
// with the min–max band of their bin means.
func (f *folder) curves(ctx context.Context) ([]template.HTML, error) {
	var out []template.HTML
	for _, p := range f.panels {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var bands []band
		for i, acc := range p.acc {
			if acc != nil {
				bands = append(bands, acc.band(f.groups[i].Label))
			}
		}
		if len(bands) == 0 {
			continue
		}
		svg, err := bandSVG(p.c.title+" (mean over seeds, band: min–max)", p.c.xLabel, p.c.yLabel, bands, len(bands) <= 12, !p.c.rising, p.bins)
		if err != nil {
			return nil, err
		}
		if svg != "" {
			out = append(out, svg)
		}
	}
	return out, nil
}
