package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSpecFile(t *testing.T) {
	// The command lines are the shapes containerd's runc shim and dockerd use
	// (runc --root ... --log ... --log-format json create --bundle B ... ID).
	tests := []struct {
		name     string
		args     []string
		wantFile string
		wantKind specKind
	}{
		{"shim create", []string{"--root", "/run/docker/runtime-runc/moby", "--log", "/x/log.json", "--log-format", "json", "create", "--bundle", "/b", "--pid-file", "/b/pid", "id1"}, "/b/config.json", bundleSpec},
		{"create equals form", []string{"create", "--bundle=/b2", "id"}, "/b2/config.json", bundleSpec},
		{"create short flag", []string{"--systemd-cgroup", "create", "-b", "/b3", "id"}, "/b3/config.json", bundleSpec},
		{"run without bundle uses cwd", []string{"run", "id"}, "config.json", bundleSpec},
		{"exec process", []string{"--root", "/r", "exec", "--process", "/tmp/p.json", "--detach", "id"}, "/tmp/p.json", processSpec},
		{"exec single-dash long", []string{"exec", "-process", "/tmp/q.json", "id"}, "/tmp/q.json", processSpec},
		{"exec without process file", []string{"exec", "-t", "id", "sh"}, "", bundleSpec},
		{"start passes through", []string{"--root", "/r", "start", "id"}, "", bundleSpec},
		{"delete passes through", []string{"delete", "--force", "id"}, "", bundleSpec},
		{"global value named like a command", []string{"--log-format", "create", "state", "id"}, "", bundleSpec},
		{"no command", []string{"--version"}, "", bundleSpec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file, kind := specFile(tt.args)
			if file != tt.wantFile || (file != "" && kind != tt.wantKind) {
				t.Errorf("specFile(%q) = %q, %v; want %q, %v", tt.args, file, kind, tt.wantFile, tt.wantKind)
			}
		})
	}
}

func TestDropFromSpec(t *testing.T) {
	drop := []string{"CAP_SYS_RESOURCE"}
	tests := []struct {
		name        string
		kind        specKind
		in          string
		wantChanged bool
		wantCaps    map[string][]string // set name -> capabilities expected after the rewrite
		path        []string            // where the capabilities object sits
	}{
		{
			name:        "bundle spec drops from every set and keeps the rest",
			kind:        bundleSpec,
			in:          `{"ociVersion":"1.0.2","process":{"user":{"uid":0,"gid":0},"capabilities":{"bounding":["CAP_CHOWN","CAP_SYS_RESOURCE"],"effective":["CAP_SYS_RESOURCE","CAP_KILL"],"permitted":["CAP_SYS_RESOURCE"],"inheritable":["CAP_CHOWN"]}},"linux":{"resources":{"memory":{"limit":9007199254740993}}}}`,
			wantChanged: true,
			wantCaps:    map[string][]string{"bounding": {"CAP_CHOWN"}, "effective": {"CAP_KILL"}, "permitted": {}, "inheritable": {"CAP_CHOWN"}},
			path:        []string{"process", "capabilities"},
		},
		{
			name:        "process spec",
			kind:        processSpec,
			in:          `{"args":["sh"],"capabilities":{"bounding":["CAP_SYS_RESOURCE","CAP_SYS_ADMIN"],"ambient":["CAP_SYS_RESOURCE"]}}`,
			wantChanged: true,
			wantCaps:    map[string][]string{"bounding": {"CAP_SYS_ADMIN"}, "ambient": {}},
			path:        []string{"capabilities"},
		},
		{
			name:        "nothing to drop leaves the file alone",
			kind:        bundleSpec,
			in:          `{"process":{"capabilities":{"bounding":["CAP_CHOWN"]}}}`,
			wantChanged: false,
		},
		{
			name:        "no capabilities",
			kind:        bundleSpec,
			in:          `{"process":{"args":["true"]}}`,
			wantChanged: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, changed, err := dropFromSpec([]byte(tt.in), tt.kind, drop)
			if err != nil {
				t.Fatalf("dropFromSpec: %v", err)
			}
			if changed != tt.wantChanged {
				t.Fatalf("changed = %v, want %v", changed, tt.wantChanged)
			}
			if !changed {
				if string(out) != tt.in {
					t.Errorf("unchanged spec was rewritten: got %s, want %s", out, tt.in)
				}
				return
			}
			var doc map[string]any
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatalf("output is not JSON: %v", err)
			}
			node := doc
			for _, k := range tt.path {
				node = node[k].(map[string]any)
			}
			for set, want := range tt.wantCaps {
				var got []string
				for _, c := range node[set].([]any) {
					got = append(got, c.(string))
				}
				if len(got) == 0 && len(want) == 0 {
					continue
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %v, want %v", set, got, want)
				}
			}
		})
	}
}

// TestDropKeepsLargeNumbers checks that numbers beyond float64 precision
// (2^53+1 here) survive the rewrite exactly, since the spec holds byte limits.
func TestDropKeepsLargeNumbers(t *testing.T) {
	in := `{"process":{"capabilities":{"bounding":["CAP_SYS_RESOURCE"]}},"linux":{"resources":{"memory":{"limit":9007199254740993}}}}`
	out, _, err := dropFromSpec([]byte(in), bundleSpec, []string{"CAP_SYS_RESOURCE"})
	if err != nil {
		t.Fatal(err)
	}
	want := `"limit":9007199254740993`
	if !json.Valid(out) || !bytesContains(out, want) {
		t.Errorf("got %s, want it to contain %s", out, want)
	}
}

func bytesContains(b []byte, s string) bool { return strings.Contains(string(b), s) }

func TestRewriteFileKeepsMode(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.json")
	if err := os.WriteFile(file, []byte(`{"process":{"capabilities":{"bounding":["CAP_SYS_RESOURCE","CAP_KILL"]}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := rewriteFile(file, bundleSpec, []string{"CAP_SYS_RESOURCE"}); err != nil {
		t.Fatalf("rewriteFile: %v", err)
	}
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != 0o600 {
		t.Errorf("mode = %v, want 0600", got)
	}
	data, _ := os.ReadFile(file)
	if want := `{"process":{"capabilities":{"bounding":["CAP_KILL"]}}}`; string(data) != want {
		t.Errorf("got %s, want %s", data, want)
	}
}
