package kubeplan

import (
	"fmt"
	"hash/fnv"
	"regexp"
	"sort"
	"strings"

	"github.com/fleetsim/fleetsim/planner"
	"github.com/fleetsim/fleetsim/scenarios"
	"github.com/fleetsim/fleetsim/world"
)

// Labels and resources the objects use.
const (
	LabelRegion    = "topology.kubernetes.io/region"
	LabelZone      = "topology.kubernetes.io/zone" // the cluster: <region>-<cluster>
	LabelHostname  = "kubernetes.io/hostname"
	LabelGPU       = "fleetsim.io/gpu"            // GPU catalog id
	LabelResidency = "fleetsim.io/residency-zone" // the site's data-residency zone
	LabelManaged   = "app.kubernetes.io/managed-by"
	LabelStrategy  = "fleetsim.io/strategy"
	LabelSite      = "fleetsim.io/site"
	LabelModel     = "fleetsim.io/model"
	LabelRole      = "fleetsim.io/role" // planned or failover
	ManagedBy      = "fleetsim"
	ResourceGPU    = "nvidia.com/gpu"
)

// MaxNodes bounds the nodes a validation registers (all clusters).
const MaxNodes = 5000

// Node is one GPU node of a scenario's cluster.
type Node struct {
	Name, Region, Cluster, Residency, GPU string
	GPUs                                  int
}

// Cluster is one scenario cluster and its nodes.
type Cluster struct {
	Region, Name, Residency string
	Nodes                   []Node
}

// ID is the cluster's id, <region>-<cluster>.
func (c *Cluster) ID() string { return dnsName(c.Region + "-" + c.Name) }

// GPUs is the cluster's GPU count of one type.
func (c *Cluster) GPUs(gpu string) int {
	n := 0
	for _, nd := range c.Nodes {
		if nd.GPU == gpu {
			n += nd.GPUs
		}
	}
	return n
}

// Topology is the clusters of a scenario, in scenario order, and the facts
// about sites a validation needs.
type Topology struct {
	Clusters []Cluster
	// ZoneConstrained is true when some workload confines its calls to a
	// residency zone: failover then stays within the failed site's zone.
	ZoneConstrained bool
}

// NewTopology lists the scenario's clusters and their nodes: one Node per
// node of each GPU pool, named <region>-<cluster>-<gpu>-<i>.
func NewTopology(s *scenarios.Scenario) (*Topology, error) {
	w, err := world.Build(s)
	if err != nil {
		return nil, err
	}
	zone := map[string]string{}
	for _, site := range w.Sites {
		zone[site.Name] = site.Zone
	}
	t := &Topology{}
	total := 0
	for _, r := range s.Spec.Regions {
		for _, c := range r.Clusters {
			cl := Cluster{Region: r.Name, Name: c.Name, Residency: zone[r.Name]}
			for pi, p := range c.GPUPools {
				per := p.GPUsPerNode
				if per <= 0 {
					per = 8
				}
				total += p.Count
				if total > MaxNodes {
					return nil, fmt.Errorf("spec.regions[%s].clusters[%s].gpuPools[%d]: more than %d nodes in all clusters; a validation registers one Node object per node", r.Name, c.Name, pi, MaxNodes)
				}
				for i := 0; i < p.Count; i++ {
					cl.Nodes = append(cl.Nodes, Node{
						Name:   dnsName(fmt.Sprintf("%s-%s-%s-%d", r.Name, c.Name, p.GPU, len(cl.Nodes))),
						Region: r.Name, Cluster: cl.ID(), Residency: cl.Residency, GPU: p.GPU, GPUs: per,
					})
				}
			}
			t.Clusters = append(t.Clusters, cl)
		}
	}
	for _, wl := range s.Spec.Workloads {
		if wl.Zone != "" {
			t.ZoneConstrained = true
		}
	}
	return t, nil
}

// Group is the replicas of one planned deployment placed in one cluster.
type Group struct {
	Strategy string `json:"strategy"`
	Site     string `json:"site"`
	Cluster  string `json:"cluster"`
	Model    string `json:"model"`
	GPU      string `json:"gpu"`
	TP       int    `json:"tp"`
	Replicas int    `json:"replicas"`
}

// Name is the Deployment's name.
func (g Group) Name() string { return dnsName(g.Model + "-" + g.GPU + "-" + g.Cluster) }

// Groups splits a planned strategy's replicas over the clusters of each
// site that have the deployment's GPU type: each cluster in scenario order
// takes as many as its GPUs of that type hold, the last one the rest (so an
// over-full plan shows up as Pending pods, not as a silent cut). A site
// with no cluster of that GPU type is an error.
func (t *Topology) Groups(ps planner.PlannedStrategy) ([]Group, error) {
	var out []Group
	for di, d := range ps.Deployments {
		sites := make([]string, 0, len(d.Replicas))
		for s := range d.Replicas {
			sites = append(sites, s)
		}
		sort.Strings(sites)
		tp := max(d.TensorParallel, 1)
		for _, site := range sites {
			n := d.Replicas[site]
			if n == 0 {
				continue
			}
			var cls []*Cluster
			for i := range t.Clusters {
				if c := &t.Clusters[i]; c.Region == site && c.GPUs(d.GPU) > 0 {
					cls = append(cls, c)
				}
			}
			if len(cls) == 0 {
				return nil, fmt.Errorf("strategy %s deployment %d (%s on %s): site %s has no cluster with %s GPUs", ps.Name, di, d.Model, d.GPU, site, d.GPU)
			}
			for k, c := range cls {
				take := n
				if k < len(cls)-1 {
					take = min(n, c.GPUs(d.GPU)/tp)
				}
				if take > 0 {
					out = append(out, Group{Strategy: ps.Name, Site: site, Cluster: c.ID(), Model: d.Model, GPU: d.GPU, TP: tp, Replicas: take})
				}
				n -= take
			}
		}
	}
	return out, nil
}

var nonDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// dnsName makes s a DNS-1123 label: lower case, [a-z0-9-], at most 63
// characters, starting and ending with an alphanumeric.
func dnsName(s string) string {
	s = strings.Trim(nonDNS.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > 63 { // keep names distinct: a hash of the whole name
		h := fnv.New32a()
		h.Write([]byte(s))
		s = strings.TrimRight(s[:54], "-") + fmt.Sprintf("-%08x", h.Sum32())
	}
	return s
}
