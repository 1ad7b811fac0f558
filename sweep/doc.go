// Package sweep runs a grid of scenario variations: parameters addressed by
// a path into the scenario's YAML, each with a list of values, and an
// optional list of strategies. Points are independent and deterministic;
// each point's result is written atomically, so an interrupted sweep
// resumes where it stopped. Emit writes a Kubernetes Indexed Job that runs
// shards of the points in pods.
package sweep
