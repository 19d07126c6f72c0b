package report

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// series is one line of a plot.
type series struct {
	Name string
	X, Y []float64
}

// maxPoints bounds the points drawn per line; longer series are averaged in bins
// so the page stays small and the curve keeps its shape.
const maxPoints = 400

// lineSVG draws the series as an inline SVG element. gonum/plot escapes the
// text it writes (titles, legend entries), so user names are safe inline.
func lineSVG(title, xLabel, yLabel string, lines []series, legend, legendTop bool) (template.HTML, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Add(plotter.NewGrid())
	p.Legend.Top = legendTop
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	drawn := 0
	for i, s := range lines {
		x, y := binMeans(s.X, s.Y, maxPoints)
		if len(x) == 0 {
			continue
		}
		pts := make(plotter.XYs, len(x))
		for j := range x {
			pts[j].X, pts[j].Y = x[j], y[j]
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return "", fmt.Errorf("plot %s: %w", title, err)
		}
		l.Color = lineColor(i)
		l.Width = vg.Points(1.2)
		l.Dashes = plotutil.Dashes(i / 8)
		p.Add(l)
		if legend {
			p.Legend.Add(s.Name, l)
		}
		drawn++
	}
	if drawn == 0 {
		return "", nil
	}
	return renderSVG(p, 7.5*vg.Inch, 3.6*vg.Inch)
}

func lineColor(i int) color.Color { return plotutil.Color(i % 8) }

func renderSVG(p *plot.Plot, w, h vg.Length) (template.HTML, error) {
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
	svg = strings.Replace(svg, "<svg", `<svg class="plot" role="img"`, 1)
	return template.HTML(svg), nil // #nosec: produced by vgsvg, which escapes all text
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
