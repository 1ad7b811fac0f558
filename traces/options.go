package traces

import (
	"fmt"
	"strings"
)

// Format names a trace file format.
type Format string

// The formats this package reads.
const (
	// Azure is the Azure LLM inference trace 2023 CSV.
	Azure Format = "azure"
	// Mooncake is the Mooncake FAST'25 JSON Lines trace.
	Mooncake Format = "mooncake"
	// Agent is fleetsim's JSON Lines format of agent sessions.
	Agent Format = "agent"
)

// ParseFormat returns the Format named by s ("azure", "mooncake" or
// "agent", case-insensitive).
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case Azure, Mooncake, Agent:
		return f, nil
	}
	return "", fmt.Errorf("unknown trace format %q (want azure, mooncake or agent)", s)
}

// OnError says what a reader does with a bad row.
type OnError int

const (
	// Stop makes the first bad row an error; it is the default.
	Stop OnError = iota
	// Skip skips bad rows, counting and recording each in the Report.
	Skip
)

// String returns "stop" or "skip".
func (o OnError) String() string {
	switch o {
	case Stop:
		return "stop"
	case Skip:
		return "skip"
	}
	return fmt.Sprintf("OnError(%d)", int(o))
}

// Limits and defaults.
const (
	// MaxTokens is the largest input or output token count accepted for one
	// request or step. It is ten times the longest context windows common
	// in 2025 (1M tokens, e.g. Gemini 1.5/2.5 Pro) and equal to the largest
	// advertised one (10M, Llama 4 Scout, Meta's announcement of April
	// 2025); anything larger is a corrupt row.
	MaxTokens = 10_000_000
	// MaxLineBytes is the longest line accepted, line ending excluded.
	MaxLineBytes = 16 << 20
	// DefaultMaxErrors is the default of Options.MaxErrors.
	DefaultMaxErrors = 100
	// DefaultBlockTokens is the default of Options.BlockTokens: the
	// Mooncake traces hash 512-token prefix blocks (FAST25-release/README.md
	// in kvcache-ai/Mooncake).
	DefaultBlockTokens = 512
	// DefaultMaxRows is the default of Options.MaxRows.
	DefaultMaxRows = 50_000_000
)

// Options controls a reader. The zero value reads with the defaults and
// infers the format from the content.
type Options struct {
	// Format of the input. Empty means: Read infers it from the first
	// non-blank byte ('{' is Mooncake, anything else Azure), ReadSessions
	// assumes Agent.
	Format Format
	// OnError is Stop (default) or Skip.
	OnError OnError
	// MaxErrors caps the problems recorded in Report.Problems (0 means
	// DefaultMaxErrors); every bad row is still counted in Report.Skipped.
	MaxErrors int
	// BlockTokens is the number of tokens per Mooncake prefix block (0 means
	// DefaultBlockTokens). A request with hash ids must have exactly
	// ceil(input_length/BlockTokens) of them.
	BlockTokens int
	// MaxRows is the most data rows (sessions for Agent) a reader accepts
	// before it refuses the input (0 means DefaultMaxRows).
	MaxRows int
}

// withDefaults checks o and fills in its defaults.
func (o Options) withDefaults() (Options, error) {
	if o.Format != "" {
		f, err := ParseFormat(string(o.Format))
		if err != nil {
			return o, err
		}
		o.Format = f
	}
	if o.OnError != Stop && o.OnError != Skip {
		return o, fmt.Errorf("options: unknown OnError value %d", int(o.OnError))
	}
	for _, c := range []struct {
		name string
		v    *int
		def  int
	}{
		{"MaxErrors", &o.MaxErrors, DefaultMaxErrors},
		{"BlockTokens", &o.BlockTokens, DefaultBlockTokens},
		{"MaxRows", &o.MaxRows, DefaultMaxRows},
	} {
		if *c.v < 0 {
			return o, fmt.Errorf("options: %s must be >= 0, got %d", c.name, *c.v)
		}
		if *c.v == 0 {
			*c.v = c.def
		}
	}
	return o, nil
}
