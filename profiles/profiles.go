package profiles

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/fleetsim/fleetsim/serving"
)

// Kind is the value of a profile file's kind field.
const Kind = "Profile"

// Profile is a named set of step-model coefficients.
type Profile struct {
	Kind        string  `yaml:"kind" json:"kind"`
	Name        string  `yaml:"name" json:"name"`
	Description string  `yaml:"description,omitempty" json:"description,omitempty"`
	Entries     []Entry `yaml:"entries" json:"entries"`
}

// Entry is the coefficients for one GPU type, and one model or precision
// when Model or Precision is set. GPU "*" is the fallback for GPUs without
// an entry of their own.
type Entry struct {
	GPU          string               `yaml:"gpu" json:"gpu"`
	Model        string               `yaml:"model,omitempty" json:"model,omitempty"`
	Precision    string               `yaml:"precision,omitempty" json:"precision,omitempty"`
	Coefficients serving.Coefficients `yaml:"coefficients" json:"coefficients"`
	Fit          *Fit                 `yaml:"fit,omitempty" json:"fit,omitempty"`
}

// Fit records how an entry was fitted: on which datasets and rows, and its
// median absolute percentage error on the fit rows and on the held-out
// check rows (fractions, 0.05 = 5%).
type Fit struct {
	Datasets       []string `yaml:"datasets" json:"datasets"`
	Rows           int      `yaml:"rows" json:"rows"`
	CheckRows      int      `yaml:"checkRows" json:"checkRows"`
	FitMedianAPE   float64  `yaml:"fitMedianAPE" json:"fitMedianAPE"`
	CheckMedianAPE float64  `yaml:"checkMedianAPE,omitempty" json:"checkMedianAPE,omitempty"`
}

// Lookup returns the coefficients for a GPU, model and precision (catalog
// ids, bf16/fp8), taking the most specific entry: (gpu, model, precision),
// (gpu, model, any), (gpu, any, precision), (gpu, any, any), then the same
// for GPU "*", else serving.DefaultCoefficients. The second result names
// the entry used ("h100/fp8", "h100/llama-3.1-8b", "*", or "default").
func (p *Profile) Lookup(gpu, model string, prec serving.Precision) (serving.Coefficients, string) {
	if p != nil {
		pr := string(prec)
		for _, g := range []string{gpu, "*"} {
			for _, want := range [][2]string{{model, pr}, {model, ""}, {"", pr}, {"", ""}} {
				for _, e := range p.Entries {
					if e.GPU == g && e.Model == want[0] && e.Precision == want[1] {
						return e.Coefficients, e.key()
					}
				}
			}
		}
	}
	return serving.DefaultCoefficients(), "default"
}

func (e Entry) key() string {
	k := e.GPU
	if e.Model != "" {
		k += "/" + e.Model
	}
	if e.Precision != "" {
		k += "/" + e.Precision
	}
	return k
}

// maxFileBytes bounds a profile file; real ones are a few kB.
const maxFileBytes = 4 << 20

// Parse decodes and validates a profile; name is used in errors. Unknown
// fields, a wrong kind, unknown GPU or model ids, duplicate entries and
// coefficients out of range are errors that name the file, line and field.
func Parse(data []byte, name string) (*Profile, error) {
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d a profile may have", name, len(data), maxFileBytes)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p Profile
	if err := dec.Decode(&p); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty profile", name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var errs []error
	bad := func(field string, format string, args ...any) {
		line := lineOf(&root, field)
		errs = append(errs, fmt.Errorf("%s:%d: %s: %s", name, line, field, fmt.Sprintf(format, args...)))
	}
	if p.Kind != Kind {
		bad("kind", "must be %q, got %q", Kind, p.Kind)
	}
	if strings.TrimSpace(p.Name) == "" {
		bad("name", "must not be empty")
	}
	if len(p.Entries) == 0 {
		bad("entries", "must list at least one entry")
	}
	seen := map[[3]string]bool{}
	for i, e := range p.Entries {
		f := fmt.Sprintf("entries[%d]", i)
		if e.GPU != "*" {
			if g, ok := serving.LookupGPU(e.GPU); !ok {
				bad(f+".gpu", "unknown GPU %q", e.GPU)
			} else {
				p.Entries[i].GPU = g.ID
			}
		} else if e.Model != "" {
			bad(f+".model", "the \"*\" entry applies to every model; leave model empty")
		}
		if e.Model != "" {
			if m, ok := serving.LookupModel(e.Model); !ok {
				bad(f+".model", "unknown model %q", e.Model)
			} else {
				p.Entries[i].Model = m.ID
			}
		}
		if e.Precision != "" {
			if pr, err := serving.ParsePrecision(e.Precision); err != nil {
				bad(f+".precision", "%v", err)
			} else {
				p.Entries[i].Precision = string(pr)
			}
		}
		k := [3]string{p.Entries[i].GPU, p.Entries[i].Model, p.Entries[i].Precision}
		if seen[k] {
			bad(f, "duplicate entry for gpu %q model %q precision %q", k[0], k[1], k[2])
		}
		seen[k] = true
		if err := e.Coefficients.Validate(); err != nil {
			for _, one := range unwrapJoin(err) {
				field, msg, _ := strings.Cut(one.Error(), ": ")
				bad(f+".coefficients."+field, "%s", msg)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &p, nil
}

func unwrapJoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// lineOf finds the line of a dotted field path like entries[2].coefficients.mbu
// in the document; it returns the line of the deepest node found, or 1.
func lineOf(root *yaml.Node, field string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 1
	if n != nil {
		line = max(n.Line, 1)
	}
	for _, part := range strings.Split(field, ".") {
		key, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 {
			key = part[:i]
			fmt.Sscanf(part[i:], "[%d]", &idx)
		}
		next := mapValue(n, key)
		if next == nil {
			return line
		}
		n, line = next, next.Line
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n, line = n.Content[idx], n.Content[idx].Line
		}
	}
	return line
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// Marshal encodes a profile as YAML, entries sorted by GPU then model.
func Marshal(p *Profile) ([]byte, error) {
	q := *p
	q.Kind = Kind
	q.Entries = slices.Clone(p.Entries)
	slices.SortStableFunc(q.Entries, func(a, b Entry) int {
		return strings.Compare(a.key(), b.key())
	})
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&q); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

//go:embed builtin/*.yaml
var builtinFS embed.FS

// Builtins returns the names of the built-in profiles, sorted.
func Builtins() []string {
	ents, _ := builtinFS.ReadDir("builtin")
	var names []string
	for _, e := range ents {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	slices.Sort(names)
	return names
}

// DefaultName is the profile deployments use when they name none.
const DefaultName = "vllm"

// Builtin returns the built-in profile called name.
func Builtin(name string) (*Profile, error) {
	data, err := builtinFS.ReadFile(path.Join("builtin", name+".yaml"))
	if err != nil {
		return nil, fmt.Errorf("no built-in profile %q (built-in: %s)", name, strings.Join(Builtins(), ", "))
	}
	return Parse(data, "builtin/"+name+".yaml")
}

// Resolve returns the profile a scenario names: a built-in name, or a path
// to a profile file (relative paths are taken relative to dir). Empty means
// DefaultName.
func Resolve(ref, dir string) (*Profile, error) {
	if ref == "" {
		ref = DefaultName
	}
	if !strings.ContainsAny(ref, "/\\") && !strings.HasSuffix(ref, ".yaml") && !strings.HasSuffix(ref, ".yml") {
		return Builtin(ref)
	}
	p := ref
	if dir != "" && !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return Parse(data, p)
}
