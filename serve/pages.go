package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/vaelab/vaelab/record"
	"github.com/vaelab/vaelab/report"
	"github.com/vaelab/vaelab/vae"
)

// Page sizes: lists longer than these are paginated.
const (
	experimentsPerPage = 50
	runsPerPage        = 100
	rankingRows        = 50  // ranking rows shown before "show all"
	defaultCurves      = 6   // configurations plotted when none is chosen
	maxFacesRuns       = 12  // runs side by side on the faces page
	maxSearchRuns      = 500 // the search view reads every run's series once
)

// statusOrder lists the statuses in the order pages show them.
func statusOrder() []string {
	return []string{record.StatusDone, record.StatusRunning, record.StatusPending, record.StatusPaused, record.StatusStopped,
		record.StatusInterrupted, record.StatusDiverged, record.StatusFailed}
}

func funcs() template.FuncMap {
	return template.FuncMap{
		"short": func(s string) string { return s[:min(len(s), 12)] },
		"q":     url.QueryEscape,
		"inc":   func(i int) int { return i + 1 },
		"dec":   func(i int) int { return i - 1 },
		"join":  strings.Join,
	}
}

// render executes a page into a buffer first: a template error answers 500
// instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, name, data); err != nil {
		s.fail(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// intParam reads an integer query value within [lo, hi], def when absent.
func intParam(q url.Values, key string, def, lo, hi int) (int, error) {
	v := q.Get(key)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, badf("%s=%q: want a whole number from %d to %d", key, clip(v), lo, hi)
	}
	return n, nil
}

// StatusCount is a number of runs in one status.
type StatusCount struct {
	Status string
	N      int
}

func statusCounts(counts map[string]int) []StatusCount {
	var out []StatusCount
	for _, st := range statusOrder() {
		if n := counts[st]; n > 0 {
			out = append(out, StatusCount{st, n})
		}
	}
	return out
}

// progress is the share of an experiment's runs that ended, in percent.
func progress(info record.ExperimentInfo) int {
	if info.RunCount == 0 {
		return 0
	}
	ended := 0
	for st, n := range info.Counts {
		if finished(st) {
			ended += n
		}
	}
	return 100 * ended / info.RunCount
}

type experimentRow struct {
	Name, Description, Started string
	Counts                     []StatusCount
	Runs, Progress             int
	Best                       string
}

type pager struct {
	Page, Pages int
	Link        string // the page's URL without its page value
}

func newPager(n, per, page int, link string) pager {
	pages := max(1, (n+per-1)/per)
	return pager{Page: min(page, pages), Pages: pages, Link: link}
}

// bestOf describes the ranking's best row: metric, mean and configuration.
func bestOf(rk *report.Ranking) string {
	if rk == nil || len(rk.Rows) == 0 || !rk.Rows[0].Claim.Best {
		return "—"
	}
	b := rk.Rows[0]
	return fmt.Sprintf("%s %s %s (%s)", rk.Metric.Title, rk.Metric.Dir.Arrow(), b.Mean, b.Label)
}

func (s *Server) handleExperiments(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	page, err := intParam(r.URL.Query(), "page", 1, 1, 1<<20)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	all, err := s.st.ListExperiments(ctx, record.ListOptions{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg := newPager(len(all), experimentsPerPage, page, "/?")
	lo := (pg.Page - 1) * experimentsPerPage
	var rows []experimentRow
	for _, info := range all[lo:min(len(all), lo+experimentsPerPage)] {
		row := experimentRow{Name: info.Name, Description: info.Description, Started: info.StartedAt, Counts: statusCounts(info.Counts),
			Runs: info.RunCount, Progress: progress(info), Best: "—"}
		if e, err := s.overviewAt(ctx, info); err == nil {
			row.Best = bestOf(e.ov.Ranking)
		} else if ctx.Err() != nil {
			return
		}
		rows = append(rows, row)
	}
	s.render(w, r, "experiments.html", struct {
		Rows  []experimentRow
		Pager pager
	}{rows, pg})
}

type rankRow struct {
	report.RankRow
	Group   int  // index into the overview's groups, for the plot's checkbox
	Checked bool // plotted by default
}

type runRow struct {
	record.RunInfo
	Group string
}

// curveKeys lists the series a run has, the common ones first.
func curveKeys(m map[string]series) []string {
	first := []string{vae.KeyELBO, vae.KeyLoss, vae.KeyRecon, vae.KeyKL, vae.KeyTestELBO, vae.KeyGradNorm}
	var out []string
	for _, k := range first {
		if _, ok := m[k]; ok {
			out = append(out, k)
		}
	}
	var rest []string
	for k := range m {
		if !slices.Contains(first, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// defaultGroups are the configurations plotted first: the ranking's top
// rows, or the first configurations before anything is ranked.
func defaultGroups(e *expEntry) []int {
	index := map[string]int{}
	for i, g := range e.ov.Groups {
		index[g.Label] = i
	}
	var out []int
	if rk := e.ov.Ranking; rk != nil {
		for _, row := range rk.Rows {
			if gi, ok := index[row.Config]; ok && row.Interval.N > 0 && !slices.Contains(out, gi) {
				out = append(out, gi)
			}
			if len(out) == defaultCurves {
				return out
			}
		}
	}
	for i := range e.ov.Groups {
		if len(out) == defaultCurves {
			break
		}
		if !slices.Contains(out, i) {
			out = append(out, i)
		}
	}
	return out
}

func (s *Server) handleExperiment(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	name := q.Get("name")
	page, err := intParam(q, "page", 1, 1, 1<<20)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if v := q.Get("rows"); v != "" && v != "all" {
		s.fail(w, r, badf("rows=%q: the only value is all", clip(v)))
		return
	}
	e, err := s.overview(ctx, name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ov := e.ov
	chosen := defaultGroups(e)
	index := map[string]int{}
	for i, g := range ov.Groups {
		index[g.Label] = i
	}
	var ranking []rankRow
	moreRows := 0
	if ov.Ranking != nil {
		for i, row := range ov.Ranking.Rows {
			if i >= rankingRows && q.Get("rows") != "all" {
				moreRows = len(ov.Ranking.Rows) - i
				break
			}
			gi := index[row.Config]
			ranking = append(ranking, rankRow{RankRow: row, Group: gi, Checked: slices.Contains(chosen, gi)})
		}
	}
	pg := newPager(len(ov.Runs), runsPerPage, page, "/experiment?name="+url.QueryEscape(name)+"&")
	lo := (pg.Page - 1) * runsPerPage
	var shown []runRow // the page's runs only: 100,000 rows would be 40 MB a request
	for _, run := range ov.Runs[lo:min(len(ov.Runs), lo+runsPerPage)] {
		shown = append(shown, runRow{RunInfo: run, Group: ov.Groups[e.group[run.ID]].Label})
	}
	var keys []string
	if len(chosen) > 0 && len(ov.Groups[chosen[0]].Runs) > 0 {
		if m, err := s.runSeries(ctx, e.runs[ov.Groups[chosen[0]].Runs[0].ID]); err == nil {
			keys = curveKeys(m)
		}
	}
	if len(keys) == 0 {
		keys = []string{vae.KeyELBO}
	}
	// The faces page opens on one run of each of the top configurations.
	var faces []string
	for _, gi := range chosen[:min(len(chosen), 4)] {
		faces = append(faces, representative(ov.Groups[gi]).ID)
	}
	chosenText := make([]string, len(chosen))
	for i, c := range chosen {
		chosenText[i] = strconv.Itoa(c)
	}
	searchPlots := 0
	var search *report.Search
	if ov.SearchMetric != "" && len(e.runs) <= maxSearchRuns {
		if sv, err := s.search(ctx, e); err == nil && sv != nil {
			searchPlots, search = 1+len(sv.ByParam), sv
		}
	}
	s.render(w, r, "experiment.html", struct {
		Info        record.ExperimentInfo
		Counts      []StatusCount
		Progress    int
		Ranking     *report.Ranking
		Rows        []rankRow
		MoreRows    int
		Groups      int
		Chosen      string
		Keys        []string
		Runs        []runRow
		Pager       pager
		Faces       string
		SearchPlots []int
		Search      *report.Search
		Axes        []string
	}{e.info, statusCounts(e.info.Counts), progress(e.info), ov.Ranking, ranking, moreRows, len(ov.Groups), strings.Join(chosenText, ","), keys,
		shown, pg, strings.Join(faces, ","), make([]int, searchPlots), search, ov.Axes})
}

// representative is a configuration's run its faces stand for: its first
// finished run, else its first.
func representative(g *report.Group) record.RunInfo {
	for _, r := range g.Runs {
		if r.Status == record.StatusDone {
			return r
		}
	}
	return g.Runs[0]
}

// runList reads a comma-separated (or repeated) list of run ids.
func runList(q url.Values, limit int) ([]string, error) {
	var ids []string
	for _, v := range q["runs"] {
		for id := range strings.SplitSeq(v, ",") {
			if id = strings.TrimSpace(id); id == "" {
				continue
			}
			if err := checkRunID(id); err != nil {
				return nil, err
			}
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) > limit {
		return nil, badf("runs: %d runs; at most %d side by side", len(ids), limit)
	}
	return ids, nil
}

func (s *Server) handleFaces(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name := q.Get("name")
	ids, err := runList(q, maxFacesRuns)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	e, err := s.overview(r.Context(), name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(ids) == 0 {
		for _, gi := range defaultGroups(e)[:min(4, len(e.ov.Groups))] {
			ids = append(ids, representative(e.ov.Groups[gi]).ID)
		}
	}
	var runs []runRow
	for _, id := range ids {
		run := e.runs[id]
		if run == nil {
			s.fail(w, r, notFound{fmt.Sprintf("experiment %q has no run %s", name, id)})
			return
		}
		runs = append(runs, runRow{RunInfo: *run, Group: e.ov.Groups[e.group[id]].Label})
	}
	s.render(w, r, "faces.html", struct {
		Name string
		Runs []runRow
		IDs  string
	}{name, runs, strings.Join(ids, ",")})
}

// artifactRow is a file of a run, linked by its id (run and checksum).
type artifactRow struct {
	record.Artifact
	Image bool
	URL   string
}

func artifactURL(a record.Artifact) string { return "/artifact/" + a.RunID + "/" + a.SHA256 }

// runArtifacts lists a run's files under its training and every evaluation.
func (s *Server) runArtifacts(ctx context.Context, run *record.RunInfo) ([]record.Evaluation, []record.Artifact, error) {
	evals, err := s.st.Evaluations(ctx, run.ID)
	if err != nil {
		return nil, nil, err
	}
	hashes := []string{run.EvalHash}
	for _, ev := range evals {
		if !slices.Contains(hashes, ev.Hash) {
			hashes = append(hashes, ev.Hash)
		}
	}
	seen := map[string]bool{}
	var out []record.Artifact
	for _, h := range hashes {
		arts, err := s.st.ArtifactsAt(ctx, run.ID, h)
		if err != nil {
			return nil, nil, err
		}
		for _, k := range slices.Sorted(maps.Keys(arts)) {
			a := arts[k]
			if id := a.EvalHash + "/" + a.Kind; !seen[id] {
				seen[id] = true
				out = append(out, a)
			}
		}
	}
	return evals, out, nil
}

type keyValue struct{ Key, Value string }

func (s *Server) handleRun(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := r.URL.Query().Get("name")
	e, run, err := s.findRun(ctx, name, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	evals, arts, err := s.runArtifacts(ctx, run)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	events, err := s.st.Events(ctx, "", run.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sums, err := s.st.SummariesAt(ctx, run.ID, run.EvalHash)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var values []keyValue
	for _, k := range slices.Sorted(maps.Keys(sums)) {
		values = append(values, keyValue{k, strconv.FormatFloat(sums[k].Value, 'g', 6, 64)})
	}
	var rows []artifactRow
	for _, a := range arts {
		rows = append(rows, artifactRow{Artifact: a, Image: isImageKind(a.Kind), URL: artifactURL(a)})
	}
	var config bytes.Buffer
	if json.Indent(&config, []byte(run.Config), "", "  ") != nil {
		config.Reset()
		config.WriteString(run.Config)
	}
	keys := []string{vae.KeyELBO}
	if m, err := s.runSeries(ctx, run); err == nil && len(m) > 0 {
		keys = curveKeys(m)
	}
	s.render(w, r, "run.html", struct {
		Name      string
		Run       *record.RunInfo
		Group     string
		Info      record.ExperimentInfo
		Config    string
		Events    []record.Event
		Evals     []record.Evaluation
		Artifacts []artifactRow
		Values    []keyValue
		Keys      []string
		Explore   bool
	}{name, run, e.ov.Groups[e.group[run.ID]].Label, e.info, config.String(), events, evals, rows, values, keys,
		s.opt.Decoder != nil && run.Status == record.StatusDone})
}

func (s *Server) handleExplore(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	_, run, err := s.findRun(r.Context(), name, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.canDecode(run); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "explore.html", struct {
		Name string
		Run  *record.RunInfo
	}{name, run})
}
