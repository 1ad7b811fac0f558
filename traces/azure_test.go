package traces

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

const hdr = "TIMESTAMP,ContextTokens,GeneratedTokens\n"

// near reports whether got is within tol of want.
func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

func TestReadAzureTestdata(t *testing.T) {
	tr, rep, err := Open("testdata/azure_conv_300.csv", Options{Format: Azure})
	if err != nil {
		t.Fatal(err)
	}
	// The file has a header and 300 data rows (head -301 of the shared copy).
	if rep.Rows != 300 || rep.Kept != 300 || rep.Skipped != 0 || rep.Unsorted != 0 || len(rep.Problems) != 0 {
		t.Errorf("report: got %+v, want 300 rows, all kept, sorted", rep)
	}
	if tr.Len() != 300 {
		t.Fatalf("Len: got %d, want 300", tr.Len())
	}
	wantStart := time.Date(2023, 11, 16, 18, 15, 46, 680590000, time.UTC)
	if !tr.Start.Equal(wantStart) {
		t.Errorf("Start: got %v, want %v", tr.Start, wantStart)
	}
	// Expected values read off the file's lines 2, 3 and 301 by hand:
	// 18:15:46.6805900 -> 18:15:50.9951690 is 4.3145790 s,
	// 18:15:46.6805900 -> 18:17:10.7096920 is 84.0291020 s.
	for _, c := range []struct {
		i       int
		arrival float64
		in, out int32
	}{
		{0, 0, 374, 44},
		{1, 4.314579, 396, 109},
		{299, 84.029102, 212, 183},
	} {
		r := tr.At(c.i)
		if !near(r.ArrivalS, c.arrival, 1e-9) || r.Input != c.in || r.Output != c.out || r.Hash != nil {
			t.Errorf("At(%d): got %+v, want {%v %d %d nil}", c.i, r, c.arrival, c.in, c.out)
		}
	}
	if got := tr.DurationS(); !near(got, 84.029102, 1e-9) {
		t.Errorf("DurationS: got %v, want 84.029102", got)
	}
}

func TestReadAzureErrors(t *testing.T) {
	row := "2023-11-16 18:15:46.6805900,374,44\n"
	for _, c := range []struct {
		name, in, want string
	}{
		{"empty file", "", "t.csv: empty file"},
		{"only blank lines", "\n  \n\r\n", "t.csv: empty file"},
		{"header only", hdr, "t.csv: no rows"},
		{"wrong column", "time,ContextTokens,GeneratedTokens\n" + row, `t.csv:1: header: unexpected column "time"`},
		{"missing column", "TIMESTAMP,ContextTokens\n" + row, "t.csv:1: header: missing column GeneratedTokens"},
		{"duplicate column", "TIMESTAMP,ContextTokens,ContextTokens\n" + row, `t.csv:1: header: column "ContextTokens" appears twice`},
		{"no header", row, `t.csv:1: header: unexpected column "2023-11-16 18:15:46.6805900"`},
		{"not an integer", hdr + row + "2023-11-16 18:15:47,abc,5\n", `t.csv:3: ContextTokens: "abc" is not an integer`},
		{"float tokens", hdr + "2023-11-16 18:15:47,12.5,5\n", `t.csv:2: ContextTokens: "12.5" is not an integer`},
		{"spaces", hdr + "2023-11-16 18:15:47, 12,5\n", `t.csv:2: ContextTokens: " 12" is not an integer`},
		{"empty field", hdr + "2023-11-16 18:15:47,12,\n", `t.csv:2: GeneratedTokens: "" is not an integer`},
		{"zero input", hdr + "2023-11-16 18:15:47,0,5\n", "t.csv:2: ContextTokens: must be > 0, got 0"},
		{"zero output", hdr + "2023-11-16 18:15:47,5,0\n", "t.csv:2: GeneratedTokens: must be > 0, got 0"},
		{"negative", hdr + "2023-11-16 18:15:47,-5,3\n", "t.csv:2: ContextTokens: must be > 0, got -5"},
		{"absurd", hdr + "2023-11-16 18:15:47,10000001,3\n", "t.csv:2: ContextTokens: 10000001 is more than 10000000 tokens"},
		{"overflow", hdr + "2023-11-16 18:15:47,99999999999999999999999,3\n", "ContextTokens: 1000000000000000 is more than 10000000 tokens"},
		{"too few fields", hdr + "2023-11-16 18:15:47,5\n", "t.csv:2: want 3 comma-separated fields, got 2"},
		{"too many fields", hdr + "2023-11-16 18:15:47,5,3,\n", "t.csv:2: want 3 comma-separated fields, got 4"},
		{"quoted", hdr + "\"2023-11-16 18:15:47\",5,3\n", `t.csv:2: TIMESTAMP: "\"2023-11-16 18:15:47\"" is not a time`},
		{"month 13", hdr + "2023-13-16 18:15:47,5,3\n", "t.csv:2: TIMESTAMP: "},
		{"30 February", hdr + "2023-02-30 18:15:47,5,3\n", "t.csv:2: TIMESTAMP: "},
		{"29 February 2023", hdr + "2023-02-29 18:15:47,5,3\n", "t.csv:2: TIMESTAMP: "},
		{"hour 24", hdr + "2023-11-16 24:00:00,5,3\n", "t.csv:2: TIMESTAMP: "},
		{"second 60", hdr + "2023-11-16 23:59:60,5,3\n", "t.csv:2: TIMESTAMP: "},
		{"T separator", hdr + "2023-11-16T18:15:47,5,3\n", "t.csv:2: TIMESTAMP: "},
		{"time only", hdr + "18:15:47.1,5,3\n", "t.csv:2: TIMESTAMP: "},
		{"trailing dot", hdr + "2023-11-16 18:15:47.,5,3\n", "t.csv:2: TIMESTAMP: "},
		{"10 fraction digits", hdr + "2023-11-16 18:15:47.1234567890,5,3\n", "t.csv:2: TIMESTAMP: "},
		{"zone", hdr + "2023-11-16 18:15:47Z,5,3\n", "t.csv:2: TIMESTAMP: "},
		{"year 0", hdr + "0000-11-16 18:15:47,5,3\n", "t.csv:2: TIMESTAMP: "},
		{"blank lines count", hdr + "\n" + row + "\n2023-11-16 18:15:47,5,x\n", `t.csv:5: GeneratedTokens: "x" is not an integer`},
		{"long value shortened", hdr + "2023-11-16 18:15:47,5," + strings.Repeat("9x", 100) + "\n", `is not an integer`},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr, _, err := Read(strings.NewReader(c.in), "t.csv", Options{Format: Azure})
			if err == nil {
				t.Fatalf("got no error (trace of %d), want %q", tr.Len(), c.want)
			}
			if tr != nil {
				t.Errorf("got a trace with the error, want nil")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("got error %q, want it to contain %q", err, c.want)
			}
			if len(err.Error()) > 200 {
				t.Errorf("got a %d-byte error, want a short one", len(err.Error()))
			}
		})
	}
}

func TestReadAzureLineError(t *testing.T) {
	_, rep, err := Read(strings.NewReader(hdr+"2023-11-16 18:15:47,abc,5\n"), "t.csv", Options{})
	var le *LineError
	if !errors.As(err, &le) {
		t.Fatalf("got %T %v, want a *LineError", err, err)
	}
	if le.Name != "t.csv" || le.Line != 2 {
		t.Errorf("got name %q line %d, want t.csv line 2", le.Name, le.Line)
	}
	if rep.Rows != 1 || rep.Skipped != 1 || len(rep.Problems) != 1 || rep.Problems[0].Line != 2 {
		t.Errorf("report: got %+v, want the one bad row recorded", rep)
	}
}

// TestReadAzureTimes checks arrival times against differences worked out
// by hand, across fraction lengths, month ends, leap days and years.
func TestReadAzureTimes(t *testing.T) {
	for _, c := range []struct {
		name   string
		a, b   string
		wantDS float64
	}{
		{"no fraction", "2023-11-16 18:15:46", "2023-11-16 18:15:47", 1},
		{"one digit", "2023-11-16 18:15:46", "2023-11-16 18:15:46.5", 0.5},
		{"seven digits", "2023-11-16 18:15:46.6805900", "2023-11-16 18:15:50.9951690", 4.314579},
		{"nine digits", "2023-11-16 18:15:46", "2023-11-16 18:15:46.000000001", 1e-9},
		{"midnight", "2023-11-16 23:59:59.75", "2023-11-17 00:00:00.25", 0.5},
		{"year end", "2023-12-31 23:59:59", "2024-01-01 00:00:00", 1},
		{"non-leap February", "2023-02-28 00:00:00", "2023-03-01 00:00:00", 86400},
		{"leap day", "2024-02-28 00:00:00", "2024-03-01 00:00:00", 2 * 86400},
		{"1900 is not leap", "1900-02-28 00:00:00", "1900-03-01 00:00:00", 86400},
		{"2000 is leap", "2000-02-28 00:00:00", "2000-03-01 00:00:00", 2 * 86400},
		{"one year", "2023-01-01 00:00:00", "2024-01-01 00:00:00", 365 * 86400},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := hdr + c.a + ",1,1\n" + c.b + ",1,1\n"
			tr, _, err := Read(strings.NewReader(in), "t.csv", Options{Format: Azure})
			if err != nil {
				t.Fatal(err)
			}
			if got := tr.At(1).ArrivalS; !near(got, c.wantDS, 1e-9) {
				t.Errorf("got %.10f s, want %.10f s", got, c.wantDS)
			}
		})
	}
}

// TestParseStampMatchesTime checks parseStamp against the standard
// library's time.Parse (the dumb reference) on random valid times.
func TestParseStampMatchesTime(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ref := time.Date(2023, 11, 16, 18, 15, 46, 680590000, time.UTC)
	refStamp, _ := parseStamp([]byte("2023-11-16 18:15:46.6805900"))
	for range 2000 {
		tm := time.Unix(rng.Int64N(300*365*86400)-100*365*86400, rng.Int64N(1e9)).UTC()
		digits := rng.IntN(10)
		s := tm.Format("2006-01-02 15:04:05")
		if digits > 0 {
			s += fmt.Sprintf(".%09d", tm.Nanosecond())[:digits+1]
		}
		want, err := time.Parse("2006-01-02 15:04:05.999999999", s)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := parseStamp([]byte(s))
		if !ok {
			t.Fatalf("parseStamp(%q): not ok", s)
		}
		if !got.time().Equal(want) {
			t.Fatalf("parseStamp(%q): got %v, want %v", s, got.time(), want)
		}
		if d, wantD := got.sub(refStamp), want.Sub(ref).Seconds(); !near(d, wantD, 1e-6) {
			t.Fatalf("parseStamp(%q).sub: got %v, want %v", s, d, wantD)
		}
	}
}

func TestReadAzureUnsorted(t *testing.T) {
	// Rows 2 and 4 are earlier than the row before them; rows at
	// 18:00:01 tie and must keep their input order (inputs 3 then 4).
	in := hdr +
		"2023-11-16 18:00:05,1,10\n" +
		"2023-11-16 18:00:01,3,10\n" +
		"2023-11-16 18:00:09,2,10\n" +
		"2023-11-16 18:00:01,4,10\n" +
		"2023-11-16 18:00:00.5,5,10\n"
	tr, rep, err := Read(strings.NewReader(in), "t.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Unsorted != 3 {
		t.Errorf("Unsorted: got %d, want 3", rep.Unsorted)
	}
	if want := time.Date(2023, 11, 16, 18, 0, 0, 5e8, time.UTC); !tr.Start.Equal(want) {
		t.Errorf("Start: got %v, want the earliest row %v", tr.Start, want)
	}
	want := []struct {
		arrival float64
		in      int32
	}{{0, 5}, {0.5, 3}, {0.5, 4}, {4.5, 1}, {8.5, 2}}
	for i, w := range want {
		if r := tr.At(i); !near(r.ArrivalS, w.arrival, 1e-12) || r.Input != w.in {
			t.Errorf("At(%d): got %v s input %d, want %v s input %d", i, r.ArrivalS, r.Input, w.arrival, w.in)
		}
	}
}

func TestReadAzureLenient(t *testing.T) {
	// CRLF endings, a byte-order mark, blank lines, columns in another
	// order, no final newline and the largest valid token count.
	in := "\xef\xbb\xbfGeneratedTokens,TIMESTAMP,ContextTokens\r\n\r\n" +
		"7,2023-11-16 18:00:00,10000000\r\n" +
		"8,2023-11-16 18:00:02.25,1"
	tr, rep, err := Read(strings.NewReader(in), "t.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Format != Azure || tr.Len() != 2 || rep.Rows != 2 {
		t.Fatalf("got format %s, %d requests, %d rows, want azure, 2, 2", tr.Format, tr.Len(), rep.Rows)
	}
	a, b := tr.At(0), tr.At(1)
	if a.Input != MaxTokens || a.Output != 7 || b.Input != 1 || b.Output != 8 || !near(b.ArrivalS, 2.25, 1e-12) {
		t.Errorf("got %+v and %+v, want {0 10000000 7} and {2.25 1 8}", a, b)
	}
}

func TestReadSkip(t *testing.T) {
	good := "2023-11-16 18:00:00,5,5\n"
	bad := "2023-11-16 18:00:00,0,5\n"
	cases := []struct {
		name                       string
		in                         string
		maxErrors                  int
		wantKept, wantSkip, wantPN int
		wantTrunc                  bool
		wantErr                    string
	}{
		{"mixed", hdr + good + bad + good + bad + bad, 0, 2, 3, 3, false, ""},
		{"capped", hdr + good + bad + bad + bad, 2, 1, 3, 2, true, ""},
		{"all bad", hdr + bad + bad, 0, 0, 2, 2, false, "t.csv: no usable rows (2 read, all skipped); first problem: line 2: ContextTokens: must be > 0, got 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr, rep, err := Read(strings.NewReader(c.in), "t.csv", Options{OnError: Skip, MaxErrors: c.maxErrors})
			if c.wantErr != "" {
				if err == nil || err.Error() != c.wantErr {
					t.Fatalf("got error %v, want %q", err, c.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if tr.Len() != c.wantKept {
				t.Errorf("Len: got %d, want %d", tr.Len(), c.wantKept)
			}
			if rep.Kept != c.wantKept || rep.Skipped != c.wantSkip || len(rep.Problems) != c.wantPN || rep.Truncated != c.wantTrunc {
				t.Errorf("report: got %+v, want kept %d skipped %d problems %d truncated %v", rep, c.wantKept, c.wantSkip, c.wantPN, c.wantTrunc)
			}
			if rep.Rows != rep.Kept+rep.Skipped {
				t.Errorf("Rows %d != Kept %d + Skipped %d", rep.Rows, rep.Kept, rep.Skipped)
			}
			if len(rep.Problems) > 0 && rep.Problems[0].Line != 3 && c.name != "all bad" {
				t.Errorf("first problem at line %d, want 3", rep.Problems[0].Line)
			}
		})
	}
}

func TestReadLongLines(t *testing.T) {
	good := "2023-11-16 18:00:00,5,5\n"
	long := strings.Repeat("9", MaxLineBytes+1) + "\n"
	exact := strings.Repeat("9", MaxLineBytes) + "\n"
	t.Run("stop", func(t *testing.T) {
		_, _, err := Read(strings.NewReader(hdr+good+long+good), "t.csv", Options{})
		if want := "t.csv:3: line longer than 16777216 bytes"; err == nil || err.Error() != want {
			t.Errorf("got %v, want %q", err, want)
		}
	})
	t.Run("skip", func(t *testing.T) {
		tr, rep, err := Read(strings.NewReader(hdr+good+long+"2023-11-16 18:00:01,5,x\n"+good), "t.csv", Options{OnError: Skip})
		if err != nil {
			t.Fatal(err)
		}
		// The long line is line 3, so the bad row after it is line 4.
		if tr.Len() != 2 || rep.Skipped != 2 || rep.Problems[0].Line != 3 || rep.Problems[1].Line != 4 {
			t.Errorf("got %d kept, report %+v, want 2 kept and problems on lines 3 and 4", tr.Len(), rep)
		}
	})
	t.Run("exactly the limit", func(t *testing.T) {
		_, _, err := Read(strings.NewReader(hdr+exact), "t.csv", Options{})
		if want := "t.csv:2: want 3 comma-separated fields, got 1"; err == nil || err.Error() != want {
			t.Errorf("got %v, want %q (the line is read, not refused)", err, want)
		}
	})
}

func TestReadMaxRows(t *testing.T) {
	row := "2023-11-16 18:00:00,5,5\n"
	if _, _, err := Read(strings.NewReader(hdr+row+row), "t.csv", Options{MaxRows: 2}); err != nil {
		t.Errorf("2 rows with MaxRows 2: got %v, want no error", err)
	}
	_, _, err := Read(strings.NewReader(hdr+row+row+row), "t.csv", Options{MaxRows: 2, OnError: Skip})
	if want := "t.csv:4: more than 2 rows (Options.MaxRows)"; err == nil || err.Error() != want {
		t.Errorf("3 rows with MaxRows 2: got %v, want %q", err, want)
	}
}

func TestOptions(t *testing.T) {
	for _, c := range []struct {
		name string
		opt  Options
		want string
	}{
		{"format", Options{Format: "parquet"}, `unknown trace format "parquet"`},
		{"on error", Options{OnError: 7}, "unknown OnError value 7"},
		{"max errors", Options{MaxErrors: -1}, "MaxErrors must be >= 0, got -1"},
		{"block tokens", Options{BlockTokens: -512}, "BlockTokens must be >= 0, got -512"},
		{"max rows", Options{MaxRows: -3}, "MaxRows must be >= 0, got -3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Read(strings.NewReader(hdr), "t.csv", c.opt)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "t.csv: ") {
				t.Errorf("Read: got %v, want t.csv: ...%q", err, c.want)
			}
			_, _, err = ReadSessions(strings.NewReader(""), "s.jsonl", c.opt)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("ReadSessions: got %v, want %q", err, c.want)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Format
		ok   bool
	}{
		{"azure", Azure, true}, {"Mooncake", Mooncake, true}, {" agent ", Agent, true},
		{"", "", false}, {"csv", "", false},
	} {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseFormat(c.in)
			if got != c.want || (err == nil) != c.ok {
				t.Errorf("got %q, %v, want %q, ok %v", got, err, c.want, c.ok)
			}
		})
	}
}

func TestOpenMissing(t *testing.T) {
	_, _, err := Open("testdata/nope.csv", Options{})
	if err == nil || !strings.Contains(err.Error(), "testdata/nope.csv") {
		t.Errorf("got %v, want an error naming testdata/nope.csv", err)
	}
}

func TestOnErrorString(t *testing.T) {
	if Stop.String() != "stop" || Skip.String() != "skip" {
		t.Errorf("got %q, %q, want stop, skip", Stop, Skip)
	}
}
