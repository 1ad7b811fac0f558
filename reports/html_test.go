package reports

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func renderHTML(t *testing.T, fixture string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := HTML(&buf, loadFixture(t, fixture)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestHTMLGolden(t *testing.T) {
	golden(t, "two-regions.report.html", renderHTML(t, "two-regions"))
}

// externalRE matches anything that would make a page load something else:
// URLs, scripts, stylesheets, frames, objects, CSS imports and url().
var externalRE = regexp.MustCompile(`(?i)https?:|//[a-z0-9]|<script|<link|<iframe|<object|<embed|<img|\bsrc=|\bhref=|@import|url\(|@font-face`)

// TestHTMLSelfContained: the report has no external URL or asset, and
// holds every table and one inline <svg> per plot.
func TestHTMLSelfContained(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			page := renderHTML(t, name)
			if m := externalRE.Find(page); m != nil {
				t.Errorf("report contains %q; want no external reference", m)
			}
			plots, err := Plots(loadFixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := bytes.Count(page, []byte("<svg ")), len(plots); got != want {
				t.Errorf("got %d inline <svg>, want %d (one per plot)", got, want)
			}
			r := loadFixture(t, name)
			// run, strategies, comparison, one per fault
			want := 3
			if len(r.Strategies) > 0 {
				want += len(r.Strategies[0].Faults)
			}
			if got := bytes.Count(page, []byte("<table")); got != want {
				t.Errorf("got %d tables, want %d", got, want)
			}
		})
	}
}

// TestHTMLEscapesNames: user-provided strings with markup appear as text.
func TestHTMLEscapesNames(t *testing.T) {
	r := loadFixture(t, "two-regions")
	const evil = `<script>alert("x")</script>`
	r.Scenario = evil
	r.Description = `<img src=x onerror=alert(1)>`
	r.Strategies[0].Name = evil
	r.Strategies[0].Description = evil
	for i := range r.Strategies {
		r.Strategies[i].Workloads[0].Name = `chat</td><script>`
		r.Strategies[i].Sites[0].Site = `<b>site</b>`
	}
	var buf bytes.Buffer
	if err := HTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, bad := range []string{"<script", "<img", "<b>", "chat</td>"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q unescaped", bad)
		}
	}
	if !strings.Contains(page, "&lt;script&gt;") {
		t.Error("page does not show the escaped strategy name")
	}
}

// findChromium returns a Chromium binary on PATH, or "".
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// chromium runs headless Chromium with args and the given page, returning
// stdout and stderr (with console messages logged to stderr).
func chromium(t *testing.T, bin, page string, args ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--disable-gpu", "--no-sandbox", "--user-data-dir=" + t.TempDir(),
		"--enable-logging=stderr", "--v=0", "--no-first-run", "--disable-extensions"}
	cmd := exec.CommandContext(ctx, bin, append(append(base, args...), "file://"+page)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, errb.String())
	}
	return out.String(), errb.String()
}

// consoleRE matches the lines Chromium logs for console messages (errors
// and warnings of the page, failed loads) with --enable-logging=stderr.
var consoleRE = regexp.MustCompile(`(?m)^.*:CONSOLE[:(].*$`)

// TestReportHTMLInBrowser loads the HTML report from disk in headless
// Chromium: the DOM must hold the tables and the SVG plots, the console
// must stay silent, and a screenshot is saved (under FLEETSIM_ARTIFACTS if
// set, else the temporary directory). Without Chromium it skips, naming
// scripts/install-browser.sh, unless FLEETSIM_REQUIRE_BROWSER=1.
func TestReportHTMLInBrowser(t *testing.T) {
	bin := findChromium()
	if bin == "" {
		msg := "no chromium on PATH: run scripts/install-browser.sh to run the browser test"
		if os.Getenv("FLEETSIM_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg + " (FLEETSIM_REQUIRE_BROWSER=1)")
		}
		t.Skip(msg)
	}
	dir := t.TempDir()

	// The console check must be able to fail: a page that logs an error
	// has to be caught.
	bad := filepath.Join(dir, "bad.html")
	if err := os.WriteFile(bad, []byte(`<!DOCTYPE html><html><body><script>console.error("fleetsim-probe")</script></body></html>`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr := chromium(t, bin, bad, "--dump-dom"); !strings.Contains(strings.Join(consoleRE.FindAllString(stderr, -1), "\n"), "fleetsim-probe") {
		t.Fatalf("console check does not see a console.error; stderr:\n%s", stderr)
	}

	r := loadFixture(t, "regional-outage")
	page := filepath.Join(dir, "report.html")
	if err := WriteFile(page, func(w io.Writer) error { return HTML(w, r) }); err != nil {
		t.Fatal(err)
	}
	dom, stderr := chromium(t, bin, page, "--dump-dom")
	if lines := consoleRE.FindAllString(stderr, -1); len(lines) > 0 {
		t.Errorf("console messages:\n%s", strings.Join(lines, "\n"))
	}
	plots, err := Plots(r)
	if err != nil {
		t.Fatal(err)
	}
	wantTables := 3 + len(r.Strategies[0].Faults)
	if got := strings.Count(dom, "<table"); got != wantTables {
		t.Errorf("DOM has %d tables, want %d", got, wantTables)
	}
	if got := strings.Count(dom, "<svg"); got != len(plots) {
		t.Errorf("DOM has %d <svg>, want %d", got, len(plots))
	}
	for _, p := range plots {
		if !strings.Contains(dom, `<figure id="`+p.Name+`">`) {
			t.Errorf("DOM lacks the figure %s", p.Name)
		}
	}
	// Every comparison cell made it into the DOM.
	if got, want := strings.Count(dom, `<td class="num">`), len(comparisonTable(r).Rows)*len(r.Strategies); got < want {
		t.Errorf("DOM has %d figure cells, want at least %d", got, want)
	}

	shotDir := os.Getenv("FLEETSIM_ARTIFACTS")
	if shotDir == "" {
		shotDir = os.TempDir()
	}
	if err := os.MkdirAll(shotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(shotDir, "fleetsim-report-browser.png")
	chromium(t, bin, page, "--screenshot="+shot, "--window-size=1280,2000", "--hide-scrollbars")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s: %v", shot, err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2000 {
		t.Errorf("screenshot is %dx%d, want 1280x2000", b.Dx(), b.Dy())
	}
	// A rendered page is not one flat colour.
	b := img.Bounds()
	first := img.At(b.Min.X, b.Min.Y)
	flat := true
	for y := b.Min.Y; y < b.Max.Y && flat; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			if img.At(x, y) != first {
				flat = false
				break
			}
		}
	}
	if flat {
		t.Error("screenshot is blank")
	}
	t.Logf("screenshot: %s", shot)
}
