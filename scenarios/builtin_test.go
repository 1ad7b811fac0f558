package scenarios

import (
	"slices"
	"strings"
	"testing"
)

// TestBuiltins loads and validates every built-in scenario.
func TestBuiltins(t *testing.T) {
	infos := Builtins()
	names := make([]string, len(infos))
	for i, b := range infos {
		names[i] = b.Name
	}
	if !slices.Contains(names, "minimal") {
		t.Fatalf("Builtins() = %v, want it to include minimal", names)
	}
	if !slices.IsSorted(names) {
		t.Errorf("Builtins() names %v, want them sorted", names)
	}
	for _, b := range infos {
		t.Run(b.Name, func(t *testing.T) {
			s, err := Open(b.Name)
			if err != nil {
				t.Fatalf("Open(%q):\n%v", b.Name, err)
			}
			if err := s.Validate(); err != nil {
				t.Errorf("Validate:\n%v", err)
			}
			if got, want := s.SourcePath(), "builtin:"+b.Name; got != want {
				t.Errorf("SourcePath() = %q, want %q", got, want)
			}
			if b.Description == "" || b.Description != s.Metadata.Description {
				t.Errorf("Info.Description = %q, want the non-empty metadata.description %q", b.Description, s.Metadata.Description)
			}
			if !strings.HasPrefix(s.Where("spec.regions"), "builtin:"+b.Name+":") {
				t.Errorf("Where(spec.regions) = %q, want builtin:%s:LINE", s.Where("spec.regions"), b.Name)
			}
		})
	}
}

// TestMinimalIsSmall keeps the template a template: one region, one chat
// workload, one centralized strategy, a short run.
func TestMinimalIsSmall(t *testing.T) {
	s, err := Open("minimal")
	if err != nil {
		t.Fatal(err)
	}
	sp := s.Spec
	if len(sp.Regions) != 1 || len(sp.Workloads) != 1 || sp.Workloads[0].Kind != "chat" ||
		len(sp.Strategies) != 1 || sp.Strategies[0].Kind != "centralized" || sp.Run.Duration > 3600 {
		t.Errorf("minimal: got %d regions, %d workloads, %d strategies, duration %s; want 1 region, 1 chat workload, 1 centralized strategy, at most 1h",
			len(sp.Regions), len(sp.Workloads), len(sp.Strategies), sp.Run.Duration)
	}
}

func TestBuiltinYAML(t *testing.T) {
	if b, ok := BuiltinYAML("minimal"); !ok || !strings.Contains(string(b), "apiVersion: fleetsim/v1alpha1") {
		t.Errorf("BuiltinYAML(minimal): got ok=%v, want the file", ok)
	}
	for _, name := range []string{"", "nope", "../schema", "builtin/minimal", "minimal.yaml"} {
		if _, ok := BuiltinYAML(name); ok {
			t.Errorf("BuiltinYAML(%q): got ok, want not found", name)
		}
	}
}

func TestOpen(t *testing.T) {
	tests := []struct {
		arg     string
		wantErr string // "" for success
	}{
		{"testdata/valid-chat.yaml", ""},
		{"minimal", ""},
		{"no-such-scenario", `no file or built-in scenario named "no-such-scenario" (built-ins: `},
		{"testdata/no-such.yaml", "testdata/no-such.yaml"},
		{"missing.yaml", "missing.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			_, err := Open(tt.arg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Open(%q): got %v, want no error", tt.arg, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Open(%q): got %v, want an error containing %q", tt.arg, err, tt.wantErr)
			}
		})
	}
}
