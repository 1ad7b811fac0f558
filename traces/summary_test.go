package traces

import (
	"math"
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	// Four requests at 0, 1, 3 and 6 s with BlockTokens 10, so each has
	// ceil(input/10) hash ids.
	in := `{"timestamp": 0, "input_length": 20, "output_length": 1, "hash_ids": [1, 2]}
{"timestamp": 1000, "input_length": 20, "output_length": 2, "hash_ids": [1, 3]}
{"timestamp": 3000, "input_length": 30, "output_length": 3, "hash_ids": [1, 2, 4]}
{"timestamp": 6000, "input_length": 20, "output_length": 100, "hash_ids": [5, 5]}
`
	tr, _, err := Read(strings.NewReader(in), "m.jsonl", Options{BlockTokens: 10})
	if err != nil {
		t.Fatal(err)
	}
	s := Summarize(tr)
	// By hand:
	//   duration 6 s, rate (4-1)/6 = 0.5 /s;
	//   inputs 20 20 20 30: mean 22.5, median 20, p99 at rank 0.99*3 = 2.97
	//   between 20 and 30: 20 + 0.97*10 = 29.7;
	//   outputs 1 2 3 100: mean 26.5, median 2.5, p99 3 + 0.97*97 = 97.09;
	//   gaps 1 2 3: mean 2, median 2, p99 2 + 0.98*1 = 2.98, population
	//   std sqrt(2/3), CV sqrt(2/3)/2 = 0.40825;
	//   hash refs 9; repeats: 1 in request 2, 1 and 2 in request 3, the
	//   second 5 in request 4: 4/9.
	want := Summary{
		Count: 4, DurationS: 6, RatePerS: 0.5,
		Input:          Stats{Mean: 22.5, Median: 20, P99: 29.7},
		Output:         Stats{Mean: 26.5, Median: 2.5, P99: 97.09},
		InterArrivalS:  Stats{Mean: 2, Median: 2, P99: 2.98},
		InterArrivalCV: math.Sqrt(2.0/3) / 2,
		HashRefs:       9, PrefixReuse: 4.0 / 9,
	}
	checkSummary(t, s, want, 1e-9)
}

// checkSummary compares two Summaries field by field within a relative
// tolerance.
func checkSummary(t *testing.T, got, want Summary, rel float64) {
	t.Helper()
	if got.Count != want.Count || got.HashRefs != want.HashRefs {
		t.Errorf("Count, HashRefs: got %d, %d, want %d, %d", got.Count, got.HashRefs, want.Count, want.HashRefs)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"DurationS", got.DurationS, want.DurationS},
		{"RatePerS", got.RatePerS, want.RatePerS},
		{"Input.Mean", got.Input.Mean, want.Input.Mean},
		{"Input.Median", got.Input.Median, want.Input.Median},
		{"Input.P99", got.Input.P99, want.Input.P99},
		{"Output.Mean", got.Output.Mean, want.Output.Mean},
		{"Output.Median", got.Output.Median, want.Output.Median},
		{"Output.P99", got.Output.P99, want.Output.P99},
		{"InterArrivalS.Mean", got.InterArrivalS.Mean, want.InterArrivalS.Mean},
		{"InterArrivalS.Median", got.InterArrivalS.Median, want.InterArrivalS.Median},
		{"InterArrivalS.P99", got.InterArrivalS.P99, want.InterArrivalS.P99},
		{"InterArrivalCV", got.InterArrivalCV, want.InterArrivalCV},
		{"PrefixReuse", got.PrefixReuse, want.PrefixReuse},
	} {
		if !near(c.got, c.want, rel*math.Abs(c.want)+1e-12) {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestSummarizeSmall(t *testing.T) {
	if got := Summarize(nil); got != (Summary{}) {
		t.Errorf("nil: got %+v, want the zero Summary", got)
	}
	tr, _, err := Read(strings.NewReader(hdr+"2023-11-16 18:00:00,7,3\n"), "t.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	// One request: no duration, no rate, no gaps; the token stats are the
	// request's own counts.
	want := Summary{Count: 1, Input: Stats{7, 7, 7}, Output: Stats{3, 3, 3}}
	if got := Summarize(tr); got != want {
		t.Errorf("one request: got %+v, want %+v", got, want)
	}
}

func TestSummarizeAzureTestdata(t *testing.T) {
	tr, _, err := Open("testdata/azure_conv_300.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := Summarize(tr)
	// 300 requests over 84.029102 s (first and last rows, read by hand):
	// rate 299/84.029102; the mean gap is its inverse.
	if wantRate := 299 / 84.029102; !near(s.RatePerS, wantRate, 1e-9) || !near(s.InterArrivalS.Mean, 1/wantRate, 1e-9) {
		t.Errorf("rate, mean gap: got %v, %v, want %v, %v", s.RatePerS, s.InterArrivalS.Mean, wantRate, 1/wantRate)
	}
	logSummary(t, "testdata/azure_conv_300.csv", s)
	if s.HashRefs != 0 || s.PrefixReuse != 0 {
		t.Errorf("hashes: got %d refs, reuse %v, want 0, 0 for an Azure trace", s.HashRefs, s.PrefixReuse)
	}
}

func TestSummarizeMooncakeTestdata(t *testing.T) {
	tr, _, err := Open("testdata/mooncake_conv_300.jsonl", Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := Summarize(tr)
	logSummary(t, "testdata/mooncake_conv_300.jsonl", s)
	// 300 requests from 0 to 102,000 ms (first and last lines): rate
	// 299/102. Every request's hash ids count ceil(input/512), so HashRefs
	// is at least 300, and the first id of every line but the first is 0
	// (the shared system-prompt block), so at least 299 refs repeat.
	if !near(s.RatePerS, 299.0/102, 1e-12) {
		t.Errorf("rate: got %v, want %v", s.RatePerS, 299.0/102)
	}
	if s.HashRefs < 300 || s.PrefixReuse*float64(s.HashRefs) < 299 {
		t.Errorf("hashes: got %d refs, reuse %v, want >= 300 refs and >= 299 repeats", s.HashRefs, s.PrefixReuse)
	}
}
