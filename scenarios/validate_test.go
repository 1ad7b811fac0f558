package scenarios

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// TestValidateRules breaks one rule at a time in the valid agentic
// scenario and checks that Validate names the field and the rule. The
// expected messages restate the rules of docs/scenario-reference.md; the
// numbers in them are worked out by hand from the file and the change.
func TestValidateRules(t *testing.T) {
	const base = "testdata/valid-agentic.yaml"
	// Indices into valid-agentic.yaml:
	// regions: 0 us-east (32 h100, 4 l4), 1 eu-west (16 h100), 2 frankfurt (edge, 8 l4), 3 new-york (edge, 8 l4)
	// tools: 0 search, 1 repo; users: 0 us, 1 eu; workloads: 0 chat, 1 coder (agent)
	// strategies: 0 central, 1 regional, 2 edge-and-core
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		name   string
		mutate func(s *Scenario)
		path   string
		msg    string
	}{
		{"api version", func(s *Scenario) { s.APIVersion = "v1" }, "apiVersion", `unsupported "v1"`},
		{"kind", func(s *Scenario) { s.Kind = "Cluster" }, "kind", `unsupported "Cluster", want "Scenario"`},
		{"no name", func(s *Scenario) { s.Metadata.Name = " " }, "metadata.name", "must not be empty"},
		{"run too long", func(s *Scenario) { s.Spec.Run.Duration = 367 * 86400 }, "spec.run.duration", "must be at most 366d, got 367d"},
		{"run zero", func(s *Scenario) { s.Spec.Run.Duration = 0 }, "spec.run.duration", "must be > 0, got 0s"},
		{"negative warmup", func(s *Scenario) { s.Spec.Run.Warmup = -1 }, "spec.run.warmup", "must be >= 0, got"},
		{"negative drain", func(s *Scenario) { s.Spec.Run.Drain = -60 }, "spec.run.drain", "must be >= 0"},
		{"start hour 24", func(s *Scenario) { s.Spec.Run.StartHourUTC = 24 }, "spec.run.startHourUTC", "must be in [0, 24), got 24"},
		{"bad date", func(s *Scenario) { s.Spec.Run.Date = "2026-13-01" }, "spec.run.date", "YYYY-MM-DD"},

		{"path inflation", func(s *Scenario) { s.Spec.Network.PathInflation = ptr(0.9) }, "spec.network.pathInflation", "must be >= 1"},
		{"faster than light", func(s *Scenario) { s.Spec.Network.FiberKmPerMs = ptr(300.0) }, "spec.network.fiberKmPerMs", "speed of light"},
		{"negative base rtt", func(s *Scenario) { s.Spec.Network.BaseRTTMs = ptr(-1.0) }, "spec.network.baseRttMs", "must be >= 0"},
		{"negative same-site rtt", func(s *Scenario) { s.Spec.Network.SameSiteRTTMs = ptr(-1.0) }, "spec.network.sameSiteRttMs", "must be >= 0"},
		{"handshakes", func(s *Scenario) { s.Spec.Network.HandshakeRTTs = ptr(101) }, "spec.network.handshakeRtts", "must be in [0, 100]"},
		{"bandwidth", func(s *Scenario) { s.Spec.Network.BandwidthMbps = 0 }, "spec.network.bandwidthMbps", "must be > 0"},
		{"NaN", func(s *Scenario) { s.Spec.Network.BytesPerToken = nan }, "spec.network.bytesPerToken", "must be a finite number, got NaN"},
		{"jitter", func(s *Scenario) { s.Spec.Network.JitterMs = &Dist{Dist: "uniform", Min: ptr(3.0), Max: ptr(2.0)} }, "spec.network.jitterMs.min", "must be <= max (2), got 3"},
		{"measured empty", func(s *Scenario) { s.Spec.Network.Measured[0].From = "" }, "spec.network.measured[0].from", "must not be empty"},
		{"measured unknown", func(s *Scenario) { s.Spec.Network.Measured[0].To = "atlantis" }, "spec.network.measured[0].to", `unknown place "atlantis"`},
		{"measured rtt", func(s *Scenario) { s.Spec.Network.Measured[0].RTTMs = 0 }, "spec.network.measured[0].rttMs", "must be > 0"},
		{"measured csv", func(s *Scenario) { s.Spec.Network.MeasuredCSV = "no-such.csv" }, "spec.network.measuredCsv", `no such file "testdata/no-such.csv"`},

		{"duplicate region", func(s *Scenario) { s.Spec.Regions[1].Name = "us-east" }, "spec.regions[us-east].name", `duplicate region name "us-east"`},
		{"duplicate cluster", func(s *Scenario) {
			s.Spec.Regions[0].Clusters = append(s.Spec.Regions[0].Clusters, Cluster{Name: "big"})
		}, "spec.regions[us-east].clusters[big].name", `duplicate cluster name "big"`},
		{"unnamed region", func(s *Scenario) { s.Spec.Regions[1].Name = "" }, "spec.regions[1].name", "must not be empty"},
		{"off-catalog region without coordinates", func(s *Scenario) {
			s.Spec.Regions = append(s.Spec.Regions, Region{Name: "atlantis"})
		}, "spec.regions[atlantis]", "lat and lon are required"},
		{"latitude without longitude", func(s *Scenario) { s.Spec.Regions[0].Lon = nil }, "spec.regions[us-east]", "give both lat and lon, or neither"},
		{"latitude", func(s *Scenario) { s.Spec.Regions[0].Lat = ptr(91.0) }, "spec.regions[us-east].lat", "must be in [-90, 90], got 91"},
		{"longitude", func(s *Scenario) { s.Spec.Regions[0].Lon = ptr(-180.5) }, "spec.regions[us-east].lon", "must be in [-180, 180], got -180.5"},
		{"region kind", func(s *Scenario) { s.Spec.Regions[0].Kind = "fog" }, "spec.regions[us-east].kind", `unknown kind "fog"`},
		{"local time zone", func(s *Scenario) { s.Spec.Regions[0].TimeZone = "Local" }, "spec.regions[us-east].timeZone", `unknown time zone "Local"`},
		{"gpus per node", func(s *Scenario) { s.Spec.Regions[0].Clusters[0].GPUPools[0].GPUsPerNode = 0 }, "spec.regions[us-east].clusters[big].gpuPools[0].gpusPerNode", "must be in [1, 1024], got 0"},
		{"huge count", func(s *Scenario) { s.Spec.Regions[0].Clusters[0].GPUPools[0].Count = 1_000_001 }, "spec.regions[us-east].clusters[big].gpuPools[0].count", "must be at most 1000000"},
		{"negative price", func(s *Scenario) { s.Spec.Regions[1].Clusters[0].GPUPools[0].PricePerGPUHourUSD = -2 }, "spec.regions[eu-west].clusters[big].gpuPools[0].pricePerGPUHourUSD", "must be >= 0, got -2"},

		{"duplicate tool", func(s *Scenario) { s.Spec.Tools[1].Name = "search" }, "spec.tools[search].name", `duplicate tool name "search"`},
		{"tool place", func(s *Scenario) { s.Spec.Tools[0].Place = "moon" }, "spec.tools[search].place", `unknown place "moon"`},
		{"tool service time", func(s *Scenario) { s.Spec.Tools[0].ServiceTimeMs = Dist{} }, "spec.tools[search].serviceTimeMs.dist", "missing: want"},

		{"duplicate user group", func(s *Scenario) { s.Spec.Users[1].Name = "us" }, "spec.users[us].name", `duplicate user group name "us"`},
		{"user nowhere", func(s *Scenario) { s.Spec.Users[0].Place = "" }, "spec.users[us]", "needs a place, or lat and lon"},
		{"user place", func(s *Scenario) { s.Spec.Users[0].Place = "gotham" }, "spec.users[us].place", `unknown place "gotham"`},
		{"user time zone", func(s *Scenario) { s.Spec.Users[0].TimeZone = "Europe/Atlantis" }, "spec.users[us].timeZone", "unknown time zone"},
		{"access rtt", func(s *Scenario) { s.Spec.Users[0].AccessRTTMs = ptr(-1.0) }, "spec.users[us].accessRttMs", "must be >= 0"},
		{"23 hours", func(s *Scenario) { s.Spec.Users[1].Curve.Hourly = s.Spec.Users[1].Curve.Hourly[:23] }, "spec.users[eu].curve.hourly", "must have 24 values, one per local hour, got 23"},
		{"all-zero curve", func(s *Scenario) { s.Spec.Users[1].Curve.Hourly = make([]float64, 24) }, "spec.users[eu].curve.hourly", "must have a value > 0"},
		{"negative hour", func(s *Scenario) { s.Spec.Users[1].Curve.Hourly[3] = -1 }, "spec.users[eu].curve.hourly[3]", "must be >= 0"},
		{"hourly and peak", func(s *Scenario) { s.Spec.Users[1].Curve.PeakHourLocal = ptr(12.0) }, "spec.users[eu].curve", "give either hourly or peakHourLocal"},
		{"trough", func(s *Scenario) { s.Spec.Users[0].Curve.TroughRatio = ptr(1.5) }, "spec.users[us].curve.troughRatio", "must be in [0, 1], got 1.5"},
		{"peak hour", func(s *Scenario) { s.Spec.Users[0].Curve.PeakHourLocal = ptr(-1.0) }, "spec.users[us].curve.peakHourLocal", "must be in [0, 24)"},
		{"rate too high", func(s *Scenario) { s.Spec.Users[0].Load[0].PeakRatePerS = 2e6 }, "spec.users[us].load[0].peakRatePerS", "must be in [0, 1e+06], got 2e+06"},
		{"no load", func(s *Scenario) { s.Spec.Users[1].Load = nil }, "spec.users[eu].load", "must list at least one workload"},
		{"load twice", func(s *Scenario) { s.Spec.Users[0].Load[1].Workload = "chat" }, "spec.users[us].load[1].workload", `workload "chat" is listed twice`},
		{"workload without load", func(s *Scenario) { s.Spec.Users[0].Load[0].PeakRatePerS = 0 }, "spec.workloads[chat]", "no user group sends this workload"},

		{"no workloads", func(s *Scenario) { s.Spec.Workloads = nil }, "spec.workloads", "at least one workload is required"},
		{"duplicate workload", func(s *Scenario) { s.Spec.Workloads[1].Name = "chat" }, "spec.workloads[chat].name", `duplicate workload name "chat"`},
		{"workload kind", func(s *Scenario) { s.Spec.Workloads[0].Kind = "batch" }, "spec.workloads[chat].kind", `unknown kind "batch", want "chat" or "agent"`},
		{"chat without chat", func(s *Scenario) { s.Spec.Workloads[0].Chat = nil }, "spec.workloads[chat].chat", "required when kind is chat"},
		{"chat with agent", func(s *Scenario) { s.Spec.Workloads[0].Agent = s.Spec.Workloads[1].Agent }, "spec.workloads[chat].agent", "not allowed when kind is chat"},
		{"connection", func(s *Scenario) { s.Spec.Workloads[0].Connection = "udp" }, "spec.workloads[chat].connection", `unknown connection "udp"`},
		{"zone", func(s *Scenario) { s.Spec.Workloads[0].Zone = "mars" }, "spec.workloads[chat].zone", `no region is in zone "mars"`},
		{"user zone unknown", func(s *Scenario) { s.Spec.Workloads[1].Zone = "user"; s.Spec.Users[1].Zone = "" }, "spec.users[eu].zone", `workload "coder" is confined to the user's zone`},
		{"agent tool", func(s *Scenario) { s.Spec.Workloads[1].Agent.Tools[0].Tool = "calc" }, "spec.workloads[coder].agent.tools[0].tool", `unknown tool "calc"`},
		{"probability", func(s *Scenario) { s.Spec.Workloads[1].Agent.Tools[0].Probability = ptr(1.5) }, "spec.workloads[coder].agent.tools[0].probability", "must be in [0, 1], got 1.5"},
		{"tool call mode", func(s *Scenario) { s.Spec.Workloads[1].Agent.ToolCallMode = "random" }, "spec.workloads[coder].agent.toolCallMode", `unknown mode "random"`},
		{"orchestrator", func(s *Scenario) { s.Spec.Workloads[1].Agent.Orchestrator = "cloud" }, "spec.workloads[coder].agent.orchestrator", `unknown orchestrator "cloud"`},
		{"edge orchestrator without edge", func(s *Scenario) {
			s.Spec.Regions[2].Kind, s.Spec.Regions[3].Kind = "core", "core"
		}, "spec.workloads[coder].agent.orchestrator", "edge needs at least one region of kind edge"},
		{"max context", func(s *Scenario) { s.Spec.Workloads[1].Agent.MaxContextTokens = 0 }, "spec.workloads[coder].agent.maxContextTokens", "got 0"},
		{"slo metric", func(s *Scenario) { s.Spec.Workloads[0].SLOs[0].Metric = "latency" }, "spec.workloads[chat].slos[0].metric", `unknown metric "latency"`},
		{"slo max", func(s *Scenario) { s.Spec.Workloads[0].SLOs[1].Max = 0 }, "spec.workloads[chat].slos[1].max", "must be > 0, got 0s"},
		{"slo percentile", func(s *Scenario) { s.Spec.Workloads[1].SLOs[0].Percentile = 100 }, "spec.workloads[coder].slos[0].percentile", "impossible SLO percentile 100"},

		{"dist family", func(s *Scenario) { s.Spec.Workloads[0].Chat.PromptTokens = Dist{Dist: "gamma"} }, "spec.workloads[chat].chat.promptTokens.dist", `unknown distribution "gamma"`},
		{"constant negative", func(s *Scenario) { s.Spec.Workloads[1].Agent.ThinkTimeMs.Value = ptr(-1.0) }, "spec.workloads[coder].agent.thinkTimeMs.value", "must be >= 0"},
		{"constant without value", func(s *Scenario) { s.Spec.Workloads[1].Agent.ThinkTimeMs.Value = nil }, "spec.workloads[coder].agent.thinkTimeMs.value", "required by a constant distribution"},
		{"exponential mean", func(s *Scenario) {
			s.Spec.Workloads[0].Chat.OutputTokens = Dist{Dist: "exponential", Mean: ptr(0.0)}
		}, "spec.workloads[chat].chat.outputTokens.mean", "must be > 0, got 0"},
		{"infinite mean", func(s *Scenario) {
			s.Spec.Workloads[0].Chat.OutputTokens = Dist{Dist: "exponential", Mean: &inf}
		}, "spec.workloads[chat].chat.outputTokens.mean", "must be a finite number, got +Inf"},
		{"lognormal sigma", func(s *Scenario) { s.Spec.Tools[0].ServiceTimeMs.Sigma = ptr(-0.1) }, "spec.tools[search].serviceTimeMs.sigma", "must be in [0, 10], got -0.1"},
		{"lognormal median", func(s *Scenario) { s.Spec.Tools[0].ServiceTimeMs.Median = ptr(0.0) }, "spec.tools[search].serviceTimeMs.median", "must be > 0"},
		{"field of another family", func(s *Scenario) { s.Spec.Tools[0].ServiceTimeMs.Mean = ptr(3.0) }, "spec.tools[search].serviceTimeMs.mean", "not used by a lognormal distribution (it uses median and sigma)"},
		{"uniform without max", func(s *Scenario) { s.Spec.Network.JitterMs.Max = nil }, "spec.network.jitterMs.max", "required by a uniform distribution"},
		{"negative clamp", func(s *Scenario) { s.Spec.Network.JitterMs.Min = ptr(-1.0) }, "spec.network.jitterMs.min", "must be >= 0"},
		{"one quantile", func(s *Scenario) { s.Spec.Tools[1].ServiceTimeMs.Quantiles = []float64{5} }, "spec.tools[repo].serviceTimeMs.quantiles", "must have at least 2 values, got 1"},
		{"decreasing quantiles", func(s *Scenario) { s.Spec.Tools[1].ServiceTimeMs.Quantiles[2] = 9 }, "spec.tools[repo].serviceTimeMs.quantiles[2]", "non-decreasing, got 9 after 10"},
		{"negative quantile", func(s *Scenario) { s.Spec.Tools[1].ServiceTimeMs.Quantiles[0] = -5 }, "spec.tools[repo].serviceTimeMs.quantiles[0]", "must be >= 0"},
		{"builtin name", func(s *Scenario) { s.Spec.Workloads[0].Chat.PromptTokens.Name = "azure-nope" }, "spec.workloads[chat].chat.promptTokens.name", `unknown built-in distribution "azure-nope"`},

		{"no strategies", func(s *Scenario) { s.Spec.Strategies = nil }, "spec.strategies", "at least one strategy is required"},
		{"duplicate strategy", func(s *Scenario) { s.Spec.Strategies[1].Name = "central" }, "spec.strategies[central].name", `duplicate strategy name "central"`},
		{"strategy kind", func(s *Scenario) { s.Spec.Strategies[2].Kind = "global" }, "spec.strategies[edge-and-core].kind", `unknown kind "global"`},
		{"no deployments", func(s *Scenario) { s.Spec.Strategies[1].Deployments = nil }, "spec.strategies[regional].deployments", "at least one deployment is required"},
		{"model", func(s *Scenario) { s.Spec.Strategies[0].Deployments[0].Model = "gpt-9" }, "spec.strategies[central].deployments[0].model", `unknown model "gpt-9"`},
		{"deployment gpu", func(s *Scenario) { s.Spec.Strategies[0].Deployments[0].GPU = "tpu-v5" }, "spec.strategies[central].deployments[0].gpu", `unknown GPU "tpu-v5"`},
		{"precision", func(s *Scenario) { s.Spec.Strategies[0].Deployments[0].Precision = "fp4" }, "spec.strategies[central].deployments[0].precision", `unknown precision "fp4"`},
		{"tensor parallel", func(s *Scenario) { s.Spec.Strategies[0].Deployments[1].TensorParallel = 16 }, "spec.strategies[central].deployments[1].tensorParallel", "must be 1, 2, 4 or 8, got 16"},
		{"gpus not a multiple", func(s *Scenario) { s.Spec.Strategies[1].Deployments[0].GPUs = 12 }, "spec.strategies[regional].deployments[0].gpus", "must be a multiple of tensorParallel (8), got 12"},
		{"no gpus", func(s *Scenario) { s.Spec.Strategies[0].Deployments[0].GPUs = 0 }, "spec.strategies[central].deployments[0].gpus", "must be in [1, 1000000], got 0"},
		// 8 GPUs at tensorParallel 8 make one replica, for two sites.
		{"fewer replicas than sites", func(s *Scenario) { s.Spec.Strategies[1].Deployments[0].GPUs = 8 }, "spec.strategies[regional].deployments[0].gpus", "give 1 replica(s), fewer than the 2 sites"},
		{"max batch", func(s *Scenario) { s.Spec.Strategies[0].Deployments[0].MaxBatch = 0 }, "spec.strategies[central].deployments[0].maxBatch", "got 0"},
		{"max prompt", func(s *Scenario) { s.Spec.Strategies[2].Deployments[1].MaxPromptTokens = -1 }, "spec.strategies[edge-and-core].deployments[1].maxPromptTokens", "must be >= 0"},
		{"split", func(s *Scenario) { s.Spec.Strategies[0].Deployments[0].Split = "random" }, "spec.strategies[central].deployments[0].split", `unknown split "random"`},
		{"unknown site", func(s *Scenario) { s.Spec.Strategies[0].Deployments[0].Sites = []string{"atlantis"} }, "spec.strategies[central].deployments[0].sites[0]", `unknown site "atlantis"`},
		{"no sites", func(s *Scenario) { s.Spec.Strategies[0].Deployments[0].Sites = nil }, "spec.strategies[central].deployments[0].sites", "at least one site is required"},
		{"site twice", func(s *Scenario) {
			d := &s.Spec.Strategies[2].Deployments[1]
			d.Sites = []string{"us-east", "us-east"}
		}, "spec.strategies[edge-and-core].deployments[1].sites[1]", `site "us-east" is listed twice`},
		{"no pool of the gpu", func(s *Scenario) { s.Spec.Strategies[0].Deployments[0].GPU = "l40s" }, "spec.strategies[central].deployments[0].sites[0]", `site "us-east" has 0 l40s GPUs`},
		// 40 GPUs at tensorParallel 8 are 5 replicas; even over [eu-west,
		// us-east] eu-west gets 3 replicas = 24 GPUs, and has 2 nodes x 8 = 16.
		{"even split exact", func(s *Scenario) {
			d := &s.Spec.Strategies[1].Deployments[0]
			d.GPUs, d.Sites = 40, []string{"eu-west", "us-east"}
		}, "spec.strategies[regional].deployments", `site "eu-west" needs 24 h100 GPUs for this strategy's even splits, but has 16`},
		// 8 + 32 = 40 h100 at us-east, which has 4 nodes x 8 = 32; each alone fits.
		{"demand total", func(s *Scenario) { s.Spec.Strategies[0].Deployments[1].GPUs = 32 }, "spec.strategies[central].deployments", "the deployments on h100 need 40 GPUs in all, but their sites have 32"},
		// 24 h100 over us-east and eu-west (32 + 16 = 48) fits; 52 does not.
		{"demand over sites", func(s *Scenario) { s.Spec.Strategies[2].Deployments[1].GPUs = 52 }, "spec.strategies[edge-and-core].deployments[1].gpus", "needs 52 h100 GPUs at sites us-east, eu-west, which have 48"},
		{"centralized on two sites", func(s *Scenario) { s.Spec.Strategies[0].Deployments[1].Sites = []string{"eu-west"} }, "spec.strategies[central].kind", "one and the same site, got 2 sites: us-east, eu-west"},
		{"regional on edge", func(s *Scenario) { s.Spec.Strategies[1].Deployments[0].Sites = []string{"us-east", "frankfurt"} }, "spec.strategies[regional].deployments[0].sites[1]", `a regional strategy places replicas at core sites only, but "frankfurt" is an edge site`},
		{"edge on core", func(s *Scenario) { s.Spec.Strategies[2].Kind = "edge" }, "spec.strategies[edge-and-core].deployments[1].sites[0]", `"us-east" is a core site`},
		{"serves unknown", func(s *Scenario) { s.Spec.Strategies[0].Deployments[0].Serves = []string{"chatty"} }, "spec.strategies[central].deployments[0].serves[0]", `unknown workload "chatty"`},
		{"workload not served", func(s *Scenario) { s.Spec.Strategies[0].Deployments[1].Serves = []string{"chat"} }, "spec.strategies[central].deployments", `no deployment serves workload "coder"`},
		{"routing policy", func(s *Scenario) { s.Spec.Strategies[0].Routing.Policy = "random" }, "spec.strategies[central].routing.policy", `unknown policy "random", want "nearest"`},
		{"max queue", func(s *Scenario) { s.Spec.Strategies[0].Routing.MaxQueuePerReplica = 0 }, "spec.strategies[central].routing.maxQueuePerReplica", "got 0"},
		{"spill-over", func(s *Scenario) { s.Spec.Strategies[0].Routing.SpillOverWait = ptr(Duration(-1)) }, "spec.strategies[central].routing.spillOverWait", "must be >= 0"},

		{"too many regions", func(s *Scenario) { s.Spec.Regions = make([]Region, MaxListLen+1) }, "spec.regions", "has 10001 entries, more than the limit of 10000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load(base)
			if err != nil {
				t.Fatal(err)
			}
			tt.mutate(s)
			err = s.Validate()
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Validate: got %v, want Problems", err)
			}
			for _, p := range ps {
				if p.Path == tt.path && strings.Contains(p.Msg, tt.msg) {
					if !strings.HasPrefix(p.Error(), base+":") {
						t.Errorf("problem %q lacks the file and line", p.Error())
					}
					return
				}
			}
			t.Errorf("want a problem at %s containing %q; got\n%v", tt.path, tt.msg, err)
		})
	}
}

// TestEvenSplit checks the rule that places the replicas of an even split:
// whole replicas dealt out in site order.
func TestEvenSplit(t *testing.T) {
	tests := []struct {
		gpus, tp int
		sites    []string
		want     []int
	}{
		{32, 8, []string{"a", "b"}, []int{2, 2}},
		{40, 8, []string{"a", "b"}, []int{3, 2}},        // 5 replicas
		{7, 1, []string{"a", "b", "c"}, []int{3, 2, 2}}, // 7 = 3 + 2 + 2
		{4, 4, []string{"a"}, []int{1}},
		{4, 4, nil, nil},
	}
	for _, tt := range tests {
		got := Deployment{GPUs: tt.gpus, TensorParallel: tt.tp, Sites: tt.sites}.EvenSplit()
		if len(got) != len(tt.want) {
			t.Errorf("EvenSplit(%d GPUs, tp %d, %v) = %v, want %v", tt.gpus, tt.tp, tt.sites, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("EvenSplit(%d GPUs, tp %d, %v) = %v, want %v", tt.gpus, tt.tp, tt.sites, got, tt.want)
				break
			}
		}
	}
}

// TestValidCustomCSV checks that a measuredCsv that exists next to the
// scenario file is accepted.
func TestValidCustomCSV(t *testing.T) {
	s, err := Load("testdata/valid-agentic.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s.Spec.Network.MeasuredCSV = "valid-chat.yaml" // any file in testdata
	if err := s.Validate(); err != nil {
		t.Errorf("Validate: got %v, want nil", err)
	}
}
