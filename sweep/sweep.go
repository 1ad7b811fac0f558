package sweep

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Kind is a sweep file's kind.
const Kind = "Sweep"

// File is a sweep file:
//
//	apiVersion: fleetsim/v1alpha1
//	kind: Sweep
//	metadata: {name: agent-scale}
//	scenario: global-agentic          # a built-in name or a path relative to this file
//	parameters:
//	  - path: spec.users[*].load[coding-agent].peakRatePerS
//	    values: [0.005, 0.01, 0.02]
//	  - path: spec.run.seed
//	    values: [1, 2]
//	strategies: [centralized, edge]   # optional: the strategies to keep
//
// Points are the cartesian product of the parameters' values, in order
// (the last parameter varies fastest).
type File struct {
	APIVersion string      `yaml:"apiVersion"`
	Kind       string      `yaml:"kind"`
	Metadata   Metadata    `yaml:"metadata"`
	Scenario   string      `yaml:"scenario"`
	Parameters []Parameter `yaml:"parameters"`
	Strategies []string    `yaml:"strategies,omitempty"`
}

// Metadata names the sweep.
type Metadata struct {
	Name string `yaml:"name"`
}

// Parameter is one axis of the grid: a path into the scenario's YAML and
// the values it takes (YAML scalars).
type Parameter struct {
	Path   string      `yaml:"path"`
	Values []yaml.Node `yaml:"values"`
}

// Point is one combination of parameter values.
type Point struct {
	Index  int
	Values []string // one per parameter, as written
	nodes  []*yaml.Node
}

// ID is a stable name for the point's files: its index and a hash of its values.
func (p Point) ID() string {
	h := sha256.Sum256([]byte(strings.Join(p.Values, "\x00")))
	return fmt.Sprintf("%05d-%s", p.Index, hex.EncodeToString(h[:4]))
}

// maxPoints bounds a sweep's grid.
const maxPoints = 100000

// Parse reads a sweep file strictly; name is used in errors.
func Parse(name string, data []byte) (*File, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f File
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty sweep file", name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var errs []error
	if f.Kind != Kind {
		errs = append(errs, fmt.Errorf("%s: kind: must be %q, got %q", name, Kind, f.Kind))
	}
	if f.Scenario == "" {
		errs = append(errs, fmt.Errorf("%s: scenario: required", name))
	}
	if len(f.Parameters) == 0 {
		errs = append(errs, fmt.Errorf("%s: parameters: at least one is required", name))
	}
	n := 1
	for i, p := range f.Parameters {
		if _, err := parsePath(p.Path); err != nil {
			errs = append(errs, fmt.Errorf("%s: parameters[%d].path: %v", name, i, err))
		}
		if len(p.Values) == 0 {
			errs = append(errs, fmt.Errorf("%s: parameters[%d].values: at least one value is required", name, i))
		}
		for j, v := range p.Values {
			if v.Kind != yaml.ScalarNode {
				errs = append(errs, fmt.Errorf("%s:%d: parameters[%d].values[%d]: must be a scalar", name, v.Line, i, j))
			}
		}
		if n *= max(len(p.Values), 1); n > maxPoints {
			errs = append(errs, fmt.Errorf("%s: the grid has more than %d points", name, maxPoints))
			break
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &f, nil
}

// Points lists the grid's points.
func (f *File) Points() []Point {
	pts := []Point{{}}
	for pi := range f.Parameters {
		var next []Point
		for _, p := range pts {
			for vi := range f.Parameters[pi].Values {
				v := &f.Parameters[pi].Values[vi]
				q := Point{Values: append(append([]string(nil), p.Values...), v.Value), nodes: append(append([]*yaml.Node(nil), p.nodes...), v)}
				next = append(next, q)
			}
		}
		pts = next
	}
	for i := range pts {
		pts[i].Index = i
	}
	return pts
}

// ScenarioPath resolves the sweep's scenario: a built-in name as is, a
// relative path against the sweep file's directory.
func (f *File) ScenarioPath(sweepPath string) string {
	s := f.Scenario
	if !strings.ContainsAny(s, "/\\") && !strings.HasSuffix(s, ".yaml") && !strings.HasSuffix(s, ".yml") {
		return s
	}
	if filepath.IsAbs(s) {
		return s
	}
	return filepath.Join(filepath.Dir(sweepPath), s)
}

// step is one segment of a path: a mapping key, optionally followed by a
// selector of list elements: "*" (all), a number (index) or a name (the
// element whose name is that).
type step struct {
	key      string
	selector string
	hasSel   bool
}

func parsePath(path string) ([]step, error) {
	if path == "" {
		return nil, errors.New("empty path")
	}
	var out []step
	for _, seg := range strings.Split(path, ".") {
		st := step{key: seg}
		if i := strings.IndexByte(seg, '['); i >= 0 {
			if !strings.HasSuffix(seg, "]") || i == 0 {
				return nil, fmt.Errorf("segment %q: want key or key[selector]", seg)
			}
			st.key, st.selector, st.hasSel = seg[:i], seg[i+1:len(seg)-1], true
			if st.selector == "" {
				return nil, fmt.Errorf("segment %q: empty selector", seg)
			}
		}
		if st.key == "" {
			return nil, fmt.Errorf("empty segment in %q", path)
		}
		out = append(out, st)
	}
	return out, nil
}

// Apply returns the scenario YAML with the point's values set. A path that
// matches nothing is an error (a typo must not silently do nothing).
func (f *File) Apply(scenario []byte, p Point) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(scenario, &doc); err != nil {
		return nil, err
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	for i, prm := range f.Parameters {
		steps, err := parsePath(prm.Path)
		if err != nil {
			return nil, err
		}
		n, err := set(root, steps, p.nodes[i])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", prm.Path, err)
		}
		if n == 0 {
			return nil, fmt.Errorf("%s: matches nothing in the scenario", prm.Path)
		}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}

// set assigns v at every node the path reaches; it returns how many.
func set(n *yaml.Node, steps []step, v *yaml.Node) (int, error) {
	if n.Kind != yaml.MappingNode {
		return 0, fmt.Errorf("%q: not a mapping", steps[0].key)
	}
	st := steps[0]
	idx := -1
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == st.key {
			idx = i + 1
		}
	}
	last := len(steps) == 1
	if idx < 0 {
		if last && !st.hasSel {
			// A new key: added to the mapping.
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: st.key}, clone(v))
			return 1, nil
		}
		return 0, nil
	}
	child := n.Content[idx]
	if !st.hasSel {
		if last {
			n.Content[idx] = clone(v)
			return 1, nil
		}
		return set(child, steps[1:], v)
	}
	if child.Kind != yaml.SequenceNode {
		return 0, fmt.Errorf("%q: not a list", st.key)
	}
	count := 0
	for i, el := range child.Content {
		if !selects(st.selector, i, el) {
			continue
		}
		if last {
			child.Content[i] = clone(v)
			count++
			continue
		}
		c, err := set(el, steps[1:], v)
		if err != nil {
			return count, err
		}
		count += c
	}
	return count, nil
}

// selects says whether list element el (at index i) matches the selector.
func selects(sel string, i int, el *yaml.Node) bool {
	if sel == "*" {
		return true
	}
	if k, err := strconv.Atoi(sel); err == nil {
		return k == i
	}
	if el.Kind == yaml.MappingNode {
		for j := 0; j+1 < len(el.Content); j += 2 {
			if (el.Content[j].Value == "name" || el.Content[j].Value == "workload") && el.Content[j+1].Value == sel {
				return true
			}
		}
	}
	return false
}

func clone(v *yaml.Node) *yaml.Node {
	c := *v
	c.Line, c.Column = 0, 0
	return &c
}

// ReadFile reads a sweep file.
func ReadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}
