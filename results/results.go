// Package results defines the result of a simulation run: the stable,
// documented JSON document that the table, reports and CI gates read.
//
// The schema is versioned by SchemaVersion. Fields are only ever added
// within a version; renaming or removing one bumps the version.
package results

// SchemaVersion identifies the layout of Result.
const SchemaVersion = "fleetsim.result/v1"

// Result is everything one run measured, strategy by strategy.
type Result struct {
	// SchemaVersion is "fleetsim.result/v1".
	SchemaVersion string `json:"schemaVersion"`
	// Scenario is the scenario's metadata.name.
	Scenario string `json:"scenario"`
	// Description is the scenario's metadata.description.
	Description string `json:"description,omitempty"`
	// Seed is the seed every random stream was derived from.
	Seed uint64 `json:"seed"`
	// Run describes the simulated window.
	Run Run `json:"run"`
	// Strategies holds one entry per placement strategy, in scenario order.
	Strategies []Strategy `json:"strategies"`
	// Users are the scenario's user groups, where they are and how much
	// they send at their peak (for maps in reports).
	Users []User `json:"users,omitempty"`
}

// User is one user group.
type User struct {
	Name string  `json:"name"`
	Lat  float64 `json:"lat"`
	Lon  float64 `json:"lon"`
	// PeakCallsPerS is the group's model calls per second at its daily peak
	// (agent sessions count their mean steps), over every workload it sends.
	PeakCallsPerS float64 `json:"peakCallsPerS"`
}

// CDFQuantiles are the quantiles at which results report latency
// distributions (Workload.TTFTCDFMs and friends).
var CDFQuantiles = []float64{0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999}

// Run describes the simulated window.
type Run struct {
	// WindowS is the length of the measured window in seconds.
	WindowS float64 `json:"windowS"`
	// WarmupS is the simulated time before the window, in seconds.
	WarmupS float64 `json:"warmupS"`
	// DrainS bounds the time simulated after the window, in seconds.
	DrainS float64 `json:"drainS"`
	// StartHourUTC is the UTC hour of day at the start of the window.
	StartHourUTC float64 `json:"startHourUTC"`
}

// Strategy is what one placement strategy achieved.
type Strategy struct {
	// Name and Kind come from the scenario.
	Name string `json:"name"`
	// Kind is centralized, regional, edge or hybrid.
	Kind string `json:"kind"`
	// Description comes from the scenario.
	Description string `json:"description,omitempty"`
	// GPUs is the number of GPUs the strategy deploys.
	GPUs int `json:"gpus"`
	// CostPerHourUSD is what those GPUs cost per hour.
	CostPerHourUSD float64 `json:"costPerHourUSD"`
	// Tokens is the prompt plus output tokens of model calls that arrived in the window and finished by the end of the drain.
	Tokens int64 `json:"tokens"`
	// CostPerMillionTokensUSD is the window's GPU cost over Tokens, per million.
	CostPerMillionTokensUSD float64 `json:"costPerMillionTokensUSD"`
	// Utilization is the fraction of replica time spent running iterations in the window.
	Utilization float64 `json:"utilization"`
	// MeanPowerKW is the GPUs' mean power draw over the window, in kW.
	MeanPowerKW float64 `json:"meanPowerKW"`
	// EnergyKWh is the GPUs' energy over the window, in kWh.
	EnergyKWh float64 `json:"energyKWh"`
	// EnergyCostPerHourUSD is the energy's cost per hour of window.
	EnergyCostPerHourUSD float64 `json:"energyCostPerHourUSD"`
	// Preemptions counts calls preempted (KV cache full) in the window.
	Preemptions int64 `json:"preemptions"`
	// PrefixHitRate is the fraction of prompt tokens that came from the prefix cache.
	PrefixHitRate float64 `json:"prefixHitRate"`
	// EgressGB is the data that left sites and tools in the window (responses
	// to users and between places, tool results, telemetry), in GB.
	EgressGB float64 `json:"egressGB"`
	// EgressCostPerHourUSD is its cost per hour of window.
	EgressCostPerHourUSD float64 `json:"egressCostPerHourUSD"`
	// TotalCostPerHourUSD is GPUs, energy and egress together.
	TotalCostPerHourUSD float64 `json:"totalCostPerHourUSD"`
	// CarbonKg is the GPUs' emissions over the window, in kg CO2e, over the
	// sites whose carbon intensity is given.
	CarbonKg float64 `json:"carbonKg,omitempty"`
	// CostSavedPerHourUSD is the fixed fleet's cost minus CostPerHourUSD (autoscaling).
	CostSavedPerHourUSD float64 `json:"costSavedPerHourUSD,omitempty"`
	// Faults reports each scheduled fault's window; absent without faults.
	Faults []Fault `json:"faults,omitempty"`
	// SLOsMet counts the SLOs met across all workloads.
	SLOsMet int `json:"slosMet"`
	// SLOs counts all SLOs across all workloads.
	SLOs int `json:"slos"`
	// Events is the number of simulation events processed.
	Events uint64 `json:"events"`
	// Workloads holds one entry per workload, in scenario order.
	Workloads []Workload `json:"workloads"`
	// Sites holds one entry per site and deployment that has replicas.
	Sites []Site `json:"sites"`
}

// Counts accounts for every request or session that arrived in the window:
// Arrived = Completed + Dropped + InFlight.
type Counts struct {
	// Arrived in the measured window.
	Arrived int64 `json:"arrived"`
	// Completed by the end of the drain.
	Completed int64 `json:"completed"`
	// Dropped because every eligible site's queue was full.
	Dropped int64 `json:"dropped"`
	// Failed after their last attempt failed: the replica or site serving
	// them went down, no site was reachable, or (sessions) a call or a tool
	// failed for good.
	Failed int64 `json:"failed,omitempty"`
	// TimedOut after their last attempt ran past the retry policy's timeout.
	TimedOut int64 `json:"timedOut,omitempty"`
	// InFlight when the simulation stopped.
	InFlight int64 `json:"inFlight"`
	// Retries counts attempts after the first, over all of them (a request
	// retried twice counts 2); calls only.
	Retries int64 `json:"retries,omitempty"`
	// CompletedAfterRetry counts completed ones that needed more than one attempt.
	CompletedAfterRetry int64 `json:"completedAfterRetry,omitempty"`
}

// Summary describes a distribution of latencies. Percentiles come from a
// bounded-memory histogram (relative error below 1%); Count, Mean and Max are exact.
type Summary struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// Breakdown splits mean agent-task time into where it went, in seconds.
type Breakdown struct {
	// Network is connection setup, propagation and transfer time of model and tool calls.
	Network float64 `json:"network"`
	// Queueing is time model calls waited at a replica before being admitted.
	Queueing float64 `json:"queueing"`
	// Compute is time from admission to the last output token (prefill and decode).
	Compute float64 `json:"compute"`
	// Tool is time inside tools.
	Tool float64 `json:"tool"`
	// Think is think time between steps.
	Think float64 `json:"think"`
}

// Workload is what one workload experienced under a strategy.
type Workload struct {
	// Name and Kind (chat or agent) come from the scenario.
	Name string `json:"name"`
	// Kind is chat or agent.
	Kind string `json:"kind"`
	// Requests counts model calls (chat requests, or agent steps).
	Requests Counts `json:"requests"`
	// Spilled counts model calls not served at the nearest eligible site.
	Spilled int64 `json:"spilled"`
	// Sessions counts agent sessions (agent workloads only).
	Sessions *Counts `json:"sessions,omitempty"`
	// TTFTMs is time to first token seen by the caller, in ms.
	TTFTMs Summary `json:"ttftMs"`
	// TPOTMs is time per output token after the first, in ms.
	TPOTMs Summary `json:"tpotMs"`
	// E2EMs is a model call end to end as seen by the caller, in ms.
	E2EMs Summary `json:"e2eMs"`
	// TaskS is agent-session time from the user's request to the result, in s.
	TaskS *Summary `json:"taskS,omitempty"`
	// TaskBreakdownS splits mean task time (agent workloads only).
	TaskBreakdownS *Breakdown `json:"taskBreakdownS,omitempty"`
	// SLOs are the workload's objectives and how they fared.
	SLOs []SLO `json:"slos"`
	// TTFTCDFMs, E2ECDFMs and TaskCDFS are the latency at each of
	// CDFQuantiles (ms; task in s), over completed work; absent when none completed.
	TTFTCDFMs []float64 `json:"ttftCdfMs,omitempty"`
	E2ECDFMs  []float64 `json:"e2eCdfMs,omitempty"`
	TaskCDFS  []float64 `json:"taskCdfS,omitempty"`
	// ColdStartMisses counts calls that missed an SLO and had reached a site
	// whose replicas were still starting (autoscaling).
	ColdStartMisses int64 `json:"coldStartMisses,omitempty"`
}

// SLO is one objective and its outcome.
type SLO struct {
	// Metric is ttft, tpot, e2e or task.
	Metric string `json:"metric"`
	// Percentile is in (0, 100).
	Percentile float64 `json:"percentile"`
	// MaxMs is the threshold in ms.
	MaxMs float64 `json:"maxMs"`
	// ValueMs is the measured value of the metric at Percentile, in ms
	// (work that was dropped or never finished counts as infinitely slow;
	// null when the percentile falls among it, or nothing was measured).
	ValueMs *float64 `json:"valueMs"`
	// Attainment is the fraction of requests (or tasks) within MaxMs; dropped ones count as misses.
	Attainment float64 `json:"attainment"`
	// Met says whether Attainment >= Percentile/100.
	Met bool `json:"met"`
}

// Site is one deployment's replicas at one site.
type Site struct {
	// Site is the region name.
	Site string `json:"site"`
	// Kind is core or edge.
	Kind string `json:"kind"`
	// Zone is the site's data-residency zone.
	Zone string `json:"zone,omitempty"`
	// Model and GPU of the deployment.
	Model string `json:"model"`
	// GPU is the GPU catalog id.
	GPU string `json:"gpu"`
	// Replicas and GPUs deployed here.
	Replicas int `json:"replicas"`
	// GPUs is Replicas times the tensor-parallel degree.
	GPUs int `json:"gpus"`
	// CostPerHourUSD is GPUs times the site's price.
	CostPerHourUSD float64 `json:"costPerHourUSD"`
	// Utilization is the fraction of replica time spent running iterations in the window.
	Utilization float64 `json:"utilization"`
	// Requests is the number of model calls served here that arrived in the window.
	Requests int64 `json:"requests"`
	// Tokens is their prompt plus output tokens.
	Tokens int64 `json:"tokens"`
	// QueueP95Ms is the 95th percentile of queue wait here, in ms.
	QueueP95Ms float64 `json:"queueP95Ms"`
	// MeanPowerKW is the GPUs' mean power draw over the window, in kW.
	MeanPowerKW float64 `json:"meanPowerKW"`
	// EnergyKWh is the GPUs' energy over the window, in kWh.
	EnergyKWh float64 `json:"energyKWh"`
	// EnergyCostPerHourUSD is the energy's cost per hour of window at the site's price.
	EnergyCostPerHourUSD float64 `json:"energyCostPerHourUSD"`
	// Preemptions counts calls preempted here (KV cache full) in the window.
	Preemptions int64 `json:"preemptions"`
	// PrefixHitRate is the fraction of prompt tokens served here that came from the prefix cache.
	PrefixHitRate float64 `json:"prefixHitRate"`
	// ReplicasByHour is, under an autoscaler, the mean billed replicas in
	// each hour of the window (requested, serving or draining).
	ReplicasByHour []float64 `json:"replicasByHour,omitempty"`
	// FixedCostPerHourUSD is what the site's replicas would cost without an autoscaler.
	FixedCostPerHourUSD float64 `json:"fixedCostPerHourUSD"`
	// CarbonKg is the site's GPU emissions over the window (when its carbon intensity is given).
	CarbonKg float64 `json:"carbonKg,omitempty"`
	// Lat and Lon are the site's coordinates.
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
	// UtilizationByHour is the share of replica time spent running
	// iterations in each hour of the window; QueueP95MsByHour the 95th
	// percentile of queue wait of the calls that reached the site that hour.
	UtilizationByHour []float64 `json:"utilizationByHour,omitempty"`
	QueueP95MsByHour  []float64 `json:"queueP95MsByHour,omitempty"`
}

// Fault is what one scheduled fault did to a strategy: the work that
// started during the fault's window and how it fared.
type Fault struct {
	// Name and Kind come from the scenario.
	Name string `json:"name"`
	Kind string `json:"kind"`
	// StartS and EndS are the fault's window in seconds from the start of
	// the measured window (EndS is the end of the run for a permanent fault).
	StartS float64 `json:"startS"`
	EndS   float64 `json:"endS"`
	// ReplicasDown is the most replicas down at once because of the fault.
	ReplicasDown int `json:"replicasDown"`
	// LostTokens is the prompt and output tokens computed for calls that
	// the fault killed (work thrown away; retried calls compute it again).
	LostTokens int64 `json:"lostTokens"`
	// Workloads are the calls and sessions that started during the window.
	Workloads []FaultWorkload `json:"workloads"`
}

// FaultWorkload is one workload's calls (and sessions) that started during
// a fault's window.
type FaultWorkload struct {
	Name     string   `json:"name"`
	Requests Counts   `json:"requests"`
	Sessions *Counts  `json:"sessions,omitempty"`
	TTFTMs   Summary  `json:"ttftMs"`
	E2EMs    Summary  `json:"e2eMs"`
	TaskS    *Summary `json:"taskS,omitempty"`
	// SLOs are the workload's objectives over the window's work.
	SLOs []SLO `json:"slos"`
}
