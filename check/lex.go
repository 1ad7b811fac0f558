package check

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Error is a problem with an assertion, at a column of its text.
type Error struct {
	// Col is the column, counted in characters (runes) from 1.
	Col int
	// Msg says what is wrong.
	Msg string
}

// Error returns "col N: message".
func (e *Error) Error() string { return fmt.Sprintf("col %d: %s", e.Col, e.Msg) }

func errAt(col int, format string, args ...any) *Error {
	return &Error{Col: col, Msg: fmt.Sprintf(format, args...)}
}

type tokKind int

const (
	tEOF tokKind = iota
	tNum
	tName
	tOp // + - * / ( ) < <= > >= == !=
	tAnd
	tOr
	tNot
)

type token struct {
	kind tokKind
	col  int
	text string  // the source text (operators, names, numbers)
	val  float64 // numbers: in seconds for times, a fraction for %
	unit string  // numbers: "", "ms", "s", "m", "h" or "%"
}

// unitSeconds is the length of each time unit suffix in seconds.
var unitSeconds = map[string]float64{"ms": 1e-3, "s": 1, "m": 60, "h": 3600}

func isNameStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }
func isNameRune(r rune) bool {
	return r == '_' || r == '.' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)
}
func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// lex splits src into tokens, ending with tEOF.
func lex(src string) ([]token, error) {
	rs := []rune(src)
	var toks []token
	i := 0
	for {
		for i < len(rs) && unicode.IsSpace(rs[i]) {
			i++
		}
		col := i + 1
		if i == len(rs) {
			toks = append(toks, token{kind: tEOF, col: col})
			return toks, nil
		}
		r := rs[i]
		switch {
		case isDigit(r) || (r == '.' && i+1 < len(rs) && isDigit(rs[i+1])):
			t, n, err := lexNumber(rs[i:], col)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i += n
		case isNameStart(r):
			j := i
			for j < len(rs) && isNameRune(rs[j]) {
				j++
			}
			word := string(rs[i:j])
			t := token{kind: tName, col: col, text: word}
			switch word {
			case "and":
				t.kind = tAnd
			case "or":
				t.kind = tOr
			case "not":
				t.kind = tNot
			}
			if strings.HasSuffix(word, ".") || strings.HasSuffix(word, "-") {
				return nil, errAt(col, "metric name %q ends with %q", word, word[len(word)-1:])
			}
			toks = append(toks, t)
			i = j
		case r == '"':
			j := i + 1
			for j < len(rs) && rs[j] != '"' {
				j++
			}
			if j == len(rs) {
				return nil, errAt(col, "unterminated quoted metric name")
			}
			if j == i+1 {
				return nil, errAt(col, "empty quoted metric name")
			}
			toks = append(toks, token{kind: tName, col: col, text: string(rs[i+1 : j])})
			i = j + 1
		case strings.ContainsRune("+-*/()", r):
			toks = append(toks, token{kind: tOp, col: col, text: string(r)})
			i++
		case r == '<' || r == '>' || r == '=' || r == '!':
			two := i+1 < len(rs) && rs[i+1] == '='
			switch {
			case two:
				toks = append(toks, token{kind: tOp, col: col, text: string(r) + "="})
				i += 2
			case r == '=':
				return nil, errAt(col, "unexpected \"=\" (to compare, write ==)")
			case r == '!':
				return nil, errAt(col, "unexpected \"!\" (write not, or != to compare)")
			default:
				toks = append(toks, token{kind: tOp, col: col, text: string(r)})
				i++
			}
		case r == '&' || r == '|':
			return nil, errAt(col, "unexpected %q (write and, or)", string(r))
		default:
			return nil, errAt(col, "unexpected character %q", string(r))
		}
	}
}

// lexNumber reads a number with an optional exponent and unit suffix from
// the start of rs and reports how many runes it used.
func lexNumber(rs []rune, col int) (token, int, error) {
	j := 0
	for j < len(rs) && isDigit(rs[j]) {
		j++
	}
	if j < len(rs) && rs[j] == '.' {
		j++
		for j < len(rs) && isDigit(rs[j]) {
			j++
		}
	}
	if j < len(rs) && (rs[j] == 'e' || rs[j] == 'E') {
		k := j + 1
		if k < len(rs) && (rs[k] == '+' || rs[k] == '-') {
			k++
		}
		if k < len(rs) && isDigit(rs[k]) {
			for k < len(rs) && isDigit(rs[k]) {
				k++
			}
			j = k
		}
	}
	text := string(rs[:j])
	v, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return token{}, 0, errAt(col, "bad number %q", text)
	}
	t := token{kind: tNum, col: col, val: v}
	u := j
	for u < len(rs) && (unicode.IsLetter(rs[u]) || rs[u] == '_') {
		u++
	}
	switch unit := string(rs[j:u]); {
	case unit == "" && u < len(rs) && rs[u] == '%':
		t.unit = "%"
		t.val = v / 100
		u++
	case unit == "":
	case unitSeconds[unit] != 0:
		t.unit = unit
		t.val = v * unitSeconds[unit]
	default:
		return token{}, 0, errAt(col+j, "unknown unit %q after %s (want ms, s, m, h or %%)", unit, text)
	}
	t.text = string(rs[:u])
	return t, u, nil
}
