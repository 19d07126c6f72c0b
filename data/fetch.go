package data

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/vaelab/vaelab/internal/atomicfile"
	"github.com/vaelab/vaelab/internal/safefile"
)

// Source is a dataset file that vaelab knows how to find, check and download.
type Source struct {
	Name   string // dataset name in specs
	File   string // path under the data directory
	URL    string // where to download it; "" when it cannot be downloaded
	SHA256 string
	// MD5 is the checksum a dataset's authors publish, when they give no
	// sha256 (CelebA); it identifies the official file, it does not guard
	// against tampering.
	MD5 string
	// Folder is an extracted copy that stands in for File when File is
	// missing (CelebA's img_align_celeba/); "" when there is none.
	Folder string
	Size   int64 // bytes expected; 0 when unknown (a download stops past it)
	About  string
}

// Builtins are the datasets vaelab knows by file (the Kinds that are
// builtins), sorted by name. Frey and Olivetti can be downloaded; the LFW
// subset comes with the shared test data only.
func Builtins() []Source {
	var out []Source
	for _, name := range Names() {
		if b, ok := kinds()[name].(builtin); ok {
			src := b.source()
			src.Name = name
			out = append(out, src)
		}
	}
	return out
}

// Builtin returns the built-in source called name.
func Builtin(name string) (Source, bool) {
	b, ok := kinds()[name].(builtin)
	if !ok {
		return Source{}, false
	}
	src := b.source()
	src.Name = name
	return src, true
}

// FileMD5 returns the md5 of a file.
func FileMD5(path string) (string, error) {
	f, _, err := safefile.Open(path, safefile.NoLimit)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// FileSHA256 returns the sha256 of a file.
func FileSHA256(path string) (string, error) {
	f, _, err := safefile.Open(path, safefile.NoLimit)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Progress is told how many bytes of total have arrived; total is -1 when unknown.
type Progress func(done, total int64)

// DefaultDownloadWait is how long a download waits for the server: to
// connect, for the response's headers, and for each next piece of the body.
const DefaultDownloadWait = 60 * time.Second

// NewDownloadClient is an HTTP client whose every wait is bounded by wait
// (connecting, TLS, the response's headers). Fetch bounds the body's stalls
// by the same wait.
func NewDownloadClient(wait time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: wait, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout, t.ResponseHeaderTimeout = wait, wait
	return &http.Client{Transport: t}
}

// Fetch downloads src.URL to dst. The bytes go to a temporary file beside dst
// and are hashed on the way; only a complete download whose sha256 matches
// src.SHA256 is renamed into place. A wrong checksum or a cut transfer leaves
// nothing behind and returns an error naming the dataset (and both hashes).
// It never waits for the server longer than the client transport's
// ResponseHeaderTimeout (DefaultDownloadWait when it has none) without a
// byte arriving, and stops once more bytes came than expected: src.Size,
// else the Content-Length, else MemoryLimit (a dataset must fit in memory).
func Fetch(ctx context.Context, client *http.Client, src Source, dst string, progress Progress) error {
	if src.URL == "" {
		return fmt.Errorf("dataset %s has no download address; put %s in the data directory", src.Name, src.File)
	}
	if len(src.SHA256) != 64 {
		return fmt.Errorf("dataset %s: refusing to download without a sha256 to check", src.Name)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("download %s: %w", src.Name, err)
	}
	wait := DefaultDownloadWait
	if t, ok := client.Transport.(*http.Transport); ok && t.ResponseHeaderTimeout > 0 {
		wait = t.ResponseHeaderTimeout
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stalled := time.AfterFunc(wait, func() {
		cancel(fmt.Errorf("the server sent nothing for %v", wait))
	})
	defer stalled.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.URL, nil)
	if err != nil {
		return fmt.Errorf("download %s: %w", src.Name, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
			err = cause
		}
		return fmt.Errorf("download %s from %s: %w", src.Name, src.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download %s from %s: HTTP %s", src.Name, src.URL, resp.Status)
	}
	atomicfile.SweepStale(filepath.Dir(dst), 0) // downloads killed mid-way
	tmp, err := os.CreateTemp(filepath.Dir(dst), atomicfile.TempPattern(dst))
	if err != nil {
		return fmt.Errorf("download %s: %w", src.Name, err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	limit := src.Size
	if limit <= 0 {
		limit = resp.ContentLength
	}
	if limit < 0 {
		limit = MemoryLimit()
	}
	h := sha256.New()
	body := &progressReader{r: resp.Body, total: resp.ContentLength, report: progress, arrived: func() { stalled.Reset(wait) }}
	var r io.Reader = body
	if limit > 0 {
		r = io.LimitReader(body, limit+1)
	}
	n, err := io.Copy(io.MultiWriter(tmp, h), r)
	if cause := context.Cause(ctx); err != nil && cause != nil && ctx.Err() != nil {
		err = cause
	}
	switch {
	case err == nil && limit > 0 && n > limit:
		err = fmt.Errorf("the server sent more than the %d bytes expected; stopped there", limit)
	case err == nil && resp.ContentLength >= 0 && n != resp.ContentLength:
		err = fmt.Errorf("transfer cut after %d of %d bytes", n, resp.ContentLength)
	}
	if err != nil {
		err = fmt.Errorf("%w (sha256 of the %d bytes that arrived %s, want %s)", err, n, hex.EncodeToString(h.Sum(nil)), src.SHA256)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("download %s from %s: %w; nothing was kept", src.Name, src.URL, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != src.SHA256 {
		return fmt.Errorf("download %s from %s: sha256 %s, want %s; nothing was kept", src.Name, src.URL, got, src.SHA256)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("download %s: %w", src.Name, err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("download %s: %w", src.Name, err)
	}
	return nil
}

type progressReader struct {
	r           io.Reader
	done, total int64
	report      Progress
	arrived     func() // called whenever bytes arrive
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 && p.arrived != nil {
		p.arrived()
	}
	p.done += int64(n)
	if p.report != nil && n > 0 {
		p.report(p.done, p.total)
	}
	return n, err
}
