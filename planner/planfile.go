package planner

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"

	"gopkg.in/yaml.v3"

	"github.com/fleetsim/fleetsim/fleet"
)

// PlanKind is the kind of a plan file.
const PlanKind = "Plan"

// PlanFile is what `fleetsim plan` writes and `fleetsim run --plan` reads:
// replicas per site for each strategy's deployments, with the plan's cost
// and predicted SLO attainment.
type PlanFile struct {
	APIVersion string            `yaml:"apiVersion"`
	Kind       string            `yaml:"kind"`
	Metadata   PlanMetadata      `yaml:"metadata"`
	Strategies []PlannedStrategy `yaml:"strategies"`
}

// PlanMetadata names the plan and the scenario it was made for.
type PlanMetadata struct {
	Name     string  `yaml:"name"`
	Scenario string  `yaml:"scenario"`
	Headroom float64 `yaml:"headroom"`
	// Survive is oneSiteDown when the plan was made to meet its SLOs with
	// any one site down (plan --survive); empty otherwise.
	Survive string `yaml:"survive,omitempty"`
}

// PlannedStrategy is one strategy's plan.
type PlannedStrategy struct {
	Name            string              `yaml:"name"`
	CostPerHourUSD  float64             `yaml:"costPerHourUSD"`
	CostPerMonthUSD float64             `yaml:"costPerMonthUSD"`
	Binding         string              `yaml:"binding"`
	Deployments     []PlannedDeployment `yaml:"deployments"`
	SLOs            []PlannedSLO        `yaml:"slos"`
}

// PlannedDeployment is a deployment's replicas per site.
type PlannedDeployment struct {
	Model          string         `yaml:"model"`
	GPU            string         `yaml:"gpu"`
	TensorParallel int            `yaml:"tensorParallel"`
	Replicas       map[string]int `yaml:"replicas"`
}

// PlannedSLO is an SLO's predicted attainment: the mean over independent
// replications, with its 95% confidence half-width.
type PlannedSLO struct {
	Workload   string  `yaml:"workload"`
	Metric     string  `yaml:"metric"`
	Percentile float64 `yaml:"percentile"`
	MaxMs      float64 `yaml:"maxMs"`
	Attainment float64 `yaml:"attainment"`
	HalfWidth  float64 `yaml:"halfWidth"`
}

// HoursPerMonth converts hourly cost to monthly (365 × 24 / 12).
const HoursPerMonth = 730

// Planned turns a search result into a plan entry.
func Planned(p *Problem, r Result) PlannedStrategy {
	w := p.World
	st := &w.Strategies[p.Strategy]
	ps := PlannedStrategy{Name: st.Name, CostPerHourUSD: round6(r.CostPerHour), CostPerMonthUSD: round6(r.CostPerHour * HoursPerMonth), Binding: r.Binding}
	for di, d := range st.Deployments {
		pd := PlannedDeployment{Model: d.Model, GPU: d.GPU, TensorParallel: d.TP, Replicas: map[string]int{}}
		for k, pl := range d.Placements {
			pd.Replicas[w.Sites[pl.Site].Name] = r.Allocation[p.SlotOf[di][k]]
		}
		ps.Deployments = append(ps.Deployments, pd)
	}
	for _, s := range r.SLOs {
		ps.SLOs = append(ps.SLOs, PlannedSLO{Workload: s.Workload, Metric: s.Metric, Percentile: s.Percentile, MaxMs: s.MaxMs,
			Attainment: round6(s.Attainment), HalfWidth: round6(s.HalfWidth)})
	}
	return ps
}

func round6(v float64) float64 {
	if v == 0 {
		return 0
	}
	return float64(int64(v*1e6+0.5*sign(v))) / 1e6
}

func sign(v float64) float64 {
	if v < 0 {
		return -1
	}
	return 1
}

// Marshal writes a plan file as YAML.
func (pf *PlanFile) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(pf); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}

// ParsePlan reads a plan file strictly; name is used in errors.
func ParsePlan(name string, data []byte) (*PlanFile, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var pf PlanFile
	if err := dec.Decode(&pf); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty plan file", name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if pf.Kind != PlanKind {
		return nil, fmt.Errorf("%s: kind must be %q, got %q", name, PlanKind, pf.Kind)
	}
	for i, s := range pf.Strategies {
		for j, d := range s.Deployments {
			for site, n := range d.Replicas {
				if n < 0 || n > 1_000_000 {
					return nil, fmt.Errorf("%s: strategies[%s].deployments[%d].replicas[%s]: must be in [0, 1000000], got %d", name, s.Name, j, site, n)
				}
			}
		}
		_ = i
	}
	return &pf, nil
}

// ApplyTo sets the replicas of w's strategies from the plan: each planned
// strategy must exist in w with the same deployments (model and GPU, in
// order) at the same sites. Strategies the plan does not name are left as
// they are.
func (pf *PlanFile) ApplyTo(w *fleet.World) error {
	for _, ps := range pf.Strategies {
		si := -1
		for i := range w.Strategies {
			if w.Strategies[i].Name == ps.Name {
				si = i
			}
		}
		if si < 0 {
			return fmt.Errorf("plan strategy %q: not in the scenario", ps.Name)
		}
		st := &w.Strategies[si]
		if len(ps.Deployments) != len(st.Deployments) {
			return fmt.Errorf("plan strategy %q: %d deployments, the scenario has %d", ps.Name, len(ps.Deployments), len(st.Deployments))
		}
		for di := range st.Deployments {
			d := &st.Deployments[di]
			pd := ps.Deployments[di]
			if pd.Model != d.Model || pd.GPU != d.GPU || pd.TensorParallel != d.TP {
				return fmt.Errorf("plan strategy %q deployment %d: %s on %d × %s, the scenario has %s on %d × %s", ps.Name, di, pd.Model, pd.TensorParallel, pd.GPU, d.Model, d.TP, d.GPU)
			}
			seen := map[string]bool{}
			for k := range d.Placements {
				name := w.Sites[d.Placements[k].Site].Name
				n, ok := pd.Replicas[name]
				if !ok {
					return fmt.Errorf("plan strategy %q deployment %d: no replicas for site %s", ps.Name, di, name)
				}
				d.Placements[k].Replicas = n
				seen[name] = true
			}
			var extra []string
			for site := range pd.Replicas {
				if !seen[site] {
					extra = append(extra, site)
				}
			}
			sort.Strings(extra)
			if len(extra) > 0 {
				return fmt.Errorf("plan strategy %q deployment %d: sites %v are not among the deployment's sites", ps.Name, di, extra)
			}
		}
	}
	return nil
}
