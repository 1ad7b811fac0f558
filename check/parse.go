package check

import (
	"fmt"
	"strings"
)

// maxDepth bounds the nesting of parentheses and prefix operators, so
// that no input can exhaust the stack.
const maxDepth = 100

type op int

const (
	opNum op = iota
	opMetric
	opScale // l times val: a plain constant read in a time unit
	opNeg
	opAdd
	opSub
	opMul
	opDiv
	opLT
	opLE
	opGT
	opGE
	opEQ
	opNE
	opAnd
	opOr
	opNot
)

var binOps = map[string]op{
	"+": opAdd, "-": opSub, "*": opMul, "/": opDiv,
	"<": opLT, "<=": opLE, ">": opGT, ">=": opGE, "==": opEQ, "!=": opNE,
}

type node struct {
	op   op
	col  int
	val  float64 // opNum: the value (seconds for times); opScale: the factor
	text string  // source text of a number, or the metric name
	unit string  // opNum: "", "ms", "s", "m", "h" or "%"
	l, r *node
}

// Expr is a parsed, unit-checked assertion.
type Expr struct {
	src  string
	root *node
	refs []ref // metrics named, in order of first appearance
}

type ref struct {
	name string
	col  int
}

// String returns the assertion's source text.
func (e *Expr) String() string { return e.src }

// Metrics returns the metric names the assertion uses, as written
// (all.-names included), in order of first appearance.
func (e *Expr) Metrics() []string {
	var out []string
	for _, r := range e.refs {
		out = append(out, r.name)
	}
	return out
}

// Parse parses an assertion and checks its units. A syntax or unit
// problem is returned as an *Error naming the column. Whether the metrics
// exist is checked by Eval, against a result.
func Parse(src string) (*Expr, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	if p.peek().kind == tEOF {
		return nil, errAt(1, "empty assertion")
	}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, errAt(t.col, "unexpected %s", describe(t))
	}
	root, ty, err := check(root)
	if err != nil {
		return nil, err
	}
	if !ty.boolean {
		return nil, errAt(1, "an assertion must be true or false (a comparison), not a number")
	}
	e := &Expr{src: src, root: root}
	seen := map[string]bool{}
	walk(root, func(n *node) {
		if n.op == opMetric && !seen[n.text] {
			seen[n.text] = true
			e.refs = append(e.refs, ref{name: n.text, col: n.col})
		}
	})
	return e, nil
}

func walk(n *node, f func(*node)) {
	if n == nil {
		return
	}
	walk(n.l, f)
	f(n)
	walk(n.r, f)
}

type parser struct {
	toks  []token
	pos   int
	depth int
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of assertion"
	case tNum:
		return "number " + t.text
	case tName:
		return fmt.Sprintf("name %q", t.text)
	case tAnd, tOr, tNot:
		return map[tokKind]string{tAnd: "and", tOr: "or", tNot: "not"}[t.kind]
	}
	return fmt.Sprintf("%q", t.text)
}

func (p *parser) enter(col int) error {
	p.depth++
	if p.depth > maxDepth {
		return errAt(col, "nested more than %d deep", maxDepth)
	}
	return nil
}

// or = and { "or" and }
func (p *parser) or() (*node, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tOr {
		t := p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &node{op: opOr, col: t.col, l: l, r: r}
	}
	return l, nil
}

// and = not { "and" not }
func (p *parser) and() (*node, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tAnd {
		t := p.next()
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = &node{op: opAnd, col: t.col, l: l, r: r}
	}
	return l, nil
}

// not = "not" not | comparison
func (p *parser) not() (*node, error) {
	if p.peek().kind != tNot {
		return p.comparison()
	}
	t := p.next()
	if err := p.enter(t.col); err != nil {
		return nil, err
	}
	x, err := p.not()
	p.depth--
	if err != nil {
		return nil, err
	}
	return &node{op: opNot, col: t.col, l: x}, nil
}

func isCompare(t token) bool {
	if t.kind != tOp {
		return false
	}
	o := binOps[t.text]
	return o >= opLT && o <= opNE
}

// comparison = sum [ ("<"|"<="|">"|">="|"=="|"!=") sum ]
func (p *parser) comparison() (*node, error) {
	l, err := p.sum()
	if err != nil {
		return nil, err
	}
	if !isCompare(p.peek()) {
		return l, nil
	}
	t := p.next()
	r, err := p.sum()
	if err != nil {
		return nil, err
	}
	if u := p.peek(); isCompare(u) {
		return nil, errAt(u.col, "comparisons cannot be chained (write a < b and b < c)")
	}
	return &node{op: binOps[t.text], col: t.col, l: l, r: r}, nil
}

// sum = product { ("+"|"-") product }
func (p *parser) sum() (*node, error) {
	l, err := p.product()
	if err != nil {
		return nil, err
	}
	for t := p.peek(); t.kind == tOp && (t.text == "+" || t.text == "-"); t = p.peek() {
		p.next()
		r, err := p.product()
		if err != nil {
			return nil, err
		}
		l = &node{op: binOps[t.text], col: t.col, l: l, r: r}
	}
	return l, nil
}

// product = unary { ("*"|"/") unary }
func (p *parser) product() (*node, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for t := p.peek(); t.kind == tOp && (t.text == "*" || t.text == "/"); t = p.peek() {
		p.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = &node{op: binOps[t.text], col: t.col, l: l, r: r}
	}
	return l, nil
}

// unary = "-" unary | primary
func (p *parser) unary() (*node, error) {
	t := p.peek()
	if t.kind != tOp || t.text != "-" {
		return p.primary()
	}
	p.next()
	if err := p.enter(t.col); err != nil {
		return nil, err
	}
	x, err := p.unary()
	p.depth--
	if err != nil {
		return nil, err
	}
	return &node{op: opNeg, col: t.col, l: x}, nil
}

// primary = number | metric | "(" or ")"
func (p *parser) primary() (*node, error) {
	t := p.next()
	switch {
	case t.kind == tNum:
		return &node{op: opNum, col: t.col, val: t.val, text: t.text, unit: t.unit}, nil
	case t.kind == tName:
		return &node{op: opMetric, col: t.col, text: t.text}, nil
	case t.kind == tOp && t.text == "(":
		if err := p.enter(t.col); err != nil {
			return nil, err
		}
		x, err := p.or()
		p.depth--
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tOp || c.text != ")" {
			return nil, errAt(c.col, "expected \")\" to close the \"(\" at col %d, got %s", t.col, describe(c))
		}
		return x, nil
	}
	return nil, errAt(t.col, "expected a number, a metric name or \"(\", got %s", describe(t))
}

// typ is the static type of an expression.
type typ struct {
	boolean bool
	// time: a duration, evaluated in seconds.
	time bool
	// scale is, for a time, the length in seconds of the unit a plain
	// constant beside it is read in: that of its first metric (1e-3 for
	// _ms, 1 for _s), or 0 when it has no metric.
	scale float64
	// konst: no metric inside.
	konst bool
	// pct: a plain constant that is or contains a percentage.
	pct bool
}

// metricScale returns the time unit of a metric name in seconds, or 0
// when the metric is not a time.
func metricScale(name string) float64 {
	switch {
	case strings.HasSuffix(name, "_ms"):
		return 1e-3
	case strings.HasSuffix(name, "_s"):
		return 1
	}
	return 0
}

func kind(t typ) string {
	switch {
	case t.boolean:
		return "a comparison"
	case t.time:
		return "a time"
	}
	return "a plain number"
}

// check computes n's type, rewriting plain constants that stand beside a
// time into that time's unit.
func check(n *node) (*node, typ, error) {
	switch n.op {
	case opNum:
		if unitSeconds[n.unit] != 0 {
			// A time literal is in seconds already; it fixes no unit for
			// plain constants beside it (scale 0).
			return n, typ{time: true, konst: true}, nil
		}
		return n, typ{konst: true, pct: n.unit == "%"}, nil
	case opMetric:
		s := metricScale(n.text)
		return n, typ{time: s != 0, scale: s}, nil
	}
	var lt, rt typ
	var err error
	if n.l, lt, err = check(n.l); err != nil {
		return nil, typ{}, err
	}
	if n.r != nil {
		if n.r, rt, err = check(n.r); err != nil {
			return nil, typ{}, err
		}
	}
	switch n.op {
	case opNot:
		if !lt.boolean {
			return nil, typ{}, errAt(n.col, "not needs a comparison, got %s", kind(lt))
		}
		return n, typ{boolean: true}, nil
	case opAnd, opOr:
		name := map[op]string{opAnd: "and", opOr: "or"}[n.op]
		if !lt.boolean || !rt.boolean {
			return nil, typ{}, errAt(n.col, "%s needs comparisons on both sides, got %s and %s", name, kind(lt), kind(rt))
		}
		return n, typ{boolean: true}, nil
	}
	if lt.boolean || rt.boolean {
		return nil, typ{}, errAt(n.col, "a comparison cannot be used as a number here (add parentheses, or join comparisons with and/or)")
	}
	switch n.op {
	case opNeg:
		return n, lt, nil
	case opMul:
		if lt.time && rt.time {
			return nil, typ{}, errAt(n.col, "cannot multiply a time by a time")
		}
		// At most one side is a time, so the sum of scales is its scale.
		t := typ{time: lt.time || rt.time, scale: lt.scale + rt.scale, konst: lt.konst && rt.konst, pct: lt.pct || rt.pct}
		return n, t, nil
	case opDiv:
		switch {
		case lt.time && rt.time:
			return n, typ{konst: lt.konst && rt.konst}, nil
		case rt.time:
			return nil, typ{}, errAt(n.col, "cannot divide a plain number by a time")
		}
		return n, typ{time: lt.time, scale: lt.scale, konst: lt.konst && rt.konst, pct: lt.pct || rt.pct}, nil
	}
	// + - and comparisons: both sides in one unit.
	if lt.time != rt.time {
		tt, pt, pn := lt, rt, &n.r
		if rt.time {
			tt, pt, pn = rt, lt, &n.l
		}
		switch {
		case !pt.konst:
			return nil, typ{}, errAt(n.col, "cannot combine a time with a plain number (a time is a metric ending in _ms or _s, or a number with a unit)")
		case pt.pct:
			return nil, typ{}, errAt(n.col, "cannot combine a time with a percentage")
		case tt.scale == 0:
			return nil, typ{}, errAt((*pn).col, "give this number a unit (ms, s, m or h): nothing beside it says which")
		}
		*pn = &node{op: opScale, col: (*pn).col, val: tt.scale, l: *pn}
		pt = tt
		if rt.time {
			lt = pt
		} else {
			rt = pt
		}
	}
	if n.op == opAdd || n.op == opSub {
		s := lt.scale
		if s == 0 {
			s = rt.scale
		}
		return n, typ{time: lt.time, scale: s, konst: lt.konst && rt.konst, pct: lt.pct || rt.pct}, nil
	}
	return n, typ{boolean: true}, nil
}
