package metrics

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/vaelab/vaelab/data"
)

// The FD-proxy's feature extractor: a small convolutional network with fixed
// random weights, needing no download. Its name and version go into every
// metric computed with it; change ExtractorVersion whenever its output changes
// (a golden test enforces this).
const (
	ExtractorName    = "randconv"
	ExtractorVersion = 1
	extractorSide    = 32 // images are resized to this side first
)

// ExtractorID names the extractor in metric keys, e.g. fd_randconv1.
func ExtractorID() string { return fmt.Sprintf("%s%d", ExtractorName, ExtractorVersion) }

// ExtractorProtocol describes the extractor for stored protocols.
func ExtractorProtocol() string {
	return fmt.Sprintf("%s-v%d: images resized to %dx%d, centred; 3x3 conv layers of %v random He-normal filters (PCG seed %d), ReLU, 2x2 average pooling between; features are every layer's per-channel mean and standard deviation and the last layer's per-channel mean in each image quadrant (%d dims)",
		ExtractorName, ExtractorVersion, extractorSide, extractorSide, extractorWidths(), extractorSeed, FeatureDim())
}

func extractorWidths() [3]int { return [3]int{16, 32, 32} }

const extractorSeed = 20180626

// FeatureDim is the length of a feature vector.
func FeatureDim() int {
	d := 0
	for _, w := range extractorWidths() {
		d += 2 * w
	}
	return d + 4*extractorWidths()[2] // quadrant means keep the spatial layout
}

// Extractor holds the fixed weights for one channel count.
type Extractor struct {
	channels int
	weights  []*mat.Dense // (9·in) × out per layer
}

// NewExtractor builds the extractor for images with the given channel count.
// The same arguments always give the same weights.
func NewExtractor(channels int) *Extractor {
	rng := rand.New(rand.NewPCG(extractorSeed, uint64(channels)))
	e := &Extractor{channels: channels}
	in := channels
	for _, out := range extractorWidths() {
		w := mat.NewDense(9*in, out, nil)
		std := math.Sqrt(2 / float64(9*in))
		for i := range 9 * in {
			for j := range out {
				w.Set(i, j, rng.NormFloat64()*std)
			}
		}
		e.weights = append(e.weights, w)
		in = out
	}
	return e
}

// featureBatch bounds how many images go through the network together.
const featureBatch = 64

// Features returns one row of FeatureDim values per image.
func (e *Extractor) Features(ctx context.Context, im data.Images) (*mat.Dense, error) {
	if im.Channels != e.channels {
		return nil, fmt.Errorf("features: extractor for %d channels, images have %d", e.channels, im.Channels)
	}
	if im.N == 0 {
		return nil, fmt.Errorf("features: no images")
	}
	small := data.Resize(im, extractorSide, extractorSide)
	out := mat.NewDense(im.N, FeatureDim(), nil)
	bufs := make([]convBuffers, len(e.weights))
	for start := 0; start < im.N; start += featureBatch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := min(featureBatch, im.N-start)
		act := make([]float64, n*extractorSide*extractorSide*e.channels)
		for i := range act {
			act[i] = float64(small.Pix[start*small.Dim()+i]) - 0.5
		}
		side, ch, col := extractorSide, e.channels, 0
		for l, w := range e.weights {
			if l > 0 {
				act, side = avgPool2(act, n, side, ch), side/2
			}
			act = bufs[l].conv3x3ReLU(act, n, side, ch, w)
			ch = extractorWidths()[l]
			col = poolStats(act, n, side*side, ch, out, start, col)
		}
		quadrantMeans(act, n, side, ch, out, start, col)
	}
	return out, nil
}

// convBuffers keeps one layer's im2col and output matrices between batches,
// so a batch costs no allocation. The padding cells of cols are never
// written, so they stay zero.
type convBuffers struct {
	cols, y *mat.Dense
	rows    int
}

// conv3x3ReLU applies a same-padded 3×3 convolution (as im2col and one matrix
// product for the whole batch) and a ReLU.
func (buf *convBuffers) conv3x3ReLU(x []float64, n, side, ch int, w *mat.Dense) []float64 {
	rows := n * side * side
	if buf.cols == nil || buf.rows != rows {
		buf.cols, buf.y, buf.rows = mat.NewDense(rows, 9*ch, nil), mat.NewDense(rows, w.RawMatrix().Cols, nil), rows
	}
	cols := buf.cols
	for b := range n {
		for y := range side {
			for xx := range side {
				row := cols.RawRowView((b*side+y)*side + xx)
				k := 0
				for dy := -1; dy <= 1; dy++ {
					for dx := -1; dx <= 1; dx++ {
						sy, sx := y+dy, xx+dx
						if sy >= 0 && sy < side && sx >= 0 && sx < side {
							copy(row[k:k+ch], x[((b*side+sy)*side+sx)*ch:((b*side+sy)*side+sx+1)*ch])
						}
						k += ch
					}
				}
			}
		}
	}
	buf.y.Mul(cols, w)
	raw := buf.y.RawMatrix().Data
	out := make([]float64, len(raw)) // the next layer reads it while this buffer is reused
	for i, v := range raw {
		if v > 0 {
			out[i] = v
		}
	}
	return out
}

func avgPool2(x []float64, n, side, ch int) []float64 {
	h := side / 2
	out := make([]float64, n*h*h*ch)
	for b := range n {
		for y := range h {
			for xx := range h {
				for c := range ch {
					s := 0.0
					for _, d := range [4][2]int{{0, 0}, {0, 1}, {1, 0}, {1, 1}} {
						s += x[((b*side+2*y+d[0])*side+2*xx+d[1])*ch+c]
					}
					out[((b*h+y)*h+xx)*ch+c] = s / 4
				}
			}
		}
	}
	return out
}

// poolStats writes each channel's spatial mean and standard deviation into
// columns col.. of out, rows start.., and returns the next free column.
func poolStats(x []float64, n, hw, ch int, out *mat.Dense, start, col int) int {
	for b := range n {
		row := out.RawRowView(start + b)
		for c := range ch {
			s, s2 := 0.0, 0.0
			for p := range hw {
				v := x[(b*hw+p)*ch+c]
				s += v
				s2 += v * v
			}
			mean := s / float64(hw)
			row[col+c] = mean
			row[col+ch+c] = math.Sqrt(math.Max(s2/float64(hw)-mean*mean, 0))
		}
	}
	return col + 2*ch
}

// quadrantMeans writes each channel's mean over each quadrant of the image
// (top-left, top-right, bottom-left, bottom-right) from column col on. Global
// statistics alone cannot tell a face from its rearranged parts.
func quadrantMeans(x []float64, n, side, ch int, out *mat.Dense, start, col int) {
	h := side / 2
	norm := float64(h * h)
	for b := range n {
		row := out.RawRowView(start + b)
		for q := range 4 {
			y0, x0 := (q/2)*h, (q%2)*h
			for c := range ch {
				s := 0.0
				for y := y0; y < y0+h; y++ {
					for xx := x0; xx < x0+h; xx++ {
						s += x[((b*side+y)*side+xx)*ch+c]
					}
				}
				row[col+q*ch+c] = s / norm
			}
		}
	}
}
