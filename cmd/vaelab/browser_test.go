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

	"github.com/vaelab/vaelab/internal/testenv"
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
	ctx := headlessTab(t, browser, dir, 1200, 90*time.Second)

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

// overflowScript lists the elements that reach past the right edge of the
// page, outside any box that scrolls or clips them: what a reader would
// find cut. The test's assertion is the document's own width; this list
// says where an excess comes from.
const overflowScript = `(() => {
  const w = document.documentElement.clientWidth, out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= w + 1) continue;
    let p = el.parentElement, contained = false;
    for (; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === "auto" || o === "scroll" || o === "hidden") { contained = true; break; }
    }
    if (!contained) out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className : "") + " right=" + Math.round(r.right));
  }
  return out.slice(0, 10);
})()`

// TestReportLayoutInBrowser renders the report of three objectives and two
// samplers (issue 30, acceptance 3) at 1280 px and on a 390 px phone
// screen: the page is never wider than the screen (wide tables scroll in
// their own box), every image grid appears once, and the side-by-side strip
// has a row per configuration and sampler. The screenshots are saved, and
// kept in VAELAB_SCREENSHOT_DIR when it is set, to be looked at.
func TestReportLayoutInBrowser(t *testing.T) {
	testenv.Full(t, "the report of six runs at 1280 px and on a phone, in Chromium, 10 s")
	browser := chromium(t)
	dir := t.TempDir()
	r := vaelab(t, dir, nil, "run", abs(t, "testdata/layout.yaml"), "--report", "report.html")
	if r.code != 0 || !strings.Contains(r.stdout, "6 done") {
		t.Fatalf("run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	ctx := headlessTab(t, browser, dir, 1280, 120*time.Second)

	keep := os.Getenv("VAELAB_SCREENSHOT_DIR")
	for _, screen := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"desktop-1280", 1280, 900, false}, {"phone-390", 390, 844, true}} {
		t.Run(screen.name, func(t *testing.T) {
			emulate := []chromedp.EmulateViewportOption{chromedp.EmulatePortrait}
			if screen.mobile {
				emulate = append(emulate, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2))
			}
			if err := chromedp.Do(ctx,
				chromedp.EmulateViewport(screen.width, screen.height, emulate...),
				chromedp.Navigate("file://"+filepath.Join(dir, "report.html")),
				chromedp.WaitReady("body"),
				chromedp.Sleep(500*time.Millisecond),
			); err != nil {
				t.Fatalf("chromium: %v", err)
			}
			widths, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, document.documentElement.clientWidth]`))
			if err != nil {
				t.Fatal(err)
			}
			offenders, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](overflowScript))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: scrollWidth %d, clientWidth %d", screen.name, widths[0], widths[1])
			if widths[0] > widths[1] {
				t.Errorf("the page is %d px wide on a %d px screen; too wide: %v", widths[0], widths[1], offenders)
			}
			// Every grid, by its artifact mark and by its picture, once.
			marks, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("img")).map(i => i.dataset.artifact || i.src)`))
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]int{}
			grids := 0
			for _, m := range marks {
				seen[m]++
				if !strings.HasPrefix(m, "data:") && !strings.HasPrefix(m, "file:") {
					grids++
				}
			}
			for m, n := range seen {
				if n > 1 {
					t.Errorf("an image appears %d times: %.80s", n, m)
				}
			}
			// 3 configurations: reconstructions, samples of 2 samplers and
			// traversals of one run each; the other seeds' grids in their details.
			if grids != 6*4 {
				t.Errorf("%d image grids on the page, want 24 (6 runs × 4 grids)", grids)
			}
			strip, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".strip img").length`))
			if err != nil {
				t.Fatal(err)
			}
			if strip != 1+3+3*2 { // the test images, 3 reconstruction rows, 3 × 2 sample rows
				t.Errorf("the strip has %d images, want 10", strip)
			}
			shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(80))
			if err != nil {
				t.Fatal(err)
			}
			if len(shot) < 10000 {
				t.Fatalf("screenshot of %d bytes", len(shot))
			}
			for _, d := range []string{t.TempDir(), keep} {
				if d == "" {
					continue
				}
				p := filepath.Join(d, "vaelab-report-"+screen.name+".jpg")
				if err := os.WriteFile(p, shot, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("screenshot: %s (%d bytes)", p, len(shot))
			}
		})
	}
}

// headlessTab opens a tab of a headless browser, closed when the test ends:
// no sandbox or GPU, a profile in dir, the window width wide at 900 high,
// and a proxy nobody listens on, so that any request to another origin
// fails (loopback bypasses it).
func headlessTab(t *testing.T, browser, dir string, width int, timeout time.Duration) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("proxy-server", "127.0.0.1:9"),
		chromedp.UserDataDir(filepath.Join(dir, "profile")), chromedp.WindowSize(width, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}
