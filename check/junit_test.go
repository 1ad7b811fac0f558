package check

import (
	"bytes"
	"encoding/xml"
	"testing"
	"time"
)

func TestWriteJUnit(t *testing.T) {
	suites := []TestSuite{{
		Name: "a", Time: 1500 * time.Millisecond,
		Cases: []TestCase{
			{Name: "expect[0]: x < 1 & <", Classname: "fleetsim.a.expect", Time: 2 * time.Millisecond},
			{Name: "expect[1]", Classname: "fleetsim.a.expect", Failure: &Failure{Message: "m", Type: "assertion", Text: "detail"}},
		},
	}, {
		Name: "b", Time: 500 * time.Millisecond,
		Cases: []TestCase{{Name: "expect[0]", Classname: "fleetsim.b.expect", Error: &Failure{Message: "bad", Type: "invalid"}}},
	}}
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, suites); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Errors   int      `xml:"errors,attr"`
		Time     string   `xml:"time,attr"`
		Suites   []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Time     string `xml:"time,attr"`
			Cases    []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
				Time      string `xml:"time,attr"`
				Failure   *struct {
					Message string `xml:"message,attr"`
					Type    string `xml:"type,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				Error *struct {
					Message string `xml:"message,attr"`
				} `xml:"error"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, buf.String())
	}
	// 3 cases, 1 failure, 1 error, 1.5 s + 0.5 s.
	if doc.Tests != 3 || doc.Failures != 1 || doc.Errors != 1 || doc.Time != "2.000" {
		t.Errorf("testsuites: got tests %d failures %d errors %d time %s, want 3 1 1 2.000", doc.Tests, doc.Failures, doc.Errors, doc.Time)
	}
	if len(doc.Suites) != 2 || doc.Suites[0].Name != "a" || doc.Suites[0].Tests != 2 || doc.Suites[0].Failures != 1 || doc.Suites[0].Time != "1.500" {
		t.Fatalf("testsuite a: got %+v", doc.Suites)
	}
	c := doc.Suites[0].Cases
	if c[0].Name != "expect[0]: x < 1 & <" || c[0].Classname != "fleetsim.a.expect" || c[0].Time != "0.002" || c[0].Failure != nil {
		t.Errorf("case 0: got %+v", c[0])
	}
	if c[1].Failure == nil || c[1].Failure.Message != "m" || c[1].Failure.Type != "assertion" || c[1].Failure.Text != "detail" {
		t.Errorf("case 1 failure: got %+v", c[1].Failure)
	}
	if e := doc.Suites[1].Cases[0].Error; e == nil || e.Message != "bad" {
		t.Errorf("suite b error: got %+v", e)
	}
}
