package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxFileSize is the largest scenario file Load and Parse accept, in bytes
// (8 MiB). Real scenarios are a few KiB; the limit keeps a wrong argument
// (a trace, a binary) from being read into memory.
const MaxFileSize = 8 << 20

// Load reads, decodes, defaults and validates the scenario file at path.
// A missing file gives an error that names path; problems with the
// content are returned as Problems.
func Load(path string) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("load scenario: %s is a directory, want a YAML file", path)
	}
	if st.Size() > MaxFileSize {
		return nil, tooLarge(path, st.Size())
	}
	// Read one byte more than the limit: a file that grew since Stat, or a
	// device that reports size 0, still cannot exceed it.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, tooLarge(path, int64(len(data)))
	}
	return parse(path, data, path)
}

// Parse decodes, defaults and validates a scenario held in memory; name
// (usually the file name) is used in messages. Problems with the content
// are returned as Problems.
func Parse(name string, data []byte) (*Scenario, error) {
	return parse(name, data, "")
}

// Open loads arg as a file when a file of that name exists, else the
// built-in scenario of that name (see Builtins).
func Open(arg string) (*Scenario, error) {
	if _, err := os.Stat(arg); err == nil {
		return Load(arg)
	}
	if data, ok := BuiltinYAML(arg); ok {
		return parse("builtin:"+arg, data, "builtin:"+arg)
	}
	if strings.ContainsAny(arg, `/\`) || strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml") {
		return Load(arg) // names the missing file
	}
	var names []string
	for _, b := range Builtins() {
		names = append(names, b.Name)
	}
	return nil, fmt.Errorf("open scenario: no file or built-in scenario named %q (built-ins: %s)", arg, strings.Join(names, ", "))
}

// SourcePath returns the file the scenario was loaded from, "builtin:NAME"
// for a built-in scenario, or "" for one parsed from memory or built in Go.
func (s *Scenario) SourcePath() string {
	if s.origin == nil {
		return ""
	}
	return s.origin.source
}

// Where returns "file:line" for a field path such as
// "spec.regions[eu-west].clusters[0]", falling back to the line of the
// nearest enclosing field, or "file" when no line is known. It returns ""
// for a scenario built in Go.
func (s *Scenario) Where(path string) string {
	if s.origin == nil {
		return ""
	}
	if l := s.origin.line(path, 0); l > 0 {
		return s.origin.name + ":" + strconv.Itoa(l)
	}
	return s.origin.name
}

func tooLarge(name string, size int64) error {
	return Problems{{File: name, Msg: fmt.Sprintf("file is %d bytes, more than the limit of %d MiB", size, MaxFileSize>>20)}}
}

var reYAMLLine = regexp.MustCompile(`(?s)^yaml: line (\d+): (.*)$`)

// syntaxProblem turns a yaml.v3 parse error into a problem.
func syntaxProblem(name string, err error) Problems {
	msg := err.Error()
	if m := reYAMLLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Problems{{File: name, Line: line, Msg: "not valid YAML: " + m[2]}}
	}
	return Problems{{File: name, Msg: "not valid YAML: " + strings.TrimPrefix(msg, "yaml: ")}}
}

// mapValue returns the value of key in mapping node n, or nil.
func mapValue(n *yaml.Node, key string) (k, v *yaml.Node) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i], n.Content[i+1]
		}
	}
	return nil, nil
}

// peek checks apiVersion and kind before the body is decoded: a file of
// another version or kind would only give confusing field errors.
func peek(name string, root *yaml.Node) Problems {
	var ps Problems
	for _, want := range []struct{ key, value string }{{"apiVersion", APIVersion}, {"kind", KindScenario}} {
		k, v := mapValue(root, want.key)
		switch {
		case k == nil:
			ps = append(ps, Problem{File: name, Line: root.Line, Path: want.key, Msg: fmt.Sprintf("missing, want %q", want.value)})
		case v.Kind != yaml.ScalarNode:
			ps = append(ps, Problem{File: name, Line: k.Line, Path: want.key, Msg: fmt.Sprintf("want %q, got a %s", want.value, nodeKindName(v))})
		case v.Value != want.value:
			ps = append(ps, Problem{File: name, Line: k.Line, Path: want.key, Msg: fmt.Sprintf("unsupported %q, want %q", v.Value, want.value)})
		}
	}
	return ps
}

func parse(name string, data []byte, source string) (*Scenario, error) {
	if len(data) > MaxFileSize {
		return nil, tooLarge(name, int64(len(data)))
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, Problems{{File: name, Msg: "empty file: want a scenario (apiVersion, kind, metadata, spec)"}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Problems{{File: name, Msg: "empty file: want a scenario (apiVersion, kind, metadata, spec)"}}
		}
		return nil, syntaxProblem(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, syntaxProblem(name, err)
		}
		return nil, Problems{{File: name, Line: extra.Line, Msg: "more than one YAML document: a scenario file holds exactly one"}}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, Problems{{File: name, Msg: "empty file: want a scenario (apiVersion, kind, metadata, spec)"}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, Problems{{File: name, Line: root.Line, Msg: fmt.Sprintf("not a scenario: want a mapping with apiVersion, kind, metadata and spec, got a %s", nodeKindName(root))}}
	}
	if ps := peek(name, root); len(ps) > 0 {
		return nil, ps.asError()
	}

	ix := newIndex(name, root)
	if len(ix.tooLong) > 0 {
		return nil, append(ix.tooLong, ix.structural...).asError()
	}
	var s Scenario
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	ps := append(Problems(nil), ix.structural...)
	if err := strict.Decode(&s); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			ps = append(ps, ix.decodeProblems(te.Errors)...)
		} else {
			ps = append(ps, Problem{File: name, Msg: strings.TrimPrefix(err.Error(), "yaml: ")})
		}
		return nil, ps.asError()
	}
	s.origin = &origin{name: name, source: source, lines: ix.lines}
	s.SetDefaults()
	if err := s.Validate(); err != nil {
		var vps Problems
		if !errors.As(err, &vps) {
			return nil, err
		}
		// A field already reported as missing or as an explicit zero is
		// not reported again by Validate.
		structural := ps
		for _, p := range vps {
			if !coveredBy(p.Path, structural) {
				ps = append(ps, p)
			}
		}
	}
	if err := ps.asError(); err != nil {
		return nil, err
	}
	return &s, nil
}

// coveredBy reports whether path is, or lies below, the path of one of ps.
func coveredBy(path string, ps Problems) bool {
	for _, p := range ps {
		if p.Path == "" {
			continue
		}
		if path == p.Path || strings.HasPrefix(path, p.Path+".") || strings.HasPrefix(path, p.Path+"[") {
			return true
		}
	}
	return false
}
