package scenarios

import (
	"github.com/fleetsim/fleetsim/topology"
)

// Defaults of the scenario format. They are the values documented on the
// fields in types.go (the scenario contract) and in
// docs/scenario-reference.md.
const (
	DefaultDuration             = Duration(24 * 3600) // run.duration "24h"
	DefaultDrain                = Duration(3600)      // run.drain "1h"
	DefaultDate                 = "2026-01-15"        // run.date
	DefaultSeed          uint64 = 1                   // run.seed
	DefaultFiberKmPerMs         = 200.0               // network.fiberKmPerMs; see docs/network.md
	DefaultSameSiteRTTMs        = 2.0                 // network.sameSiteRttMs; see docs/network.md
	DefaultJitterMeanMs         = 1.0                 // network.jitterMs: exponential with this mean
	// DefaultHandshakeRTTs is TCP (1 RTT) plus TLS 1.3 (1 RTT, RFC 8446 section 2).
	DefaultHandshakeRTTs       = 2
	DefaultBandwidthMbps       = 1000.0 // network.bandwidthMbps
	DefaultAccessBandwidthMbps = 50.0   // network.accessBandwidthMbps
	DefaultBytesPerToken       = 4.0    // network.bytesPerToken
	DefaultGPUsPerNode         = 8      // gpuPools[].gpusPerNode (an HGX/DGX node holds 8 GPUs)
	DefaultAccessRTTMs         = 10.0   // users[].accessRttMs
	DefaultPeakHourLocal       = 14.0   // users[].curve.peakHourLocal
	DefaultTroughRatio         = 0.25   // users[].curve.troughRatio
	DefaultMaxContextTokens    = 128000 // agent.maxContextTokens (the 128K context of Llama 3.1)
	DefaultMaxBatch            = 256    // deployments[].maxBatch
	DefaultTokenBudget         = 8192   // deployments[].tokenBudget (vLLM V1 max_num_batched_tokens)
	DefaultBlockSize           = 16     // deployments[].blockSize (vLLM block_size on CUDA)
	DefaultProfile             = "vllm" // deployments[].profile
	// DefaultRetryAttempts and DefaultRetryBackoff are workloads[].retry's:
	// assumption, the common client default of a few attempts with
	// exponential backoff from about a second (e.g. the OpenAI Python SDK
	// retries twice, 3 attempts, with backoff from 0.5 s).
	// Egress list prices, USD per GB (AWS EC2 on-demand data transfer:
	// inter-region within the US $0.02/GB, out to the internet $0.09/GB for
	// the first 10 TB a month; other clouds' list prices are similar).
	DefaultEgressPerGBUSD         = 0.02
	DefaultInternetEgressPerGBUSD = 0.09
	DefaultRetryAttempts          = 3
	DefaultRetryBackoff           = Duration(1)
	// Autoscaler defaults (deployments[].autoscale). The interval and the
	// 5-minute scale-down window are the Kubernetes HPA's defaults
	// (--horizontal-pod-autoscaler-sync-period 15s is the controller's; 30s
	// is KEDA's default pollingInterval; scaleDown stabilizationWindowSeconds
	// 300). The targets are assumptions: 32 concurrent calls per replica is
	// well below a 256-sequence batch limit, leaving headroom for bursts.
	DefaultAutoscaleInterval        = Duration(30)
	DefaultAutoscaleDownWindow      = Duration(300)
	DefaultAutoscaleConcurrency     = 32.0
	DefaultAutoscaleQueue           = 4.0
	DefaultAutoscaleWarmup          = Duration(30)
	DefaultAutoscaleProvisionMedian = 120.0 // s; assumption: a GPU node from a cloud pool in a couple of minutes
	DefaultAutoscaleProvisionSigma  = 0.5
	// Weight-loading bandwidth per replica by source, GB/s. Assumptions,
	// order-of-magnitude figures: a PCIe Gen4 NVMe reads about 7 GB/s
	// sequentially, an in-region object store serves one client a few GB/s
	// (S3 guidance: ~100 Gb/s needs many parallel connections), and a
	// cross-region copy gets a fraction of that.
	DefaultLoadGBpsLocal    = 5.0
	DefaultLoadGBpsRegional = 2.0
	DefaultLoadGBpsRemote   = 0.5
	// DefaultEnergyPricePerKWhUSD is gpuPools[].energyPricePerKWhUSD. Assumption:
	// between the 2024 US average industrial (about 0.08) and commercial (about
	// 0.13) electricity prices (US EIA, Electric Power Monthly, table 5.6.A).
	DefaultEnergyPricePerKWhUSD = 0.10
	DefaultSpillOverWait        = Duration(2) // routing.spillOverWait "2s"
	DefaultMaxQueuePerReplica   = 512         // routing.maxQueuePerReplica
)

// SetDefaults fills every unset field that has a documented default.
// Regions and user groups whose name or place is in the built-in place
// catalog take their coordinates (regions only), time zone, kind and zone
// from it; a user group whose place is a region of the scenario takes that
// region's time zone and zone. A deployment that serves no workload in
// particular serves all of them. SetDefaults is idempotent.
func (s *Scenario) SetDefaults() {
	sp := &s.Spec
	r := &sp.Run
	if r.Duration == 0 {
		r.Duration = DefaultDuration
	}
	if r.Drain == 0 {
		r.Drain = DefaultDrain
	}
	if r.Date == "" {
		r.Date = DefaultDate
	}
	if r.Seed == nil {
		r.Seed = ptr(DefaultSeed)
	}

	n := &sp.Network
	if n.FiberKmPerMs == nil {
		n.FiberKmPerMs = ptr(DefaultFiberKmPerMs)
	}
	if n.SameSiteRTTMs == nil {
		n.SameSiteRTTMs = ptr(DefaultSameSiteRTTMs)
	}
	if n.JitterMs == nil {
		n.JitterMs = &Dist{Dist: "exponential", Mean: ptr(DefaultJitterMeanMs)}
	}
	if n.HandshakeRTTs == nil {
		n.HandshakeRTTs = ptr(DefaultHandshakeRTTs)
	}
	if n.BandwidthMbps == 0 {
		n.BandwidthMbps = DefaultBandwidthMbps
	}
	if n.AccessBandwidthMbps == 0 {
		n.AccessBandwidthMbps = DefaultAccessBandwidthMbps
	}
	if n.BytesPerToken == 0 {
		n.BytesPerToken = DefaultBytesPerToken
	}

	for i := range sp.Regions {
		rg := &sp.Regions[i]
		if p, ok := topology.Lookup(rg.Name); ok {
			if rg.Lat == nil && rg.Lon == nil {
				rg.Lat, rg.Lon = ptr(p.Lat), ptr(p.Lon)
			}
			if rg.TimeZone == "" {
				rg.TimeZone = p.TimeZone
			}
			if rg.Kind == "" {
				rg.Kind = string(p.Kind)
			}
			if rg.Zone == "" {
				rg.Zone = p.Zone
			}
		}
		if rg.Kind == "" {
			rg.Kind = string(topology.Core)
		}
		for j := range rg.Clusters {
			for k := range rg.Clusters[j].GPUPools {
				if pool := &rg.Clusters[j].GPUPools[k]; pool.GPUsPerNode == 0 {
					pool.GPUsPerNode = DefaultGPUsPerNode
				}
			}
		}
	}

	for i := range sp.Users {
		u := &sp.Users[i]
		if u.Place != "" {
			tz, zone := s.placeTZZone(u.Place)
			if u.TimeZone == "" {
				u.TimeZone = tz
			}
			if u.Zone == "" {
				u.Zone = zone
			}
		}
		if u.AccessRTTMs == nil {
			u.AccessRTTMs = ptr(DefaultAccessRTTMs)
		}
		if len(u.Curve.Hourly) == 0 {
			if u.Curve.PeakHourLocal == nil {
				u.Curve.PeakHourLocal = ptr(DefaultPeakHourLocal)
			}
			if u.Curve.TroughRatio == nil {
				u.Curve.TroughRatio = ptr(DefaultTroughRatio)
			}
		}
	}

	var workloadNames []string
	for i := range sp.Workloads {
		w := &sp.Workloads[i]
		workloadNames = append(workloadNames, w.Name)
		if w.Connection == "" {
			switch w.Kind {
			case "chat":
				w.Connection = "perRequest"
			case "agent":
				w.Connection = "persistent"
			}
		}
		if a := w.Agent; a != nil {
			if a.ToolCallMode == "" {
				a.ToolCallMode = "sequential"
			}
			if a.Orchestrator == "" {
				a.Orchestrator = "client"
			}
			if a.MaxContextTokens == 0 {
				a.MaxContextTokens = DefaultMaxContextTokens
			}
			for j := range a.Tools {
				if a.Tools[j].Probability == nil {
					a.Tools[j].Probability = ptr(1.0)
				}
			}
		}
	}

	for i := range sp.Strategies {
		st := &sp.Strategies[i]
		for j := range st.Deployments {
			d := &st.Deployments[j]
			if d.Precision == "" {
				d.Precision = "bf16"
			}
			if d.TensorParallel == 0 {
				d.TensorParallel = 1
			}
			if d.MaxBatch == 0 {
				d.MaxBatch = DefaultMaxBatch
			}
			if d.TokenBudget == 0 {
				d.TokenBudget = max(DefaultTokenBudget, d.MaxBatch)
			}
			if d.BlockSize == 0 {
				d.BlockSize = DefaultBlockSize
			}
			if d.Profile == "" {
				d.Profile = DefaultProfile
			}
			if d.PrefixCaching == nil {
				on := true
				d.PrefixCaching = &on
			}
			if d.Split == "" {
				d.Split = "demand"
			}
			if len(d.Serves) == 0 && len(workloadNames) > 0 {
				d.Serves = append([]string(nil), workloadNames...)
			}
		}
		if st.Routing.Policy == "" {
			st.Routing.Policy = "nearest"
		}
		if st.Routing.SpillOverWait == nil {
			st.Routing.SpillOverWait = ptr(DefaultSpillOverWait)
		}
		if st.Routing.MaxQueuePerReplica == 0 {
			st.Routing.MaxQueuePerReplica = DefaultMaxQueuePerReplica
		}
	}
}

// placeTZZone returns the time zone and zone of a place: a region of the
// scenario first, else the built-in catalog.
func (s *Scenario) placeTZZone(place string) (tz, zone string) {
	for _, rg := range s.Spec.Regions {
		if rg.Name == place {
			tz, zone = rg.TimeZone, rg.Zone
			if p, ok := topology.Lookup(place); ok {
				tz, zone = or(tz, p.TimeZone), or(zone, p.Zone)
			}
			return tz, zone
		}
	}
	if p, ok := topology.Lookup(place); ok {
		return p.TimeZone, p.Zone
	}
	return "", ""
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func ptr[T any](v T) *T { return &v }
