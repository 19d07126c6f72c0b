// Package report renders stored experiments as one self-contained HTML page
// (html/template, inline SVG plots from gonum/plot, inline PNG grids) and
// exports their tables as CSV, Markdown and LaTeX.
package report

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vaelab/vaelab/evaluate"
	"github.com/vaelab/vaelab/internal/atomicfile"
	"github.com/vaelab/vaelab/internal/safefile"
	"github.com/vaelab/vaelab/metrics"
	"github.com/vaelab/vaelab/record"
	"github.com/vaelab/vaelab/vae"
)

//go:embed template.html
var templates embed.FS

// Options narrow and instrument a report.
type Options struct {
	// Runs keeps only runs whose id starts with one of these prefixes.
	Runs []string
	// Progress, if set, hears how many of the runs have been read.
	Progress func(done, total int)
}

// Page is everything the template shows.
type Page struct {
	Title     string
	Generated string
	Metrics   []Metric
	// SamplerMetrics are the columns of each section's sampler table.
	SamplerMetrics []Metric
	Sections       []*Section
	// Comparison holds every configuration of every experiment, when the page has several.
	Comparison []Row
}

// Section is one experiment.
type Section struct {
	record.ExperimentInfo
	// Ranking opens the section: configuration × sampler by the primary
	// metric, with intervals and the distinguishability test (ranking.go).
	Ranking      *Ranking
	Anchor       string
	StatusCounts []StatusCount
	Axes         []string // the keys that vary between runs
	Summary      []Row    // one per configuration
	// Samplers compares the post-hoc samplers: a row per configuration and
	// sampler, when a run has a sampler other than the prior.
	Samplers  []Row
	Baseline  string     // the real-vs-real values, and their protocol
	FaceSpace *FaceSpace // the dlib feature space's validation, nil when no run used it
	// Metrics and SamplerMetrics are the columns of the summary and sampler
	// tables that have a value for some run (MIG without factors has none).
	Metrics, SamplerMetrics []Metric
	Curves                  []template.HTML
	RateDist                template.HTML
	// RateDistLegend names each configuration's marker in the
	// rate–distortion plot; RateDistNote says what a point is.
	RateDistLegend []LegendEntry
	RateDistNote   string
	Effects        []template.HTML
	Search         *Search          // the random search and its rungs, nil without sweep.random
	Diverged       []record.RunInfo // the first maxDetailedRuns diverged runs
	DivergedMore   int              // the diverged runs past them
	Stability      []StabilityRow
	// Strip compares configurations' images row under row; Images holds
	// each configuration's full grids (from the run the strip shows), each
	// grid once on the page.
	Strip  *Strip
	Images []ImageRow
	// ImagesLeftOut counts configurations past maxImageGroups, whose
	// images the page leaves out.
	ImagesLeftOut int
	Columns       []Column // the per-run metric table's columns
	Runs          []Run
	// Undetailed counts the runs without a row and details (past
	// maxDetailedRuns): the page says how to see them.
	Undetailed int
	Protocols  []record.Summary // one protocol per metric key
	RunImages  bool             // per-run image grids are shown (small experiments)
	NotInSpec  []record.RunInfo // linked by an earlier version of the spec: flagged, not compared
	// Evaluations are the evaluation hashes whose scores the section shows
	// (one per eval settings of the spec), with how many runs use each.
	Evaluations []EvalCount
	Managed     Managed // tags and notes
	// allSummary is Summary with every column, for the comparison of
	// experiments (whose columns are those of all its sections).
	allSummary []Row
}

// EvalCount is how many runs of a section are scored by one evaluation.
type EvalCount struct {
	Hash string
	N    int
	Done int // of them finished (done): the runs its scores average
}

// StatusCount is the number of runs in one status.
type StatusCount struct {
	Status string
	N      int
}

// Row is one configuration in a summary table.
type Row struct {
	Experiment, Label string
	Seeds, Diverged   int
	SeedsText         string // Seeds, or "2 of 3" when not all have finished (Group.SeedsText)
	Cells             []Cell
}

// Cell is a formatted mean ± std, marked when it is the best of its column.
type Cell struct {
	Text string
	Best bool
	// NoBest keeps the cell out of the best marks (a sharpness ratio that
	// noise raised).
	NoBest bool
	sample Sample // the per-run values, which markRows tests
}

// StabilityRow summarises a configuration's training stability over its
// seeds: the share of steps with loss spikes and with gradient-norm spikes
// (see spikeShare), the stored gradient-norm percentiles, divergence.
type StabilityRow struct {
	Label                                    string
	Seeds, Diverged                          int
	LossSpikes, GradSpikes, GradP50, GradP99 string
	Unstable                                 bool
}

// LegendEntry is one configuration's marker in a plot's legend.
type LegendEntry struct {
	Label  string
	Marker template.HTML
}

// ImageRow shows a configuration's images (from the run the strip shows).
type ImageRow struct {
	Label, RunID           string
	SharpSamples, SharpRec string
	// SpecSamples and SpecRec say whether the high band has a deficit (blur)
	// or an excess (noise) of power against the data, which sharpness alone
	// cannot tell apart.
	SpecSamples, SpecRec string
	Grids                []Grid
}

// Column is one metric column of the per-run metric table.
type Column struct {
	Title, Key, Format, Help string
}

// Run is one run's row and details.
type Run struct {
	record.RunInfo
	Values          []string // Varying values in Axes order
	ELBO, KL, Recon string
	Cells           []string // in Columns order
	Duration        string
	Values2         []KeyValue // every stored final value
	Grids           []Grid
	// GridsAbove says the run's grids are shown for its configuration
	// (Section.Images) rather than here: each grid appears once.
	GridsAbove bool
	Curve      template.HTML // the run's training loss and test ELBO (small experiments)
	Events     []record.Event
}

// KeyValue is a stored value, formatted.
type KeyValue struct{ Key, Value string }

// Grid is an image artifact inlined as a data URI.
type Grid struct {
	Kind    string
	URI     template.URL
	Problem string // why the image is not shown, if it is not
	// Artifact is "RUN/KIND": the page shows each artifact once, which a
	// test checks by this mark.
	Artifact string
}

// maxRunImages bounds the experiments whose every run gets its image grids;
// larger ones show images per configuration only, to keep the page small.
const maxRunImages = 24

// maxImageGroups bounds the configurations whose images (strip and grids)
// the page inlines: each costs tens of kilobytes.
const maxImageGroups = 40

// curve is one plot of the training-curves section.
type curve struct {
	key, title, xLabel, yLabel string
	byEpoch, rising            bool
	// objective, if set, limits the plot to that objective's configurations.
	objective string
}

// curves are the plots of the training-curves section.
func curves() []curve {
	return []curve{
		// The ELBO and its two terms are the same quantities whatever the
		// objective, so every run shares these axes.
		{vae.KeyELBO, "ELBO per step, every objective (higher is better)", "step", "nats per image", false, true, ""},
		{vae.KeyRecon, "Reconstruction term −log p(x|z) per step, every objective", "step", "nats per image", false, false, ""},
		{vae.KeyKL, "KL(q(z|x) ‖ p(z)) per step, every objective", "step", "nats per image", false, false, ""},
		{vae.KeyTestELBO, "Test ELBO after each epoch (higher is better)", "epoch", "nats per image", true, true, ""},
		{vae.KeyCapacity, "Capacity target C(t) per step (capacity objective; plotted where a run has one)", "step", "nats per image", false, true, ""},
		{vae.KeyTC, "Total correlation estimated in each batch (beta_tc objective)", "step", "nats per image", false, false, ""},
		{vae.KeyMI, "Index-code mutual information estimated in each batch (beta_tc objective)", "step", "nats per image", false, false, ""},
		{vae.KeyGECOLambda, "GECO's Lagrange multiplier λ(t) per step (geco objective)", "step", "λ", false, true, ""},
		{vae.KeyGECOMSE, "Mean squared error per pixel of each batch (geco objective; its target is κ)", "step", "MSE per pixel", false, false, ""},
	}
}

func metricColumns() []Column {
	var cols []Column
	for _, m := range evaluate.Catalogue() {
		help := m.Meaning
		if a := m.Dir.Arrow(); a != "" {
			help += " (" + a + ")"
		}
		cols = append(cols, Column{Title: m.Title, Key: m.Key, Format: fmt.Sprintf("%%.%df", m.Digits), Help: help})
	}
	return cols
}

// Build reads experiments from the store and prepares their page.
func Build(ctx context.Context, st record.Reader, experiments []string, opt Options) (*Page, error) {
	if len(experiments) == 0 {
		return nil, fmt.Errorf("report: name at least one experiment")
	}
	page := &Page{
		Title:          "vaelab report: " + strings.Join(experiments, ", "),
		Generated:      time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		Metrics:        SummaryMetrics(),
		SamplerMetrics: evaluate.SamplerTable(),
	}
	for i, name := range experiments {
		sec, err := buildSection(ctx, st, name, opt)
		if err != nil {
			return nil, err
		}
		sec.Anchor = fmt.Sprintf("exp%d", i)
		page.Sections = append(page.Sections, sec)
		if len(experiments) > 1 {
			page.Comparison = append(page.Comparison, sec.allSummary...)
		}
	}
	if len(page.Comparison) > 0 {
		markRows(page.Comparison, page.Metrics)
		page.Comparison, page.Metrics = dropEmptyColumns(page.Comparison, page.Metrics)
	}
	return page, nil
}

// evalCounts counts the runs of each evaluation hash, in order of first use.
func evalCounts(rs []record.RunInfo) []EvalCount {
	var out []EvalCount
	for _, r := range rs {
		i := slices.IndexFunc(out, func(e EvalCount) bool { return e.Hash == r.EvalHash })
		if i < 0 {
			out = append(out, EvalCount{Hash: r.EvalHash})
			i = len(out) - 1
		}
		out[i].N++
		if r.Status == record.StatusDone {
			out[i].Done++
		}
	}
	return out
}

func buildSection(ctx context.Context, st record.Reader, name string, opt Options) (*Section, error) {
	info, err := st.Experiment(ctx, name)
	if err != nil {
		return nil, err
	}
	rs, notInSpec, err := loadRuns(ctx, st, name, opt.Runs)
	if err != nil {
		return nil, err
	}
	sec := &Section{ExperimentInfo: info, NotInSpec: infos(notInSpec), Axes: varyingAxes(infos(rs)), Columns: nonEmptyColumns(metricColumns(), rs), RunImages: len(rs) <= maxRunImages,
		Evaluations: evalCounts(infos(rs))}
	if sec.Managed, err = readManaged(ctx, st, name, infos(append(slices.Clone(rs), notInSpec...))); err != nil {
		return nil, err
	}
	for _, s := range []string{record.StatusDone, record.StatusDiverged, record.StatusFailed, record.StatusInterrupted, record.StatusRunning, record.StatusPending, record.StatusPaused, record.StatusStopped} {
		if n := info.Counts[s]; n > 0 {
			sec.StatusCounts = append(sec.StatusCounts, StatusCount{s, n})
		}
	}
	groups := groupRuns(name, rs, sec.Axes)
	ms := SummaryMetrics()
	markBest(groups, ms)
	sec.Ranking = buildRanking(groups, specPrimary(info.SpecText))
	reps, seed, common := representatives(groups)
	shown := map[string]bool{} // runs whose grids are shown per configuration
	for i, r := range reps {
		if r != nil && i < maxImageGroups {
			shown[r.ID] = true
		}
	}
	// Each run's series is read once, folded into its configuration's
	// curves and stability, and dropped (see fold.go); only the search's
	// one metric is kept per run.
	f := newFolder(groups)
	searchKey, searching := searchMetric(info)
	searchSeries := map[string]map[string][]record.Point{}
	keep := detailed(rs, maxDetailedRuns)
	for i, r := range rs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		m, err := st.Metrics(ctx, r.info.ID)
		if err != nil {
			return nil, err
		}
		f.add(r.info.ID, m)
		if searching {
			searchSeries[r.info.ID] = map[string][]record.Point{searchKey: m[searchKey]}
		}
		if keep[i] {
			row, err := buildRun(ctx, st, r, sec, sec.RunImages && !shown[r.info.ID])
			if err != nil {
				return nil, err
			}
			row.GridsAbove = shown[r.info.ID]
			if sec.RunImages {
				if row.Curve, err = runCurve(m); err != nil {
					return nil, err
				}
			}
			sec.Runs = append(sec.Runs, row)
		} else {
			sec.Undetailed++
		}
		if opt.Progress != nil {
			opt.Progress(i+1, len(rs))
		}
	}
	for _, g := range groups {
		sec.Summary = append(sec.Summary, summaryRow(g, ms))
	}
	sec.allSummary = slices.Clone(sec.Summary)
	sec.Summary, sec.Metrics = dropEmptyColumns(sec.Summary, ms)
	sec.Samplers, sec.SamplerMetrics = dropEmptyColumns(samplerRows(groups), evaluate.SamplerTable())
	sec.Baseline, sec.Protocols = baselineAndProtocols(rs)
	sec.FaceSpace = faceSpace(rs)
	// Each plot of thousands of runs takes a while: a cancelled report
	// (Ctrl-C, SIGTERM) stops between them.
	if sec.Curves, err = f.curves(ctx); err != nil {
		return nil, err
	}
	if sec.RateDist, sec.RateDistLegend, sec.RateDistNote, err = rateDistortion(rs, groups); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if sec.Effects, err = effects(rs, sec.Axes); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if searching {
		if sec.Search, err = buildSearch(info, rs, searchSeries); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sec.Diverged, sec.Stability = stability(rs, groups, f.stab)
	if len(sec.Diverged) > maxDetailedRuns {
		sec.Diverged, sec.DivergedMore = sec.Diverged[:maxDetailedRuns], len(sec.Diverged)-maxDetailedRuns
	}
	imgGroups, imgReps := groups, reps
	if len(groups) > maxImageGroups {
		imgGroups, imgReps = groups[:maxImageGroups], reps[:maxImageGroups]
		sec.ImagesLeftOut = len(groups) - maxImageGroups
	}
	arts, err := representativeArtifacts(ctx, st, imgReps)
	if err != nil {
		return nil, err
	}
	sec.Strip = buildStrip(imgGroups, arts, seed, common)
	sec.Images = imageRows(imgGroups, imgReps, arts)
	return sec, ctx.Err()
}

// representativeArtifacts reads the files each representative run recorded
// under its evaluation (nil where a configuration has none), once for the
// strip and the image rows both.
func representativeArtifacts(ctx context.Context, st record.Reader, reps []*record.RunInfo) ([]map[string]record.Artifact, error) {
	out := make([]map[string]record.Artifact, len(reps))
	for i, r := range reps {
		if r == nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		arts, err := st.ArtifactsAt(ctx, r.ID, r.EvalHash)
		if err != nil {
			return nil, err
		}
		out[i] = arts
	}
	return out, nil
}

// nonEmptyColumns keeps the columns some run has a value for.
func nonEmptyColumns(cols []Column, rs []runData) []Column {
	var out []Column
	for _, c := range cols {
		for _, r := range rs {
			if _, ok := r.sums[c.Key]; ok {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// dropEmptyColumns leaves out the metrics no row has a value for (all "—"),
// with their cells.
func dropEmptyColumns(rows []Row, ms []Metric) ([]Row, []Metric) {
	var keep []int
	for j := range ms {
		for _, r := range rows {
			if r.Cells[j].Text != "—" {
				keep = append(keep, j)
				break
			}
		}
	}
	kept := make([]Metric, 0, len(keep))
	for _, j := range keep {
		kept = append(kept, ms[j])
	}
	for i := range rows {
		cells := make([]Cell, 0, len(keep))
		for _, j := range keep {
			cells = append(cells, rows[i].Cells[j])
		}
		rows[i].Cells = cells
	}
	return rows, kept
}

func summaryRow(g *Group, ms []Metric) Row {
	row := Row{Experiment: g.Experiment, Label: g.Label, Seeds: len(g.Runs), SeedsText: g.SeedsText(), Diverged: g.Diverged}
	for _, m := range ms {
		s, ok := g.Stats[m.Key]
		c := Cell{Text: FormatStat(s, ok, m.Digits), Best: g.Best[m.Key], sample: g.values(m.Key)}
		if sharpnessIsNoise(g, m.Key) {
			c.Text, c.NoBest = c.Text+" (noise)", true
		}
		row.Cells = append(row.Cells, c)
	}
	return row
}

// samplerRows is a row per configuration and sampler of the sample-quality
// metrics, best cells marked over all rows; none when only the prior was
// scored.
func samplerRows(groups []*Group) []Row {
	var rows []Row
	ms := evaluate.SamplerTable()
	for _, g := range groups {
		names := evaluate.SamplersIn(slices.Collect(maps.Keys(g.Stats)))
		if len(names) < 2 {
			continue
		}
		for _, name := range names {
			row := Row{Experiment: g.Experiment, Label: g.Label + " · " + name, Seeds: len(g.Runs), SeedsText: g.SeedsText(), Diverged: g.Diverged}
			for _, m := range ms {
				key := evaluate.SamplerKey(name, m.Key)
				s, ok := g.Stats[key]
				row.Cells = append(row.Cells, Cell{Text: FormatStat(s, ok, m.Digits), sample: g.values(key)})
			}
			rows = append(rows, row)
		}
	}
	markRows(rows, ms)
	return rows
}

// buildRun makes a run's row and details; grids says whether its image
// grids go with it (small experiments, runs whose grids are not already
// shown for their configuration).
func buildRun(ctx context.Context, st record.Reader, r runData, sec *Section, grids bool) (Run, error) {
	row := Run{RunInfo: r.info, ELBO: "—", KL: "—", Recon: "—"}
	for _, a := range sec.Axes {
		row.Values = append(row.Values, r.info.Varying[a])
	}
	if d := r.info.Duration(); d > 0 {
		row.Duration = d.Round(100 * time.Millisecond).String()
	}
	format := func(key, f string) string {
		if s, ok := r.sums[key]; ok {
			return fmt.Sprintf(f, s.Value)
		}
		return "—"
	}
	row.ELBO, row.KL, row.Recon = format("test/elbo", "%.2f"), format("test/kl", "%.2f"), format("test/recon", "%.2f")
	for _, c := range sec.Columns {
		row.Cells = append(row.Cells, format(c.Key, c.Format))
	}
	for _, k := range sortedKeys(r.sums) {
		row.Values2 = append(row.Values2, KeyValue{k, strconv.FormatFloat(r.sums[k].Value, 'g', 6, 64)})
	}
	if grids {
		arts, err := st.ArtifactsAt(ctx, r.info.ID, r.info.EvalHash)
		if err != nil {
			return row, err
		}
		for _, kind := range withSamplerGrids(arts, "reconstructions", "samples", "traversals") {
			row.Grids = append(row.Grids, inlinePNG(arts[kind]))
		}
	}
	events, err := st.Events(ctx, "", r.info.ID)
	row.Events = events
	return row, err
}

// runCurve draws one run's −ELBO on its training batches per step and on
// the test set after each epoch (at its last step): the same quantity for
// every objective, where its training loss (GECO's Lagrangian, the IWAE
// bound, …) would not share an axis with the test ELBO.
func runCurve(m map[string][]record.Point) (template.HTML, error) {
	var bands []band
	for _, key := range []string{vae.KeyELBO, vae.KeyTestELBO} {
		name := "−ELBO of the training batches (per step)"
		if key == vae.KeyTestELBO {
			name = "−test ELBO (after each epoch)"
		}
		b := band{Name: name}
		for _, p := range m[key] {
			v := -p.Value
			b.X, b.Mean, b.Lower, b.Upper = append(b.X, float64(p.Step)), append(b.Mean, v), append(b.Lower, v), append(b.Upper, v)
		}
		bands = append(bands, b)
	}
	return bandSVG("−ELBO in training and on the test set", "step", "nats per image", bands, true, true, maxPoints)
}

// baselineAndProtocols describes the real-vs-real values and lists each
// metric's protocol once (from the first run that has it).
func baselineAndProtocols(rs []runData) (string, []record.Summary) {
	seen := map[string]record.Summary{}
	for _, r := range rs {
		for k, s := range r.sums {
			if _, ok := seen[k]; !ok && s.Protocol != "" && !strings.HasPrefix(k, "posterior/kl_dim_") {
				seen[k] = s
			}
		}
	}
	var protos []record.Summary
	for _, k := range sortedKeys(seen) {
		protos = append(protos, seen[k])
	}
	id := metrics.ExtractorID()
	for _, r := range rs {
		if fd, ok := r.sums["real/fd_"+id]; ok {
			s := r.sums
			return fmt.Sprintf("Real-vs-real baseline at the same N (test against training images): FD %s %.4f, FD∞ %.4f, KID %.5f, precision %.3f, recall %.3f, SWD %.4f.",
				id, fd.Value, s["real/fd_"+id+"_inf"].Value, s["real/kid_"+id].Value, s["real/precision_"+id].Value,
				s["real/recall_"+id].Value, s["real/swd"].Value), protos
		}
	}
	return "", protos
}

// pointBudget bounds the points of one plot; lines share it, so a plot of
// many configurations stays small. Stored data are never thinned.
const pointBudget = 20000

// maxScatterRuns bounds the points of the rate–distortion plot: past it
// each configuration is drawn as its mean over seeds.
const maxScatterRuns = 2000

// rateDistortion plots each finished run's test KL (rate) against its
// reconstruction term (distortion), one marker (colour and shape) per
// configuration, named in an HTML legend below the plot (a legend inside
// would cover the points of a dozen long labels).
func rateDistortion(rs []runData, groups []*Group) (template.HTML, []LegendEntry, string, error) {
	done := 0
	for _, r := range rs {
		_, ok1 := r.sums["test/kl"]
		_, ok2 := r.sums["test/recon"]
		if ok1 && ok2 && r.info.Status == record.StatusDone {
			done++
		}
	}
	if done == 0 {
		return "", nil, "", nil
	}
	perRun := done <= maxScatterRuns
	var pts []point
	var labels []string
	for _, g := range groups {
		labels = append(labels, g.Label)
		if !perRun {
			kl, ok1 := g.Stats["test/kl"]
			rec, ok2 := g.Stats["test/recon"]
			if ok1 && ok2 && kl.N > 0 {
				pts = append(pts, point{X: kl.Mean, Y: rec.Mean, Group: g.Label})
			}
			continue
		}
		for _, r := range g.members {
			kl, ok1 := r.sums["test/kl"]
			rec, ok2 := r.sums["test/recon"]
			if ok1 && ok2 && r.info.Status == record.StatusDone {
				pts = append(pts, point{X: kl.Value, Y: rec.Value, Group: g.Label})
			}
		}
	}
	note := "Each point is a finished run; the marker (colour and shape) names its configuration."
	if !perRun {
		note = fmt.Sprintf("Each point is a configuration's mean over its finished runs (%d runs are too many to draw one by one); the marker names the configuration.", done)
	}
	if len(groups) > maxMarkers {
		note += fmt.Sprintf(" %d configurations share %d distinct markers: only the first %d are named below, and markers repeat after them.", len(groups), maxMarkers, maxMarkers)
	}
	svg, err := scatterSVG("Rate–distortion: test KL against reconstruction", "rate: KL (nats)", "distortion: −log p(x|z) (nats)", pts, labels, false)
	if err != nil {
		return "", nil, "", err
	}
	var legend []LegendEntry
	for i, l := range labels[:min(len(labels), maxMarkers)] {
		m, err := markerSVG(i)
		if err != nil {
			return "", nil, "", err
		}
		legend = append(legend, LegendEntry{Label: l, Marker: m})
	}
	return svg, legend, note, nil
}

// effectMetrics are plotted against each sweep axis.
func effectMetrics() []Metric { return evaluate.EffectPlots() }

// effects plots, for each sweep axis, each key metric's mean ± std over the
// finished runs at each value of the axis.
func effects(rs []runData, axes []string) ([]template.HTML, error) {
	var out []template.HTML
	for _, axis := range axes {
		if axis == "seed" {
			continue
		}
		var labels []string
		atLevel := map[string][]runData{} // the finished runs at each value of the axis
		for _, r := range rs {
			v := r.info.Varying[axis]
			if _, seen := atLevel[v]; !seen {
				labels = append(labels, v)
			}
			if r.info.Status == record.StatusDone {
				atLevel[v] = append(atLevel[v], r)
			} else if atLevel[v] == nil {
				atLevel[v] = []runData{}
			}
		}
		if len(labels) < 2 {
			continue
		}
		x := axisPositions(labels)
		for _, m := range effectMetrics() {
			e := effect{}
			for i, l := range labels {
				var v []float64
				for _, r := range atLevel[l] {
					if s, ok := r.sums[m.Key]; ok {
						v = append(v, s.Value)
					}
				}
				if len(v) == 0 {
					continue
				}
				st := meanStd(v)
				e.Labels, e.X = append(e.Labels, l), append(e.X, x[i])
				e.Mean, e.Std = append(e.Mean, st.Mean), append(e.Std, st.Std)
			}
			if len(e.X) < 2 {
				continue
			}
			svg, err := effectSVG(fmt.Sprintf("%s %s vs %s", m.Title, m.Dir.Arrow(), axis), axis, m.Title, e)
			if err != nil {
				return nil, err
			}
			out = append(out, svg)
		}
	}
	return out, nil
}

// axisPositions places axis values on the x axis: by value when all are
// numbers (sorted), evenly otherwise. Labels are sorted in place to match.
func axisPositions(labels []string) []float64 {
	nums := make([]float64, len(labels))
	numeric := true
	for i, l := range labels {
		v, err := strconv.ParseFloat(l, 64)
		numeric = numeric && err == nil
		nums[i] = v
	}
	if numeric {
		sort.Slice(labels, func(i, j int) bool {
			a, _ := strconv.ParseFloat(labels[i], 64)
			b, _ := strconv.ParseFloat(labels[j], 64)
			return a < b
		})
		for i, l := range labels {
			nums[i], _ = strconv.ParseFloat(l, 64)
		}
		return nums
	}
	for i := range nums {
		nums[i] = float64(i)
	}
	return nums
}

// stability lists diverged runs and summarises each configuration's
// curves (stab: per group, what each run's series said; see spikeShare).
func stability(rs []runData, groups []*Group, stab [][]runStability) ([]record.RunInfo, []StabilityRow) {
	var diverged []record.RunInfo
	for _, r := range rs {
		if r.info.Status == record.StatusDiverged {
			diverged = append(diverged, r.info)
		}
	}
	// The list is bounded like the runs' details (DivergedMore counts the
	// rest; each configuration's count is in its row).
	var rows []StabilityRow
	for i, g := range groups {
		row := StabilityRow{Label: g.Label, Seeds: len(g.Runs), Diverged: g.Diverged}
		var loss, grad, p50, p99 []float64
		for _, s := range stab[i] {
			loss, grad = append(loss, 100*s.lossSpikes), append(grad, 100*s.gradSpikes)
		}
		for _, r := range g.members {
			if s, ok := r.sums["stability/grad_norm_p50"]; ok {
				p50 = append(p50, s.Value)
			}
			if s, ok := r.sums["stability/grad_norm_p99"]; ok {
				p99 = append(p99, s.Value)
			}
		}
		f := func(v []float64, digits int) string { return FormatStat(meanStd(v), len(v) > 0, digits) }
		row.LossSpikes, row.GradSpikes, row.GradP50, row.GradP99 = f(loss, 2), f(grad, 2), f(p50, 2), f(p99, 2)
		row.Unstable = g.Diverged > 0 || (len(loss) > 0 && meanStd(loss).Mean > 100*unstableShare)
		rows = append(rows, row)
	}
	return diverged, rows
}

// imageRows gathers each configuration's full grids from its representative
// run (the one the strip shows), with its sharpness figures.
func imageRows(groups []*Group, reps []*record.RunInfo, repArts []map[string]record.Artifact) []ImageRow {
	var rows []ImageRow
	for i, g := range groups {
		r, arts := reps[i], repArts[i]
		if r == nil {
			continue
		}
		row := ImageRow{Label: g.Label, RunID: r.ID,
			SharpSamples: FormatStat(g.Stats["samples/sharpness_laplacian"], true, 3),
			SharpRec:     FormatStat(g.Stats["recon/sharpness_laplacian"], true, 3),
			SpecSamples:  spectrumVerdict(g.Stats, "samples/spectrum_db_4"),
			SpecRec:      spectrumVerdict(g.Stats, "recon/spectrum_db_4")}
		for _, kind := range withSamplerGrids(arts, "reconstructions", "samples", "traversals") {
			row.Grids = append(row.Grids, inlinePNG(arts[kind]))
		}
		rows = append(rows, row)
	}
	return rows
}

// spectrumVerdict describes a configuration's mean high-band power gap.
func spectrumVerdict(stats map[string]Stat, key string) string {
	s, ok := stats[key]
	if !ok {
		return ""
	}
	return metrics.SpectrumVerdict(s.Mean)
}

// withSamplerGrids lists the kinds among arts, with the grids of the
// post-hoc samplers (samples_NAME) right after the prior's samples.
func withSamplerGrids(arts map[string]record.Artifact, kinds ...string) []string {
	var out []string
	for _, kind := range kinds {
		if _, ok := arts[kind]; ok {
			out = append(out, kind)
		}
		if kind == "samples" {
			var more []string
			for k := range arts {
				if strings.HasPrefix(k, "samples_") {
					more = append(more, k)
				}
			}
			sort.Strings(more)
			out = append(out, more...)
		}
	}
	return out
}

// inlinePNG reads an artifact and checks it against its stored checksum.
func inlinePNG(a record.Artifact) Grid {
	g := Grid{Kind: a.Kind, Artifact: a.RunID + "/" + a.Kind}
	b, problem := readArtifact(a)
	if problem != "" {
		g.Problem = problem
		return g
	}
	g.URI = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b))
	return g
}

// readArtifact reads an artifact's file, bounded by its recorded size, and
// checks it against its stored checksum; problem says why it cannot be used.
func readArtifact(a record.Artifact) (b []byte, problem string) {
	b, err := safefile.Read(a.Path, safefile.RecordedLimit(a.Bytes, safefile.MaxImage))
	if err != nil {
		return nil, fmt.Sprintf("image file unreadable: %v", err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != a.SHA256 {
		return nil, "image file changed since the run wrote it (sha256 mismatch)"
	}
	return b, ""
}

// varyingAxes lists the keys whose values differ between runs (variant first, seed last).
func varyingAxes(rs []record.RunInfo) []string {
	values := map[string]map[string]bool{}
	for _, r := range rs {
		for k, v := range r.Varying {
			if values[k] == nil {
				values[k] = map[string]bool{}
			}
			values[k][v] = true
		}
	}
	var axes []string
	for k := range values {
		if k != "seed" && k != "variant" {
			axes = append(axes, k)
		}
	}
	sort.Strings(axes)
	if values["variant"] != nil {
		axes = append([]string{"variant"}, axes...)
	}
	return append(axes, "seed")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Render writes the page as HTML.
func Render(w io.Writer, p *Page) error {
	t, err := template.New("template.html").Funcs(template.FuncMap{
		"short":           func(s string) string { return s[:min(len(s), 12)] },
		"spikeWindow":     func() int { return spikeWindow },
		"spikeMADs":       func() int { return spikeMADs },
		"unstablePercent": func() float64 { return 100 * unstableShare },
		"kind": func(k string) string {
			if name, ok := strings.CutPrefix(k, "samples_"); ok {
				return "decoder means of draws of the " + name + " sampler"
			}
			return map[string]string{
				"reconstructions": "test images (odd rows) and their reconstructions (even rows)",
				"samples":         "decoder means of samples from the prior",
				"traversals":      "latent traversals of a test image: one row per latent dimension, swept over [−3, 3]",
			}[k]
		},
	}).ParseFS(templates, "template.html")
	if err != nil {
		return fmt.Errorf("parse report template: %w", err)
	}
	if err := t.Execute(w, p); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	return nil
}

// WriteFile builds the report of experiments and writes it to path atomically,
// so a reader never sees half a page. Once ctx is cancelled it returns
// ctx's error at once, writing nothing: the build, if still in a long step,
// is left to stop at its next check, and rendering stops at its next write.
func WriteFile(ctx context.Context, st record.Reader, experiments []string, path string, opt Options) error {
	type built struct {
		p   *Page
		err error
	}
	done := make(chan built, 1)
	go func() {
		p, err := Build(ctx, st, experiments, opt)
		done <- built{p, err}
	}()
	var b built
	select {
	case b = <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if b.err != nil {
		return b.err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	_, _, err := atomicfile.WriteTarget(path, func(w io.Writer) error { return Render(ctxWriter{ctx, w}, b.p) })
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// ctxWriter fails every write once ctx is cancelled, which stops a
// template's execution within one chunk of output.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
