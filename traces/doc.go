// Package traces reads recorded request traces so that fleetsim can replay
// them instead of sampling distributions.
//
// Three formats are read:
//
//   - [Azure]: the Azure LLM inference trace 2023 CSV
//     (TIMESTAMP,ContextTokens,GeneratedTokens);
//   - [Mooncake]: the Mooncake FAST'25 JSON Lines traces (timestamp in ms,
//     input and output lengths, prefix-block hash ids);
//   - [Agent]: fleetsim's own JSON Lines format of agent sessions, one
//     session per line with its steps (model call, tool time, think time).
//
// [Read] and [Open] return a [Trace] of requests sorted by arrival time;
// [ReadSessions] and [OpenSessions] return [Sessions]. Both also return a
// [Report] that counts every row read, kept and skipped and lists the
// problems found, each with its 1-based line number.
//
// The readers are strict. A bad row (a value that is not an integer, a token
// count of zero or above [MaxTokens], a negative or malformed time, an unknown
// JSON field, a line longer than [MaxLineBytes]) is an error naming the file
// and line, for example
//
//	trace.csv:17: ContextTokens: "abc" is not an integer
//
// With [Options].OnError set to [Skip], bad rows are skipped instead and
// each is counted in the [Report]; reading still fails when no row is usable.
// No input makes the readers panic.
//
// Requests are stored column by column, and the prefix-block hash ids of all
// requests share one flat slice, so a trace of millions of requests costs
// about 16 bytes per request plus 8 bytes per hash id. [Request].Hash is a
// view into that shared slice.
//
// [Summarize] computes the figures used to compare a trace with published
// facts: arrival rate, token-count percentiles, the coefficient of variation
// of inter-arrival times and the prefix-reuse fraction.
//
// The package uses only the standard library, does no I/O except in [Open]
// and [OpenSessions], and never logs.
package traces
