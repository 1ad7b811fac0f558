package check

import (
	"fmt"
	"strings"
)

// Outcome is how an assertion fared on one result.
type Outcome struct {
	// Pass is true when every case passed.
	Pass bool
	// Cases holds one case per strategy when the assertion names all.
	// metrics, else a single case.
	Cases []Case
}

// Case is the assertion evaluated once, with every all. metric bound to
// one strategy.
type Case struct {
	// Strategy is the strategy all. stood for, "" when the assertion has
	// no all. metric.
	Strategy string
	// Pass says whether the assertion held.
	Pass bool
	// Values are the metrics the assertion read, under their full names,
	// in order of first appearance.
	Values []Metric
}

// Eval evaluates the assertion on s. An assertion over all. metrics is
// evaluated once per strategy and passes when it passes for each. A metric
// that s does not have is an *Error at its column, with a suggestion when a
// known name is close.
func (e *Expr) Eval(s *Set) (Outcome, error) {
	strategies := []string{""}
	for _, r := range e.refs {
		if strings.HasPrefix(r.name, AllPrefix) {
			strategies = s.Strategies()
			break
		}
	}
	out := Outcome{Pass: true}
	for _, st := range strategies {
		c := Case{Strategy: st}
		vals := map[string]float64{}
		for _, r := range e.refs {
			full := r.name
			if rest, ok := strings.CutPrefix(r.name, AllPrefix); ok {
				full = st + "." + rest
			}
			m, ok := s.Lookup(full)
			if !ok {
				return Outcome{}, unknown(s, r, full, st)
			}
			vals[r.name] = m.Value
			c.Values = append(c.Values, m)
		}
		c.Pass = evalBool(e.root, vals)
		out.Pass = out.Pass && c.Pass
		out.Cases = append(out.Cases, c)
	}
	return out, nil
}

func unknown(s *Set, r ref, full, strategy string) *Error {
	msg := fmt.Sprintf("unknown metric %q", r.name)
	if rest, ok := strings.CutPrefix(r.name, AllPrefix); ok {
		for _, st := range s.strategies {
			if _, has := s.Lookup(st + "." + rest); has {
				// Some strategy has it: all. cannot stand for every one.
				return errAt(r.col, "%s: strategy %s has no %q", msg, strategy, full)
			}
		}
	}
	if sug := s.Suggest(r.name); sug != "" && sug != r.name {
		msg += fmt.Sprintf(" (did you mean %q?)", sug)
	} else if strings.Contains(r.name, "-") {
		msg += " (to subtract, put spaces around -)"
	}
	return errAt(r.col, "%s", msg)
}

func evalBool(n *node, vals map[string]float64) bool {
	switch n.op {
	case opAnd:
		return evalBool(n.l, vals) && evalBool(n.r, vals)
	case opOr:
		return evalBool(n.l, vals) || evalBool(n.r, vals)
	case opNot:
		return !evalBool(n.l, vals)
	}
	l, r := evalNum(n.l, vals), evalNum(n.r, vals)
	switch n.op {
	case opLT:
		return l < r
	case opLE:
		return l <= r
	case opGT:
		return l > r
	case opGE:
		return l >= r
	case opEQ:
		return l == r
	case opNE:
		return l != r
	}
	panic(fmt.Sprintf("check: evalBool on op %d (a bug: Parse admitted it)", n.op))
}

func evalNum(n *node, vals map[string]float64) float64 {
	switch n.op {
	case opNum:
		return n.val
	case opMetric:
		v := vals[n.text]
		if s := metricScale(n.text); s != 0 {
			v *= s
		}
		return v
	case opScale:
		return evalNum(n.l, vals) * n.val
	case opNeg:
		return -evalNum(n.l, vals)
	case opAdd:
		return evalNum(n.l, vals) + evalNum(n.r, vals)
	case opSub:
		return evalNum(n.l, vals) - evalNum(n.r, vals)
	case opMul:
		return evalNum(n.l, vals) * evalNum(n.r, vals)
	case opDiv:
		return evalNum(n.l, vals) / evalNum(n.r, vals)
	}
	panic(fmt.Sprintf("check: evalNum on op %d (a bug: Parse admitted it)", n.op))
}
