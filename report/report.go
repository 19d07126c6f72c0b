// Package report renders stored experiments as one self-contained HTML page
// (html/template, inline SVG plots from gonum/plot, inline PNG grids).
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
	"os"
	"sort"
	"time"

	"github.com/vaelab/vaelab/internal/atomicfile"
	"github.com/vaelab/vaelab/metrics"
	"github.com/vaelab/vaelab/runs"
	"github.com/vaelab/vaelab/vae"
)

//go:embed template.html
var templates embed.FS

// Page is everything the template shows.
type Page struct {
	Title     string
	Generated string
	Sections  []Section
}

// Section is one experiment.
type Section struct {
	runs.ExperimentInfo
	StatusCounts []StatusCount
	Axes         []string // the keys that vary between runs, as table columns
	Columns      []Column // the metrics table's columns
	Runs         []Run
	Curves       []template.HTML
	// Baseline describes the real-vs-real values of the sample-quality metrics.
	Baseline string
}

// Column is one metric column of the metrics table.
type Column struct {
	Title, Key, Format, Help string
}

// metricColumns are the metrics table's columns; a run lacking a key shows "—".
func metricColumns() []Column {
	id := metrics.ExtractorID()
	return []Column{
		{"IWAE", "test/iwae", "%.2f", "importance-weighted bound on test log-likelihood, nats (higher is better)"},
		{"active units", "posterior/active_units", "%.0f", "latent dimensions whose posterior mean varies across images (Var > 0.01)"},
		{"FD " + id + " samples", "samples/fd_" + id, "%.4f", "Fréchet distance of prior samples to test images in " + id + " features (lower is better)"},
		{"FD∞ samples", "samples/fd_" + id + "_inf", "%.4f", "the same, extrapolated to infinitely many samples"},
		{"KID samples", "samples/kid_" + id, "%.5f", "kernel distance of prior samples to test images"},
		{"precision", "samples/precision_" + id, "%.3f", "share of samples inside the real data's k-NN balls"},
		{"recall", "samples/recall_" + id, "%.3f", "share of real images inside the samples' k-NN balls"},
		{"SWD samples", "samples/swd", "%.4f", "sliced Wasserstein distance of Laplacian-pyramid patches"},
		{"FD recon", "recon/fd_" + id, "%.4f", "Fréchet distance of reconstructions to their test images"},
		{"sharpness samples", "samples/sharpness_laplacian", "%.3f", "Laplacian variance of samples over that of real images (1 = as sharp)"},
		{"sharpness recon", "recon/sharpness_laplacian", "%.3f", "Laplacian variance of reconstructions over that of real images"},
		{"MIG", "disent/mig", "%.3f", "mutual information gap to the synthetic faces' factors"},
		{"loss spikes", "stability/loss_spikes", "%.0f", "steps with a loss far above the recent median"},
		{"eval s", "eval/seconds", "%.1f", "wall time of these metrics"},
	}
}

// StatusCount is the number of runs in one status.
type StatusCount struct {
	Status string
	N      int
}

// Run is one row of the runs table and its details.
type Run struct {
	runs.RunInfo
	Values          []string // Varying values in Axes order
	ELBO, KL, Recon string
	Cells           []string       // metric values in Columns order
	Summaries       []runs.Summary // every stored final value, by key
	Duration        string
	Grids           []Grid
}

// Grid is an image artifact inlined as a data URI.
type Grid struct {
	Kind    string
	URI     template.URL
	Problem string // why the image is not shown, if it is not
}

// curve describes one plot of the training-curves section.
type curve struct {
	key, title, xLabel, yLabel string
	byEpoch                    bool
	rising                     bool // the curve climbs, so its legend goes at the bottom
}

var curves = []curve{
	{vae.KeyLoss, "Training loss (β-weighted −ELBO) per step", "step", "nats per image", false, false},
	{vae.KeyRecon, "Reconstruction −log p(x|z) per step", "step", "nats per image", false, false},
	{vae.KeyKL, "KL(q(z|x) ‖ p(z)) per step", "step", "nats per image", false, false},
	{vae.KeyTestELBO, "Test ELBO after each epoch (higher is better)", "epoch", "nats per image", true, true},
}

// Build reads an experiment from the store and prepares its page.
func Build(ctx context.Context, st *runs.Store, experiment string) (*Page, error) {
	info, err := st.Experiment(ctx, experiment)
	if err != nil {
		return nil, err
	}
	stored, err := st.Runs(ctx, experiment)
	if err != nil {
		return nil, err
	}
	sec := Section{ExperimentInfo: info, Axes: varyingAxes(stored), Columns: metricColumns()}
	for _, s := range []string{runs.StatusDone, runs.StatusDiverged, runs.StatusFailed, runs.StatusInterrupted, runs.StatusRunning, runs.StatusPending} {
		if n := info.Counts[s]; n > 0 {
			sec.StatusCounts = append(sec.StatusCounts, StatusCount{s, n})
		}
	}
	lines := make([][]series, len(curves))
	for _, r := range stored {
		row, metrics, baseline, err := buildRun(ctx, st, r, sec.Axes, sec.Columns)
		if err != nil {
			return nil, err
		}
		if baseline != "" {
			sec.Baseline = baseline
		}
		sec.Runs = append(sec.Runs, row)
		for i, c := range curves {
			s := series{Name: r.Label}
			for _, p := range metrics[c.key] {
				x := float64(p.Step)
				if c.byEpoch {
					x = float64(p.Epoch)
				}
				s.X, s.Y = append(s.X, x), append(s.Y, p.Value)
			}
			lines[i] = append(lines[i], s)
		}
	}
	for i, c := range curves {
		svg, err := lineSVG(c.title, c.xLabel, c.yLabel, lines[i], len(stored) <= 12, !c.rising)
		if err != nil {
			return nil, err
		}
		if svg != "" {
			sec.Curves = append(sec.Curves, svg)
		}
	}
	return &Page{
		Title:     "vaelab report: " + experiment,
		Generated: time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		Sections:  []Section{sec},
	}, nil
}

func buildRun(ctx context.Context, st *runs.Store, r runs.RunInfo, axes []string, cols []Column) (Run, map[string][]runs.Point, string, error) {
	row := Run{RunInfo: r, ELBO: "—", KL: "—", Recon: "—"}
	for _, a := range axes {
		row.Values = append(row.Values, r.Varying[a])
	}
	if d := r.Duration(); d > 0 {
		row.Duration = d.Round(100 * time.Millisecond).String()
	}
	sums, err := st.Summaries(ctx, r.ID)
	if err != nil {
		return row, nil, "", err
	}
	format := func(key string) string {
		if s, ok := sums[key]; ok {
			return fmt.Sprintf("%.2f", s.Value)
		}
		return "—"
	}
	row.ELBO, row.KL, row.Recon = format("test/elbo"), format("test/kl"), format("test/recon")
	for _, c := range cols {
		cell := "—"
		if s, ok := sums[c.Key]; ok {
			cell = fmt.Sprintf(c.Format, s.Value)
		}
		row.Cells = append(row.Cells, cell)
	}
	for _, k := range sortedKeys(sums) {
		row.Summaries = append(row.Summaries, sums[k])
	}
	baseline := ""
	id := metrics.ExtractorID()
	if fd, ok := sums["real/fd_"+id]; ok {
		baseline = fmt.Sprintf("Real-vs-real baseline at the same N: FD %s %.4f, FD∞ %.4f, KID %.5f, precision %.3f, recall %.3f, SWD %.4f. Protocol: %s",
			id, fd.Value, sums["real/fd_"+id+"_inf"].Value, sums["real/kid_"+id].Value, sums["real/precision_"+id].Value,
			sums["real/recall_"+id].Value, sums["real/swd"].Value, fd.Protocol)
	}
	arts, err := st.Artifacts(ctx, r.ID)
	if err != nil {
		return row, nil, "", err
	}
	for _, kind := range []string{"reconstructions", "samples"} {
		if a, ok := arts[kind]; ok {
			row.Grids = append(row.Grids, inlinePNG(a))
		}
	}
	series, err := st.Metrics(ctx, r.ID)
	return row, series, baseline, err
}

// inlinePNG reads an artifact and checks it against its stored checksum.
func inlinePNG(a runs.Artifact) Grid {
	g := Grid{Kind: a.Kind}
	b, err := os.ReadFile(a.Path)
	if err != nil {
		g.Problem = fmt.Sprintf("image file unreadable: %v", err)
		return g
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != a.SHA256 {
		g.Problem = "image file changed since the run wrote it (sha256 mismatch)"
		return g
	}
	g.URI = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b))
	return g
}

// varyingAxes lists the keys whose values differ between runs (seed last).
func varyingAxes(rs []runs.RunInfo) []string {
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

// Render writes the page as HTML.
func Render(w io.Writer, p *Page) error {
	t, err := template.New("template.html").Funcs(template.FuncMap{
		"short": func(s string) string { return s[:min(len(s), 12)] },
	}).ParseFS(templates, "template.html")
	if err != nil {
		return fmt.Errorf("parse report template: %w", err)
	}
	if err := t.Execute(w, p); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	return nil
}

// WriteFile builds the report of an experiment and writes it to path
// atomically, so a reader never sees half a page.
func WriteFile(ctx context.Context, st *runs.Store, experiment, path string) error {
	p, err := Build(ctx, st, experiment)
	if err != nil {
		return err
	}
	_, _, err = atomicfile.Write(path, 0o644, func(w io.Writer) error { return Render(w, p) })
	return err
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
