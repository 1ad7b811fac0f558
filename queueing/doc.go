// Package queueing holds standard queueing formulas (Erlang C, M/M/c
// waiting time). The simulator's reference tests check the simulation
// against them.
package queueing
