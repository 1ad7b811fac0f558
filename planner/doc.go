// Package planner finds the cheapest replicas per site that meet every
// SLO. Search is written against an Evaluator and knows nothing of the
// simulator; Pose and SimEvaluator connect it to a fleet.World: an analytic
// proposal sized for each site's peak, and evaluation by simulation.
// PlanFile is the kind: Plan file that `fleetsim plan` writes and
// `fleetsim run --plan` reads.
package planner
