package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromium finds the browser; under CI=true a missing one fails the test.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("VAELAB_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (.ci/run installs Debian's chromium)")
	}
	t.Skip("chromium not found; install Debian's chromium or set VAELAB_CHROMIUM")
	return ""
}

// TestReportInBrowser opens a report in headless Chromium from a file:// URL
// with the network disabled: no console errors, no exceptions, no failed
// requests, no dialog (the hostile names must not run), every section present;
// it saves a screenshot.
func TestReportInBrowser(t *testing.T) {
	browser := chromium(t)
	dir := t.TempDir()
	r := vaelab(t, dir, nil, "run", abs(t, "testdata/hostile.yaml"), "--report", "report.html")
	if r.code != 0 || !strings.Contains(r.stdout, "4 done, 2 diverged") {
		t.Fatalf("run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("proxy-server", "127.0.0.1:9"), // nothing may be fetched
		chromedp.UserDataDir(filepath.Join(dir, "profile")), chromedp.WindowSize(1200, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()

	var mu sync.Mutex
	var problems []string
	note := func(format string, args ...any) {
		mu.Lock()
		problems = append(problems, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	// The domains this listens to are enabled by chromedp when the tab starts.
	if err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning || e.Type == runtime.ConsoleAPICalledTypeAssert {
				note("console %s", e.Type)
			}
		case *runtime.EventExceptionThrown:
			note("exception: %s", e.ExceptionDetails.Text)
		case *network.EventLoadingFailed:
			note("request failed: %s", e.ErrorText)
		case *network.EventRequestWillBeSent:
			if !strings.HasPrefix(e.Request.URL, "file://") && !strings.HasPrefix(e.Request.URL, "data:") {
				note("request to %s", e.Request.URL)
			}
		case *page.EventJavascriptDialogOpening:
			note("dialog opened: %q", e.Message)
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	sections := []string{"exp0-header", "exp0-summary", "exp0-curves", "exp0-rd", "exp0-effects", "exp0-stability", "exp0-blur", "exp0-traversals", "exp0-runs"}
	err := chromedp.Do(ctx,
		chromedp.Navigate("file://"+filepath.Join(dir, "report.html")),
		chromedp.WaitReady("body"),
		chromedp.Sleep(500*time.Millisecond),
	)
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	present, err := chromedp.Run(ctx, chromedp.Evaluate[[]bool](fmt.Sprintf(`%q.split(",").map(id => document.getElementById(id) !== null)`, strings.Join(sections, ","))))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(80))
	if err != nil {
		t.Fatal(err)
	}
	shotPath := filepath.Join(os.TempDir(), "vaelab-report-screenshot.jpg")
	if err := os.WriteFile(shotPath, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", shotPath, len(shot))
	for i, ok := range present {
		if !ok {
			t.Errorf("section %s missing", sections[i])
		}
	}
	for _, want := range []string{"Experiment <img src=x onerror=alert(1)>", "<img src=x onerror=alert(2)> & <script>alert(3)</script>",
		"<img src=x onerror=alert(4)> seed=1", "absurd learning rate seed=2", "Rate–distortion", "Real-vs-real baseline"} {
		if !strings.Contains(text, want) {
			t.Errorf("page text lacks %q", want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Fatalf("the page misbehaved: %v", problems)
	}
	if len(shot) < 10000 {
		t.Fatalf("screenshot of %d bytes", len(shot))
	}
}
