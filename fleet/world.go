package fleet

import (
	"math/rand/v2"

	"github.com/fleetsim/fleetsim/serving"
	"github.com/fleetsim/fleetsim/sim"
	"github.com/fleetsim/fleetsim/topology"
	"github.com/fleetsim/fleetsim/traces"
	"github.com/fleetsim/fleetsim/workloads"
)

// World is a scenario resolved for simulation. Locations index the RTT
// matrix; every site, user group and tool refers to a location by index.
type World struct {
	// Name and Description of the scenario.
	Name, Description string
	// Locations are all places referred to; RTT is the matrix over them.
	Locations []topology.Place
	// RTT gives the round-trip time between two locations.
	RTT *topology.Matrix
	// Net holds connection and transfer costs.
	Net Network
	// Sites are the regions that can host replicas.
	Sites []Site
	// Users are the populations sending load.
	Users []UserGroup
	// Tools are the services agents call.
	Tools []Tool
	// Workloads are the kinds of traffic.
	Workloads []Workload
	// Strategies are the placements to compare.
	Strategies []Strategy
	// Run is the simulated window.
	Run RunParams
	// Notes are things the user should know about how the scenario was
	// read (for example trace rows skipped); they are not results.
	Notes []string
	// Faults are scheduled failures, applied to every strategy.
	Faults []Fault
}

// FaultKind is what a fault breaks.
type FaultKind uint8

// Fault kinds.
const (
	NodeLoss     FaultKind = iota + 1 // some replicas of a site go down
	SiteDown                          // every replica, and the tools, of a site go down
	LinkDegraded                      // a link gains RTT and loss
	LinkCut                           // a link carries nothing
	ToolOutage                        // a tool fails every call
)

// String returns the scenario name of k.
func (k FaultKind) String() string {
	switch k {
	case NodeLoss:
		return "nodeLoss"
	case SiteDown:
		return "siteDown"
	case LinkDegraded:
		return "linkDegraded"
	case LinkCut:
		return "linkCut"
	case ToolOutage:
		return "toolOutage"
	}
	return "unknown"
}

// Fault is one scheduled failure over [Start, End) of simulated time
// (End is past the run's end for a permanent fault).
type Fault struct {
	Name       string
	Kind       FaultKind
	Start, End sim.Time
	// Site indexes World.Sites (NodeLoss, SiteDown).
	Site int
	// Fraction or Count of the site's replicas lost (NodeLoss).
	Fraction float64
	Count    int
	// LocA and LocB are the link's ends (LinkDegraded, LinkCut).
	LocA, LocB int
	// AddRTTMs and Loss degrade the link (LinkDegraded).
	AddRTTMs, Loss float64
	// Tool indexes World.Tools (ToolOutage).
	Tool int
}

// Retry is a caller's retry policy for model calls.
type Retry struct {
	// Attempts is the most times a call is sent (>= 1).
	Attempts int
	// BackoffS is the wait before the first retry; it doubles each time.
	BackoffS float64
	// TimeoutS abandons an attempt not finished this long after it was sent; 0: none.
	TimeoutS float64
}

// Network holds the per-call network costs beyond propagation.
type Network struct {
	// HandshakeRTTs is the round trips a new connection costs.
	HandshakeRTTs int
	// SiteBytesPerS is the per-flow bandwidth between sites.
	SiteBytesPerS float64
	// AccessBytesPerS is the per-flow bandwidth of a user's access link.
	AccessBytesPerS float64
	// BytesPerToken converts tokens to bytes on the wire.
	BytesPerToken float64
	// JitterMs is added to each call's round trip; nil means none.
	JitterMs workloads.Dist
	// EgressPerGB and InternetEgressPerGB price bytes leaving a site or
	// tool for another site or tool, and for users, in USD per GB.
	EgressPerGB, InternetEgressPerGB float64
	// MTLSS is added to every new connection, GatewayS to every model and
	// tool call, in seconds.
	MTLSS, GatewayS float64
	// TelemetryBytes per model call are shipped to location TelemetryLoc (-1: none).
	TelemetryBytes float64
	TelemetryLoc   int
}

// RunParams is the simulated window. Time 0 is the start of the warm-up.
type RunParams struct {
	// Warmup, Window and Drain are consecutive phases of simulated time.
	Warmup, Window, Drain sim.Time
	// StartHourUTC is the UTC hour of day at the start of the window.
	StartHourUTC float64
	// Seed derives every random stream.
	Seed uint64
}

// Site is a place that can host replicas.
type Site struct {
	// CarbonGPerKWh is the grid's carbon intensity; HasCarbon says whether it is known.
	CarbonGPerKWh float64
	HasCarbon     bool
	Name          string
	// Loc indexes World.Locations.
	Loc  int
	Kind topology.Kind
	Zone string
	// GPUs is the site's GPU count per GPU type (catalog id), and
	// PricePerGPUHour their mean price, for the planner.
	GPUs            map[string]int
	PricePerGPUHour map[string]float64
}

// UserGroup is a population at one location.
type UserGroup struct {
	Name string
	// Loc indexes World.Locations.
	Loc int
	// Zone is the users' data-residency zone.
	Zone string
	// AccessRTTMs is added to every round trip that starts at the user.
	AccessRTTMs float64
	// EdgeLoc is the location of the nearest edge site, or -1 when there is none.
	EdgeLoc int
	// Loads are the workloads the group sends.
	Loads []Load
	// TraceShares[w] is the group's weight in workload w's trace replay
	// (0 when it does not send that trace); nil when no workload replays a trace.
	TraceShares []float64
}

// Load is one workload's arrival process from one user group.
type Load struct {
	// Workload indexes World.Workloads.
	Workload int
	// PeakRatePerS is the arrival rate at the daily peak.
	PeakRatePerS float64
	// Arrivals generates request or session arrival times, in seconds from time 0.
	Arrivals ArrivalProcess
}

// ArrivalProcess generates arrival times: Next returns the first arrival
// after t (seconds), +Inf when there is none. workloads.Arrivals is one.
type ArrivalProcess interface {
	Next(t float64, r *rand.Rand) float64
}

// Tool is a service that agents call.
type Tool struct {
	Name string
	// Loc indexes World.Locations.
	Loc int
	// ServiceMs is the time a call spends inside the tool.
	ServiceMs workloads.Dist
	// ResponseBytes is the size of what a call returns; nil: negligible.
	ResponseBytes workloads.Dist
}

// Orchestrator is where an agent loop runs.
type Orchestrator uint8

// Where the agent loop runs.
const (
	AtClient Orchestrator = iota
	AtEdge
	AtModel
)

// String returns the scenario spelling.
func (o Orchestrator) String() string {
	switch o {
	case AtEdge:
		return "edge"
	case AtModel:
		return "model"
	}
	return "client"
}

// SLO metrics.
const (
	MetricTTFT = "ttft"
	MetricTPOT = "tpot"
	MetricE2E  = "e2e"
	MetricTask = "task"
)

// SLO is one objective: the Percentile of Metric must not exceed MaxS.
type SLO struct {
	Metric     string
	Percentile float64
	MaxS       float64
}

// ToolCall is a call an agent step makes with some probability.
type ToolCall struct {
	// Tool indexes World.Tools.
	Tool        int
	Probability float64
}

// Workload is a kind of traffic. Chat workloads use Prompt and Output;
// agent workloads use the rest.
type Workload struct {
	Name  string
	Agent bool
	// Persistent connections pay handshakes once per session and destination
	// (agents) or never (chat clients with a warm connection).
	Persistent bool
	// Zone confines calls to sites of this zone; ZoneFromUser confines each
	// call to the zone of its user group instead.
	Zone         string
	ZoneFromUser bool
	// Chat: prompt and output tokens.
	Prompt, Output workloads.Dist
	// Agent: steps per session, first prompt, output and tool-result tokens per step.
	Steps, InitialPrompt, StepOutput, ToolResult workloads.Dist
	// Tools are called after every step but the last.
	Tools    []ToolCall
	Parallel bool
	// ThinkMs is a pause after each step's tools; nil means none.
	ThinkMs      workloads.Dist
	Orchestrator Orchestrator
	MaxContext   int
	SLOs         []SLO
	// Trace, when set on a chat workload, replays recorded requests: arrivals at the trace's
	// times divided by TraceRateScale (from time 0), lengths from the trace,
	// user group drawn by TraceShares. TraceLoop repeats it until the window ends.
	Trace          *traces.Trace
	TraceRateScale float64
	TraceLoop      bool
	// Retry is the callers' policy for failed or slow calls.
	Retry Retry
	// Sessions, when set on an agent workload, replays recorded sessions:
	// each starts at its recorded time (scaled as Trace), and its steps have
	// the recorded prompt and output tokens, tool time and think time.
	Sessions *traces.Sessions
}

// Replays says whether the workload replays a trace (requests or sessions).
func (w *Workload) Replays() bool { return w.Trace != nil || w.Sessions != nil }

// Strategy is one placement to simulate.
type Strategy struct {
	Name, Kind, Description string
	Deployments             []Deployment
	// SpillWait: a call spills to the next nearest site when the predicted
	// queue wait at the nearest is above it; 0 disables spill-over.
	SpillWait sim.Time
	// MaxQueuePerReplica: a pool whose replicas all have this many waiting is full.
	MaxQueuePerReplica int
}

// Deployment is replicas of one model on one GPU type at some sites.
type Deployment struct {
	Model, GPU string
	// TP is GPUs per replica.
	TP int
	// Estimator is the serving model of one replica (stateless, shared).
	Estimator serving.Estimator
	// Serves[w] says whether workload w may use this deployment.
	Serves []bool
	// MaxPromptTokens: longer prompts go elsewhere; 0 means no limit.
	MaxPromptTokens int
	// TokenBudget is the tokens one iteration may process (prefill chunks
	// plus one per decoding sequence); 0 means serving.DefaultTokenBudget.
	TokenBudget int
	// BlockTokens is the tokens per KV-cache block; 0 means DefaultBlockTokens.
	BlockTokens int
	// PrefixCaching lets a replica reuse context it computed for an earlier
	// call of the same agent session.
	PrefixCaching bool
	// Autoscale, when set, scales each placement between MinReplicas and
	// its Replicas; nil is a fixed fleet.
	Autoscale *Autoscale
	// Placements say how many replicas run at which site.
	Placements []Placement
}

// Placement is a deployment's replicas at one site.
type Placement struct {
	// Site indexes World.Sites.
	Site               int
	Replicas           int
	PricePerGPUHourUSD float64
	// EnergyPricePerKWhUSD is what the site pays for a kWh of GPU energy.
	EnergyPricePerKWhUSD float64
}

// DefaultBlockTokens is the default KV-cache block size in tokens: vLLM's
// default block_size on CUDA (vllm/config, 16).
const DefaultBlockTokens = 16

// Autoscale is a per-site replica autoscaler (see scenarios.Autoscale).
type Autoscale struct {
	// Queue selects the queue metric (calls waiting per ready replica);
	// otherwise concurrency (calls admitted or waiting per ready replica).
	Queue bool
	// Target is the metric's target per ready replica.
	Target float64
	// Interval between evaluations; UpWindow and DownWindow are the
	// stabilization windows of scale-up and scale-down.
	Interval, UpWindow, DownWindow sim.Time
	// MinReplicas per site (0 only at edge sites).
	MinReplicas int
	// ProvisioningS draws a node's provisioning time in seconds.
	ProvisioningS workloads.Dist
	// LoadS is the time to load the weights; WarmupS the time from loaded to serving.
	LoadS, WarmupS float64
}
