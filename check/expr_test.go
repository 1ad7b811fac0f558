package check

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestEval: each expected verdict follows from the fixture's numbers by
// hand (central: chat p95 TTFT 300 ms, agent p95 task 60 s, 190 of 200
// chat requests completed; edge: 150 ms, 45 s, 200 of 200; 8 GPUs each).
func TestEval(t *testing.T) {
	set := Collect(fixture())
	tests := []struct {
		src  string
		want bool
	}{
		{"central.chat.p95_ttft_ms < 500ms", true},
		{"central.chat.p95_ttft_ms < 0.3s", false}, // 300 ms is not below 300 ms
		{"central.chat.p95_ttft_ms <= 0.3s", true},
		{"central.chat.p95_ttft_ms < 301", true}, // a plain number beside a _ms metric is in ms
		{"central.chat.p95_ttft_ms < 299", false},
		{"central.agent.p95_task_s < 1m", false}, // 60 s
		{"central.agent.p95_task_s <= 1m", true},
		{"central.agent.p95_task_s > 59000ms", true},
		{"central.agent.p95_task_s < 61", true},                       // in s, the metric's unit
		{"central.chat.p95_ttft_ms < central.agent.p95_task_s", true}, // 0.3 s < 60 s, units converted
		{"edge.agent.p95_task_s < central.agent.p95_task_s", true},
		{"edge.chat.p95_ttft_ms < 0.5 * central.chat.p95_ttft_ms", false}, // 150 < 150
		{"edge.chat.p95_ttft_ms <= 0.5 * central.chat.p95_ttft_ms", true},
		{"central.chat.p95_ttft_ms - edge.chat.p95_ttft_ms == 150", true},
		{"central.chat.p95_ttft_ms - edge.chat.p95_ttft_ms == 0.15s", true},
		{"edge.chat.p95_ttft_ms / central.chat.p95_ttft_ms == 0.5", true}, // time / time is plain
		{"central.agent.p95_task_s - 1m == 0", true},
		{"central.chat.completion_rate >= 95%", true},
		{"central.chat.completion_rate > 95%", false},
		{"central.gpus == 8 and edge.gpus == 8", true},
		{"central.gpus == 8 and not edge.gpus == 8", false},
		{"central.gpus != 8 or edge.gpus == 8", true},
		{"not (central.gpus > 8)", true},
		{"not not central.gpus == 8", true},
		// and binds tighter than or: (false and false) or true.
		{"central.gpus == 1 and central.gpus == 2 or central.gpus == 8", true},
		{"central.gpus == 1 and (central.gpus == 2 or central.gpus == 8)", false},
		{"1 + 2 * 3 == 7", true},
		{"(1 + 2) * 3 == 9", true},
		{"-2 * -3 == 6", true},
		{"10 / 4 == 2.5", true},
		{"2 - 3 - 4 == -5", true}, // left-associative
		{"1e3ms == 1s", true},
		{".5s == 500ms", true},
		{"2h == 120m", true},
		{"1.5E-3s == 1.5ms", true},
		{"central.carbon_kg / central.carbon_kg == central.carbon_kg / central.carbon_kg", false}, // 0/0 is NaN: never equal
		{`"central.gpus" == 8`, true},
		{"all.chat.completion_rate >= 95%", true},
		{"all.chat.p95_ttft_ms < 200", false}, // central's 300 fails
		{"all.chat.p95_ttft_ms <= central.chat.p95_ttft_ms", true},
		{"all.agent.sessions_completion_rate >= 80%", true}, // 8 of 10 sessions in both strategies
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			e, err := Parse(tt.src)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			out, err := e.Eval(set)
			if err != nil {
				t.Fatalf("Eval: %v", err)
			}
			if out.Pass != tt.want {
				t.Errorf("got %v, want %v (cases %+v)", out.Pass, tt.want, out.Cases)
			}
		})
	}
}

func TestEvalAllCases(t *testing.T) {
	set := Collect(fixture())
	e, err := Parse("all.chat.p95_ttft_ms < 200 and all.gpus == 8")
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.Eval(set)
	if err != nil {
		t.Fatal(err)
	}
	// central (300 ms) fails, edge (150 ms) passes; every all. name in a
	// case is bound to the same strategy.
	want := []Case{
		{Strategy: "central", Pass: false, Values: []Metric{{"central.chat.p95_ttft_ms", 300, HigherIsWorse}, {"central.gpus", 8, HigherIsWorse}}},
		{Strategy: "edge", Pass: true, Values: []Metric{{"edge.chat.p95_ttft_ms", 150, HigherIsWorse}, {"edge.gpus", 8, HigherIsWorse}}},
	}
	if out.Pass || !reflect.DeepEqual(out.Cases, want) {
		t.Errorf("got pass %v cases %+v, want false %+v", out.Pass, out.Cases, want)
	}
	if got := e.Metrics(); !reflect.DeepEqual(got, []string{"all.chat.p95_ttft_ms", "all.gpus"}) {
		t.Errorf("Metrics: got %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		src  string
		col  int
		want string
	}{
		{"", 1, "empty assertion"},
		{"central.gpus <", 15, "expected a number, a metric name or \"(\", got end of assertion"},
		{"central.gpus < 5 < 6", 18, "cannot be chained"},
		{"central.gpus = 8", 14, "write =="},
		{"central.gpus ! 8", 14, "write not"},
		{"central.gpus & 1", 14, "write and, or"},
		{"central.gpus < 5sec", 17, `unknown unit "sec"`},
		{"central.gpus < 5s", 14, "cannot combine a time with a plain number"},
		{"central.chat.p95_ttft_ms < 50%", 26, "percentage"},
		{"central.gpus", 1, "must be true or false"},
		{"central.gpus < 5 and 3", 18, "and needs comparisons"},
		{"not central.gpus", 1, "not needs a comparison"},
		{"(central.gpus < 5", 18, `expected ")" to close the "(" at col 1`},
		{"central.gpus < 5)", 17, `unexpected ")"`},
		{"central.chat.p95_ttft_ms * central.chat.p95_ttft_ms > 1", 26, "multiply a time by a time"},
		{"central.gpus / central.chat.p95_ttft_ms > 1", 14, "divide a plain number by a time"},
		{"1s + 5 > 0s", 6, "give this number a unit"},
		{"(central.gpus < 1) + 1 > 0", 20, "cannot be used as a number"},
		{`"central.gpus < 1`, 1, "unterminated"},
		{`"" < 1`, 1, "empty quoted"},
		{"central. < 1", 1, `ends with "."`},
		{"central.gpus < 5 8", 18, "unexpected number 8"},
		{"central.gpus # 1", 14, "unexpected character"},
		{strings.Repeat("(", 150) + "1 < 2" + strings.Repeat(")", 150), 101, "nested more than 100"},
		{strings.Repeat("not ", 150) + "1 < 2", 401, "nested more than 100"},
	}
	for _, tt := range tests {
		name := tt.src
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			_, err := Parse(tt.src)
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want an *Error", err)
			}
			if pe.Col != tt.col || !strings.Contains(pe.Msg, tt.want) {
				t.Errorf("got %q, want col %d: ...%s...", err, tt.col, tt.want)
			}
		})
	}
}

func TestEvalUnknownMetric(t *testing.T) {
	set := Collect(fixture())
	tests := []struct {
		src  string
		col  int
		want string
	}{
		{"central.gpus < 9 and edge.agnt.p95_task_s < 1", 22, `unknown metric "edge.agnt.p95_task_s" (did you mean "edge.agent.p95_task_s"?)`},
		{"all.chta.p95_ttft_ms < 1", 1, `(did you mean "all.chat.p95_ttft_ms"?)`},
		{"central.chat-edge.chat < 1", 1, "put spaces around -"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			e, err := Parse(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.Eval(set)
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want an *Error", err)
			}
			if pe.Col != tt.col || !strings.Contains(pe.Msg, tt.want) {
				t.Errorf("got %q, want col %d: ...%s...", err, tt.col, tt.want)
			}
		})
	}
	// all. over a metric only some strategies have names the one without.
	res := fixture()
	res.Strategies[1].Workloads = res.Strategies[1].Workloads[:1] // edge serves no agent
	e, _ := Parse("all.agent.p95_task_s < 1m")
	_, err := e.Eval(Collect(res))
	if err == nil || !strings.Contains(err.Error(), `strategy edge has no "edge.agent.p95_task_s"`) {
		t.Errorf("got %v, want it to name strategy edge", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"central.chat.p95_ttft_ms < 500ms", "all.agent.p95_task_s <= 1m and not edge.gpus > 8",
		"(1 + 2) * 3 == 9 or 2h == 120m", "central.chat.completion_rate >= 99.9%", `"x y" < 1e-3s`,
		"1s + 5 > 0s", "((((", "-.5e+3ms", "a-b < c - d",
	} {
		f.Add(s)
	}
	set := Collect(fixture())
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Parse(src)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Col < 1 {
				t.Fatalf("Parse(%q): error %v is not an *Error with a column", src, err)
			}
			return
		}
		if e.String() != src {
			t.Fatalf("String: got %q, want %q", e.String(), src)
		}
		if _, err := e.Eval(set); err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Eval(%q): error %v is not an *Error", src, err)
			}
		}
	})
}
