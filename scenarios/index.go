package scenarios

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// origin records where a scenario came from and the line of each field.
type origin struct {
	// name is the file name used in messages.
	name string
	// source is what SourcePath returns.
	source string
	// lines maps a field path to the lines where it occurs, in document
	// order (a path occurs more than once when two list elements share a
	// name).
	lines map[string][]int
}

// line returns the line of the n-th occurrence of path (or of its first
// occurrence when there are fewer), falling back to the nearest enclosing
// field that has a line; 0 when nothing is known.
func (o *origin) line(path string, n int) int {
	if o == nil {
		return 0
	}
	for p := path; ; p = parentPath(p) {
		if ls := o.lines[p]; len(ls) > 0 {
			if n < len(ls) {
				return ls[n]
			}
			return ls[0]
		}
		if p == "" {
			return 0
		}
	}
}

// parentPath strips the last segment of a field path: "a.b[c].d" gives
// "a.b[c]", which gives "a.b", which gives "a", which gives "".
func parentPath(p string) string {
	var i int
	if strings.HasSuffix(p, "]") {
		i = strings.LastIndex(p, "[")
	} else {
		i = strings.LastIndex(p, ".")
	}
	if i < 0 {
		return ""
	}
	return p[:i]
}

// joinPath appends a field name to a path.
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// elemPath appends a list element to a path: [name] when the element has a
// name, else [index].
func elemPath(path, name string, i int) string {
	if name != "" {
		return path + "[" + name + "]"
	}
	return path + "[" + strconv.Itoa(i) + "]"
}

// nodeEntry is one field or list element of the YAML tree with the Go type
// it decodes into.
type nodeEntry struct {
	path    string
	keyLine int        // line of the mapping key (or of the list element)
	key     string     // mapping key; "" for a list element
	known   bool       // key names a field of the enclosing struct
	node    *yaml.Node // the value
	typ     reflect.Type
}

// indexer walks a YAML node tree beside the Go types it decodes into.
type indexer struct {
	lines   map[string][]int
	entries []nodeEntry
	byLine  map[int][]int  // line -> indices into entries (key line or value line)
	byPath  map[string]int // path -> index of its first entry
	// structural are problems found in the tree itself: required fields
	// that are missing and zero values that defaults would hide.
	structural Problems
	// missing holds the paths of missing required fields.
	missing map[string]bool
	// tooLong are lists longer than MaxListLen.
	tooLong Problems
	file    string
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// newIndex walks root (a mapping decoded into a Scenario).
func newIndex(file string, root *yaml.Node) *indexer {
	ix := &indexer{lines: map[string][]int{}, missing: map[string]bool{}, byLine: map[int][]int{}, byPath: map[string]int{}, file: file}
	ix.lines[""] = []int{root.Line}
	ix.walk(root, reflect.TypeFor[Scenario](), "")
	return ix
}

// yamlField is a struct field as yaml.v3 sees it.
type yamlField struct {
	name      string
	omitEmpty bool
	field     reflect.StructField
}

// yamlFields lists the fields of struct type t under their YAML names.
func yamlFields(t reflect.Type) []yamlField {
	var fs []yamlField
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		parts := strings.Split(tag, ",")
		name := parts[0]
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		yf := yamlField{name: name, field: f}
		for _, p := range parts[1:] {
			if p == "omitempty" {
				yf.omitEmpty = true
			}
		}
		fs = append(fs, yf)
	}
	return fs
}

func (ix *indexer) walk(n *yaml.Node, t reflect.Type, path string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	// Aliases are not followed: their content is indexed where the anchor
	// is, and following them could expand a small file exponentially.
	if n.Kind == yaml.AliasNode || reflect.PointerTo(t).Implements(unmarshalerType) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return
		}
		fields := yamlFields(t)
		seen := map[string]bool{}
		merged := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" {
				merged = true
				continue
			}
			p := joinPath(path, k.Value)
			ix.lines[p] = append(ix.lines[p], k.Line)
			e := nodeEntry{path: p, keyLine: k.Line, key: k.Value, node: v}
			for _, f := range fields {
				if f.name == k.Value {
					e.known, e.typ = true, f.field.Type
					break
				}
			}
			ix.addEntry(e)
			if e.known {
				seen[k.Value] = true
				ix.checkZero(t, k.Value, v, p)
				ix.walk(v, e.typ, p)
			}
		}
		if merged {
			return // a merge key may supply any field
		}
		for _, f := range fields {
			if !f.omitEmpty && !seen[f.name] {
				p := joinPath(path, f.name)
				ix.missing[p] = true
				ix.structural = append(ix.structural, Problem{File: ix.file, Line: n.Line, Path: p, Msg: "required field missing"})
			}
		}
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64, reflect.Uint32:
		// yaml.v3 truncates a float into an integer field (1.5 becomes
		// 1); a fraction there is a mistake to report, not to round.
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" {
			if f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64); err == nil && f != math.Trunc(f) {
				ix.structural = append(ix.structural, Problem{File: ix.file, Line: n.Line, Path: path, Msg: fmt.Sprintf("must be a whole number, got %s", n.Value)})
			}
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return
		}
		if len(n.Content) > MaxListLen {
			// Refused before decoding: indexing and decoding millions of
			// entries would take seconds and gigabytes.
			ix.tooLong = append(ix.tooLong, Problem{File: ix.file, Line: n.Line, Path: path,
				Msg: fmt.Sprintf("has %d entries, more than the limit of %d", len(n.Content), MaxListLen)})
			return
		}
		for i, item := range n.Content {
			p := elemPath(path, nodeName(item), i)
			ix.lines[p] = append(ix.lines[p], item.Line)
			ix.addEntry(nodeEntry{path: p, keyLine: item.Line, node: item, typ: t.Elem()})
			ix.walk(item, t.Elem(), p)
		}
	}
}

// addEntry records e under the lines of its key and of its value.
func (ix *indexer) addEntry(e nodeEntry) {
	i := len(ix.entries)
	ix.entries = append(ix.entries, e)
	ix.byLine[e.keyLine] = append(ix.byLine[e.keyLine], i)
	if _, ok := ix.byPath[e.path]; !ok {
		ix.byPath[e.path] = i
	}
	if e.node.Line != e.keyLine {
		ix.byLine[e.node.Line] = append(ix.byLine[e.node.Line], i)
	}
}

// nodeName returns the value of the name key of a mapping node, or "".
func nodeName(n *yaml.Node) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "name" && v.Kind == yaml.ScalarNode && v.ShortTag() != "!!null" {
			return v.Value
		}
	}
	return ""
}

// zeroRules are fields whose zero value is invalid but would be replaced by
// a default, so that an explicit zero in a file must be caught before
// SetDefaults runs. Keyed by "Type.yamlName".
var zeroRules = map[string]string{
	"Run.duration":                "must be > 0",
	"Network.bandwidthMbps":       "must be > 0",
	"Network.accessBandwidthMbps": "must be > 0",
	"Network.bytesPerToken":       "must be > 0",
	"GPUPool.gpusPerNode":         "must be >= 1",
	"Agent.maxContextTokens":      "must be >= 1",
	"Deployment.tensorParallel":   "must be 1, 2, 4 or 8",
	"Deployment.maxBatch":         "must be >= 1",
	"Routing.maxQueuePerReplica":  "must be >= 1",
}

// checkZero reports an explicit zero in a field listed in zeroRules.
func (ix *indexer) checkZero(t reflect.Type, key string, v *yaml.Node, path string) {
	msg, ok := zeroRules[t.Name()+"."+key]
	if !ok || v.Kind != yaml.ScalarNode || v.ShortTag() == "!!null" {
		return
	}
	var f reflect.StructField
	for _, yf := range yamlFields(t) {
		if yf.name == key {
			f = yf.field
		}
	}
	ptr := reflect.New(f.Type)
	if err := v.Decode(ptr.Interface()); err != nil {
		return // reported by the strict decode
	}
	if ptr.Elem().IsZero() {
		got := v.Value
		if f.Type == reflect.TypeFor[Duration]() {
			got = "0s"
		}
		ix.structural = append(ix.structural, Problem{File: ix.file, Line: v.Line, Path: path, Msg: msg + ", got " + got})
	}
}

var (
	reLine      = regexp.MustCompile(`(?s)^line (\d+): (.*)$`)
	reUnknown   = regexp.MustCompile(`(?s)^field (.*) not found in type (.*)$`)
	reUnmarshal = regexp.MustCompile("(?s)^cannot unmarshal (\\S+)(?: `(.*)`)? into (.*)$")
	reDupKey    = regexp.MustCompile(`(?s)^mapping key (".*") already defined at line (\d+)$`)
	reDuration  = regexp.MustCompile(`(?s)^invalid duration (".*?")`)
)

// decodeProblems turns the messages of a *yaml.TypeError into problems with
// field paths.
func (ix *indexer) decodeProblems(msgs []string) Problems {
	var ps Problems
	for i, m := range msgs {
		if i == maxDecodeProblems {
			ps = append(ps, Problem{File: ix.file, Msg: fmt.Sprintf("%d more decode errors not shown", len(msgs)-i)})
			break
		}
		ps = append(ps, ix.decodeProblem(m))
	}
	return ps
}

// maxDecodeProblems is the most decode errors reported one by one; a file
// of the wrong shape can give millions.
const maxDecodeProblems = 100

func (ix *indexer) decodeProblem(msg string) Problem {
	sm := reLine.FindStringSubmatch(msg)
	if sm == nil {
		return Problem{File: ix.file, Msg: msg}
	}
	line, _ := strconv.Atoi(sm[1])
	rest := sm[2]
	p := Problem{File: ix.file, Line: line, Msg: rest}
	if m := reUnknown.FindStringSubmatch(rest); m != nil {
		key := m[1]
		p.Path = ix.find(line, func(e nodeEntry) bool { return !e.known && e.key == key && e.keyLine == line })
		p.Msg = fmt.Sprintf("unknown field %q", key)
		if s := ix.suggest(p.Path, key); s != "" {
			p.Msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return p
	}
	if m := reDupKey.FindStringSubmatch(rest); m != nil {
		key, _ := strconv.Unquote(m[1])
		p.Path = ix.find(line, func(e nodeEntry) bool { return e.key == key && e.keyLine == line })
		p.Msg = fmt.Sprintf("duplicate key %q (first at line %s)", key, m[2])
		return p
	}
	if m := reUnmarshal.FindStringSubmatch(rest); m != nil {
		tag, val, into := m[1], m[2], m[3]
		sameValue := func(e nodeEntry) bool {
			if e.node.Line != line {
				return false
			}
			switch tag {
			case "!!seq":
				return e.node.Kind == yaml.SequenceNode
			case "!!map":
				return e.node.Kind == yaml.MappingNode
			}
			if e.node.Kind != yaml.ScalarNode {
				return false
			}
			if short, ok := strings.CutSuffix(val, "..."); ok && len(e.node.Value) > 10 {
				return strings.HasPrefix(e.node.Value, short)
			}
			return e.node.Value == val
		}
		e, ok := ix.findEntry(line,
			func(e nodeEntry) bool { return sameValue(e) && typeString(e.typ) == into },
			sameValue)
		shown := describeValue(tag, val)
		if ok {
			p.Path = e.path
			if e.node.Kind == yaml.ScalarNode && e.node.Line == line {
				// The message shortens long values; show the whole one.
				shown = describeValue(e.node.ShortTag(), e.node.Value)
			}
		}
		p.Msg = fmt.Sprintf("cannot use %s as %s", shown, describeType(into))
		return p
	}
	if m := reDuration.FindStringSubmatch(rest); m != nil {
		val, _ := strconv.Unquote(m[1])
		isDur := func(e nodeEntry) bool {
			return e.node.Line == line && e.typ != nil && typeString(e.typ) == "scenarios.Duration"
		}
		p.Path = ix.find(line, func(e nodeEntry) bool { return isDur(e) && e.node.Value == val }, isDur)
		return p
	}
	if strings.HasPrefix(rest, "invalid duration") {
		p.Path = ix.find(line, func(e nodeEntry) bool {
			return e.node.Line == line && e.typ != nil && typeString(e.typ) == "scenarios.Duration"
		})
		return p
	}
	p.Path = ix.find(line)
	return p
}

// find returns the path of the entry findEntry finds, or "".
func (ix *indexer) find(line int, preds ...func(nodeEntry) bool) string {
	e, _ := ix.findEntry(line, preds...)
	return e.path
}

// findEntry returns the first entry on line that the first matching
// predicate accepts, trying the predicates in turn and at last any entry
// on the line.
func (ix *indexer) findEntry(line int, preds ...func(nodeEntry) bool) (nodeEntry, bool) {
	preds = append(preds, func(nodeEntry) bool { return true })
	for _, pred := range preds {
		for _, i := range ix.byLine[line] {
			if e := ix.entries[i]; pred(e) {
				return e, true
			}
		}
	}
	return nodeEntry{}, false
}

// suggest returns a known field name close to key in the struct that holds
// path, or "".
func (ix *indexer) suggest(path, key string) string {
	parent := parentPath(path)
	var t reflect.Type = reflect.TypeFor[Scenario]()
	if parent != "" {
		t = nil
		if i, ok := ix.byPath[parent]; ok {
			t = ix.entries[i].typ
		}
	}
	for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice) {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return ""
	}
	best, bestD := "", 3
	for _, f := range yamlFields(t) {
		if strings.EqualFold(f.name, key) {
			return f.name
		}
		if d := editDistance(strings.ToLower(f.name), strings.ToLower(key)); d < bestD {
			best, bestD = f.name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// typeString names t as yaml.v3 does in its messages (pointers removed).
func typeString(t reflect.Type) string {
	if t == nil {
		return ""
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.String()
}

// describeValue shows a YAML value in a message.
func describeValue(tag, val string) string {
	switch tag {
	case "!!seq":
		return "a list"
	case "!!map":
		return "a mapping"
	case "!!str", "!!timestamp", "!!binary":
		return strconv.Quote(val)
	}
	return val
}

// describeType names a Go type (as yaml.v3 prints it) for a user.
func describeType(into string) string {
	switch {
	case into == "int" || into == "int64" || into == "int32":
		return "an integer"
	case into == "uint64" || into == "uint" || into == "uint32":
		return "a non-negative integer"
	case into == "float64" || into == "float32":
		return "a number"
	case into == "string":
		return "a string"
	case into == "bool":
		return "true or false"
	case strings.HasPrefix(into, "[]"):
		return "a list"
	case strings.HasPrefix(into, "scenarios."):
		return "a mapping"
	}
	return "a " + into
}
