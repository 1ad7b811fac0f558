package check

import (
	"math"
	"strings"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Interval is a metric's 95% confidence interval over independent
// replications: the mean ± Student-t half-width.
type Interval struct {
	Name     string
	Mean, HW float64
}

func (iv Interval) lo() float64 { return iv.Mean - iv.HW }
func (iv Interval) hi() float64 { return iv.Mean + iv.HW }

// CICase is an assertion evaluated once on intervals.
type CICase struct {
	Strategy string
	Pass     bool
	Values   []Interval
}

// CIOutcome is how an assertion fared on replications.
type CIOutcome struct {
	Pass  bool
	Cases []CICase
}

// EvalCI judges the assertion on replications (sets from independent
// seeds; at least two): every metric becomes its 95% confidence interval,
// arithmetic is interval arithmetic, and a comparison holds only when the
// intervals say so with confidence: a < b when a's upper end is below b's
// lower end (likewise <=, >, >=); a == b when the intervals overlap, and
// a != b when they do not. all. metrics work as in Eval.
func (e *Expr) EvalCI(sets []*Set) (CIOutcome, error) {
	strategies := []string{""}
	for _, r := range e.refs {
		if strings.HasPrefix(r.name, AllPrefix) {
			strategies = sets[0].Strategies()
			break
		}
	}
	out := CIOutcome{Pass: true}
	for _, st := range strategies {
		c := CICase{Strategy: st}
		vals := map[string]Interval{}
		for _, r := range e.refs {
			full := r.name
			if rest, ok := strings.CutPrefix(r.name, AllPrefix); ok {
				full = st + "." + rest
			}
			xs := make([]float64, len(sets))
			for k, s := range sets {
				m, ok := s.Lookup(full)
				if !ok {
					return CIOutcome{}, unknown(s, r, full, st)
				}
				xs[k] = m.Value
			}
			iv := Interval{Name: full, Mean: stat.Mean(xs, nil)}
			if n := len(xs); n > 1 {
				t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(0.975)
				iv.HW = t * stat.StdDev(xs, nil) / math.Sqrt(float64(n))
			}
			vals[r.name] = iv
			c.Values = append(c.Values, iv)
		}
		c.Pass = ciBool(e.root, vals)
		out.Pass = out.Pass && c.Pass
		out.Cases = append(out.Cases, c)
	}
	return out, nil
}

func ciBool(n *node, vals map[string]Interval) bool {
	switch n.op {
	case opAnd:
		return ciBool(n.l, vals) && ciBool(n.r, vals)
	case opOr:
		return ciBool(n.l, vals) || ciBool(n.r, vals)
	case opNot:
		return !ciBool(n.l, vals)
	}
	l, r := ciNum(n.l, vals), ciNum(n.r, vals)
	switch n.op {
	case opLT:
		return l.hi() < r.lo()
	case opLE:
		return l.hi() <= r.lo()
	case opGT:
		return l.lo() > r.hi()
	case opGE:
		return l.lo() >= r.hi()
	case opEQ:
		return l.lo() <= r.hi() && r.lo() <= l.hi()
	case opNE:
		return l.hi() < r.lo() || r.hi() < l.lo()
	}
	panic("check: ciBool on a non-boolean node (a bug: Parse admitted it)")
}

// span is an interval as [a, b].
type span struct{ a, b float64 }

func (s span) lo() float64 { return s.a }
func (s span) hi() float64 { return s.b }

func ciNum(n *node, vals map[string]Interval) span {
	switch n.op {
	case opNum:
		return span{n.val, n.val}
	case opMetric:
		iv := vals[n.text]
		k := 1.0
		if s := metricScale(n.text); s != 0 {
			k = s
		}
		return span{iv.lo() * k, iv.hi() * k}
	case opScale:
		return mul(ciNum(n.l, vals), span{n.val, n.val})
	case opNeg:
		x := ciNum(n.l, vals)
		return span{-x.b, -x.a}
	case opAdd:
		x, y := ciNum(n.l, vals), ciNum(n.r, vals)
		return span{x.a + y.a, x.b + y.b}
	case opSub:
		x, y := ciNum(n.l, vals), ciNum(n.r, vals)
		return span{x.a - y.b, x.b - y.a}
	case opMul:
		return mul(ciNum(n.l, vals), ciNum(n.r, vals))
	case opDiv:
		x, y := ciNum(n.l, vals), ciNum(n.r, vals)
		if y.a <= 0 && y.b >= 0 {
			return span{math.Inf(-1), math.Inf(1)} // the divisor may be 0: nothing is known
		}
		return mul(x, span{1 / y.b, 1 / y.a})
	}
	panic("check: ciNum on a non-numeric node (a bug: Parse admitted it)")
}

func mul(x, y span) span {
	p := []float64{x.a * y.a, x.a * y.b, x.b * y.a, x.b * y.b}
	lo, hi := p[0], p[0]
	for _, v := range p[1:] {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	return span{lo, hi}
}
