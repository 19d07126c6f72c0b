package serve

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vaelab/vaelab/internal/safefile"
	"github.com/vaelab/vaelab/record"
	"github.com/vaelab/vaelab/report"
)

// maxCurveGroups bounds the configurations one plot asks for.
const maxCurveGroups = 24

// writeJSON answers v as JSON, never cached: the pages poll it.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.fail(w, r, fmt.Errorf("encode %s: %w", r.URL.Path, err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

// checkKey refuses a metric key no run could have.
func checkKey(key string) error {
	if key == "" || len(key) > 120 {
		return badf("key: give a metric key such as train/elbo")
	}
	for _, c := range key {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("/_.-@", c)) {
			return badf("key %q: a metric key has letters, digits and / _ . - only", clip(key))
		}
	}
	return nil
}

// state is what a page polls: it refetches its curves only when the
// version moves (a run stepped or changed status).
type state struct {
	Version  string        `json:"version"`
	Counts   []StatusCount `json:"counts"`
	Progress int           `json:"progress"`
	Running  int           `json:"running"`
}

func (s *Server) handleState(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if err := checkName(name); err != nil {
		s.fail(w, r, err)
		return
	}
	info, err := s.st.Experiment(r.Context(), name)
	if err != nil {
		s.fail(w, r, notFound{fmt.Sprintf("no experiment %q", name)})
		return
	}
	// While a run trains its curves grow between status changes: the
	// version then moves with time, every poll.
	v := countsKey(info)
	if info.Counts[record.StatusRunning] > 0 {
		v += "@" + strconv.FormatInt(time.Now().UnixMilli(), 10)
	}
	s.writeJSON(w, r, state{Version: v, Counts: statusCounts(info.Counts), Progress: progress(info), Running: info.Counts[record.StatusRunning]})
}

// curveGroup is one configuration's curve of one key.
type curveGroup struct {
	Index int      `json:"index"`
	Label string   `json:"label"`
	Runs  int      `json:"runs"`
	Band  bandOf   `json:"band"`
	Raw   []rawRun `json:"raw,omitempty"`
}

type rawRun struct {
	ID     string `json:"id"`
	Seed   uint64 `json:"seed"`
	Status string `json:"status"`
	series
}

func (s *Server) handleCurves(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	key := q.Get("key")
	if err := checkKey(key); err != nil {
		s.fail(w, r, err)
		return
	}
	raw := false
	switch q.Get("raw") {
	case "", "0":
	case "1":
		raw = true
	default:
		s.fail(w, r, badf("raw=%q: 0 or 1", clip(q.Get("raw"))))
		return
	}
	e, err := s.overview(ctx, q.Get("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	groups := defaultGroups(e)
	if v := q.Get("groups"); v != "" {
		groups = groups[:0:0]
		for part := range strings.SplitSeq(v, ",") {
			gi, err := strconv.Atoi(part)
			if err != nil || gi < 0 || gi >= len(e.ov.Groups) {
				s.fail(w, r, badf("groups: %q is not a configuration's number (0 to %d)", clip(part), len(e.ov.Groups)-1))
				return
			}
			if !slices.Contains(groups, gi) {
				groups = append(groups, gi)
			}
		}
		if len(groups) > maxCurveGroups {
			s.fail(w, r, badf("groups: %d configurations; at most %d in one plot", len(groups), maxCurveGroups))
			return
		}
	}
	out := struct {
		Key    string       `json:"key"`
		Groups []curveGroup `json:"groups"`
	}{Key: key, Groups: []curveGroup{}}
	for _, gi := range groups {
		g := e.ov.Groups[gi]
		cg := curveGroup{Index: gi, Label: g.Label, Runs: len(g.Runs)}
		var rs []series
		for i := range g.Runs {
			run := e.runs[g.Runs[i].ID]
			m, err := s.runSeries(ctx, run)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			sr, ok := m[key]
			if !ok {
				continue
			}
			rs = append(rs, sr)
			if raw {
				cg.Raw = append(cg.Raw, rawRun{ID: run.ID, Seed: run.Seed, Status: run.Status, series: lttb(sr, maxPoints)})
			}
		}
		cg.Band = band(rs, maxPoints)
		out.Groups = append(out.Groups, cg)
	}
	s.writeJSON(w, r, out)
}

func (s *Server) handleRunCurves(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	key := q.Get("key")
	if err := checkKey(key); err != nil {
		s.fail(w, r, err)
		return
	}
	_, run, err := s.findRun(r.Context(), q.Get("name"), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := s.runSeries(r.Context(), run)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sr := lttb(m[key], maxPoints)
	if sr.X == nil {
		sr = series{X: []float64{}, Y: []float64{}}
	}
	s.writeJSON(w, r, struct {
		Key    string `json:"key"`
		Status string `json:"status"`
		series
	}{key, run.Status, sr})
}

// isImageKind says whether an artifact is one of the PNG grids the view
// shows (a checkpoint or a sampler's fit is not served).
func isImageKind(kind string) bool {
	if _, _, ok := record.ParseTrainingGrid(kind); ok {
		return true
	}
	switch kind {
	case "reconstructions", "samples", "traversals":
		return true
	}
	return strings.HasPrefix(kind, "samples_")
}

// grid is one image on the faces page's slider.
type grid struct {
	Step  int    `json:"step"`
	Epoch int    `json:"epoch"`
	Kind  string `json:"kind"`
	URL   string `json:"url"`
	Final bool   `json:"final"` // the evaluation's, after training
}

func (s *Server) handleGrids(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	ids, err := runList(q, maxFacesRuns)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	e, err := s.overview(ctx, q.Get("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type runGrids struct {
		ID    string `json:"id"`
		Label string `json:"label"`
		Grids []grid `json:"grids"`
	}
	out := []runGrids{}
	for _, id := range ids {
		run := e.runs[id]
		if run == nil {
			s.fail(w, r, notFound{fmt.Sprintf("experiment %q has no run %s", q.Get("name"), id)})
			return
		}
		arts, err := s.st.ArtifactsAt(ctx, id, run.EvalHash)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		rg := runGrids{ID: id, Label: e.ov.Groups[e.group[id]].Label, Grids: []grid{}}
		for kind, a := range arts {
			if ep, st, ok := record.ParseTrainingGrid(kind); ok {
				rg.Grids = append(rg.Grids, grid{Step: st, Epoch: ep, Kind: "training", URL: artifactURL(a)})
			}
		}
		// The evaluation's grids close the slider, at the run's last step.
		for _, kind := range []string{"reconstructions", "samples"} {
			if a, ok := arts[kind]; ok {
				rg.Grids = append(rg.Grids, grid{Step: run.Steps, Kind: kind, URL: artifactURL(a), Final: true})
			}
		}
		slices.SortStableFunc(rg.Grids, func(a, b grid) int { return a.Step - b.Step })
		out = append(out, rg)
	}
	s.writeJSON(w, r, out)
}

// handleArtifact serves one recorded image by its run and sha256, never by
// a path: the file is the one the store recorded, read within its recorded
// size and checked against its checksum before a byte is sent.
func (s *Server) handleArtifact(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	runID, sum := r.PathValue("run"), r.PathValue("sum")
	if err := checkRunID(runID); err != nil {
		s.fail(w, r, err)
		return
	}
	if len(sum) != 64 || strings.Trim(sum, "0123456789abcdef") != "" {
		s.fail(w, r, badf("artifact id %q: want a sha256 in hex", clip(sum)))
		return
	}
	evals, err := s.st.Evaluations(ctx, runID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	hashes := []string{""}
	for _, ev := range evals {
		hashes = append(hashes, ev.Hash)
	}
	var found *record.Artifact
	for _, h := range hashes {
		arts, err := s.st.ArtifactsAt(ctx, runID, h)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, a := range arts {
			if a.SHA256 == sum && isImageKind(a.Kind) {
				found = &a
				break
			}
		}
		if found != nil {
			break
		}
	}
	if found == nil {
		s.fail(w, r, notFound{"no such artifact"})
		return
	}
	b, err := safefile.Read(found.Path, safefile.RecordedLimit(found.Bytes, safefile.MaxImage))
	if err != nil {
		httpError(w, http.StatusGone, "the artifact's file cannot be read (moved or removed?)")
		return
	}
	if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != sum {
		httpError(w, http.StatusConflict, "the artifact's file changed since the run wrote it (sha256 mismatch)")
		return
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		httpError(w, http.StatusUnsupportedMediaType, "the artifact is not a PNG image")
		return
	}
	w.Header().Set("Content-Type", "image/png")
	// The id is the content's checksum: it can never change.
	w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	_, _ = w.Write(b)
}

func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
	dot := strings.LastIndexByte(name, '.')
	if dot < 0 || types[name[dot:]] == "" || strings.ContainsAny(name, "/\\") {
		s.fail(w, r, notFound{"no such file"})
		return
	}
	b, err := fs.ReadFile(files, "assets/"+name)
	if err != nil {
		s.fail(w, r, notFound{"no such file"})
		return
	}
	w.Header().Set("Content-Type", types[name[dot:]])
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

// search builds an experiment's search view from its runs' series of the
// search metric, once per overview.
func (s *Server) search(ctx context.Context, e *expEntry) (*report.Search, error) {
	e.extra.mu.Lock()
	defer e.extra.mu.Unlock()
	if e.extra.search == nil {
		sv, err := s.buildSearch(ctx, e)
		if err != nil {
			return nil, err
		}
		e.extra.search = &sv
	}
	return *e.extra.search, nil
}

func (s *Server) buildSearch(ctx context.Context, e *expEntry) (*report.Search, error) {
	series := map[string][]record.Point{}
	for id, run := range e.runs {
		m, err := s.runSeries(ctx, run)
		if err != nil {
			return nil, err
		}
		sr := m[e.ov.SearchMetric]
		pts := make([]record.Point, sr.Len())
		for i := range pts {
			pts[i] = record.Point{Step: int(sr.X[i]), Epoch: int(sr.epochs[i]), Value: sr.Y[i]}
		}
		series[id] = pts
	}
	return report.SearchView(e.ov, series)
}

// handleSearchSVG serves one plot of the search view as an SVG image. An
// image cannot run script, and its own policy allows the inline styles the
// plotting library writes.
func (s *Server) handleSearchSVG(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	i, err := intParam(q, "i", 0, 0, 1000)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	e, err := s.overview(r.Context(), q.Get("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if e.ov.SearchMetric == "" || len(e.runs) > maxSearchRuns {
		s.fail(w, r, notFound{"this experiment has no search view"})
		return
	}
	sv, err := s.search(r.Context(), e)
	if err != nil || sv == nil {
		s.fail(w, r, fmt.Errorf("search view: %w", err))
		return
	}
	plots := append([]template.HTML{sv.Parallel}, sv.ByParam...)
	if i >= len(plots) {
		s.fail(w, r, notFound{"no such plot"})
		return
	}
	svg := string(plots[i])
	if a, b := strings.Index(svg, "<svg"), strings.LastIndex(svg, "</svg>"); a >= 0 && b > a {
		svg = svg[a : b+len("</svg>")]
	}
	if !strings.Contains(svg, "xmlns=") {
		svg = strings.Replace(svg, "<svg", `<svg xmlns="http://www.w3.org/2000/svg"`, 1)
	}
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(svg))
}
