package report

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image/png"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/internal/testenv"
	"github.com/vaelab/vaelab/record"
)

// Stability is judged by spikes against a rolling median and MAD, which do
// not care where zero is: a loss that crosses zero smoothly (GECO's
// Lagrangian) is stable, one with spikes is not, whatever its level.
func TestSpikeShareIsMeaningfulNearZero(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	smooth := func(level float64) []float64 {
		v := make([]float64, 1000)
		for i := range v {
			v[i] = level + 50 - 0.1*float64(i) + 0.5*rng.NormFloat64()
		}
		return v
	}
	spiky := func(level float64) []float64 {
		v := smooth(level)
		for i := 60; i < len(v); i += 25 {
			v[i] += 40
		}
		return v
	}
	for _, c := range []struct {
		name     string
		loss     []float64
		unstable bool
	}{
		{"smooth, crossing zero", smooth(0), false},
		{"smooth, near zero all along", func() []float64 {
			v := smooth(0)
			for i := range v {
				v[i] *= 1e-6
			}
			return v
		}(), false},
		{"smooth, in the thousands", smooth(3000), false},
		{"spiky, crossing zero", spiky(0), true},
		{"spiky, in the thousands", spiky(3000), true},
		{"flat", make([]float64, 500), false},
		{"shorter than the window", []float64{1, 100, 1, 100}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			share := spikeShare(c.loss)
			if got := share > unstableShare; got != c.unstable {
				t.Errorf("spike share %.4f: unstable %v, want %v", share, got, c.unstable)
			}
		})
	}
}

// The old measure, std/|mean| of the loss's tail, calls the smooth curve
// that crosses zero wildly unstable; the report marks it stable.
func TestZeroCrossingLossIsStableInTheReport(t *testing.T) {
	pts := make([]record.Point, 400)
	for i := range pts {
		pts[i] = record.Point{Step: i + 1, Epoch: 1, Value: 20 - 0.1*float64(i)}
	}
	s := measureRun(map[string][]record.Point{"train/loss": pts}, "train/loss", "train/grad_norm")
	if !s.measured || s.lossSpikes != 0 {
		t.Fatalf("a smooth zero-crossing loss: %+v", s)
	}
	g := &Group{Label: "geco", Runs: []record.RunInfo{{ID: "a", Status: record.StatusDone}}}
	_, rows := stability(nil, []*Group{g}, [][]runStability{{s}})
	if rows[0].Unstable {
		t.Errorf("marked unstable: %+v", rows[0])
	}
}

// A configuration's curve is the mean of its runs' bin means, with their
// min and max, in at most about n bins whatever the runs' length.
func TestCurveAccFoldsRunsIntoBins(t *testing.T) {
	series := func(steps int, v func(step int) float64) []record.Point {
		pts := make([]record.Point, steps)
		for i := range pts {
			pts[i] = record.Point{Step: i + 1, Epoch: 1 + i/100, Value: v(i + 1)}
		}
		return pts
	}
	acc := newCurveAcc(10000, 50)
	acc.fold(series(10000, func(int) float64 { return 1 }), false)
	acc.fold(series(10000, func(int) float64 { return 3 }), false)
	acc.fold(series(5000, func(int) float64 { return math.NaN() }), false) // diverged: no points
	b := acc.band("c")
	if len(b.X) > 51 || len(b.X) < 49 {
		t.Fatalf("%d bins, want about 50", len(b.X))
	}
	for i := range b.X {
		if b.Mean[i] != 2 || b.Lower[i] != 1 || b.Upper[i] != 3 {
			t.Fatalf("bin %d: mean %v in [%v, %v], want 2 in [1, 3]", i, b.Mean[i], b.Lower[i], b.Upper[i])
		}
	}
	if b.X[0] < 1 || b.X[0] > 200 || b.X[len(b.X)-1] < 9800 || b.X[len(b.X)-1] > 10000 {
		t.Errorf("bin positions from %v to %v, want the steps' span", b.X[0], b.X[len(b.X)-1])
	}
	epochs := newCurveAcc(5, 50)
	epochs.fold(series(500, func(s int) float64 { return float64(s) }), true)
	if e := epochs.band("c"); len(e.X) != 5 || e.X[0] != 1 || e.X[4] != 5 {
		t.Errorf("epoch curve at %v, want 1 … 5", e.X)
	}
}

// Past maxDetailedRuns, the runs that need a look (failed, diverged,
// unfinished) keep their details first.
func TestDetailedRunsAreCappedUnfinishedFirst(t *testing.T) {
	rs := make([]runData, 500)
	for i := range rs {
		rs[i].info.Status = record.StatusDone
	}
	rs[450].info.Status = record.StatusFailed
	rs[499].info.Status = record.StatusDiverged
	keep := detailed(rs, 200)
	n := 0
	for _, k := range keep {
		if k {
			n++
		}
	}
	if n != 200 || !keep[450] || !keep[499] || !keep[0] || keep[300] {
		t.Errorf("kept %d runs (450: %v, 499: %v, 0: %v, 300: %v)", n, keep[450], keep[499], keep[0], keep[300])
	}
	if keep := detailed(rs[:10], 200); !keep[9] {
		t.Error("a small experiment loses details")
	}
}

// The strip cuts single rows of tiles out of the grids data.Grid draws,
// for images of any shape, even with white rows inside the images.
func TestCropRowsOfAGrid(t *testing.T) {
	for _, c := range []struct{ w, h, n, cols int }{{12, 12, 16, 8}, {20, 28, 24, 8}, {32, 32, 18, 9}} {
		im := data.Images{N: c.n, Height: c.h, Width: c.w, Channels: 1, Pix: make([]float32, c.n*c.h*c.w)}
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range im.Pix {
			im.Pix[i] = rng.Float32() * 0.9
		}
		for x := range c.w { // a white row across every image
			for i := range c.n {
				im.Pix[i*c.w*c.h+3*c.w+x] = 1
			}
		}
		g, err := data.Grid(im, c.cols, 2)
		if err != nil {
			t.Fatal(err)
		}
		p, s, ok := tileGeometry(g)
		if !ok || p != (c.h+1)*2 || s != 2 {
			t.Errorf("%dx%d: period %d, border %d, %v; want %d, 2", c.w, c.h, p, s, ok, (c.h+1)*2)
			continue
		}
		uri, ok := cropRows(g, 1)
		if !ok {
			t.Errorf("%dx%d: no second row", c.w, c.h)
			continue
		}
		b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(string(uri), "data:image/png;base64,"))
		if err != nil {
			t.Fatal(err)
		}
		crop, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if crop.Bounds().Dy() != p+s || crop.Bounds().Dx() != g.Bounds().Dx() {
			t.Errorf("%dx%d: crop %v", c.w, c.h, crop.Bounds())
		}
		if _, ok := cropRows(g, 10); ok {
			t.Errorf("%dx%d: a crop past the last row", c.w, c.h)
		}
	}
}

// Columns without a value in any row are left out, with their cells.
func TestDropEmptyColumns(t *testing.T) {
	ms := []Metric{{Key: "a"}, {Key: "mig"}, {Key: "b"}}
	rows := []Row{{Cells: []Cell{{Text: "1"}, {Text: "—"}, {Text: "—"}}}, {Cells: []Cell{{Text: "2"}, {Text: "—"}, {Text: "3"}}}}
	rows, kept := dropEmptyColumns(rows, ms)
	if len(kept) != 2 || kept[0].Key != "a" || kept[1].Key != "b" || len(rows[1].Cells) != 2 || rows[1].Cells[1].Text != "3" {
		t.Errorf("kept %v, rows %v", kept, rows)
	}
}

// Each configuration gets its own marker: no two of the first maxMarkers
// share colour and shape, and neighbours differ in both.
func TestMarkersAreDistinct(t *testing.T) {
	seen := map[string]int{}
	for i := range maxMarkers {
		m := marker(i)
		r, g, b, _ := m.Color.RGBA()
		key := fmt.Sprint(r, g, b, typeName(m.Shape))
		if j, ok := seen[key]; ok {
			t.Fatalf("configurations %d and %d share a marker", j, i)
		}
		seen[key] = i
		if i > 0 && typeName(marker(i-1).Shape) == typeName(m.Shape) {
			t.Errorf("configurations %d and %d have the same shape", i-1, i)
		}
	}
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }

// A report of many runs details maxDetailedRuns of them and says how to
// see the others; its curves are drawn per objective, each under its own
// loss's name.
func TestLargeReportIsBoundedAndLabelsLossesPerObjective(t *testing.T) {
	// 15 latent sizes × 2 variants × 10 seeds = 300 runs.
	spec := testenv.GridSpec("many", []int{1, 2, 3}, []int{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, 10)
	spec = strings.Replace(spec, "values: [1, 2, 3]", "values: [1]", 1)
	spec = strings.Replace(spec, "{name: unstable, set: {model.hidden: [32]}}", "{name: geco, set: {model.hidden: [32], objective: {type: geco, kappa: 0.01}}}", 1)
	st, name := fakeExperiment(t, spec, 60, 2)
	p, err := Build(context.Background(), st, []string{name}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sec := p.Sections[0]
	if len(sec.Runs) != maxDetailedRuns || sec.Undetailed != 300-maxDetailedRuns {
		t.Errorf("%d runs detailed, %d not; want %d and %d", len(sec.Runs), sec.Undetailed, maxDetailedRuns, 300-maxDetailedRuns)
	}
	var page bytes.Buffer
	if err := Render(&page, p); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	for _, want := range []string{"100 runs have no row or details here", "vaelab show RUN", "--runs RUN",
		"Training loss of the elbo objective: −log p(x|z) + β(t)·KL", "Training loss of the geco objective: KL + λ·D·(MSE − κ)"} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if n := strings.Count(html, `<div class="run" id="run-`); n != maxDetailedRuns {
		t.Errorf("%d run blocks, want %d", n, maxDetailedRuns)
	}
	// No run has MIG (no factors): no table has its column.
	if strings.Contains(html, "<th>MIG") || strings.Contains(html, `title="mutual information gap`) {
		t.Error("a MIG column without a value")
	}
	// Every configuration has its own marker in the rate–distortion legend.
	seen := map[string]bool{}
	for _, e := range sec.RateDistLegend {
		if seen[e.Label] || !strings.HasPrefix(string(e.Marker), "<svg") {
			t.Errorf("legend entry %q repeated or without a marker", e.Label)
		}
		seen[e.Label] = true
	}
	if len(seen) != 30 {
		t.Errorf("%d configurations in the legend, want 30", len(seen))
	}
}
