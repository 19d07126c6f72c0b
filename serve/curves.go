package serve

import (
	"context"
	"math"
	"slices"
	"sync"

	"github.com/vaelab/vaelab/record"
)

// maxPoints bounds every series a page receives: a run's raw curve is
// thinned by LTTB, a configuration's band is binned to at most this many
// steps. Stored series are never thinned.
const maxPoints = 1000

// maxCachedPoints bounds the points of finished runs' series kept in
// memory (16 bytes each: about 64 MB).
const maxCachedPoints = 4 << 20

// series is one curve: x (step or epoch) and y, of equal length.
type series struct {
	X []float64 `json:"x"`
	Y []float64 `json:"y"`
	// epochs are the points' epochs where kept (the search view reads
	// them); LTTB drops them.
	epochs []int32
}

func (c series) Len() int { return len(c.X) }

// seriesCache keeps finished runs' series, each thinned to at most
// 2·maxPoints points by min/max per bucket (what LTTB and the bins then
// read): a finished run's curve never changes, so it is read from the
// store once. Running runs are read afresh on every request.
type seriesCache struct {
	mu     sync.Mutex
	limit  int
	points int
	runs   map[string]map[string]series
	order  []string // runs in insertion order, the oldest evicted first
}

func newSeriesCache(limit int) *seriesCache {
	return &seriesCache{limit: limit, runs: map[string]map[string]series{}}
}

func (c *seriesCache) get(id string) (map[string]series, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.runs[id]
	return m, ok
}

func (c *seriesCache) put(id string, m map[string]series) {
	n := 0
	for _, s := range m {
		n += s.Len()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.runs[id]; ok || n > c.limit {
		return
	}
	for c.points+n > c.limit && len(c.order) > 0 {
		old := c.order[0]
		c.order = c.order[1:]
		for _, s := range c.runs[old] {
			c.points -= s.Len()
		}
		delete(c.runs, old)
	}
	c.runs[id], c.points = m, c.points+n
	c.order = append(c.order, id)
}

// finished says a run's series can no longer change.
func finished(status string) bool {
	switch status {
	case record.StatusDone, record.StatusFailed, record.StatusDiverged, record.StatusStopped:
		return true
	}
	return false
}

// runSeries returns a run's series by key, each thinned to at most
// 2·maxPoints points, from the cache when the run is finished.
func (s *Server) runSeries(ctx context.Context, r *record.RunInfo) (map[string]series, error) {
	if finished(r.Status) {
		if m, ok := s.cache.get(r.ID); ok {
			return m, nil
		}
	}
	pts, err := s.st.Metrics(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]series, len(pts))
	for k, p := range pts {
		out[k] = minMax(p, 2*maxPoints)
	}
	if finished(r.Status) {
		s.cache.put(r.ID, out)
	}
	return out, nil
}

// minMax thins a series to at most n points, keeping in each of n/2
// buckets its lowest and highest point in step order: a spike survives
// (an average would hide it). Non-finite values are dropped.
func minMax(pts []record.Point, n int) series {
	var out series
	keep := func(p record.Point) {
		out.X, out.Y = append(out.X, float64(p.Step)), append(out.Y, p.Value)
		out.epochs = append(out.epochs, int32(p.Epoch))
	}
	finite := func(p record.Point) bool { return !math.IsNaN(p.Value) && !math.IsInf(p.Value, 0) }
	if len(pts) <= n {
		out.X, out.Y = make([]float64, 0, len(pts)), make([]float64, 0, len(pts))
		for _, p := range pts {
			if finite(p) {
				keep(p)
			}
		}
		return out
	}
	buckets := n / 2
	out.X, out.Y = make([]float64, 0, n), make([]float64, 0, n)
	for b := range buckets {
		lo, hi := b*len(pts)/buckets, (b+1)*len(pts)/buckets
		iMin, iMax := -1, -1
		for i := lo; i < hi; i++ {
			if !finite(pts[i]) {
				continue
			}
			if iMin < 0 || pts[i].Value < pts[iMin].Value {
				iMin = i
			}
			if iMax < 0 || pts[i].Value > pts[iMax].Value {
				iMax = i
			}
		}
		switch {
		case iMin < 0:
		case iMin == iMax:
			keep(pts[iMin])
		case iMin < iMax:
			keep(pts[iMin])
			keep(pts[iMax])
		default:
			keep(pts[iMax])
			keep(pts[iMin])
		}
	}
	return out
}

// lttb thins a series to at most n points by largest-triangle-three-buckets
// (Steinarsson 2013): the first and last points, and in each bucket between
// the point that makes the largest triangle with the previous kept point
// and the next bucket's mean. The shape, peaks included, survives.
func lttb(s series, n int) series {
	if s.Len() <= n || n < 3 {
		return s
	}
	out := series{X: make([]float64, 0, n), Y: make([]float64, 0, n)}
	out.X, out.Y = append(out.X, s.X[0]), append(out.Y, s.Y[0])
	every := float64(s.Len()-2) / float64(n-2)
	a := 0
	for i := range n - 2 {
		lo, hi := int(float64(i)*every)+1, int(float64(i+1)*every)+1
		nlo, nhi := hi, min(int(float64(i+2)*every)+1, s.Len())
		var mx, my float64
		for j := nlo; j < nhi; j++ {
			mx += s.X[j]
			my += s.Y[j]
		}
		if k := float64(nhi - nlo); k > 0 {
			mx, my = mx/k, my/k
		} else {
			mx, my = s.X[s.Len()-1], s.Y[s.Len()-1]
		}
		best, area := lo, -1.0
		for j := lo; j < hi; j++ {
			ar := math.Abs((s.X[a]-mx)*(s.Y[j]-s.Y[a]) - (s.X[a]-s.X[j])*(my-s.Y[a]))
			if ar > area {
				best, area = j, ar
			}
		}
		out.X, out.Y = append(out.X, s.X[best]), append(out.Y, s.Y[best])
		a = best
	}
	out.X, out.Y = append(out.X, s.X[s.Len()-1]), append(out.Y, s.Y[s.Len()-1])
	return out
}

// bandOf is a configuration's curve: in each of at most maxPoints bins of
// steps, each run's mean in the bin, then over the runs their mean and
// sample standard deviation (0 for one run), at the mean step.
type bandOf struct {
	X    []float64 `json:"x"`
	Mean []float64 `json:"mean"`
	Std  []float64 `json:"std"`
	N    []int     `json:"n"` // runs with points in the bin
}

func band(runs []series, bins int) bandOf {
	span := 0.0
	for _, r := range runs {
		if r.Len() > 0 {
			span = math.Max(span, r.X[r.Len()-1])
		}
	}
	var b bandOf
	if span <= 0 && !slices.ContainsFunc(runs, func(r series) bool { return r.Len() > 0 }) {
		return b
	}
	width := math.Max(1, math.Ceil((span+1)/float64(bins)))
	nb := int(span/width) + 1
	sumX, sum, sum2 := make([]float64, nb), make([]float64, nb), make([]float64, nb)
	n := make([]int, nb)
	for _, r := range runs {
		// The run's mean in each bin first: every run weighs the same in
		// a bin, however densely it was recorded.
		i0, cnt := -1, 0
		var xs, ys float64
		flush := func() {
			if cnt == 0 {
				return
			}
			x, y := xs/float64(cnt), ys/float64(cnt)
			sumX[i0] += x
			sum[i0] += y
			sum2[i0] += y * y
			n[i0]++
			cnt, xs, ys = 0, 0, 0
		}
		for j := range r.X {
			i := min(nb-1, int(math.Max(0, r.X[j])/width))
			if i != i0 {
				flush()
				i0 = i
			}
			cnt++
			xs += r.X[j]
			ys += r.Y[j]
		}
		flush()
	}
	for i := range nb {
		if n[i] == 0 {
			continue
		}
		k := float64(n[i])
		mean := sum[i] / k
		sd := 0.0
		if n[i] > 1 {
			sd = math.Sqrt(math.Max(0, (sum2[i]-k*mean*mean)/(k-1)))
		}
		b.X, b.Mean, b.Std, b.N = append(b.X, sumX[i]/k), append(b.Mean, mean), append(b.Std, sd), append(b.N, n[i])
	}
	return b
}
