// Package serve is vaelab's live, read-only web view of a workspace: experiments, curves by configuration,
// faces over training and a latent explorer, read through record.Reader with every asset embedded.
package serve

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log"
	"net"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/vaelab/vaelab/internal/fault"
	"github.com/vaelab/vaelab/record"
)

//go:embed assets templates
var files embed.FS

// Options configure a server.
type Options struct {
	// Decoder decodes images from a finished run's checkpoint for the
	// latent explorer; nil leaves the explorer off.
	Decoder Decoder
	// AllowRemote accepts requests whose Host is not a loopback name (the
	// server is then reachable by others, with no authentication).
	AllowRemote bool
	// Log hears errors the pages answer with 500 (never the client).
	Log io.Writer
}

// Server answers the pages. It only reads: every query is one short read
// through the Reader, and nothing is ever written.
type Server struct {
	st    record.Reader
	opt   Options
	pages *template.Template
	mux   *http.ServeMux
	log   *log.Logger

	mu    sync.Mutex
	exps  map[string]*expEntry // by experiment name
	cache *seriesCache
	dec   *decodeGate
}

// New makes the handler of a workspace's view.
func New(st record.Reader, opt Options) (*Server, error) {
	t, err := template.New("").Funcs(funcs()).ParseFS(files, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("serve: parse templates: %w", err)
	}
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	s := &Server{st: st, opt: opt, pages: t, mux: http.NewServeMux(), log: log.New(opt.Log, "vaelab serve: ", log.LstdFlags),
		exps: map[string]*expEntry{}, cache: newSeriesCache(maxCachedPoints), dec: newDecodeGate()}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	s.mux.HandleFunc("GET /{$}", s.handleExperiments)
	s.mux.HandleFunc("GET /experiment", s.handleExperiment)
	s.mux.HandleFunc("GET /faces", s.handleFaces)
	s.mux.HandleFunc("GET /run/{id}", s.handleRun)
	s.mux.HandleFunc("GET /explore/{id}", s.handleExplore)
	s.mux.HandleFunc("GET /search.svg", s.handleSearchSVG)
	s.mux.HandleFunc("GET /api/state", s.handleState)
	s.mux.HandleFunc("GET /api/curves", s.handleCurves)
	s.mux.HandleFunc("GET /api/run-curves/{id}", s.handleRunCurves)
	s.mux.HandleFunc("GET /api/grids", s.handleGrids)
	s.mux.HandleFunc("GET /api/decode/{id}", s.handleDecode)
	s.mux.HandleFunc("GET /artifact/{run}/{sum}", s.handleArtifact)
	s.mux.HandleFunc("GET /static/{file}", s.handleStatic)
}

// csp allows the page's own origin only: no inline script or style, no
// other host, no framing. Plots are drawn by the page's script from JSON.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// ServeHTTP checks the request before any handler sees it: only GET and
// HEAD, a loopback Host unless remote access was allowed (a page of another
// site that rebinds its name to 127.0.0.1 is refused), and a plain path
// (no "..", no encoded characters, no doubled slashes: 400, never a
// redirect that would resolve them).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		httpError(w, http.StatusMethodNotAllowed, "the view only reads: GET or HEAD")
		return
	}
	if !s.opt.AllowRemote && !loopbackHost(r.Host) {
		httpError(w, http.StatusMisdirectedRequest, "this server answers only to localhost, 127.0.0.1 or [::1] (start it with --allow-remote to serve other names)")
		return
	}
	if p := r.URL.Path; r.URL.RawPath != "" || strings.Contains(p, "..") || strings.Contains(p, "//") || strings.Contains(p, "\\") ||
		!strings.HasPrefix(p, "/") || path.Clean(p) != p && p != "/" {
		httpError(w, http.StatusBadRequest, "bad path: the view's paths have no '..', encoded characters or doubled slashes")
		return
	}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Printf("%s %s: panic: %v", r.Method, r.URL.Path, v)
			httpError(w, http.StatusInternalServerError, "internal error")
		}
	}()
	s.mux.ServeHTTP(w, r)
}

// loopbackHost reports whether a Host header names this machine's loopback.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// httpError answers with a status and a one-line message, never more: no
// stack, no internal path.
func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}

// badRequest is a client's mistake, answered with 400 and its message.
type badRequest struct{ msg string }

func (e badRequest) Error() string { return e.msg }

func badf(format string, a ...any) error { return badRequest{fmt.Sprintf(format, a...)} }

// notFound is an unknown experiment, run or artifact: 404.
type notFound struct{ msg string }

func (e notFound) Error() string { return e.msg }

// fail answers err: 400 or 404 with their message for the client's
// mistakes, 503 for a deadline, 500 otherwise, whose detail goes to the log.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var br badRequest
	var nf notFound
	switch {
	case errors.As(err, &br):
		httpError(w, http.StatusBadRequest, br.msg)
	case errors.As(err, &nf):
		httpError(w, http.StatusNotFound, nf.msg)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, errBusy):
		httpError(w, http.StatusServiceUnavailable, "busy: "+err.Error())
	case errors.Is(err, context.Canceled):
		// The client went away.
	default:
		s.log.Printf("%s %s: %v", r.Method, r.URL.String(), err)
		httpError(w, http.StatusInternalServerError, "internal error (the server's log says more)")
	}
}

// ListenAndServe serves h on addr until ctx ends, then returns nil. An
// address that is not loopback (a LAN address, 0.0.0.0, ":8080") is
// refused (the user's error, fault.User) unless
// allowRemote, and then warn hears that anyone who can reach it sees the
// workspace: the view has no authentication. ready, if set, hears the
// address actually bound (for port 0).
func ListenAndServe(ctx context.Context, addr string, h *Server, warn io.Writer, ready func(addr string)) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fault.User(fmt.Errorf("serve: --addr %q: %w", addr, err))
	}
	if !loopbackAddr(ctx, host) {
		if !h.opt.AllowRemote {
			return fault.User(fmt.Errorf("serve: --addr %s is not a loopback address; the view has no authentication, so serving it to other machines needs --allow-remote", addr))
		}
		fmt.Fprintf(warn, "WARNING: serving on %s with no authentication: anyone who can reach this address can read every experiment in the workspace\n", addr)
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 2 * time.Minute,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10, BaseContext: func(net.Listener) context.Context { return ctx }}
	if ready != nil {
		ready(ln.Addr().String())
	}
	go h.warm(ctx)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut) // the process ends next; open streams are cut
		return nil
	}
}

// loopbackAddr reports whether a listening host binds loopback only: "" and
// unspecified addresses bind every interface.
func loopbackAddr(ctx context.Context, host string) bool {
	if host == "" {
		return false
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil || len(ips) == 0 {
		return false
	}
	for _, ip := range ips {
		if !ip.IP.IsLoopback() {
			return false
		}
	}
	return true
}
