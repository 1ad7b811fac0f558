package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot and sharedData are relative to this package's directory.
var (
	repoRoot   = filepath.Join("..", "..", "..")
	sharedData = filepath.Join(repoRoot, "..", "shared", "data")
)

// TestEmbeddedFilesAreFresh re-runs the conversion from the shared data
// folder and checks that the committed files are exactly what it writes.
// It skips when the shared folder is absent.
func TestEmbeddedFilesAreFresh(t *testing.T) {
	if _, err := os.Stat(sharedData); err != nil {
		t.Skipf("shared data folder not found (%v)", err)
	}
	files, reports, err := generate(sharedData)
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	for _, f := range files {
		committed, err := os.ReadFile(filepath.Join(repoRoot, f.path))
		if err != nil {
			t.Errorf("%s: %v", f.path, err)
			continue
		}
		if !bytes.Equal(committed, f.data) {
			t.Errorf("%s is stale: regenerate with `go run ./measurements/internal/importgen` (got %d bytes committed, %d generated)", f.path, len(committed), len(f.data))
		}
	}
	for _, r := range reports {
		t.Log(r)
	}
	total := 0
	for _, f := range files {
		if strings.HasPrefix(f.path, filepath.Join("measurements", "data")) {
			total += len(f.data)
		}
	}
	t.Logf("embedded measurement data: %d bytes", total)
}

func TestRunWritesFiles(t *testing.T) {
	if _, err := os.Stat(sharedData); err != nil {
		t.Skipf("shared data folder not found (%v)", err)
	}
	if testing.Short() {
		t.Skip("writes every file; skipped under -short")
	}
	root := t.TempDir()
	for _, d := range []string{filepath.Join("measurements", "data"), filepath.Join("serving", "data")} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := run([]string{"-shared", sharedData, "-root", root}, &out); err != nil {
		t.Fatalf("run: %v", err)
	}
	for _, want := range []string{"wrote measurements/data/argonne.csv", "argonne: read 3162", "vidur-linear: read"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := os.Stat(filepath.Join(root, "serving", "data", "allreduce.csv")); err != nil {
		t.Errorf("allreduce.csv not written: %v", err)
	}
	if err := run([]string{"-shared", filepath.Join(root, "nowhere")}, &out); err == nil {
		t.Errorf("run with a missing shared folder: got no error")
	}
}
