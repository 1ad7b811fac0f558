// Package cli is the fleetsim command line: one file per verb, each turning
// flags into options on a library call. Main is the only place that exits
// the process; Run is the testable entry point.
package cli
