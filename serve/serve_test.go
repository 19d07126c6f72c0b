package serve

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vaelab/vaelab/internal/testenv"
	"github.com/vaelab/vaelab/record"
)

// get asks the handler for target from 127.0.0.1.
func get(t testing.TB, s *Server, target string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/", nil)
	req.URL = &url.URL{Path: target}
	if i := strings.IndexByte(target, '?'); i >= 0 {
		req.URL.Path, req.URL.RawQuery = target[:i], target[i+1:]
	}
	if u, err := url.Parse(target); err == nil && u.RawPath != "" {
		req.URL.Path, req.URL.RawPath = u.Path, u.RawPath
	}
	req.RequestURI = target
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w
}

func newTestServer(t testing.TB, f *fakeStore, opt Options) *Server {
	t.Helper()
	s, err := New(f, opt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// writePNG writes a small PNG into dir and records it as an artifact of run.
func writePNG(t *testing.T, f *fakeStore, dir, runID, evalHash, kind string, shade uint8) record.Artifact {
	t.Helper()
	im := image.NewGray(image.Rect(0, 0, 4, 4))
	for i := range im.Pix {
		im.Pix[i] = shade
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, im); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, runID+"-"+kind+".png")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	a := record.Artifact{RunID: runID, EvalHash: evalHash, Kind: kind, Path: p, SHA256: hex.EncodeToString(sum[:]), Bytes: int64(buf.Len())}
	if f.arts[runID] == nil {
		f.arts[runID] = map[string]record.Artifact{}
	}
	f.arts[runID][kind] = a
	return a
}

func TestPagesAnswerWithTheirContent(t *testing.T) {
	f := newFake(t, testenv.SweepSpec("small", 3, 2, 2), 50, 4)
	dir := t.TempDir()
	run := f.runs[0]
	writePNG(t, f, dir, run.ID, run.EvalHash, "reconstructions", 10)
	writePNG(t, f, dir, run.ID, "", record.TrainingGridKind(2, 20), 20)
	s := newTestServer(t, f, Options{})
	name := url.QueryEscape("small")
	for _, c := range []struct{ target, want string }{
		{"/", "small"},
		{"/experiment?name=" + name, "Ranking"},
		{"/experiment?name=" + name + "&page=1&rows=all", run.ID[:12]},
		{"/faces?name=" + name + "&runs=" + run.ID, run.ID[:12]},
		{"/run/" + run.ID + "?name=" + name, "train_grid_e2_s20"},
		{"/api/state?name=" + name, `"version"`},
		{"/api/curves?name=" + name + "&key=train/elbo&raw=1", `"band"`},
		{"/api/run-curves/" + run.ID + "?name=" + name + "&key=train/loss", `"x"`},
		{"/api/grids?name=" + name + "&runs=" + run.ID, `"step":20`},
		{"/static/app.js", "use strict"},
	} {
		w := get(t, s, c.target)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), c.want) {
			t.Errorf("GET %s: %d, want 200 with %q:\n%.400s", c.target, w.Code, c.want, w.Body.String())
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "http") {
			t.Errorf("GET %s: Content-Security-Policy %q", c.target, csp)
		}
	}
}

// TestCurvesAreThinnedAndGrouped: a configuration's band has at most
// maxPoints points and its mean is the mean of its runs.
func TestCurvesAreThinnedAndGrouped(t *testing.T) {
	f := newFake(t, testenv.SweepSpec("long", 2, 1, 3), 5000, 2)
	s := newTestServer(t, f, Options{})
	w := get(t, s, "/api/curves?name=long&key=train/loss&groups=0,1&raw=1")
	var out struct {
		Groups []curveGroup `json:"groups"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || len(out.Groups) != 2 {
		t.Fatalf("%d %v: %.300s", w.Code, err, w.Body.String())
	}
	for _, g := range out.Groups {
		if n := len(g.Band.X); n == 0 || n > maxPoints {
			t.Errorf("group %s: band of %d points", g.Label, n)
		}
		if len(g.Raw) != 3 {
			t.Errorf("group %s: %d raw runs, want 3", g.Label, len(g.Raw))
		}
		for _, r := range g.Raw {
			if len(r.X) > maxPoints || len(r.X) < maxPoints/2 {
				t.Errorf("run %s: %d raw points", r.ID, len(r.X))
			}
		}
		if g.Band.N[0] != 3 || g.Band.Std[0] <= 0 {
			t.Errorf("group %s: first bin has %d runs, std %g", g.Label, g.Band.N[0], g.Band.Std[0])
		}
	}
}

func TestBandIsMeanAndStdOverRuns(t *testing.T) {
	a := series{X: []float64{1, 2, 3}, Y: []float64{1, 2, 3}}
	b := series{X: []float64{1, 2, 3}, Y: []float64{3, 4, 5}}
	got := band([]series{a, b}, 1000)
	if len(got.X) != 3 || got.Mean[1] != 3 || got.N[1] != 2 || got.Std[1] < 1.41 || got.Std[1] > 1.42 {
		t.Fatalf("band %+v", got)
	}
}

func TestLTTBKeepsEndsAndPeak(t *testing.T) {
	var s series
	for i := range 10000 {
		s.X, s.Y = append(s.X, float64(i)), append(s.Y, 0)
	}
	s.Y[5000] = 100
	got := lttb(s, 1000)
	if len(got.X) != 1000 || got.X[0] != 0 || got.X[999] != 9999 {
		t.Fatalf("%d points from %g to %g", len(got.X), got.X[0], got.X[len(got.X)-1])
	}
	peak := false
	for _, y := range got.Y {
		peak = peak || y == 100
	}
	if !peak {
		t.Error("the spike was thinned away")
	}
}

// TestArtifactsOnlyByID: a recorded image is served by its run and
// checksum; paths, traversal, encoded and absolute paths, unknown ids, a
// checkpoint and a changed file are refused with 4xx.
func TestArtifactsOnlyByID(t *testing.T) {
	f := newFake(t, testenv.SweepSpec("arts", 1, 1, 2), 10, 2)
	dir := t.TempDir()
	run := f.runs[0]
	a := writePNG(t, f, dir, run.ID, run.EvalHash, "samples", 50)
	ck := writePNG(t, f, dir, run.ID, "", "checkpoint", 60)
	changed := writePNG(t, f, dir, run.ID, run.EvalHash, "traversals", 70)
	if err := os.WriteFile(changed.Path, []byte("\x89PNG\r\n\x1a\nnot the file"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newTestServer(t, f, Options{})
	w := get(t, s, "/artifact/"+run.ID+"/"+a.SHA256)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "image/png" || !bytes.HasPrefix(w.Body.Bytes(), []byte("\x89PNG")) {
		t.Fatalf("the artifact: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	other := f.runs[1].ID
	for _, target := range []string{
		"/artifact/" + run.ID + "/" + ck.SHA256, // a checkpoint is no image to serve
		"/artifact/" + other + "/" + a.SHA256,   // another run's id
		"/artifact/" + run.ID + "/" + strings.Repeat("0", 64),
		"/artifact/" + run.ID + "/" + a.SHA256[:60],
		"/artifact/" + run.ID + "/" + changed.SHA256, // changed since recorded: 409
		"/artifact/../../etc/passwd",
		"/artifact/" + run.ID + "/../../../etc/passwd",
		"/artifact/%2e%2e/%2e%2e/etc/passwd",
		"/artifact/" + run.ID + "/%2Fetc%2Fpasswd",
		"//etc/passwd",
		"/artifact//etc/passwd",
		"/static/../serve.go",
		"/static/%2e%2e%2fserve.go",
		"/static/serve.go",
		"/static/..%5cserve.go",
		"/" + dir + "/x.png",
		"/artifact/" + run.ID + "/" + a.SHA256 + "/",
		"/run/zzzz?name=arts",
		"/run/0123456789abcdef?name=arts",
		"/nothing",
	} {
		w := get(t, s, target)
		if w.Code < 400 || w.Code >= 500 {
			t.Errorf("GET %s: %d, want 4xx", target, w.Code)
		}
		if strings.Contains(w.Body.String(), "goroutine") || bytes.Contains(w.Body.Bytes(), []byte("\x89PNG")) {
			t.Errorf("GET %s: body %.200q", target, w.Body.String())
		}
	}
}

// TestBadQueriesGet400: a bad value is the client's mistake, answered 400
// with a message that names it.
func TestBadQueriesGet400(t *testing.T) {
	f := newFake(t, testenv.SweepSpec("bad", 1, 1, 2), 10, 2)
	s := newTestServer(t, f, Options{})
	id := f.runs[0].ID
	for target, want := range map[string]string{
		"/?page=x":                       "page",
		"/?page=-1":                      "page",
		"/experiment":                    "name",
		"/experiment?name=bad&page=1e9":  "page",
		"/experiment?name=bad&rows=some": "rows",
		"/api/curves?name=bad&key=train/loss&groups=x":  "groups",
		"/api/curves?name=bad&key=train/loss&groups=99": "groups",
		"/api/curves?name=bad&key=%3Cscript%3E":         "key",
		"/api/curves?name=bad&key=train/loss&raw=yes":   "raw",
		"/api/grids?name=bad&runs=../../x":              "run id",
		"/api/decode/" + id + "?name=bad&steps=1000":    "explorer is off",
		"/search.svg?name=bad&i=-3":                     "i=",
		"/api/run-curves/" + id + "?name=bad&key=a%00b": "key",
		"/experiment?name=%01":                          "control",
	} {
		w := get(t, s, target)
		if w.Code != http.StatusBadRequest && w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), want) {
			t.Errorf("GET %s: %d %q, want 400 naming %q", target, w.Code, w.Body.String(), want)
		}
	}
	if w := get(t, s, "/experiment?name=nosuch"); w.Code != http.StatusNotFound {
		t.Errorf("unknown experiment: %d", w.Code)
	}
}

func TestOnlyLoopbackNamesAndReads(t *testing.T) {
	f := newFake(t, testenv.SweepSpec("host", 1, 1, 1), 10, 2)
	s := newTestServer(t, f, Options{})
	for host, want := range map[string]int{"127.0.0.1:8080": 200, "localhost:8080": 200, "[::1]:8080": 200, "evil.example:8080": 421, "192.168.1.5:8080": 421} {
		req := httptest.NewRequest(http.MethodGet, "http://"+host+"/", nil)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != want {
			t.Errorf("Host %s: %d, want %d", host, w.Code, want)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/", strings.NewReader("x"))
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", w.Code)
	}
	remote := newTestServer(t, f, Options{AllowRemote: true})
	req = httptest.NewRequest(http.MethodGet, "http://192.168.1.5:8080/", nil)
	w = httptest.NewRecorder()
	remote.ServeHTTP(w, req)
	if w.Code != 200 {
		t.Errorf("with AllowRemote, Host 192.168.1.5: %d", w.Code)
	}
}

// TestNonLoopbackAddressNeedsTheFlag: 0.0.0.0, ":port" and a LAN address
// are refused without AllowRemote; with it, a warning is printed.
func TestNonLoopbackAddressNeedsTheFlag(t *testing.T) {
	f := newFake(t, testenv.SweepSpec("addr", 1, 1, 1), 10, 2)
	s := newTestServer(t, f, Options{})
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		err := ListenAndServe(context.Background(), addr, s, io.Discard, nil)
		if err == nil || !strings.Contains(err.Error(), "--allow-remote") {
			t.Errorf("%s: %v, want a refusal naming --allow-remote", addr, err)
		}
	}
	remote := newTestServer(t, f, Options{AllowRemote: true})
	ctx, cancel := context.WithCancel(context.Background())
	var warn bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- ListenAndServe(ctx, "0.0.0.0:0", remote, &warn, func(string) { cancel() }) }()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(warn.String(), "no authentication") {
		t.Errorf("no warning: %q", warn.String())
	}
	ctx, cancel = context.WithCancel(context.Background())
	var bound string
	go func() { done <- ListenAndServe(ctx, "127.0.0.1:0", s, &warn, func(a string) { bound = a; cancel() }) }()
	if err := <-done; err != nil || !strings.HasPrefix(bound, "127.0.0.1:") {
		t.Fatalf("loopback: %v (bound %q)", err, bound)
	}
}

// fakeDecoder answers with a PNG whose shade is the request's first index.
type fakeDecoder struct{ calls int }

func (d *fakeDecoder) Interpolate(_ context.Context, _ record.RunInfo, a, b, steps int) ([]byte, error) {
	d.calls++
	if a > 99 {
		return nil, tooFar{}
	}
	var buf bytes.Buffer
	err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, steps, 1)))
	return buf.Bytes(), err
}

func (d *fakeDecoder) Sweep(ctx context.Context, r record.RunInfo, a, dim, steps int) ([]byte, error) {
	return d.Interpolate(ctx, r, a, dim, steps)
}

type tooFar struct{}

func (tooFar) Error() string    { return "test image 100: the test split has 100 images" }
func (tooFar) BadRequest() bool { return true }

func TestDecodeIsCachedAndChecked(t *testing.T) {
	f := newFake(t, testenv.SweepSpec("dec", 1, 1, 2), 10, 2)
	d := &fakeDecoder{}
	s := newTestServer(t, f, Options{Decoder: d})
	id := f.runs[0].ID
	for range 3 {
		if w := get(t, s, "/api/decode/"+id+"?name=dec&mode=interpolate&a=1&b=2&steps=5"); w.Code != 200 || w.Header().Get("Content-Type") != "image/png" {
			t.Fatalf("decode: %d %s", w.Code, w.Body.String())
		}
	}
	if d.calls != 1 {
		t.Errorf("%d decodes for one request asked 3 times, want 1 (cached)", d.calls)
	}
	if w := get(t, s, "/api/decode/"+id+"?name=dec&a=100"); w.Code != 400 || !strings.Contains(w.Body.String(), "100 images") {
		t.Errorf("a test image past the split: %d %q", w.Code, w.Body.String())
	}
	if w := get(t, s, "/api/decode/"+id+"?name=dec&mode=warp"); w.Code != 400 {
		t.Errorf("unknown mode: %d", w.Code)
	}
	f.setStatus(f.runs[1].ID, record.StatusRunning, 5)
	s2 := newTestServer(t, f, Options{Decoder: d})
	if w := get(t, s2, "/explore/"+f.runs[1].ID+"?name=dec"); w.Code != 400 || !strings.Contains(w.Body.String(), "finished") {
		t.Errorf("explorer of a running run: %d %q", w.Code, w.Body.String())
	}
	if w := get(t, s2, "/explore/"+id+"?name=dec"); w.Code != 200 || !strings.Contains(w.Body.String(), "/api/decode/"+id) {
		t.Errorf("explorer page: %d", w.Code)
	}
}

// FuzzHandlers asks the server for arbitrary paths and queries: it never
// panics, never answers 5xx (the fake store cannot fail) and never shows a
// stack.
func FuzzHandlers(f *testing.F) {
	fs := newFake(f, testenv.SweepSpec("fuzz", 2, 1, 2), 20, 3)
	s := newTestServer(f, fs, Options{Decoder: &fakeDecoder{}})
	id := fs.runs[0].ID
	for _, seed := range []string{"/", "/experiment?name=fuzz", "/api/curves?name=fuzz&key=train/elbo&groups=0,1&raw=1",
		"/run/" + id + "?name=fuzz", "/api/grids?name=fuzz&runs=" + id, "/api/decode/" + id + "?name=fuzz&mode=dimension&dim=3",
		"/artifact/" + id + "/../x", "/static/app.js", "/faces?name=fuzz&runs=" + id + "," + id, "/search.svg?name=fuzz&i=0"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, target string) {
		req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:8080"+target, nil)
		if err != nil || req.URL.Host != "127.0.0.1:8080" {
			return
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("GET %q: %d %s", target, w.Code, w.Body.String())
		}
		if strings.Contains(w.Body.String(), "goroutine ") || strings.Contains(w.Body.String(), "panic") {
			t.Fatalf("GET %q: a stack in the answer", target)
		}
	})
}

// TestSearchViewOfARandomSearch: a random search's page shows the report's
// search plots as SVG images, each under a policy of its own that allows
// the plotting library's inline styles and nothing else.
func TestSearchViewOfARandomSearch(t *testing.T) {
	spec := "name: search\nseeds: [1, 2]\nsweep:\n  random:\n    trials: 4\n    seed: 1\n    params:\n      objective.beta: {log_uniform: [0.25, 4]}\n"
	f := newFake(t, spec, 30, 10)
	s := newTestServer(t, f, Options{})
	if w := get(t, s, "/experiment?name=search"); w.Code != 200 || !strings.Contains(w.Body.String(), "search.svg") {
		t.Fatalf("experiment page: %d\n%.300s", w.Code, w.Body.String())
	}
	w := get(t, s, "/search.svg?name=search&i=0")
	if w.Code != 200 || w.Header().Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(w.Body.String(), "<svg") ||
		w.Header().Get("Content-Security-Policy") != "default-src 'none'; style-src 'unsafe-inline'" {
		t.Fatalf("search plot: %d %v %.100s", w.Code, w.Header(), w.Body.String())
	}
	if w := get(t, s, "/search.svg?name=search&i=9"); w.Code != 404 {
		t.Errorf("a plot past the last: %d", w.Code)
	}
}
