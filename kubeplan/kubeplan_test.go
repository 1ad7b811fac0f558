package kubeplan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/fleetsim/fleetsim/planner"
	"github.com/fleetsim/fleetsim/scenarios"
)

func builtin(t *testing.T, name string) *scenarios.Scenario {
	t.Helper()
	src, ok := scenarios.BuiltinYAML(name)
	if !ok {
		t.Fatalf("no built-in %s", name)
	}
	s, err := scenarios.Parse(name, src)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestTopologyNodes: one Node per pool node, with the pool's GPU count,
// for every cluster of the scenario; names are distinct DNS labels.
func TestTopologyNodes(t *testing.T) {
	s := builtin(t, "global-agentic")
	topo, err := NewTopology(s)
	if err != nil {
		t.Fatal(err)
	}
	wantNodes, wantGPUs := 0, map[string]int{}
	nClusters := 0
	for _, r := range s.Spec.Regions {
		for _, c := range r.Clusters {
			nClusters++
			for _, p := range c.GPUPools {
				per := p.GPUsPerNode
				if per == 0 {
					per = 8
				}
				wantNodes += p.Count
				wantGPUs[p.GPU] += p.Count * per
			}
		}
	}
	if len(topo.Clusters) != nClusters {
		t.Fatalf("got %d clusters, want %d", len(topo.Clusters), nClusters)
	}
	seen := map[string]bool{}
	gotGPUs := map[string]int{}
	for _, c := range topo.Clusters {
		for _, n := range c.Nodes {
			if seen[n.Name] || len(n.Name) > 63 || strings.Trim(n.Name, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
				t.Errorf("node name %q: duplicate or not a DNS label", n.Name)
			}
			seen[n.Name] = true
			gotGPUs[n.GPU] += n.GPUs
			obj := NodeObject(n)
			if obj.Labels[LabelRegion] != c.Region || obj.Labels[LabelGPU] != n.GPU || obj.Labels[LabelZone] != c.ID() {
				t.Errorf("node %s labels %v", n.Name, obj.Labels)
			}
			if q := obj.Status.Allocatable[ResourceGPU]; q.Value() != int64(n.GPUs) {
				t.Errorf("node %s: allocatable GPUs %v, want %d", n.Name, q.Value(), n.GPUs)
			}
		}
	}
	if len(seen) != wantNodes {
		t.Errorf("got %d nodes, want %d", len(seen), wantNodes)
	}
	for g, n := range wantGPUs {
		if gotGPUs[g] != n {
			t.Errorf("%s: %d GPUs on nodes, want %d", g, gotGPUs[g], n)
		}
	}
}

// TestGroupsSplit: a site's replicas fill its clusters with the GPU type
// in order; the last takes the rest, so an over-full plan is not cut.
func TestGroupsSplit(t *testing.T) {
	topo := &Topology{Clusters: []Cluster{
		{Region: "a", Name: "c1", Nodes: []Node{{GPU: "h100", GPUs: 8}}},
		{Region: "a", Name: "c2", Nodes: []Node{{GPU: "l4", GPUs: 8}}},
		{Region: "a", Name: "c3", Nodes: []Node{{GPU: "h100", GPUs: 8}, {GPU: "h100", GPUs: 8}}},
		{Region: "b", Name: "c1", Nodes: []Node{{GPU: "h100", GPUs: 8}}},
	}}
	ps := planner.PlannedStrategy{Name: "s", Deployments: []planner.PlannedDeployment{
		{Model: "m", GPU: "h100", TensorParallel: 2, Replicas: map[string]int{"a": 11, "b": 1}},
	}}
	gs, err := topo.Groups(ps)
	if err != nil {
		t.Fatal(err)
	}
	// c1 holds 8/2 = 4 replicas; c3 (the last h100 cluster of a) the other 7.
	want := map[string]int{"a-c1": 4, "a-c3": 7, "b-c1": 1}
	if len(gs) != len(want) {
		t.Fatalf("got %+v, want %v", gs, want)
	}
	for _, g := range gs {
		if want[g.Cluster] != g.Replicas || g.TP != 2 {
			t.Errorf("%s: %d replicas (tp %d), want %d", g.Cluster, g.Replicas, g.TP, want[g.Cluster])
		}
	}
	ps.Deployments[0].Replicas = map[string]int{"b": 1, "nowhere": 1}
	if _, err := topo.Groups(ps); err == nil || !strings.Contains(err.Error(), "site nowhere has no cluster with h100") {
		t.Errorf("unknown site: got %v", err)
	}
}

// TestObjectsAffinity: a group's pods request TP GPUs and are confined to
// the group's site, cluster and GPU type; failover pods to other sites.
func TestObjectsAffinity(t *testing.T) {
	g := Group{Strategy: "edge", Site: "eu-west", Cluster: "eu-west-c1", Model: "llama-3.1-8b", GPU: "h100", TP: 4, Replicas: 3}
	d, pdb := Objects("ns", g, "eu")
	if *d.Spec.Replicas != 3 || pdb.Spec.MaxUnavailable.IntValue() != 1 {
		t.Errorf("replicas %d, pdb %v", *d.Spec.Replicas, pdb.Spec.MaxUnavailable)
	}
	q := d.Spec.Template.Spec.Containers[0].Resources.Requests[ResourceGPU]
	if q.Value() != 4 {
		t.Errorf("GPU request %v, want 4", q.Value())
	}
	req := d.Spec.Template.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions
	got := map[string]string{}
	for _, r := range req {
		got[r.Key] = string(r.Operator) + " " + strings.Join(r.Values, ",")
	}
	for k, v := range map[string]string{LabelRegion: "In eu-west", LabelZone: "In eu-west-c1", LabelGPU: "In h100", LabelResidency: "In eu"} {
		if got[k] != v {
			t.Errorf("affinity %s: got %q, want %q", k, got[k], v)
		}
	}
	if !metav1HasSelector(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
		t.Error("the selector does not select the template's pods")
	}
	fo := FailoverObjects("ns", g, "us-east-c1", "", 2)
	fe := fo.Spec.Template.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions
	if fe[0].Key != LabelRegion || fe[0].Operator != corev1.NodeSelectorOpNotIn || fe[0].Values[0] != "eu-west" || *fo.Spec.Replicas != 2 {
		t.Errorf("failover affinity %+v", fe)
	}
}

func metav1HasSelector(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return len(sel) > 0
}

// TestAgent: registered nodes get a lease and stay Ready; a Pending pod
// bound to one of them becomes Running; one bound elsewhere is left alone.
func TestAgent(t *testing.T) {
	cs := fake.NewSimpleClientset()
	a := NewAgent(cs)
	a.Poll = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := a.Register(ctx, []Node{{Name: "n1", Region: "r", GPU: "h100", GPUs: 8}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, "n1", metav1.GetOptions{}); err != nil {
		t.Errorf("lease: %v", err)
	}
	for _, p := range []*corev1.Pod{
		{ObjectMeta: metav1.ObjectMeta{Name: "mine", Namespace: "x"}, Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c"}}}, Status: corev1.PodStatus{Phase: corev1.PodPending}},
		{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "x"}, Spec: corev1.PodSpec{NodeName: "n2"}, Status: corev1.PodStatus{Phase: corev1.PodPending}},
	} {
		if _, err := cs.CoreV1().Pods("x").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	go a.Run(ctx)
	deadline := time.Now().Add(5 * time.Second)
	for {
		p, _ := cs.CoreV1().Pods("x").Get(ctx, "mine", metav1.GetOptions{})
		if p.Status.Phase == corev1.PodRunning {
			if p.Status.PodIP == "" || len(p.Status.ContainerStatuses) != 1 || p.Status.ContainerStatuses[0].State.Running == nil {
				t.Errorf("running pod status incomplete: %+v", p.Status)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the bound pod did not become Running")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if p, _ := cs.CoreV1().Pods("x").Get(ctx, "other", metav1.GetOptions{}); p.Status.Phase != corev1.PodPending {
		t.Errorf("a pod on a node the agent does not serve became %s", p.Status.Phase)
	}
}

// TestDNSName: long names stay distinct and valid.
func TestDNSName(t *testing.T) {
	a := dnsName(strings.Repeat("x", 70) + "-a")
	b := dnsName(strings.Repeat("x", 70) + "-b")
	if a == b || len(a) > 63 || len(b) > 63 {
		t.Errorf("got %q and %q", a, b)
	}
	if got := dnsName("Llama 3.1_8B--"); got != "llama-3-1-8b" {
		t.Errorf("got %q", got)
	}
}

// TestRealNodes: with Options.RealNodes a replica counts as Running only
// when its pod is Running and Ready (a kubelet ran its readiness probe),
// and a not-Ready pod is reported with its container's waiting reason;
// without it (the node agent's pods) Running suffices. Setup registers no
// node, RemoveNodes deletes none, FailSite and Restore are refused without
// the LoseNodes and RestoreNodes hooks.
func TestRealNodes(t *testing.T) {
	node := Node{Name: "kind-worker", Region: "us-east", Cluster: "us-east-use", GPU: "h100", GPUs: 8}
	topo := &Topology{Clusters: []Cluster{{Region: "us-east", Name: "use", Nodes: []Node{node}}}}
	g := Group{Strategy: "s", Site: "us-east", Cluster: "us-east-use", Model: "m", GPU: "h100", TP: 1, Replicas: 2}
	pod := func(name string, ready corev1.ConditionStatus, waiting string) *corev1.Pod {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{"fleetsim.io/group": g.Name()}},
			Spec:       corev1.PodSpec{NodeName: node.Name},
			Status:     corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: ready}}},
		}
		if waiting != "" {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "replica", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: waiting}}}}
		}
		return p
	}
	tests := []struct {
		real             bool
		running, pending int
	}{
		{real: true, running: 1, pending: 1},
		{real: false, running: 2, pending: 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("real=%v", tt.real), func(t *testing.T) {
			ctx := context.Background()
			cs := fake.NewSimpleClientset(NodeObject(node), pod("ready", corev1.ConditionTrue, ""), pod("starting", corev1.ConditionFalse, "CrashLoopBackOff"))
			v, err := NewValidator(topo, []*Target{{Name: "t", CS: cs, Clusters: []string{"us-east-use"}}}, Options{RealNodes: tt.real})
			if err != nil {
				t.Fatal(err)
			}
			gr, _, settled, err := v.observe(ctx, v.Targets[0], "ns", g, g.Name(), g.Replicas)
			if err != nil {
				t.Fatal(err)
			}
			if gr.Running != tt.running || len(gr.Pending) != tt.pending {
				t.Errorf("got %d Running, %d Pending; want %d and %d", gr.Running, len(gr.Pending), tt.running, tt.pending)
			}
			if tt.real {
				if settled {
					t.Errorf("got settled with a pod starting, want not settled (wait for it)")
				}
				if r := gr.Pending[0].Reason; !strings.Contains(r, "not Ready") || !strings.Contains(r, "CrashLoopBackOff") {
					t.Errorf("got reason %q, want not Ready and the container's CrashLoopBackOff", r)
				}
			}
		})
	}

	t.Run("setup-failsite-remove", func(t *testing.T) {
		ctx := context.Background()
		cs := fake.NewSimpleClientset()
		v, err := NewValidator(topo, []*Target{{Name: "t", CS: cs, Clusters: []string{"us-east-use"}}}, Options{RealNodes: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Setup(ctx); err != nil {
			t.Fatal(err)
		}
		if nodes, _ := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); len(nodes.Items) != 0 {
			t.Errorf("Setup registered %d nodes on real nodes, want 0", len(nodes.Items))
		}
		if _, err := v.FailSite(ctx, planner.PlannedStrategy{Name: "s"}, "us-east"); err == nil {
			t.Error("FailSite on real nodes without LoseNodes and RestoreNodes: got no error, want a refusal")
		}
		if err := v.Restore(ctx, "us-east"); err == nil {
			t.Error("Restore on real nodes without RestoreNodes: got no error, want a refusal")
		}
		if _, err := cs.CoreV1().Nodes().Create(ctx, NodeObject(node), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := v.RemoveNodes(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.CoreV1().Nodes().Get(ctx, node.Name, metav1.GetOptions{}); err != nil {
			t.Errorf("RemoveNodes on real nodes deleted %s: %v", node.Name, err)
		}
	})
}

// TestPodOptions: the options' image and CPU and memory requests reach
// the replica containers; the GPU request stays TP; a bad quantity is an
// error from NewValidator; every replica has a readiness probe on /health
// (the path fleetsim emulate serves).
func TestPodOptions(t *testing.T) {
	topo := &Topology{}
	g := Group{Strategy: "s", Site: "r", Cluster: "r-c", Model: "m", GPU: "h100", TP: 4, Replicas: 1}
	tests := []struct {
		opt                  Options
		image, cpu, mem, err string
	}{
		{opt: Options{}, image: ReplicaImage, cpu: "1", mem: "1Gi"},
		{opt: Options{Image: "x:y", PodCPU: "10m", PodMemory: "64Mi"}, image: "x:y", cpu: "10m", mem: "64Mi"},
		{opt: Options{PodCPU: "lots"}, err: "PodCPU"},
	}
	for _, tt := range tests {
		t.Run(tt.image+tt.cpu+tt.err, func(t *testing.T) {
			v, err := NewValidator(topo, nil, tt.opt)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got error %v, want one naming %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			d, _ := Objects("ns", g, "")
			v.tune(d)
			c := d.Spec.Template.Spec.Containers[0]
			req := c.Resources.Requests
			gpu := req[ResourceGPU]
			if c.Image != tt.image || req.Cpu().String() != tt.cpu || req.Memory().String() != tt.mem || gpu.Value() != 4 {
				t.Errorf("got image %s, cpu %s, memory %s, gpus %d; want %s, %s, %s, 4", c.Image, req.Cpu(), req.Memory(), gpu.Value(), tt.image, tt.cpu, tt.mem)
			}
			if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/health" {
				t.Errorf("got readiness probe %+v, want HTTP GET /health", p)
			}
		})
	}
}

// TestRealNodesFailSite: on real nodes FailSite cordons the site's nodes,
// then calls LoseNodes (while the nodes still exist, so their kubelets
// are stopped before the Node objects go), then deletes the nodes and
// their pods; nodes of other sites stay. Restore calls RestoreNodes with
// the site's nodes, and only those.
func TestRealNodesFailSite(t *testing.T) {
	ctx := context.Background()
	east := Node{Name: "c-worker", Region: "us-east", Cluster: "us-east-use", GPU: "h100", GPUs: 8}
	west := Node{Name: "c-worker2", Region: "eu-west", Cluster: "eu-west-euw", GPU: "h100", GPUs: 8}
	topo := &Topology{Clusters: []Cluster{
		{Region: "us-east", Name: "use", Nodes: []Node{east}},
		{Region: "eu-west", Name: "euw", Nodes: []Node{west}},
	}}
	onEast := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}, Spec: corev1.PodSpec{NodeName: east.Name}}
	cs := fake.NewSimpleClientset(NodeObject(east), NodeObject(west), onEast)
	var lost, restored []string
	opts := Options{
		RealNodes: true,
		LoseNodes: func(ctx context.Context, tg *Target, nodes []Node) error {
			for _, n := range nodes {
				got, err := tg.CS.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
				if err != nil {
					t.Errorf("LoseNodes(%s): the node is already gone: %v", n.Name, err)
					continue
				}
				if !got.Spec.Unschedulable {
					t.Errorf("LoseNodes(%s): the node is not cordoned yet", n.Name)
				}
				lost = append(lost, tg.Name+"/"+n.Name)
			}
			return nil
		},
		RestoreNodes: func(ctx context.Context, tg *Target, nodes []Node) error {
			for _, n := range nodes {
				restored = append(restored, tg.Name+"/"+n.Name)
			}
			return nil
		},
	}
	v, err := NewValidator(topo, []*Target{{Name: "kind-c", CS: cs, Clusters: []string{"us-east-use", "eu-west-euw"}}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	fr, err := v.FailSite(ctx, planner.PlannedStrategy{Name: "s"}, "us-east")
	if err != nil {
		t.Fatal(err)
	}
	if fr.NodesRemoved != 1 || !slices.Equal(lost, []string{"kind-c/c-worker"}) {
		t.Errorf("got %d nodes removed, LoseNodes on %v; want 1 and [kind-c/c-worker]", fr.NodesRemoved, lost)
	}
	if _, err := cs.CoreV1().Nodes().Get(ctx, east.Name, metav1.GetOptions{}); err == nil {
		t.Errorf("node %s still exists after its site failed", east.Name)
	}
	if _, err := cs.CoreV1().Nodes().Get(ctx, west.Name, metav1.GetOptions{}); err != nil {
		t.Errorf("node %s of another site: %v", west.Name, err)
	}
	if _, err := cs.CoreV1().Pods("ns").Get(ctx, "p", metav1.GetOptions{}); err == nil {
		t.Error("the failed node's pod still exists")
	}
	if err := v.Restore(ctx, "us-east"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(restored, []string{"kind-c/c-worker"}) {
		t.Errorf("RestoreNodes on %v, want [kind-c/c-worker]", restored)
	}
	boom := errors.New("docker stop failed")
	opts.LoseNodes = func(context.Context, *Target, []Node) error { return boom }
	v, err = NewValidator(topo, []*Target{{Name: "kind-c", CS: cs, Clusters: []string{"us-east-use", "eu-west-euw"}}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.FailSite(ctx, planner.PlannedStrategy{Name: "s"}, "eu-west"); !errors.Is(err, boom) {
		t.Errorf("FailSite with a failing LoseNodes: got %v, want its error", err)
	}
	if _, err := cs.CoreV1().Nodes().Get(ctx, west.Name, metav1.GetOptions{}); err != nil {
		t.Errorf("node %s deleted although its kubelet could not be stopped: %v", west.Name, err)
	}
}

// TestPoolServiceObject: the pool Service over a site's groups selects the
// planned pods of every one of them (labels as Objects sets them), and
// neither a failover pod nor another model's or site's pod; groups that
// are not one pool are refused.
func TestPoolServiceObject(t *testing.T) {
	a := Group{Strategy: "s", Site: "us-east", Cluster: "us-east-a", Model: "m", GPU: "h100", TP: 1, Replicas: 8}
	b := a
	b.Cluster, b.Replicas = "us-east-b", 2
	svc, err := PoolServiceObject([]Group{a, b})
	if err != nil {
		t.Fatal(err)
	}
	selects := func(labels map[string]string) bool {
		for k, v := range svc.Spec.Selector {
			if labels[k] != v {
				return false
			}
		}
		return true
	}
	podLabels := func(g Group) map[string]string {
		d, _ := Objects("ns", g, "")
		return d.Spec.Template.Labels
	}
	for _, g := range []Group{a, b} {
		if !selects(podLabels(g)) {
			t.Errorf("the pool Service (selector %v) misses group %s's pods", svc.Spec.Selector, g.Name())
		}
	}
	other := a
	other.Model = "m2"
	elsewhere := a
	elsewhere.Site, elsewhere.Cluster = "eu-west", "eu-west-a"
	if selects(podLabels(other)) || selects(podLabels(elsewhere)) {
		t.Errorf("the pool Service (selector %v) selects another model's or site's pods", svc.Spec.Selector)
	}
	if fo := FailoverObjects("ns", a, "eu-west-a", "", 1); selects(fo.Spec.Template.Labels) {
		t.Errorf("the pool Service (selector %v) selects failover pods", svc.Spec.Selector)
	}
	if svc.Name == a.Name() || svc.Name == b.Name() || svc.Spec.Type != corev1.ServiceTypeNodePort {
		t.Errorf("got name %s, type %s; want a NodePort named apart from the groups' Services", svc.Name, svc.Spec.Type)
	}
	l4 := b
	l4.GPU = "l4"
	if _, err := PoolServiceObject([]Group{a, l4}); err == nil {
		t.Error("groups of different GPU types: got no error")
	}
	if _, err := PoolServiceObject(nil); err == nil {
		t.Error("no groups: got no error")
	}
}
