// Package planner sizes GPU capacity. For now it holds the queueing
// formulas the analytic stage of the capacity planner will use, which the
// simulator's reference tests also check against.
package planner
