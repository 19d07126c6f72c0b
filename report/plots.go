package report

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"image/color"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// maxPoints bounds the points drawn per line; longer series are averaged in bins
// so the page stays small and the curve keeps its shape.
const maxPoints = 400

func lineColor(i int) color.Color { return plotutil.Color(i % 8) }

// renderSVG draws a plot as inline SVG in a figure whose caption is the
// plot's title: drawn inside the SVG, a long title would be cut at the
// canvas's edge and shrink with it on a phone; as HTML text it wraps.
func renderSVG(p *plot.Plot, w, h vg.Length) (template.HTML, error) {
	title := p.Title.Text
	p.Title.Text = ""
	c := vgsvg.New(w, h)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("render plot: %w", err)
	}
	svg := buf.String()
	// Drop the XML prolog: the element is embedded in HTML.
	if i := strings.Index(svg, "<svg"); i > 0 {
		svg = svg[i:]
	}
	svg = strings.Replace(svg, "<svg", `<svg class="plot" role="img" aria-label="`+html.EscapeString(title)+`"`, 1)
	// #nosec: the SVG is produced by vgsvg, which escapes all text; the title is escaped here.
	return template.HTML(`<figure class="plot"><figcaption>` + html.EscapeString(title) + `</figcaption>` + svg + `</figure>`), nil
}

// binMeans reduces (x, y) to at most n points by averaging consecutive bins.
func binMeans(x, y []float64, n int) ([]float64, []float64) {
	if len(x) <= n {
		return x, y
	}
	bx, by := make([]float64, 0, n), make([]float64, 0, n)
	for b := range n {
		lo, hi := b*len(x)/n, (b+1)*len(x)/n
		sx, sy := 0.0, 0.0
		for i := lo; i < hi; i++ {
			sx += x[i]
			sy += y[i]
		}
		bx, by = append(bx, sx/float64(hi-lo)), append(by, sy/float64(hi-lo))
	}
	return bx, by
}

// maxBandLines is the most lines a plot draws with their min–max bands.
const maxBandLines = 12

// band is one configuration's curve: the mean over seeds and the min–max envelope.
type band struct {
	Name         string
	X, Mean      []float64
	Lower, Upper []float64
}

// bandSVG draws mean curves with translucent min–max bands.
func bandSVG(title, xLabel, yLabel string, bands []band, legend, legendTop bool, points int) (template.HTML, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Add(plotter.NewGrid())
	p.Legend.Top = legendTop
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	if useLogScale(bands) {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		p.Y.Label.Text += " (log scale)"
	}
	drawn := 0
	for i, b := range bands {
		points := min(points, maxPoints)
		x, mean := binMeans(b.X, b.Mean, points)
		_, lo := binMeans(b.X, b.Lower, points)
		_, hi := binMeans(b.X, b.Upper, points)
		if len(x) == 0 {
			continue
		}
		c := lineColor(i)
		// Past a dozen lines the bands only hide each other (and fill the
		// page): the means alone are drawn.
		if len(x) > 1 && !equalSlices(lo, hi) && len(bands) <= maxBandLines {
			poly := make(plotter.XYs, 0, 2*len(x))
			for j := range x {
				poly = append(poly, plotter.XY{X: x[j], Y: hi[j]})
			}
			for j := len(x) - 1; j >= 0; j-- {
				poly = append(poly, plotter.XY{X: x[j], Y: lo[j]})
			}
			pg, err := plotter.NewPolygon(poly)
			if err != nil {
				return "", fmt.Errorf("plot %s: %w", title, err)
			}
			r, g, bl, _ := c.RGBA()
			pg.Color = color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 50}
			pg.LineStyle.Width = 0
			p.Add(pg)
		}
		pts := make(plotter.XYs, len(x))
		for j := range x {
			pts[j].X, pts[j].Y = x[j], mean[j]
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return "", fmt.Errorf("plot %s: %w", title, err)
		}
		l.Color, l.Width, l.Dashes = c, vg.Points(1.2), plotutil.Dashes(i/8)
		p.Add(l)
		if legend {
			p.Legend.Add(b.Name, l)
		}
		drawn++
	}
	if drawn == 0 {
		return "", nil
	}
	return renderSVG(p, 7.5*vg.Inch, 3.6*vg.Inch)
}

// logSpan is the ratio of largest to smallest value above which a positive
// curve is drawn on a log scale (an early spike would flatten the rest).
const logSpan = 30

func useLogScale(bands []band) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, b := range bands {
		for _, v := range append(append(b.Lower[:len(b.Lower):len(b.Lower)], b.Mean...), b.Upper...) {
			if !(v > 0) {
				return false
			}
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	return hi/lo > logSpan
}

func equalSlices(a, b []float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// point is one run in a scatter plot, in a colour group.
type point struct {
	X, Y  float64
	Group string
}

// markerShapes are the shapes of scatter markers, filled ones first (they
// read best); 7 shapes against 8 colours give 56 distinct pairs.
var markerShapes = [...]draw.GlyphDrawer{draw.CircleGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}, draw.RingGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{}}

// markerColors are plotutil's dark colours and a grey: 8 colours, so that
// with 7 shapes the pairs repeat only after 56 groups.
var markerColors = append(slices.Clone(plotutil.DarkColors), color.RGBA{R: 90, G: 90, B: 90, A: 255})

// maxMarkers is how many groups a scatter plot tells apart.
const maxMarkers = 8 * len(markerShapes)

// marker is group i's colour and shape: both change from one group to the
// next, and no two of the first maxMarkers groups share both.
func marker(i int) draw.GlyphStyle {
	return draw.GlyphStyle{Color: markerColors[i%len(markerColors)], Shape: markerShapes[i%len(markerShapes)], Radius: vg.Points(3.5)}
}

// markerSVG draws group i's marker alone, for a legend written in HTML.
func markerSVG(i int) (template.HTML, error) {
	c := vgsvg.New(vg.Points(12), vg.Points(12))
	dc := draw.New(c)
	dc.DrawGlyph(marker(i), vg.Point{X: vg.Points(6), Y: vg.Points(6)})
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("draw a legend marker: %w", err)
	}
	svg := buf.String()
	if j := strings.Index(svg, "<svg"); j > 0 {
		svg = svg[j:]
	}
	svg = strings.Replace(svg, "<svg", `<svg class="marker" aria-hidden="true"`, 1)
	return template.HTML(svg), nil // #nosec: produced by vgsvg, no text in it
}

// scatterSVG draws points with a marker per group, groups in the given
// order; legend puts their names inside the plot (up to 12 groups).
func scatterSVG(title, xLabel, yLabel string, pts []point, groups []string, legend bool) (template.HTML, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Add(plotter.NewGrid())
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	p.Legend.Top = true
	for i, g := range groups {
		var xy plotter.XYs
		for _, q := range pts {
			if q.Group == g {
				xy = append(xy, plotter.XY{X: q.X, Y: q.Y})
			}
		}
		if len(xy) == 0 {
			continue
		}
		s, err := plotter.NewScatter(xy)
		if err != nil {
			return "", fmt.Errorf("plot %s: %w", title, err)
		}
		s.GlyphStyle = marker(i)
		p.Add(s)
		if legend && len(groups) <= 12 {
			p.Legend.Add(g, s)
		}
	}
	return renderSVG(p, 6*vg.Inch, 4*vg.Inch)
}

// effect is a metric's mean ± std at each value of one sweep axis.
type effect struct {
	Labels    []string // the axis values, in order
	X         []float64
	Mean, Std []float64
}

// effectSVG draws an effect with error bars; non-numeric axes are spaced evenly.
func effectSVG(title, xLabel, yLabel string, e effect) (template.HTML, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Add(plotter.NewGrid())
	pts := make(plotter.XYs, len(e.X))
	errs := make(plotter.YErrors, len(e.X))
	for i := range e.X {
		pts[i] = plotter.XY{X: e.X[i], Y: e.Mean[i]}
		errs[i].Low, errs[i].High = e.Std[i], e.Std[i]
	}
	l, s, err := plotter.NewLinePoints(pts)
	if err != nil {
		return "", fmt.Errorf("plot %s: %w", title, err)
	}
	l.Color, s.Color = lineColor(0), lineColor(0)
	p.Add(l, s)
	if eb, err := plotter.NewYErrorBars(struct {
		plotter.XYer
		plotter.YErrorer
	}{pts, errs}); err == nil {
		eb.Color = lineColor(0)
		p.Add(eb)
	}
	ticks := make([]plot.Tick, len(e.X))
	for i := range e.X {
		ticks[i] = plot.Tick{Value: e.X[i], Label: e.Labels[i]}
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	pad := 0.1 * (e.X[len(e.X)-1] - e.X[0])
	if pad == 0 {
		pad = 1
	}
	p.X.Min, p.X.Max = e.X[0]-pad, e.X[len(e.X)-1]+pad
	return renderSVG(p, 3.6*vg.Inch, 2.8*vg.Inch)
}
