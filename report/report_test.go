package report

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vaelab/vaelab/metrics"
	"github.com/vaelab/vaelab/record"
	"github.com/vaelab/vaelab/vae"
)

func TestBinMeansKeepsShapeAndBounds(t *testing.T) {
	x, y := make([]float64, 1000), make([]float64, 1000)
	for i := range x {
		x[i], y[i] = float64(i), float64(2*i)
	}
	bx, by := binMeans(x, y, 100)
	if len(bx) != 100 || bx[0] != 4.5 || by[0] != 9 || bx[99] != 994.5 {
		t.Fatalf("bins: %d points, first (%v, %v), last x %v", len(bx), bx[0], by[0], bx[99])
	}
	sx, sy := binMeans(x[:50], y[:50], 100)
	if len(sx) != 50 || &sx[0] != &x[0] || &sy[0] != &y[0] {
		t.Fatal("short series should pass through unchanged")
	}
}

func TestVaryingAxesOrder(t *testing.T) {
	rs := []record.RunInfo{
		{Varying: map[string]string{"seed": "1", "variant": "a", "objective.beta": "1", "model.latent": "4"}},
		{Varying: map[string]string{"seed": "2", "variant": "b", "objective.beta": "2", "model.latent": "8"}},
	}
	want := []string{"variant", "model.latent", "objective.beta", "seed"}
	if got := varyingAxes(rs); !reflect.DeepEqual(got, want) {
		t.Fatalf("axes %v, want %v", got, want)
	}
}

func TestLineSVGEscapesLegendNames(t *testing.T) {
	svg, err := bandSVG(`<b>t</b>`, "x", "y", []band{{Name: `<script>alert(1)</script>`, X: []float64{1, 2}, Mean: []float64{3, 4}, Lower: []float64{2, 3}, Upper: []float64{4, 5}}}, true, true, 100)
	if err != nil {
		t.Fatal(err)
	}
	s := string(svg)
	if !strings.HasPrefix(s, `<figure class="plot"><figcaption>&lt;b&gt;t&lt;/b&gt;</figcaption><svg`) || strings.Contains(s, "<script>") || !strings.Contains(s, "&lt;script&gt;") {
		t.Fatalf("title or legend name not escaped, or not a figure of an svg element: %.200s", s)
	}
}

func TestLogScaleOnlyForWidePositiveCurves(t *testing.T) {
	mk := func(v ...float64) []band { return []band{{X: make([]float64, len(v)), Mean: v, Lower: v, Upper: v}} }
	for _, tc := range []struct {
		values []float64
		want   bool
	}{{[]float64{50, 2, 1}, true}, {[]float64{50, 20, 10}, false}, {[]float64{50, 0, 1}, false}, {[]float64{-500, -490}, false}} {
		if got := useLogScale(mk(tc.values...)); got != tc.want {
			t.Errorf("%v: log scale %v, want %v", tc.values, got, tc.want)
		}
	}
}

// A run scored with a second sampler gets the sampler table: a row per
// configuration and sampler, the better sampler's FD marked best.
func TestSamplerTable(t *testing.T) {
	ctx := context.Background()
	st, name := fakeExperiment(t, "name: samplers\nseeds: [1, 2]\n", 10, 3)
	rs, err := st.Runs(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	key := "samples_gmm/fd_" + metrics.ExtractorID()
	for _, r := range rs {
		if err := st.PutSummaries(ctx, r.ID, []record.Summary{{Key: key, Value: 0.001, Protocol: "p"}}); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "r.html")
	if err := WriteFile(ctx, st, []string{name}, path, Options{}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	page := string(b)
	i := strings.Index(page, "Sample quality by sampler")
	if i < 0 {
		t.Fatal("no sampler table")
	}
	table := page[i : strings.Index(page[i:], "</table>")+i]
	if !strings.Contains(table, "· prior") || !strings.Contains(table, "· gmm") {
		t.Fatalf("sampler rows missing:\n%s", table)
	}
	gmm := table[strings.Index(table, "· gmm"):]
	if !strings.Contains(gmm[:strings.Index(gmm, "</tr>")], `class="num best">0.0010 ± 0.0000`) {
		t.Errorf("the gmm row's FD is not marked best:\n%s", gmm)
	}
	single, _ := fakeExperiment(t, "name: one\nseeds: [1]\n", 10, 3)
	if err := WriteFile(ctx, single, []string{"one"}, path, Options{}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); strings.Contains(string(b), "Sample quality by sampler") {
		t.Error("a sampler table with the prior alone")
	}
}

// The capacity objective's C(t) gets a curve when runs record it, and no
// empty plot otherwise.
func TestCapacityCurveOnlyWhenRecorded(t *testing.T) {
	ctx := context.Background()
	st, name := fakeExperiment(t, "name: cap\nseeds: [1]\n", 10, 3)
	path := filepath.Join(t.TempDir(), "r.html")
	has := func() bool {
		if err := WriteFile(ctx, st, []string{name}, path, Options{}); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		return strings.Contains(string(b), "Capacity target C(t)")
	}
	if has() {
		t.Fatal("a C(t) plot for runs without the capacity objective")
	}
	rs, _ := st.Runs(ctx, name)
	var rows []metricRow
	for step := 1; step <= 10; step++ {
		rows = append(rows, metricRow{Step: step, Epoch: 1, Key: vae.KeyCapacity, Value: float64(step)})
	}
	if err := st.WriteMetrics(ctx, rs[0].ID, rows); err != nil {
		t.Fatal(err)
	}
	if !has() {
		t.Error("no C(t) plot for a run that records it")
	}
}

// Runs scored in the dlib space get the face-space panel: the real-vs-real
// baseline, the runs' distances as multiples of it, the verification AUCs;
// without ORL's figure the panel says how to get it; no dlib, no panel.
func TestFaceSpacePanel(t *testing.T) {
	ctx := context.Background()
	st, name := fakeExperiment(t, "name: faces\nseeds: [1, 2]\n", 10, 3)
	path := filepath.Join(t.TempDir(), "r.html")
	page := func() string {
		if err := WriteFile(ctx, st, []string{name}, path, Options{}); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		return string(b)
	}
	if strings.Contains(page(), "Face feature space") {
		t.Fatal("a face-space panel without dlib scores")
	}
	rs, _ := st.Runs(ctx, name)
	for i, r := range rs {
		sums := []record.Summary{{Key: "real/fd_dlib", Value: 0.1, Protocol: "p"}, {Key: "samples/fd_dlib", Value: 0.3 + 0.2*float64(i), Protocol: "p"},
			{Key: "recon/fd_dlib", Value: 0.2, Protocol: "p"}, {Key: "real/verify_auc_dlib", Value: 0.8 + 0.1*float64(i), Protocol: "p"}}
		if i == 0 {
			sums = append(sums, record.Summary{Key: "features/dlib_orl_auc", Value: 0.9426, Protocol: "ORL protocol"})
		}
		if err := st.PutSummaries(ctx, r.ID, sums); err != nil {
			t.Fatal(err)
		}
	}
	p := page()
	i := strings.Index(p, "Face feature space</h3>")
	if i < 0 {
		t.Fatal("no face-space panel")
	}
	panel := p[i : i+strings.Index(p[i:], "</table>")]
	for _, want := range []string{"<td class=\"num\">0.1000</td>", "0.3000 – 0.5000", "3.0× – 5.0× the real-vs-real baseline", "<td class=\"num\">0.8500</td>", "<td class=\"num\">0.9426</td>", "ORL protocol"} {
		if !strings.Contains(panel, want) {
			t.Errorf("panel lacks %q:\n%s", want, panel)
		}
	}
	if !strings.Contains(p, `href="#`) || !strings.Contains(p, "-facespace\">face space</a>") {
		t.Error("no link to the panel")
	}
}

// Grainy samples are not presented as sharp: a sharpness ratio whose images
// carry excess high-frequency power is tagged "(noise)" and never marked
// best, in the page and in the exports.
func TestNoisySharpnessIsNotBest(t *testing.T) {
	ctx := context.Background()
	st, name := fakeExperiment(t, "name: grain\nseeds: [1]\nsweep:\n  variants:\n    - {name: grainy, set: {model.hidden: [64]}}\n    - {name: smooth, set: {model.hidden: [32]}}\n", 10, 3)
	rs, _ := st.Runs(ctx, name)
	for _, r := range rs {
		sharp, hf := 0.05, -12.0
		if r.Variant == "grainy" {
			sharp, hf = 0.9, 6.0
		}
		if err := st.PutSummaries(ctx, r.ID, []record.Summary{{Key: "samples/sharpness_laplacian", Value: sharp, Protocol: "p"}, {Key: "samples/spectrum_db_4", Value: hf, Protocol: "p"}}); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "r.html")
	if err := WriteFile(ctx, st, []string{name}, path, Options{}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	page := string(b)
	// The summary table (the ranking, which opens the section, shows the
	// same column and is checked the same way).
	for _, id := range []string{`-summary">Summary`, `-ranking">Ranking`} {
		i := strings.Index(page, id)
		if i < 0 {
			t.Fatalf("no %s table", id)
		}
		summary := page[i : i+strings.Index(page[i:], "</table>")]
		if !strings.Contains(summary, `<td class="num">0.900 (noise)</td>`) {
			t.Errorf("the grainy sharpness is not tagged and unmarked:\n%s", summary)
		}
		if !strings.Contains(summary, `<td class="num best">0.050</td>`) {
			t.Errorf("the other row is not the best sharpness:\n%s", summary)
		}
	}
	var md strings.Builder
	if err := Export(ctx, st, name, "md", nil, &md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), " 0.900 (noise) |") || strings.Contains(md.String(), "**0.900") {
		t.Errorf("markdown export:\n%s", md.String())
	}
}
