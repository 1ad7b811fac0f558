package world

import (
	"strings"
	"testing"

	"github.com/fleetsim/fleetsim/scenarios"
	"github.com/fleetsim/fleetsim/workloads"
)

// TestUsersScale: a workload's usersScale multiplies every user group's
// rate for that workload, exactly as editing each peakRatePerS would, and
// leaves the other workloads alone.
func TestUsersScale(t *testing.T) {
	src, ok := scenarios.BuiltinYAML("global-agentic")
	if !ok {
		t.Fatal("no built-in global-agentic")
	}
	base, err := scenarios.Parse("global-agentic", src)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Build(base)
	if err != nil {
		t.Fatal(err)
	}
	scaled := *base
	scaled.Spec.Workloads = append([]scenarios.Workload(nil), base.Spec.Workloads...)
	agent := -1
	for i := range scaled.Spec.Workloads {
		if scaled.Spec.Workloads[i].Name == "coding-agent" {
			scaled.Spec.Workloads[i].UsersScale = 2.5
			agent = i
		}
	}
	if agent < 0 {
		t.Fatal("global-agentic has no coding-agent workload")
	}
	got, err := Build(&scaled)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for ui := range plain.Users {
		for li, l := range plain.Users[ui].Loads {
			g := got.Users[ui].Loads[li]
			want := l.PeakRatePerS
			if l.Workload == agent {
				want *= 2.5
				n++
			}
			a, ok := g.Arrivals.(workloads.Arrivals)
			if !ok || g.PeakRatePerS != want || a.PeakRatePerS != want {
				t.Errorf("user %d load %d (workload %d): rate %v / %+v, want %v", ui, li, l.Workload, g.PeakRatePerS, g.Arrivals, want)
			}
		}
	}
	if n == 0 {
		t.Fatal("no user sends coding-agent: the test checks nothing")
	}
}

// TestUsersScaleValidation: a negative or absurd scale is an error naming
// the field.
func TestUsersScaleValidation(t *testing.T) {
	for _, v := range []string{"-1", "2e7"} {
		src := strings.Replace(minimalYAML(t), "kind: chat", "kind: chat\n      usersScale: "+v, 1)
		_, err := scenarios.Parse("s.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), "spec.workloads[chat].usersScale") {
			t.Errorf("usersScale %s: got %v, want an error naming spec.workloads[chat].usersScale", v, err)
		}
	}
}

func minimalYAML(t *testing.T) string {
	t.Helper()
	b, ok := scenarios.BuiltinYAML("minimal")
	if !ok {
		t.Fatal("no built-in minimal")
	}
	return string(b)
}
