// Package kubeplan checks a plan against a real Kubernetes control plane.
//
// A plan (planner.PlanFile) says how many replicas of each model run at
// each site. Topology turns the plan's scenario into the nodes its clusters
// have (one Node per GPU node of each pool, labelled with its region,
// cluster, residency zone and GPU type, with nvidia.com/gpu capacity), and
// Objects turns one planned strategy into the Kubernetes objects that would
// run it: a Deployment per (cluster, model) with GPU requests and required
// node affinity to the planned site and GPU type, a PodDisruptionBudget,
// and a topology spread over the site's nodes. Check applies them to real
// control planes (package controlplane), lets the real scheduler and
// controllers place the pods, and compares: every planned replica Running
// on a node of its site and GPU type, nothing Pending, the GPUs allocated
// equal to the GPUs the plan pays for. A Pending pod is reported with the
// scheduler's reason. FailSite then removes one site's nodes and asks the
// scheduler whether the remaining clusters can host the displaced replicas.
//
// The package's Agent plays the kubelets: it keeps the registered nodes
// Ready (status heartbeats and node leases) and moves pods bound to them
// to Running; no containers run.
package kubeplan
