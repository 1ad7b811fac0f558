package traces

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// sharedData is the project's shared data folder, seen from this package.
const sharedData = "../../shared/data"

// sharedFile returns the path of a shared data file, skipping the test
// when the shared data is absent.
func sharedFile(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join(sharedData, rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	return p
}

// refRequest is a request as the reference readers see it.
type refRequest struct {
	arrival float64
	in, out int64
	hash    []uint64
}

// refAzure reads an Azure CSV the slow, obvious way (encoding/csv and
// time.Parse), as a reference for the fast reader. The file is sorted.
func refAzure(t *testing.T, path string) []refRequest {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []refRequest
	var first time.Time
	for i, r := range rows[1:] {
		tm, err := time.Parse("2006-01-02 15:04:05.9999999", r[0])
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = tm
		}
		in, err1 := strconv.ParseInt(r[1], 10, 64)
		o, err2 := strconv.ParseInt(r[2], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		out = append(out, refRequest{arrival: tm.Sub(first).Seconds(), in: in, out: o})
	}
	return out
}

// refMooncake reads a Mooncake JSONL file with json.Unmarshal into a
// generic map, as a reference for the fast reader. The file is sorted.
func refMooncake(t *testing.T, path string) []refRequest {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	var out []refRequest
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		r := refRequest{arrival: m["timestamp"].(float64) / 1000, in: int64(m["input_length"].(float64)), out: int64(m["output_length"].(float64))}
		for _, h := range m["hash_ids"].([]any) {
			r.hash = append(r.hash, uint64(h.(float64)))
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// compareRef checks every request of tr against the reference reading.
func compareRef(t *testing.T, tr *Trace, ref []refRequest) {
	t.Helper()
	if tr.Len() != len(ref) {
		t.Fatalf("Len: got %d, reference reads %d", tr.Len(), len(ref))
	}
	for i, w := range ref {
		r := tr.At(i)
		bad := !near(r.ArrivalS, w.arrival, 1e-9) || int64(r.Input) != w.in || int64(r.Output) != w.out || len(r.Hash) != len(w.hash)
		for k := 0; !bad && k < len(w.hash); k++ {
			bad = r.Hash[k] != w.hash[k]
		}
		if bad {
			t.Fatalf("At(%d): got %+v, reference %+v", i, r, w)
		}
	}
}

// fact is a published figure and how far the measured one may be from it.
type fact struct {
	name      string
	got, want float64
	rel       float64 // relative tolerance
}

func checkFacts(t *testing.T, facts []fact) {
	t.Helper()
	for _, f := range facts {
		if !near(f.got, f.want, f.rel*math.Abs(f.want)) {
			t.Errorf("%s: got %.4g, want %.4g within %.1f%%", f.name, f.got, f.want, 100*f.rel)
		}
	}
}

func logSummary(t *testing.T, name string, s Summary) {
	t.Helper()
	t.Logf("%s: %d requests over %.1f s, %.3f req/s; input median %.0f mean %.0f p99 %.0f; output median %.0f mean %.1f p99 %.0f; gap median %.3f s p99 %.3f s CV %.2f; %d hash refs, reuse %.1f%%",
		name, s.Count, s.DurationS, s.RatePerS, s.Input.Median, s.Input.Mean, s.Input.P99,
		s.Output.Median, s.Output.Mean, s.Output.P99, s.InterArrivalS.Median, s.InterArrivalS.P99, s.InterArrivalCV,
		s.HashRefs, 100*s.PrefixReuse)
}

// subsetTol is the tolerance for comparing the project's copies with
// facts the shared READMEs state for the full upstream files. The copies
// are time-ordered prefixes holding 85% (Azure conv), 91% (Azure code)
// and 78% (Mooncake conversation) of the upstream rows, and a trace's
// statistics drift over an hour, so only a loose match is expected.
const subsetTol = 0.15

func TestSharedAzureConv(t *testing.T) {
	p := sharedFile(t, "azure_llm_trace_2023/AzureLLMInferenceTrace_conv.csv")
	tr, rep, err := Open(p, Options{Format: Azure})
	if err != nil {
		t.Fatal(err)
	}
	compareRef(t, tr, refAzure(t, p))
	// Facts about this copy (shared README): 16,495 rows, all before
	// 2023-11-16 19:02:28.06; the first row is 18:15:46.6805900 and the
	// last 19:02:27.6557720 (read off the file), 2800.975182 s apart.
	if rep.Rows != 16495 || rep.Kept != 16495 || rep.Unsorted != 0 {
		t.Errorf("report: got %+v, want 16495 rows, all kept, sorted", rep)
	}
	end := tr.Start.Add(time.Duration(tr.DurationS() * float64(time.Second)))
	if cut := time.Date(2023, 11, 16, 19, 2, 28, 60e6, time.UTC); !end.Before(cut) {
		t.Errorf("last arrival %v, want before %v", end, cut)
	}
	s := Summarize(tr)
	logSummary(t, "azure conv", s)
	if !near(s.DurationS, 2800.975182, 1e-6) {
		t.Errorf("DurationS: got %v, want 2800.975182", s.DurationS)
	}
	// Facts the README computed from the full upstream file.
	checkFacts(t, []fact{
		{"median input", s.Input.Median, 1020, subsetTol},
		{"mean input", s.Input.Mean, 1155, subsetTol},
		{"p99 input", s.Input.P99, 4142, subsetTol},
		{"median output", s.Output.Median, 129, subsetTol},
		{"mean output", s.Output.Mean, 211, subsetTol},
		{"p99 output", s.Output.P99, 601, subsetTol},
		{"rate", s.RatePerS, 5.53, subsetTol},
		{"median gap", s.InterArrivalS.Median, 0.118, subsetTol},
		{"p99 gap", s.InterArrivalS.P99, 0.89, subsetTol},
		{"gap CV", s.InterArrivalCV, 1.09, subsetTol},
	})
}

func TestSharedAzureCode(t *testing.T) {
	p := sharedFile(t, "azure_llm_trace_2023/AzureLLMInferenceTrace_code.csv")
	tr, rep, err := Open(p, Options{Format: Azure})
	if err != nil {
		t.Fatal(err)
	}
	compareRef(t, tr, refAzure(t, p))
	if rep.Kept != 8068 {
		t.Errorf("Kept: got %d, want 8068 (shared README)", rep.Kept)
	}
	s := Summarize(tr)
	logSummary(t, "azure code", s)
	checkFacts(t, []fact{
		{"median input", s.Input.Median, 1469, subsetTol},
		{"mean input", s.Input.Mean, 2048, subsetTol},
		{"p99 input", s.Input.P99, 7436, subsetTol},
		{"median output", s.Output.Median, 13, subsetTol},
		{"mean output", s.Output.Mean, 27.9, subsetTol},
		{"p99 output", s.Output.P99, 251, subsetTol},
		{"median gap", s.InterArrivalS.Median, 0.064, subsetTol},
		{"p99 gap", s.InterArrivalS.P99, 2.2, subsetTol},
		{"gap CV", s.InterArrivalCV, 13.2, subsetTol},
	})
	// The copy stops at 19:02:52.74 and so misses the idle gaps of up to
	// 217 s after 19:04:39 that the README reports: its rate must be
	// above the full file's 2.57 req/s.
	if s.RatePerS <= 2.57 {
		t.Errorf("rate: got %v, want above the full file's 2.57", s.RatePerS)
	}
}

func TestSharedMooncakeConversation(t *testing.T) {
	p := sharedFile(t, "mooncake_traces/conversation_trace.jsonl")
	tr, rep, err := Open(p, Options{Format: Mooncake})
	if err != nil {
		t.Fatal(err)
	}
	compareRef(t, tr, refMooncake(t, p))
	// Facts about this copy (shared README): 9,408 rows, timestamps below
	// 2,829,599 ms.
	if rep.Kept != 9408 || rep.Unsorted != 0 {
		t.Errorf("report: got %+v, want 9408 kept, sorted", rep)
	}
	if last := tr.At(tr.Len() - 1).ArrivalS; last >= 2829.599 {
		t.Errorf("last arrival: got %v s, want < 2829.599 s", last)
	}
	s := Summarize(tr)
	logSummary(t, "mooncake conversation", s)
	checkFacts(t, []fact{
		{"median input", s.Input.Median, 6909, subsetTol},
		{"mean input", s.Input.Mean, 12035, subsetTol},
		{"p99 input", s.Input.P99, 85400, subsetTol},
		{"median output", s.Output.Median, 350, subsetTol},
		{"mean output", s.Output.Mean, 343, subsetTol},
		{"rate", s.RatePerS, 3.4, subsetTol},
		{"prefix reuse", s.PrefixReuse, 0.366, subsetTol},
	})
}

func TestSharedMooncakeSynthetic(t *testing.T) {
	p := sharedFile(t, "mooncake_traces/synthetic_trace.jsonl")
	tr, rep, err := Open(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	compareRef(t, tr, refMooncake(t, p))
	if rep.Kept != 3993 || tr.Format != Mooncake {
		t.Errorf("got %d kept as %s, want 3993 (the whole upstream file) as mooncake", rep.Kept, tr.Format)
	}
	s := Summarize(tr)
	logSummary(t, "mooncake synthetic", s)
	// This copy is the whole upstream file, so the README's figures must
	// match to their printed rounding: 11,587, 15,325 and 69 tokens to
	// the unit, 3.9 req/s to 0.05, 64% to half a percent.
	for _, c := range []struct {
		name      string
		got, want float64
		abs       float64
	}{
		{"median input", s.Input.Median, 11587, 0.5},
		{"mean input", s.Input.Mean, 15325, 0.5},
		{"median output", s.Output.Median, 69, 0.5},
		{"rate", s.RatePerS, 3.9, 0.05},
		{"prefix reuse", s.PrefixReuse, 0.64, 0.005},
	} {
		if !near(c.got, c.want, c.abs) {
			t.Errorf("%s: got %v, want %v ± %v", c.name, c.got, c.want, c.abs)
		}
	}
}
