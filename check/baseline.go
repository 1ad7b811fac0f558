package check

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"sort"

	"gopkg.in/yaml.v3"

	"github.com/fleetsim/fleetsim/reports"
)

// BaselineVersion identifies the layout of Baseline files.
const BaselineVersion = "fleetsim.baseline/v1"

// TolerancesFile is the name of the tolerance file in a baseline directory.
const TolerancesFile = "tolerances.yaml"

// Baseline is every metric of a scenario's result, stored to compare later
// runs with.
type Baseline struct {
	// SchemaVersion is BaselineVersion.
	SchemaVersion string `json:"schemaVersion"`
	// Scenario is the scenario's metadata.name.
	Scenario string `json:"scenario"`
	// Seed is the seed the result was simulated with.
	Seed uint64 `json:"seed"`
	// Metrics maps each metric name to its value (JSON writes the keys sorted).
	Metrics map[string]float64 `json:"metrics"`
}

// NewBaseline records every metric of s.
func NewBaseline(scenario string, seed uint64, s *Set) Baseline {
	b := Baseline{SchemaVersion: BaselineVersion, Scenario: scenario, Seed: seed, Metrics: map[string]float64{}}
	for _, m := range s.list {
		if _, dup := b.Metrics[m.Name]; !dup {
			b.Metrics[m.Name] = m.Value
		}
	}
	return b
}

// BaselinePath is the file of a scenario's baseline in dir.
func BaselinePath(dir, scenario string) string {
	return filepath.Join(dir, scenario+".json")
}

// ReadBaseline reads a baseline file. A missing file is an error that
// wraps fs.ErrNotExist.
func ReadBaseline(file string) (Baseline, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return Baseline{}, fmt.Errorf("read baseline: %w", err)
	}
	var b Baseline
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return Baseline{}, fmt.Errorf("read baseline %s: %w", file, err)
	}
	if b.SchemaVersion != BaselineVersion {
		return Baseline{}, fmt.Errorf("read baseline %s: schemaVersion %q, want %q", file, b.SchemaVersion, BaselineVersion)
	}
	return b, nil
}

// WriteBaseline writes b to file atomically, as indented JSON.
func WriteBaseline(file string, b Baseline) error {
	for _, k := range sortedKeys(b.Metrics) {
		if v := b.Metrics[k]; math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("write baseline %s: metric %s is %v, which JSON cannot hold", file, k, v)
		}
	}
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return fmt.Errorf("write baseline %s: %w", file, err)
	}
	return reports.WriteFile(file, func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	})
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Tolerance is how far a metric may move in its worse direction before it
// counts as a regression: Absolute + Relative × |baseline|.
type Tolerance struct {
	// Relative is a fraction of the baseline's magnitude (0.05 = 5%).
	Relative float64
	// Absolute is in the metric's own unit.
	Absolute float64
	// Worse overrides the metric's direction when not 0.
	Worse Direction
}

// Allowed returns the change allowed from base.
func (t Tolerance) Allowed(base float64) float64 {
	return t.Absolute + t.Relative*math.Abs(base)
}

// Rule sets the tolerance of the metrics whose names match a glob.
type Rule struct {
	// Match is a glob (path.Match syntax: * ? [...]) over the full metric name.
	Match string
	// Tolerance applies to the matching metrics.
	Tolerance Tolerance
}

// Tolerances are a default and per-metric overrides; the first rule that
// matches a metric name wins.
type Tolerances struct {
	// Default applies to metrics no rule matches.
	Default Tolerance
	// Rules are tried in order.
	Rules []Rule
}

// DefaultTolerances is 5% relative, 0 absolute, for every metric.
func DefaultTolerances() Tolerances {
	return Tolerances{Default: Tolerance{Relative: 0.05}}
}

// For returns the tolerance of a metric.
func (t Tolerances) For(name string) Tolerance {
	for _, r := range t.Rules {
		if ok, _ := path.Match(r.Match, name); ok {
			return r.Tolerance
		}
	}
	return t.Default
}

type tolFile struct {
	Default *tolEntry  `yaml:"default"`
	Metrics []tolEntry `yaml:"metrics"`
}

type tolEntry struct {
	Match    string   `yaml:"match"`
	Relative *float64 `yaml:"relative"`
	Absolute *float64 `yaml:"absolute"`
	Worse    string   `yaml:"worse"`
}

// ParseTolerances decodes a tolerance file (docs/check.md); name is used in
// messages. Fields a rule leaves out come from the default.
func ParseTolerances(name string, data []byte) (Tolerances, error) {
	t := DefaultTolerances()
	var f tolFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return Tolerances{}, fmt.Errorf("%s: %w", name, err)
	}
	var errs []error
	entry := func(field string, e tolEntry, base Tolerance) Tolerance {
		if e.Relative != nil {
			if *e.Relative < 0 || math.IsNaN(*e.Relative) {
				errs = append(errs, fmt.Errorf("%s: %s.relative: must be >= 0, got %v", name, field, *e.Relative))
			}
			base.Relative = *e.Relative
		}
		if e.Absolute != nil {
			if *e.Absolute < 0 || math.IsNaN(*e.Absolute) {
				errs = append(errs, fmt.Errorf("%s: %s.absolute: must be >= 0, got %v", name, field, *e.Absolute))
			}
			base.Absolute = *e.Absolute
		}
		if e.Worse != "" {
			d, ok := map[string]Direction{"higher": HigherIsWorse, "lower": LowerIsWorse, "either": AnyChange, "none": Ignored}[e.Worse]
			if !ok {
				errs = append(errs, fmt.Errorf("%s: %s.worse: must be higher, lower, either or none, got %q", name, field, e.Worse))
			}
			base.Worse = d
		}
		return base
	}
	if f.Default != nil {
		if f.Default.Match != "" {
			errs = append(errs, fmt.Errorf("%s: default.match: not allowed in the default", name))
		}
		t.Default = entry("default", *f.Default, t.Default)
	}
	for i, e := range f.Metrics {
		field := fmt.Sprintf("metrics[%d]", i)
		if e.Match == "" {
			errs = append(errs, fmt.Errorf("%s: %s.match: required", name, field))
		} else if _, err := path.Match(e.Match, ""); err != nil {
			errs = append(errs, fmt.Errorf("%s: %s.match: bad glob %q: %w", name, field, e.Match, err))
		}
		t.Rules = append(t.Rules, Rule{Match: e.Match, Tolerance: entry(field, e, Tolerance{Relative: t.Default.Relative, Absolute: t.Default.Absolute})})
	}
	if len(errs) > 0 {
		return Tolerances{}, errors.Join(errs...)
	}
	return t, nil
}

// LoadTolerances reads dir/tolerances.yaml, or returns DefaultTolerances
// when there is none.
func LoadTolerances(dir string) (Tolerances, error) {
	file := filepath.Join(dir, TolerancesFile)
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return DefaultTolerances(), nil
	}
	if err != nil {
		return Tolerances{}, fmt.Errorf("read tolerances: %w", err)
	}
	return ParseTolerances(file, data)
}

// DefaultTolerancesYAML is the tolerance file written beside new baselines.
const DefaultTolerancesYAML = `# Tolerances for fleetsim check --baseline (docs/check.md).
# A metric regresses when it moves in its worse direction by more than
#   absolute + relative * |baseline value|.
# The first rule whose glob matches the full metric name wins.
default:
  relative: 0.05
  absolute: 0
metrics: []
#  - match: "*.p99_*"       # tail latencies are noisier
#    relative: 0.10
#  - match: "*.utilization"
#    worse: none            # higher, lower, either or none (not compared)
`

// Status is the outcome of comparing one metric with its baseline.
type Status int

// Statuses of a Diff.
const (
	// Within tolerance (or ignored).
	Within Status = iota
	// Regressed: worse than the baseline beyond tolerance.
	Regressed
	// Missing: in the baseline but not in the result (a regression).
	Missing
	// New: in the result but not in the baseline (not a regression).
	New
)

// String returns ok, regressed, missing or new.
func (s Status) String() string {
	return [...]string{"ok", "regressed", "missing", "new"}[s]
}

// Diff compares one metric with its baseline.
type Diff struct {
	// Name is the metric name.
	Name string
	// Baseline and Current are its values (0 when absent).
	Baseline, Current float64
	// Worse is the direction judged (the tolerance's override, else the metric's).
	Worse Direction
	// Allowed is the change allowed in the worse direction.
	Allowed float64
	// Status is the verdict.
	Status Status
}

// Failed says whether the diff is a regression.
func (d Diff) Failed() bool { return d.Status == Regressed || d.Status == Missing }

// Compare judges every metric of cur against base under tol and returns one
// Diff per metric of either, sorted by name.
func Compare(base Baseline, cur *Set, tol Tolerances) []Diff {
	var out []Diff
	seen := map[string]bool{}
	for _, m := range cur.list {
		if seen[m.Name] {
			continue // a duplicate name: the first one counts, as in Lookup
		}
		seen[m.Name] = true
		t := tol.For(m.Name)
		d := Diff{Name: m.Name, Current: m.Value, Worse: m.Worse}
		if t.Worse != 0 {
			d.Worse = t.Worse
		}
		b, ok := base.Metrics[m.Name]
		if !ok {
			d.Status = New
			out = append(out, d)
			continue
		}
		d.Baseline = b
		d.Allowed = t.Allowed(b)
		if regressed(d.Worse, b, m.Value, d.Allowed) {
			d.Status = Regressed
		}
		out = append(out, d)
	}
	for _, k := range sortedKeys(base.Metrics) {
		if _, ok := cur.index[k]; !ok {
			t := tol.For(k)
			if t.Worse == Ignored {
				continue
			}
			w := t.Worse
			if w == 0 {
				w = AnyChange
			}
			out = append(out, Diff{Name: k, Baseline: base.Metrics[k], Worse: w, Status: Missing})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func regressed(worse Direction, base, cur, allowed float64) bool {
	if math.IsNaN(base) || math.IsNaN(cur) {
		return math.IsNaN(base) != math.IsNaN(cur) && worse != Ignored
	}
	switch worse {
	case HigherIsWorse:
		return cur-base > allowed
	case LowerIsWorse:
		return base-cur > allowed
	case AnyChange:
		return math.Abs(cur-base) > allowed
	}
	return false
}
