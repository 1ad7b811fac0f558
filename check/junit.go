package check

import (
	"encoding/xml"
	"fmt"
	"io"
	"time"
)

// TestSuite is one scenario's test cases in a JUnit report.
type TestSuite struct {
	// Name is the scenario name.
	Name string
	// Time is what simulating and judging the scenario took.
	Time time.Duration
	// Cases are the assertions and baseline checks.
	Cases []TestCase
}

// TestCase is one assertion or baseline check.
type TestCase struct {
	// Name says what was checked.
	Name string
	// Classname groups cases: "fleetsim.<scenario>.expect" or ".baseline".
	Classname string
	// Time is what judging it took.
	Time time.Duration
	// Failure is set when the check failed.
	Failure *Failure
	// Error is set when the check could not be judged (bad input).
	Error *Failure
}

// Failure describes a failed or erroneous test case.
type Failure struct {
	// Message is a one-line summary.
	Message string
	// Type classifies it: "assertion", "baseline" or "invalid".
	Type string
	// Text holds the details.
	Text string
}

type xmlSuites struct {
	XMLName  xml.Name   `xml:"testsuites"`
	Name     string     `xml:"name,attr"`
	Tests    int        `xml:"tests,attr"`
	Failures int        `xml:"failures,attr"`
	Errors   int        `xml:"errors,attr"`
	Time     string     `xml:"time,attr"`
	Suites   []xmlSuite `xml:"testsuite"`
}

type xmlSuite struct {
	Name     string    `xml:"name,attr"`
	Tests    int       `xml:"tests,attr"`
	Failures int       `xml:"failures,attr"`
	Errors   int       `xml:"errors,attr"`
	Time     string    `xml:"time,attr"`
	Cases    []xmlCase `xml:"testcase"`
}

type xmlCase struct {
	Name      string      `xml:"name,attr"`
	Classname string      `xml:"classname,attr"`
	Time      string      `xml:"time,attr"`
	Failure   *xmlFailure `xml:"failure,omitempty"`
	Error     *xmlFailure `xml:"error,omitempty"`
}

type xmlFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

func xmlFail(f *Failure) *xmlFailure {
	if f == nil {
		return nil
	}
	return &xmlFailure{Message: f.Message, Type: f.Type, Text: f.Text}
}

// WriteJUnit writes suites as JUnit XML: a testsuites element named
// "fleetsim check" holding one testsuite per scenario, with tests,
// failures, errors and time (in seconds) counted at both levels.
func WriteJUnit(w io.Writer, suites []TestSuite) error {
	doc := xmlSuites{Name: "fleetsim check"}
	var total time.Duration
	for _, s := range suites {
		xs := xmlSuite{Name: s.Name, Tests: len(s.Cases), Time: seconds(s.Time)}
		for _, c := range s.Cases {
			if c.Failure != nil {
				xs.Failures++
			}
			if c.Error != nil {
				xs.Errors++
			}
			xs.Cases = append(xs.Cases, xmlCase{Name: c.Name, Classname: c.Classname, Time: seconds(c.Time),
				Failure: xmlFail(c.Failure), Error: xmlFail(c.Error)})
		}
		doc.Tests += xs.Tests
		doc.Failures += xs.Failures
		doc.Errors += xs.Errors
		total += s.Time
		doc.Suites = append(doc.Suites, xs)
	}
	doc.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	return nil
}
