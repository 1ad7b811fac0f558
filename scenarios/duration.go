package scenarios

// Duration is a span of time written with a unit in scenario files
// ("250ms", "1.5s", "30m", "24h", "7d"), held in seconds.
type Duration float64
