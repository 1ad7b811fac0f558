package kubeplan

import (
	"errors"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Per-node resources besides GPUs: a typical 8-GPU server's CPU and memory
// are not what limits placement here, so they are generous.
const (
	nodeCPU    = "224"
	nodeMemory = "2Ti"
	nodePods   = "110"
)

// NodeObject is the Node a validation registers for n: labels for region,
// cluster (topology zone), hostname, GPU type and residency zone; capacity
// and allocatable with nvidia.com/gpu; Ready.
func NodeObject(n Node) *corev1.Node {
	res := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(nodeCPU),
		corev1.ResourceMemory: resource.MustParse(nodeMemory),
		corev1.ResourcePods:   resource.MustParse(nodePods),
		ResourceGPU:           *resource.NewQuantity(int64(n.GPUs), resource.DecimalSI),
	}
	labels := map[string]string{
		LabelRegion: n.Region, LabelZone: n.Cluster, LabelHostname: n.Name, LabelGPU: n.GPU,
		LabelManaged: ManagedBy, "type": "fleetsim-node",
	}
	if n.Residency != "" {
		labels[LabelResidency] = n.Residency
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: labels},
		Status: corev1.NodeStatus{
			Capacity: res, Allocatable: res.DeepCopy(),
			Phase: corev1.NodeRunning,
			Conditions: []corev1.NodeCondition{{
				Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "FleetsimAgentReady",
				Message: "fleetsim node agent", LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now(),
			}},
			NodeInfo: corev1.NodeSystemInfo{KubeletVersion: "fleetsim-agent", OperatingSystem: "linux", Architecture: "amd64"},
		},
	}
}

// ReplicaImage is the image a replica's pod names. The node agent runs no
// containers; the image is what a real cluster would run (the emulator).
const ReplicaImage = "fleetsim:local"

// Objects are the Kubernetes objects of one group of replicas: a
// Deployment whose pods request TP GPUs each, with required node affinity
// to the group's site, cluster and GPU type (and residency zone when the
// site has one), a topology spread over the site's nodes, and a
// PodDisruptionBudget that keeps all but one replica available.
func Objects(ns string, g Group, residency string) (*appsv1.Deployment, *policyv1.PodDisruptionBudget) {
	terms := []corev1.NodeSelectorRequirement{
		{Key: LabelRegion, Operator: corev1.NodeSelectorOpIn, Values: []string{g.Site}},
		{Key: LabelZone, Operator: corev1.NodeSelectorOpIn, Values: []string{g.Cluster}},
		{Key: LabelGPU, Operator: corev1.NodeSelectorOpIn, Values: []string{g.GPU}},
	}
	if residency != "" {
		terms = append(terms, corev1.NodeSelectorRequirement{Key: LabelResidency, Operator: corev1.NodeSelectorOpIn, Values: []string{residency}})
	}
	labels := map[string]string{
		"app.kubernetes.io/name": "fleetsim-replica", LabelManaged: ManagedBy,
		LabelStrategy: dnsName(g.Strategy), LabelSite: dnsName(g.Site), LabelModel: dnsName(g.Model), LabelRole: "planned",
		"fleetsim.io/group": g.Name(),
	}
	return deployment(ns, g.Name(), labels, g, int32(g.Replicas), terms), pdb(ns, g.Name(), labels)
}

// FailoverObjects is a Deployment of n displaced replicas of g that may
// run on any node of cluster, of g's GPU type, outside the failed site
// (and within residency when given).
func FailoverObjects(ns string, g Group, cluster, residency string, n int) *appsv1.Deployment {
	terms := []corev1.NodeSelectorRequirement{
		{Key: LabelRegion, Operator: corev1.NodeSelectorOpNotIn, Values: []string{g.Site}},
		{Key: LabelZone, Operator: corev1.NodeSelectorOpIn, Values: []string{cluster}},
		{Key: LabelGPU, Operator: corev1.NodeSelectorOpIn, Values: []string{g.GPU}},
	}
	if residency != "" {
		terms = append(terms, corev1.NodeSelectorRequirement{Key: LabelResidency, Operator: corev1.NodeSelectorOpIn, Values: []string{residency}})
	}
	name := dnsName("failover-" + g.Name() + "-to-" + cluster)
	labels := map[string]string{
		"app.kubernetes.io/name": "fleetsim-replica", LabelManaged: ManagedBy,
		LabelStrategy: dnsName(g.Strategy), LabelSite: dnsName(g.Site), LabelModel: dnsName(g.Model), LabelRole: "failover",
		"fleetsim.io/group": name,
	}
	return deployment(ns, name, labels, g, int32(n), terms)
}

func deployment(ns, name string, labels map[string]string, g Group, replicas int32, terms []corev1.NodeSelectorRequirement) *appsv1.Deployment {
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"fleetsim.io/group": labels["fleetsim.io/group"]}}
	gpus := *resource.NewQuantity(int64(g.TP), resource.DecimalSI)
	zero := int64(0)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: sel,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: &zero,
					Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
						RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
							NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: terms}},
						},
					}},
					TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{
						MaxSkew: 1, TopologyKey: LabelHostname, WhenUnsatisfiable: corev1.ScheduleAnyway, LabelSelector: sel,
					}},
					Containers: []corev1.Container{{
						Name:  "replica",
						Image: ReplicaImage,
						Args: []string{"emulate", "--gpu", g.GPU, "--model", g.Model, "--tp", strconv.Itoa(g.TP),
							"--listen", "0.0.0.0:8000"},
						Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8000}},
						// Ready means serving: fleetsim emulate answers GET
						// /health once it listens. (The node agent sets the
						// Ready condition itself; kubelets run this probe.)
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/health", Port: intstr.FromString("http")}},
							PeriodSeconds: 2,
						},
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{ResourceGPU: gpus, corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi")},
							Limits:   corev1.ResourceList{ResourceGPU: gpus},
						},
					}},
				},
			},
		},
	}
}

// ServiceObject is a NodePort Service in front of group g's pods (selector
// fleetsim.io/group, as Objects labels them), in the namespace where
// Validator.Check puts g's strategy: port 8000 to the replica's
// "http" port, on a node port the API server allocates. It lets a client
// outside the cluster reach the group's replicas at any node's address;
// kube-proxy picks one ready pod per connection.
func ServiceObject(g Group) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: g.Name(), Namespace: namespace(g.Strategy), Labels: map[string]string{
			LabelManaged: ManagedBy, LabelStrategy: dnsName(g.Strategy), LabelSite: dnsName(g.Site), LabelModel: dnsName(g.Model),
			"fleetsim.io/group": g.Name(),
		}},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeNodePort,
			Selector: map[string]string{"fleetsim.io/group": g.Name()},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 8000, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}},
		},
	}
}

// PoolServiceObject is ServiceObject for a pool the simulator sees as one
// and the plan splits over several scenario clusters of a site: groups are
// every group of one strategy's model at one site, all of one GPU type and
// TP (their Deployments differ only in cluster), on one control plane. The
// NodePort Service selects the planned pods of all of them (role planned,
// so no failover pod) and is named after the model, GPU and site. Groups
// that differ in strategy, site, model, GPU or TP are an error.
func PoolServiceObject(groups []Group) (*corev1.Service, error) {
	if len(groups) == 0 {
		return nil, errors.New("pool service: no groups")
	}
	g := groups[0]
	for _, o := range groups[1:] {
		if o.Strategy != g.Strategy || o.Site != g.Site || o.Model != g.Model || o.GPU != g.GPU || o.TP != g.TP {
			return nil, fmt.Errorf("pool service: groups %s and %s are not one pool (strategy, site, model, GPU and TP must agree)", g.Name(), o.Name())
		}
	}
	svc := ServiceObject(g)
	name := dnsName(g.Model + "-" + g.GPU + "-" + g.Site)
	svc.Name = name
	delete(svc.Labels, "fleetsim.io/group")
	svc.Labels["fleetsim.io/pool"] = name
	svc.Spec.Selector = map[string]string{
		LabelManaged: ManagedBy, LabelStrategy: dnsName(g.Strategy), LabelSite: dnsName(g.Site),
		LabelModel: dnsName(g.Model), LabelRole: "planned",
	}
	return svc, nil
}

func pdb(ns, name string, labels map[string]string) *policyv1.PodDisruptionBudget {
	one := intstr.FromInt32(1)
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: &one,
			Selector:       &metav1.LabelSelector{MatchLabels: map[string]string{"fleetsim.io/group": labels["fleetsim.io/group"]}},
		},
	}
}

// gpuRequest is a pod's nvidia.com/gpu request summed over its containers.
func gpuRequest(p *corev1.Pod) int {
	n := int64(0)
	for _, c := range p.Spec.Containers {
		if q, ok := c.Resources.Requests[ResourceGPU]; ok {
			n += q.Value()
		}
	}
	return int(n)
}

var _ = fmt.Sprint
