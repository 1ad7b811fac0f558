package scenarios

// APIVersion is the only scenario API version this build reads.
const APIVersion = "fleetsim/v1alpha1"

// KindScenario is the value of the kind field of a scenario file.
const KindScenario = "Scenario"

// Scenario is one scenario file: what to simulate and which placement
// strategies to compare. Field names carry their unit (rttMs,
// pricePerGPUHourUSD) or take a value with a unit ("250ms", "24h").
type Scenario struct {
	// APIVersion must be "fleetsim/v1alpha1".
	APIVersion string `yaml:"apiVersion" json:"apiVersion" jsonschema:"enum=fleetsim/v1alpha1"`
	// Kind must be "Scenario".
	Kind string `yaml:"kind" json:"kind" jsonschema:"enum=Scenario"`
	// Metadata names and describes the scenario.
	Metadata Metadata `yaml:"metadata" json:"metadata"`
	// Spec is what to simulate.
	Spec Spec `yaml:"spec" json:"spec"`

	// origin is where the scenario was loaded from and the line of each
	// field; nil for a scenario built in Go.
	origin *origin
}

// Metadata names and describes a scenario.
type Metadata struct {
	// Name identifies the scenario in results and reports. Required.
	Name string `yaml:"name" json:"name"`
	// Description is one line shown by `fleetsim scenarios`.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
}

// Spec is the body of a scenario.
type Spec struct {
	// Run sets the simulated window, warm-up and seed.
	Run Run `yaml:"run,omitempty" json:"run,omitempty"`
	// Network sets the RTT model, measured overrides, connection and bandwidth costs.
	Network Network `yaml:"network,omitempty" json:"network,omitempty"`
	// Regions are the sites (core regions and edge sites) where clusters run.
	Regions []Region `yaml:"regions" json:"regions"`
	// Tools are the services agents call, each placed somewhere.
	Tools []Tool `yaml:"tools,omitempty" json:"tools,omitempty"`
	// Users are populations of users, each at a place with a daily load curve.
	Users []UserGroup `yaml:"users" json:"users"`
	// Workloads are the kinds of traffic users send (chat requests, agent sessions).
	Workloads []Workload `yaml:"workloads" json:"workloads"`
	// Strategies are the placements to compare side by side.
	Strategies []Strategy `yaml:"strategies" json:"strategies"`
	// Faults are scheduled failures applied to every strategy: lost GPU
	// nodes, sites down, degraded or cut links, tool outages.
	Faults []Fault `yaml:"faults,omitempty" json:"faults,omitempty"`
	// Planning sets what `fleetsim plan` requires of a plan.
	Planning *Planning `yaml:"planning,omitempty" json:"planning,omitempty"`
	// Expect are assertions `fleetsim check` judges on the result, in its
	// expression language (docs/check.md), for example
	// "edge.agent.p95_task_s < centralized.agent.p95_task_s".
	Expect []string `yaml:"expect,omitempty" json:"expect,omitempty"`
}

// Planning is what a capacity plan must satisfy beyond the SLOs.
type Planning struct {
	// Headroom is spare capacity on top of the peak, as a fraction (0.2 = 20%), in [0, 10]. Default 0.
	Headroom float64 `yaml:"headroom,omitempty" json:"headroom,omitempty"`
	// Survive is none, or oneSiteDown: the plan must also meet the SLOs
	// (loosened by DegradedSLOFactor) with any one of its sites down. Default none.
	Survive string `yaml:"survive,omitempty" json:"survive,omitempty" jsonschema:"enum=none,enum=oneSiteDown"`
	// DegradedSLOFactor multiplies every SLO's max while a site is down, in [1, 100]. Default 1.
	DegradedSLOFactor float64 `yaml:"degradedSLOFactor,omitempty" json:"degradedSLOFactor,omitempty"`
}

// Fault is one scheduled failure. Start counts from the start of the
// measured window; a fault without Duration lasts to the end of the run.
//
//	{name: east-down, kind: siteDown, site: us-east, start: 14h, duration: 1h}
//	{name: half-gone, kind: nodeLoss, site: eu-west, fraction: 0.5, start: 2h}
//	{name: slow-atlantic, kind: linkDegraded, from: us-east, to: eu-west, addRttMs: 80, loss: 0.01, start: 1h, duration: 2h}
//	{name: cut, kind: linkCut, from: us-east, to: eu-west, start: 1h, duration: 10m}
//	{name: search-out, kind: toolOutage, tool: search, start: 3h, duration: 15m}
type Fault struct {
	// Name identifies the fault in results.
	Name string `yaml:"name" json:"name"`
	// Kind is nodeLoss, siteDown, linkDegraded, linkCut or toolOutage.
	Kind string `yaml:"kind" json:"kind" jsonschema:"enum=nodeLoss,enum=siteDown,enum=linkDegraded,enum=linkCut,enum=toolOutage"`
	// Start is when the fault begins, from the start of the measured window.
	Start Duration `yaml:"start" json:"start"`
	// Duration is how long it lasts; absent means until the end of the run.
	Duration *Duration `yaml:"duration,omitempty" json:"duration,omitempty"`
	// Site is the region a nodeLoss or siteDown hits.
	Site string `yaml:"site,omitempty" json:"site,omitempty"`
	// Fraction is the share of the site's replicas a nodeLoss takes down, in (0, 1].
	Fraction float64 `yaml:"fraction,omitempty" json:"fraction,omitempty"`
	// Count is the number of replicas a nodeLoss takes down (instead of Fraction).
	Count int `yaml:"count,omitempty" json:"count,omitempty"`
	// From and To are the places (regions, user places, tool places) a link fault joins; both directions are hit.
	From string `yaml:"from,omitempty" json:"from,omitempty"`
	// To is the other end of the link.
	To string `yaml:"to,omitempty" json:"to,omitempty"`
	// AddRTTMs is the round-trip time a linkDegraded adds, in ms.
	AddRTTMs float64 `yaml:"addRttMs,omitempty" json:"addRttMs,omitempty"`
	// Loss is the packet loss of a linkDegraded link, in [0, 1): each message
	// crossing it is delayed by one retransmission timeout with this probability.
	Loss float64 `yaml:"loss,omitempty" json:"loss,omitempty"`
	// Tool is the tool a toolOutage takes down.
	Tool string `yaml:"tool,omitempty" json:"tool,omitempty"`
}

// Retry is what a caller does when a model call fails (its replica or site
// went down, or it cannot reach any site) or takes too long.
type Retry struct {
	// Attempts is the most times a call is sent, the first included (>= 1). Default 3.
	Attempts int `yaml:"attempts,omitempty" json:"attempts,omitempty"`
	// Backoff is the wait before the first retry; it doubles for each later one. Default "1s".
	Backoff *Duration `yaml:"backoff,omitempty" json:"backoff,omitempty"`
	// Timeout abandons an attempt that has not finished this long after it
	// was sent (and retries it if attempts remain). Absent: no timeout.
	Timeout *Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// Security is what security and observability cost per request. Every
// field defaults to 0 (off).
type Security struct {
	// MTLSHandshakeMs is added to every new connection to a model site or
	// tool (certificate exchange and verification), in ms.
	MTLSHandshakeMs float64 `yaml:"mtlsHandshakeMs,omitempty" json:"mtlsHandshakeMs,omitempty"`
	// GatewayMs is added to every model call and tool call by a gateway or
	// policy hop in front of the service, in ms.
	GatewayMs float64 `yaml:"gatewayMs,omitempty" json:"gatewayMs,omitempty"`
	// TelemetryBytesPerCall is what each model call exports (spans, logs,
	// metric samples), in bytes; it is shipped to TelemetryPlace.
	TelemetryBytesPerCall float64 `yaml:"telemetryBytesPerCall,omitempty" json:"telemetryBytesPerCall,omitempty"`
	// TelemetryPlace is where telemetry is collected: a region or catalog
	// place. Required with TelemetryBytesPerCall.
	TelemetryPlace string `yaml:"telemetryPlace,omitempty" json:"telemetryPlace,omitempty"`
}

// Run sets the simulated time window.
type Run struct {
	// Duration is the measured window of simulated time. Default "24h"; at most "366d".
	Duration Duration `yaml:"duration,omitempty" json:"duration,omitempty"`
	// Warmup is simulated before the measured window; requests that arrive
	// during it are served but not measured. Default "0s".
	Warmup Duration `yaml:"warmup,omitempty" json:"warmup,omitempty"`
	// Drain bounds how long the simulation keeps running after the window
	// closes so that work in flight can finish. Default "1h".
	Drain Duration `yaml:"drain,omitempty" json:"drain,omitempty"`
	// StartHourUTC is the UTC hour of day (0 <= h < 24) at which the measured window starts. Default 0.
	StartHourUTC float64 `yaml:"startHourUTC,omitempty" json:"startHourUTC,omitempty"`
	// Date (YYYY-MM-DD) resolves time-zone offsets (daylight saving). Default "2026-01-15".
	Date string `yaml:"date,omitempty" json:"date,omitempty"`
	// Seed derives every random stream. Default 1; `fleetsim run --seed` overrides it.
	Seed *uint64 `yaml:"seed,omitempty" json:"seed,omitempty"`
}

// Network sets the network model. Unset fields take the defaults fitted to
// measured inter-region RTTs (see docs/network.md).
type Network struct {
	// BaseRTTMs is the fixed part of the RTT between two distinct places, in ms.
	BaseRTTMs *float64 `yaml:"baseRttMs,omitempty" json:"baseRttMs,omitempty"`
	// PathInflation is route length over great-circle length (>= 1).
	PathInflation *float64 `yaml:"pathInflation,omitempty" json:"pathInflation,omitempty"`
	// FiberKmPerMs is the one-way speed of light in fiber, in km per ms. Default 200.
	FiberKmPerMs *float64 `yaml:"fiberKmPerMs,omitempty" json:"fiberKmPerMs,omitempty"`
	// SameSiteRTTMs is the RTT between two endpoints at the same place, in ms. Default 2 (docs/network.md).
	SameSiteRTTMs *float64 `yaml:"sameSiteRttMs,omitempty" json:"sameSiteRttMs,omitempty"`
	// JitterMs is added to every round trip, in ms. Default exponential with mean 1.
	JitterMs *Dist `yaml:"jitterMs,omitempty" json:"jitterMs,omitempty"`
	// HandshakeRTTs is how many round trips a new connection costs before the
	// first request byte (TCP 1 + TLS 1.3 1). Default 2.
	HandshakeRTTs *int `yaml:"handshakeRtts,omitempty" json:"handshakeRtts,omitempty"`
	// BandwidthMbps is the per-flow bandwidth between sites, in Mbit/s. Default 1000.
	BandwidthMbps float64 `yaml:"bandwidthMbps,omitempty" json:"bandwidthMbps,omitempty"`
	// AccessBandwidthMbps is the per-flow bandwidth of a user's access link, in Mbit/s. Default 50.
	AccessBandwidthMbps float64 `yaml:"accessBandwidthMbps,omitempty" json:"accessBandwidthMbps,omitempty"`
	// BytesPerToken converts tokens to payload bytes on the wire. Default 4.
	BytesPerToken float64 `yaml:"bytesPerToken,omitempty" json:"bytesPerToken,omitempty"`
	// Measured RTTs override the model for the pairs they name (symmetric).
	Measured []MeasuredRTT `yaml:"measured,omitempty" json:"measured,omitempty"`
	// MeasuredCSV names a CSV file (columns src,dst,rtt_ms; path relative to
	// the scenario file) of measured RTTs that override the model.
	MeasuredCSV string `yaml:"measuredCsv,omitempty" json:"measuredCsv,omitempty"`
	// EgressPerGBUSD is the price of a GB leaving a site or tool for another
	// site or tool (inter-region transfer), in USD. Default 0.02.
	EgressPerGBUSD *float64 `yaml:"egressPerGBUSD,omitempty" json:"egressPerGBUSD,omitempty"`
	// InternetEgressPerGBUSD is the price of a GB leaving a site or tool for
	// users on the internet, in USD. Default 0.09.
	InternetEgressPerGBUSD *float64 `yaml:"internetEgressPerGBUSD,omitempty" json:"internetEgressPerGBUSD,omitempty"`
	// Security adds the per-hop costs of mTLS, a gateway or policy hop, and
	// exported telemetry. Absent: none.
	Security *Security `yaml:"security,omitempty" json:"security,omitempty"`
}

// MeasuredRTT is one measured round-trip time between two places.
type MeasuredRTT struct {
	// From is a place name (a region, a user group's place or a catalog place).
	From string `yaml:"from" json:"from"`
	// To is a place name.
	To string `yaml:"to" json:"to"`
	// RTTMs is the measured round-trip time in ms.
	RTTMs float64 `yaml:"rttMs" json:"rttMs"`
}

// Region is a site: a core cloud region or an edge site, with its clusters.
type Region struct {
	// Name identifies the site. A name from the built-in place catalog
	// (`fleetsim rtt --list`) fills in coordinates, time zone, kind and zone.
	Name string `yaml:"name" json:"name"`
	// Lat is the latitude in degrees (-90..90). Required when Name is not in the catalog.
	Lat *float64 `yaml:"lat,omitempty" json:"lat,omitempty"`
	// Lon is the longitude in degrees (-180..180). Required when Name is not in the catalog.
	Lon *float64 `yaml:"lon,omitempty" json:"lon,omitempty"`
	// TimeZone is an IANA time zone name such as "Europe/Amsterdam".
	TimeZone string `yaml:"timeZone,omitempty" json:"timeZone,omitempty"`
	// Kind is "core" or "edge". Default from the catalog, else "core".
	Kind string `yaml:"kind,omitempty" json:"kind,omitempty" jsonschema:"enum=core,enum=edge"`
	// Zone is the data-residency zone the site belongs to (for example "eu").
	Zone string `yaml:"zone,omitempty" json:"zone,omitempty"`
	// Clusters are the Kubernetes clusters at this site.
	Clusters []Cluster `yaml:"clusters,omitempty" json:"clusters,omitempty"`
	// CarbonGPerKWh is the carbon intensity of the region's electricity, in
	// grams of CO2-equivalent per kWh. Absent: carbon is not reported for it.
	CarbonGPerKWh *float64 `yaml:"carbonGPerKWh,omitempty" json:"carbonGPerKWh,omitempty"`
}

// Cluster is a Kubernetes cluster with GPU node pools.
type Cluster struct {
	// Name identifies the cluster within its region.
	Name string `yaml:"name" json:"name"`
	// GPUPools are the cluster's GPU node pools.
	GPUPools []GPUPool `yaml:"gpuPools" json:"gpuPools"`
}

// GPUPool is a pool of identical GPU nodes.
type GPUPool struct {
	// GPU is a GPU catalog id (a100-80gb, h100, h200, l4, l40s, b200, gb200, mi300x, ...).
	GPU string `yaml:"gpu" json:"gpu"`
	// GPUsPerNode is the number of GPUs in one node. Default 8.
	GPUsPerNode int `yaml:"gpusPerNode,omitempty" json:"gpusPerNode,omitempty"`
	// Count is the number of nodes in the pool (>= 0).
	Count int `yaml:"count" json:"count"`
	// PricePerGPUHourUSD is what one GPU costs per hour, in USD.
	PricePerGPUHourUSD float64 `yaml:"pricePerGPUHourUSD" json:"pricePerGPUHourUSD"`
	// EnergyPricePerKWhUSD is what the site pays for one kWh of GPU energy,
	// in USD (0 is free energy). Default 0.10.
	EnergyPricePerKWhUSD *float64 `yaml:"energyPricePerKWhUSD,omitempty" json:"energyPricePerKWhUSD,omitempty"`
}

// Tool is a service that agents call, placed at one place.
type Tool struct {
	// Name identifies the tool in agent workloads.
	Name string `yaml:"name" json:"name"`
	// Place is where the tool runs: a region name or a catalog place.
	Place string `yaml:"place" json:"place"`
	// ServiceTimeMs is how long one call takes inside the tool, in ms.
	ServiceTimeMs Dist `yaml:"serviceTimeMs" json:"serviceTimeMs"`
	// ResponseBytes is the size of what one call returns (documents a
	// retrieval step fetches, a file listing), in bytes: it crosses the link
	// to the caller at the network's bandwidth and is charged egress.
	// Absent: negligible.
	ResponseBytes *Dist `yaml:"responseBytes,omitempty" json:"responseBytes,omitempty"`
}

// UserGroup is a population of users at one place.
type UserGroup struct {
	// Name identifies the group.
	Name string `yaml:"name" json:"name"`
	// Place is a region name or a catalog place. Either Place or Lat/Lon is required.
	Place string `yaml:"place,omitempty" json:"place,omitempty"`
	// Lat is the latitude in degrees, when Place is not given.
	Lat *float64 `yaml:"lat,omitempty" json:"lat,omitempty"`
	// Lon is the longitude in degrees, when Place is not given.
	Lon *float64 `yaml:"lon,omitempty" json:"lon,omitempty"`
	// TimeZone is an IANA time zone name; default from Place.
	TimeZone string `yaml:"timeZone,omitempty" json:"timeZone,omitempty"`
	// Zone is the users' data-residency zone; default from Place.
	Zone string `yaml:"zone,omitempty" json:"zone,omitempty"`
	// AccessRTTMs is the last-mile RTT between a user and the network, in ms. Default 10.
	AccessRTTMs *float64 `yaml:"accessRttMs,omitempty" json:"accessRttMs,omitempty"`
	// Curve is the daily load curve in the group's local time.
	Curve Curve `yaml:"curve,omitempty" json:"curve,omitempty"`
	// Load gives the peak rate of each workload this group sends.
	Load []UserLoad `yaml:"load" json:"load"`
}

// Curve is a daily load curve in local time, as multipliers of the peak
// rate. Give either PeakHourLocal (and TroughRatio) or Hourly.
type Curve struct {
	// PeakHourLocal is the local hour (0..24) whose hour-long slot is the peak
	// (14 means 14:00-15:00). Default 14.
	PeakHourLocal *float64 `yaml:"peakHourLocal,omitempty" json:"peakHourLocal,omitempty"`
	// TroughRatio is the rate 12 hours from the peak over the peak rate (0..1). Default 0.25.
	TroughRatio *float64 `yaml:"troughRatio,omitempty" json:"troughRatio,omitempty"`
	// Hourly is 24 non-negative multipliers, one per local hour starting at
	// 00:00; they are scaled so the largest is 1.
	Hourly []float64 `yaml:"hourly,omitempty" json:"hourly,omitempty"`
}

// UserLoad is the rate at which a user group sends one workload.
type UserLoad struct {
	// Workload names a workload in spec.workloads.
	Workload string `yaml:"workload" json:"workload"`
	// PeakRatePerS is the arrival rate at the curve's peak: requests per
	// second for chat, sessions per second for agents. Not used for a
	// workload that replays a trace (leave it out).
	PeakRatePerS float64 `yaml:"peakRatePerS,omitempty" json:"peakRatePerS,omitempty"`
	// Share is, for a workload that replays a trace, this group's share of
	// the trace's requests: the groups' shares are weights, normalised over
	// the groups that send the workload. Default 1.
	Share *float64 `yaml:"share,omitempty" json:"share,omitempty"`
}

// Workload is one kind of traffic: chat requests or agent sessions.
type Workload struct {
	// Name identifies the workload.
	Name string `yaml:"name" json:"name"`
	// Kind is "chat" (open loop) or "agent" (closed-loop sessions).
	Kind string `yaml:"kind" json:"kind" jsonschema:"enum=chat,enum=agent"`
	// Connection is "perRequest" (every call pays the handshakes) or
	// "persistent" (a session pays them once per destination). Default:
	// perRequest for chat, persistent for agents.
	Connection string `yaml:"connection,omitempty" json:"connection,omitempty" jsonschema:"enum=perRequest,enum=persistent"`
	// Zone confines the workload's model calls to sites of one
	// data-residency zone; "user" confines each call to the zone of the
	// user's place. Empty: no constraint.
	Zone string `yaml:"zone,omitempty" json:"zone,omitempty"`
	// Chat is required when Kind is chat, unless Trace is given.
	Chat *Chat `yaml:"chat,omitempty" json:"chat,omitempty"`
	// Trace replays recorded requests (chat) or sessions (agent) instead
	// of drawing arrivals and lengths from distributions.
	Trace *Trace `yaml:"trace,omitempty" json:"trace,omitempty"`
	// Agent is required when Kind is agent, unless Trace is given.
	Agent *Agent `yaml:"agent,omitempty" json:"agent,omitempty"`
	// SLOs are the service-level objectives the workload is judged on.
	SLOs []SLO `yaml:"slos,omitempty" json:"slos,omitempty"`
	// Retry is the callers' retry policy for failed or slow model calls. Default: 3 attempts, 1s backoff, no timeout.
	Retry *Retry `yaml:"retry,omitempty" json:"retry,omitempty"`
	// UsersScale multiplies the load of every user group on this workload
	// (its peakRatePerS, or a replayed trace's rate), as if there were that
	// many times the users: the knob a sweep turns to ask "what if this
	// workload doubles". Default 1.
	UsersScale float64 `yaml:"usersScale,omitempty" json:"usersScale,omitempty"`
}

// Trace is a recorded trace that a workload replays: every request (chat)
// or session (agent) starts at its recorded time (divided by RateScale)
// with its recorded lengths, from a user group chosen at random in
// proportion to the groups' shares. Mooncake traces carry prefix-block
// hashes that drive the replicas' prefix caches; a replayed agent step's
// prompt shares its prefix with the previous step's context, and its tools
// take the recorded tool time.
type Trace struct {
	// File is the trace file, relative to the scenario file.
	File string `yaml:"file" json:"file"`
	// Format is azure (the Azure LLM inference trace CSV:
	// TIMESTAMP,ContextTokens,GeneratedTokens) or mooncake (JSONL with
	// timestamp, input_length, output_length, hash_ids) for chat workloads,
	// or agent (JSONL, one session per line with its steps' input and output
	// tokens and tool time; docs/traces.md) for agent workloads.
	Format string `yaml:"format" json:"format" jsonschema:"enum=azure,enum=mooncake,enum=agent"`
	// Orchestrator is where a replayed agent session's loop runs: client,
	// edge or model (as agent.orchestrator). Default client. Agent traces only.
	Orchestrator string `yaml:"orchestrator,omitempty" json:"orchestrator,omitempty" jsonschema:"enum=client,enum=edge,enum=model"`
	// RateScale multiplies the trace's request rate (its timestamps are
	// divided by it). Default 1.
	RateScale float64 `yaml:"rateScale,omitempty" json:"rateScale,omitempty"`
	// Loop replays the trace again from its start when it ends, until the
	// window ends. Default false.
	Loop bool `yaml:"loop,omitempty" json:"loop,omitempty"`
	// OnError is stop (a bad row is an error naming its line) or skip (bad
	// rows are skipped and counted in the run's report). Default stop.
	OnError string `yaml:"onError,omitempty" json:"onError,omitempty" jsonschema:"enum=stop,enum=skip"`
}

// Chat is an open-loop request-response workload.
type Chat struct {
	// PromptTokens is the prompt length distribution, in tokens.
	PromptTokens Dist `yaml:"promptTokens" json:"promptTokens"`
	// OutputTokens is the output length distribution, in tokens.
	OutputTokens Dist `yaml:"outputTokens" json:"outputTokens"`
}

// Agent is a closed-loop agent session: steps of one model call followed by
// tool calls, with the context growing by each output and tool result.
type Agent struct {
	// Steps is the number of model calls in a session.
	Steps Dist `yaml:"steps" json:"steps"`
	// InitialPromptTokens is the first call's prompt length, in tokens.
	InitialPromptTokens Dist `yaml:"initialPromptTokens" json:"initialPromptTokens"`
	// OutputTokens is each call's output length, in tokens.
	OutputTokens Dist `yaml:"outputTokens" json:"outputTokens"`
	// ToolResultTokens is the length of each tool result fed back, in tokens.
	ToolResultTokens Dist `yaml:"toolResultTokens" json:"toolResultTokens"`
	// Tools are the tool calls made after each model call (except the last).
	Tools []ToolCall `yaml:"tools,omitempty" json:"tools,omitempty"`
	// ToolCallMode is "sequential" or "parallel" (fan-out). Default sequential.
	ToolCallMode string `yaml:"toolCallMode,omitempty" json:"toolCallMode,omitempty" jsonschema:"enum=sequential,enum=parallel"`
	// ThinkTimeMs is a pause after each step's tool calls, in ms. Default none.
	ThinkTimeMs *Dist `yaml:"thinkTimeMs,omitempty" json:"thinkTimeMs,omitempty"`
	// Orchestrator is where the agent loop runs: "client" (with the user),
	// "edge" (the nearest edge site) or "model" (beside the model replica).
	// Default client.
	Orchestrator string `yaml:"orchestrator,omitempty" json:"orchestrator,omitempty" jsonschema:"enum=client,enum=edge,enum=model"`
	// MaxContextTokens caps the prompt; older context is truncated. Default 128000.
	MaxContextTokens int `yaml:"maxContextTokens,omitempty" json:"maxContextTokens,omitempty"`
}

// ToolCall is a call an agent step makes to a tool.
type ToolCall struct {
	// Tool names a tool in spec.tools.
	Tool string `yaml:"tool" json:"tool"`
	// Probability that a step makes this call (0..1). Default 1.
	Probability *float64 `yaml:"probability,omitempty" json:"probability,omitempty"`
}

// SLO is a service-level objective: the given percentile of a metric must
// not exceed Max.
type SLO struct {
	// Metric is ttft (time to first token), tpot (time per output token),
	// e2e (request end to end) or task (agent session end to end).
	Metric string `yaml:"metric" json:"metric" jsonschema:"enum=ttft,enum=tpot,enum=e2e,enum=task"`
	// Percentile is in (0, 100), for example 95 or 99.9.
	Percentile float64 `yaml:"percentile" json:"percentile"`
	// Max is the threshold, with a unit ("800ms", "3m").
	Max Duration `yaml:"max" json:"max"`
}

// Strategy is one placement of model replicas to compare.
type Strategy struct {
	// Name identifies the strategy in results.
	Name string `yaml:"name" json:"name"`
	// Kind is centralized, regional, edge or hybrid; it documents intent and
	// is checked against the deployments' sites.
	Kind string `yaml:"kind" json:"kind" jsonschema:"enum=centralized,enum=regional,enum=edge,enum=hybrid"`
	// Description is one line shown in reports.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Deployments place model replicas at sites.
	Deployments []Deployment `yaml:"deployments" json:"deployments"`
	// Routing chooses a site for each model call.
	Routing Routing `yaml:"routing,omitempty" json:"routing,omitempty"`
}

// Deployment places replicas of one model on one GPU type across sites.
type Deployment struct {
	// Model is a model catalog id (llama-3.1-70b, llama-3.2-3b, ...).
	Model string `yaml:"model" json:"model"`
	// GPU is a GPU catalog id; the sites need a pool of it.
	GPU string `yaml:"gpu" json:"gpu"`
	// Precision is bf16 or fp8. Default bf16.
	Precision string `yaml:"precision,omitempty" json:"precision,omitempty" jsonschema:"enum=bf16,enum=fp8"`
	// TensorParallel is GPUs per replica. Default 1.
	TensorParallel int `yaml:"tensorParallel,omitempty" json:"tensorParallel,omitempty"`
	// MaxBatch is the most sequences a replica runs at once. Default 256.
	MaxBatch int `yaml:"maxBatch,omitempty" json:"maxBatch,omitempty"`
	// Sites are the regions that host replicas.
	Sites []string `yaml:"sites" json:"sites"`
	// GPUs is the total number of GPUs across Sites (a multiple of TensorParallel).
	GPUs int `yaml:"gpus" json:"gpus"`
	// Split is how replicas are spread over Sites: "demand" (in proportion
	// to the peak load nearest each site) or "even". Default demand.
	Split string `yaml:"split,omitempty" json:"split,omitempty" jsonschema:"enum=demand,enum=even"`
	// Serves lists the workloads this deployment serves. Default all.
	Serves []string `yaml:"serves,omitempty" json:"serves,omitempty"`
	// MaxPromptTokens: calls with longer prompts are not sent here (0: no limit).
	MaxPromptTokens int `yaml:"maxPromptTokens,omitempty" json:"maxPromptTokens,omitempty"`
	// Profile names the serving-model profile: a built-in name (vllm,
	// trtllm, default) or a path to a profile file written by
	// `fleetsim calibrate`, relative to the scenario file. Default vllm.
	Profile string `yaml:"profile,omitempty" json:"profile,omitempty"`
	// TokenBudget is the tokens one iteration may process: prefill chunks
	// plus one per decoding sequence (vLLM max_num_batched_tokens). Default
	// 8192, or maxBatch when that is larger.
	TokenBudget int `yaml:"tokenBudget,omitempty" json:"tokenBudget,omitempty"`
	// BlockSize is the tokens per KV-cache block. Default 16.
	BlockSize int `yaml:"blockSize,omitempty" json:"blockSize,omitempty"`
	// PrefixCaching lets replicas reuse an agent session's context computed
	// for its previous step. Default true.
	PrefixCaching *bool `yaml:"prefixCaching,omitempty" json:"prefixCaching,omitempty"`
	// Autoscale scales each site's replicas between minReplicas and the
	// replicas GPUs gives the site. Absent: a fixed fleet.
	Autoscale *Autoscale `yaml:"autoscale,omitempty" json:"autoscale,omitempty"`
}

// Autoscale is a replica autoscaler per site, in the manner of the
// Kubernetes horizontal pod autoscaler: every interval it computes desired
// = ceil(ready × metric / target), takes the lowest recommendation of the
// scale-up window and the highest of the scale-down window, and clamps it
// to [minReplicas, the site's replicas]. A new replica serves only after
// node provisioning, loading the weights and warm-up, and is billed from
// the moment it is requested; a replica scaled down stops taking calls and
// is released when its calls have finished.
type Autoscale struct {
	// Metric is concurrency (calls admitted or waiting per ready replica) or
	// queue (calls waiting per ready replica). Default concurrency.
	Metric string `yaml:"metric,omitempty" json:"metric,omitempty" jsonschema:"enum=concurrency,enum=queue"`
	// Target is the metric's target value per ready replica (> 0). Default 32 for concurrency, 4 for queue.
	Target float64 `yaml:"target,omitempty" json:"target,omitempty"`
	// Interval between evaluations. Default "30s".
	Interval *Duration `yaml:"interval,omitempty" json:"interval,omitempty"`
	// ScaleUpStabilization is the window whose lowest recommendation a scale-up takes. Default "0s".
	ScaleUpStabilization *Duration `yaml:"scaleUpStabilization,omitempty" json:"scaleUpStabilization,omitempty"`
	// ScaleDownStabilization is the window whose highest recommendation a scale-down takes. Default "5m".
	ScaleDownStabilization *Duration `yaml:"scaleDownStabilization,omitempty" json:"scaleDownStabilization,omitempty"`
	// MinReplicas is the fewest replicas per site. Default 1; 0 (scale to
	// zero) is allowed only when every site of the deployment is an edge site.
	MinReplicas *int `yaml:"minReplicas,omitempty" json:"minReplicas,omitempty"`
	// ProvisioningS is the time to get a GPU node, in seconds. Default lognormal, median 120 s, sigma 0.5.
	ProvisioningS *Dist `yaml:"provisioningS,omitempty" json:"provisioningS,omitempty"`
	// WeightSource is where weights load from: local (the node's NVMe),
	// regional (an object store or cache in the region) or remote (another
	// region). Default regional.
	WeightSource string `yaml:"weightSource,omitempty" json:"weightSource,omitempty" jsonschema:"enum=local,enum=regional,enum=remote"`
	// LoadGBps overrides the weight-loading bandwidth of the source, in GB/s per replica.
	LoadGBps float64 `yaml:"loadGBps,omitempty" json:"loadGBps,omitempty"`
	// Warmup is the time from weights loaded to serving (CUDA graphs, compile). Default "30s".
	Warmup *Duration `yaml:"warmup,omitempty" json:"warmup,omitempty"`
}

// Routing chooses a site for each model call: the nearest eligible site
// (by RTT from the caller), spilling over to the next nearest when the
// predicted queue wait there is above SpillOverWait.
type Routing struct {
	// Policy is "nearest". Default nearest.
	Policy string `yaml:"policy,omitempty" json:"policy,omitempty" jsonschema:"enum=nearest"`
	// SpillOverWait is the predicted queue wait above which a call spills to the next site ("0s" disables). Default "2s".
	SpillOverWait *Duration `yaml:"spillOverWait,omitempty" json:"spillOverWait,omitempty"`
	// MaxQueuePerReplica: a call is dropped when every eligible site's queue is this long per replica. Default 512.
	MaxQueuePerReplica int `yaml:"maxQueuePerReplica,omitempty" json:"maxQueuePerReplica,omitempty"`
}

// Dist is a distribution of a non-negative quantity (tokens, ms, counts).
//
//	{dist: constant, value: 100}
//	{dist: exponential, mean: 250}
//	{dist: lognormal, median: 1000, sigma: 0.8}
//	{dist: uniform, min: 10, max: 20}
//	{dist: empirical, quantiles: [q0, ..., q1]}   (equally spaced, p = 0 to 1)
//	{dist: builtin, name: azure-conv-prompt}      (fleetsim scenarios dists)
//
// Min and Max, where given, clamp every draw.
type Dist struct {
	// Dist is the family: constant, exponential, lognormal, uniform, empirical or builtin.
	Dist string `yaml:"dist" json:"dist" jsonschema:"enum=constant,enum=exponential,enum=lognormal,enum=uniform,enum=empirical,enum=builtin"`
	// Value of a constant distribution.
	Value *float64 `yaml:"value,omitempty" json:"value,omitempty"`
	// Mean of an exponential distribution.
	Mean *float64 `yaml:"mean,omitempty" json:"mean,omitempty"`
	// Median of a lognormal distribution.
	Median *float64 `yaml:"median,omitempty" json:"median,omitempty"`
	// Sigma is the standard deviation of the log of a lognormal distribution.
	Sigma *float64 `yaml:"sigma,omitempty" json:"sigma,omitempty"`
	// Min clamps draws from below (and is the lower bound of uniform).
	Min *float64 `yaml:"min,omitempty" json:"min,omitempty"`
	// Max clamps draws from above (and is the upper bound of uniform).
	Max *float64 `yaml:"max,omitempty" json:"max,omitempty"`
	// Quantiles of an empirical distribution, non-decreasing, at least 2.
	Quantiles []float64 `yaml:"quantiles,omitempty" json:"quantiles,omitempty"`
	// Name of a built-in distribution.
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
}

// ShareOrDefault returns the load's share, 1 when unset.
func (l UserLoad) ShareOrDefault() float64 {
	if l.Share == nil {
		return 1
	}
	return *l.Share
}
