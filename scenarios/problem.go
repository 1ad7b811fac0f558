package scenarios

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a scenario, named by the file, the line
// and the field path (spec.regions[eu-west].clusters[0].gpuPools[0].count).
type Problem struct {
	// File is the name the scenario was loaded under; empty for a scenario
	// built in Go.
	File string
	// Line is the 1-based line of the field in File; 0 when unknown.
	Line int
	// Path is the field path; empty for a problem with the whole file.
	Path string
	// Msg says what is wrong.
	Msg string
}

// Error formats the problem as "file:line: path: msg", leaving out the
// parts that are unknown.
func (p Problem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			b.WriteString(":" + strconv.Itoa(p.Line))
		}
		b.WriteString(": ")
	} else if p.Line > 0 {
		b.WriteString("line " + strconv.Itoa(p.Line) + ": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is every problem found in a scenario. As an error it prints one
// problem per line; errors.As(err, &problems) recovers it, and
// errors.As(err, &problem) finds the first one.
type Problems []Problem

// Error prints one problem per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns each problem as an error.
func (ps Problems) Unwrap() []error {
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errs
}

// sortProblems orders problems by line, then path, then message, so that
// output does not depend on the order checks ran in.
func sortProblems(ps Problems) {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Msg, b.Msg),
		)
	})
}

// asError returns nil for no problems, else ps sorted.
func (ps Problems) asError() error {
	if len(ps) == 0 {
		return nil
	}
	sortProblems(ps)
	return ps
}
