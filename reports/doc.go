// Package reports renders results for people and programs: the
// side-by-side terminal table, the JSON document, and files written
// atomically so that a reader never sees half of one.
package reports
