package kubeplan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/fleetsim/fleetsim/planner"
)

// Target is one control plane and the clusters whose nodes it holds.
type Target struct {
	// Name labels the target in reports (the control plane's name).
	Name string
	// CS reaches its apiserver.
	CS kubernetes.Interface
	// Clusters are the ids (Cluster.ID) of the clusters it holds.
	Clusters []string
	// Agent serves its nodes; Validator.Setup makes it.
	Agent *Agent
}

// Options tune a Validator.
type Options struct {
	// Timeout bounds each wait for the scheduler and controllers (default 120 s).
	Timeout time.Duration
	// Settle is how long the pods must stay unchanged, every Pending one
	// marked unschedulable by the scheduler, before a wait ends early
	// (default 2 s).
	Settle time.Duration
	// Log receives progress lines; nil: none.
	Log io.Writer
	// RealNodes: the topology's node names are real nodes with kubelets
	// (kind), already labelled and advertising their GPUs. Setup then
	// starts no node agent and registers nothing, a replica counts as
	// placed only when its pod is Running and Ready (its container really
	// started and answers its readiness probe), FailSite needs LoseNodes
	// and Restore needs RestoreNodes (without them they are refused), and
	// RemoveNodes leaves the nodes alone.
	RealNodes bool
	// LoseNodes, with RealNodes, stops the kubelets of one cluster's nodes
	// held by target tg (kind: stops their node containers) so that they
	// cannot register again; FailSite calls it after cordoning the nodes
	// and before deleting them and their pods. Unused without RealNodes.
	LoseNodes func(ctx context.Context, tg *Target, nodes []Node) error
	// RestoreNodes, with RealNodes, brings back nodes LoseNodes stopped
	// and returns once they are registered, Ready, labelled and
	// advertising their GPUs again (kind: start the containers, wait, and
	// adopt the nodes again); Restore calls it per cluster. Unused
	// without RealNodes.
	RestoreNodes func(ctx context.Context, tg *Target, nodes []Node) error
	// PodCPU and PodMemory are each replica pod's CPU and memory requests
	// (Kubernetes quantities; defaults "1" and "1Gi", which the registered
	// nodes' 224 cores and 2 TiB never limit). Real nodes on a small host
	// need less, e.g. "10m" and "64Mi".
	PodCPU, PodMemory string
	// Image is the replica pods' image (default ReplicaImage).
	Image string
}

// Validator applies plans' strategies to targets and checks the result.
type Validator struct {
	Topo    *Topology
	Targets []*Target
	opt     Options
	target  map[string]*Target // cluster id -> target
	cluster map[string]*Cluster

	stopAgents context.CancelFunc
	agents     sync.WaitGroup
}

// StopAgents stops the node agents and waits until they have stopped, so
// that no heartbeat recreates what RemoveNodes deletes.
func (v *Validator) StopAgents() {
	if v.stopAgents != nil {
		v.stopAgents()
	}
	v.agents.Wait()
}

// NewValidator checks that every cluster of the topology has exactly one
// target.
func NewValidator(t *Topology, targets []*Target, opt Options) (*Validator, error) {
	if opt.Timeout <= 0 {
		opt.Timeout = 120 * time.Second
	}
	if opt.Settle <= 0 {
		opt.Settle = 2 * time.Second
	}
	if opt.PodCPU == "" {
		opt.PodCPU = "1"
	}
	if opt.PodMemory == "" {
		opt.PodMemory = "1Gi"
	}
	if opt.Image == "" {
		opt.Image = ReplicaImage
	}
	for _, q := range []struct{ name, v string }{{"PodCPU", opt.PodCPU}, {"PodMemory", opt.PodMemory}} {
		if _, err := resource.ParseQuantity(q.v); err != nil {
			return nil, fmt.Errorf("options: %s %q: %w", q.name, q.v, err)
		}
	}
	v := &Validator{Topo: t, Targets: targets, opt: opt, target: map[string]*Target{}, cluster: map[string]*Cluster{}}
	for _, tg := range targets {
		for _, c := range tg.Clusters {
			if _, dup := v.target[c]; dup {
				return nil, fmt.Errorf("cluster %s has two control planes", c)
			}
			v.target[c] = tg
		}
	}
	for i := range t.Clusters {
		c := &t.Clusters[i]
		v.cluster[c.ID()] = c
		if v.target[c.ID()] == nil {
			return nil, fmt.Errorf("cluster %s has no control plane", c.ID())
		}
	}
	return v, nil
}

// Setup registers every cluster's nodes with its target and starts the
// targets' node agents (until ctx ends).
func (v *Validator) Setup(ctx context.Context) error {
	if v.opt.RealNodes {
		n := 0
		for _, c := range v.Topo.Clusters {
			n += len(c.Nodes)
		}
		v.logf("using %d real nodes in %d clusters on %d control plane(s)", n, len(v.Topo.Clusters), len(v.Targets))
		return nil
	}
	actx, cancel := context.WithCancel(ctx)
	v.stopAgents = cancel
	for _, tg := range v.Targets {
		tg.Agent = NewAgent(tg.CS)
		v.agents.Add(1)
		go func() { defer v.agents.Done(); tg.Agent.Run(actx) }()
	}
	n := 0
	for i := range v.Topo.Clusters {
		c := &v.Topo.Clusters[i]
		if err := v.target[c.ID()].Agent.Register(ctx, c.Nodes); err != nil {
			return err
		}
		n += len(c.Nodes)
	}
	v.logf("registered %d nodes in %d clusters on %d control plane(s)", n, len(v.Topo.Clusters), len(v.Targets))
	return nil
}

// PendingPod is a pod the scheduler did not place, and why.
type PendingPod struct {
	Pod    string `json:"pod"`
	Reason string `json:"reason"`
}

// GroupResult is how one group of replicas fared.
type GroupResult struct {
	Group
	// Running is the replicas Running on a node of the group's site,
	// cluster and GPU type; Misplaced those Running anywhere else.
	Running   int          `json:"running"`
	Misplaced int          `json:"misplaced"`
	Pending   []PendingPod `json:"pending"`
}

// StrategyReport is the check of one planned strategy.
type StrategyReport struct {
	Strategy string        `json:"strategy"`
	Groups   []GroupResult `json:"groups"`
	// GPUsPlanned is what the plan pays for (replicas × TP); GPUsAllocated
	// the nvidia.com/gpu requests of the Running planned pods.
	GPUsPlanned   int `json:"gpusPlanned"`
	GPUsAllocated int `json:"gpusAllocated"`
	// OK: every replica Running where planned, none Pending or misplaced,
	// and the GPUs allocated equal the GPUs planned.
	OK       bool            `json:"ok"`
	Failures []FailureReport `json:"failures"`
	// ElapsedS is the check's wall time in seconds (not deterministic).
	ElapsedS float64 `json:"elapsedS"`
}

// FailureReport is what happened when one site's nodes were removed.
type FailureReport struct {
	Site string `json:"site"`
	// NodesRemoved is the site's nodes cordoned and deleted.
	NodesRemoved int `json:"nodesRemoved"`
	// Displaced is the replicas the site ran; Placed how many of them the
	// remaining clusters took (PlacedOn, per cluster); ShortReplicas and
	// ShortGPUs what could not be placed.
	Displaced     int            `json:"displaced"`
	Placed        int            `json:"placed"`
	ShortReplicas int            `json:"shortReplicas"`
	ShortGPUs     int            `json:"shortGPUs"`
	PlacedOn      map[string]int `json:"placedOn"`
	Pending       []PendingPod   `json:"pending"`
}

func namespace(strategy string) string { return dnsName("fleetsim-" + strategy) }

// Check applies the strategy's objects, waits for the scheduler and the
// controllers, and compares the pods with the plan. The objects stay until
// Cleanup.
func (v *Validator) Check(ctx context.Context, ps planner.PlannedStrategy) (*StrategyReport, error) {
	start := time.Now()
	groups, err := v.Topo.Groups(ps)
	if err != nil {
		return nil, err
	}
	ns := namespace(ps.Name)
	for _, tg := range v.Targets {
		_, err := tg.CS.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns,
			Labels: map[string]string{LabelManaged: ManagedBy}}}, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			// Only a namespace fleetsim made may be reused (and later deleted).
			got, gerr := tg.CS.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			if gerr == nil && got.Labels[LabelManaged] != ManagedBy {
				return nil, fmt.Errorf("%s: namespace %s exists and was not made by fleetsim; it is left alone", tg.Name, ns)
			}
			err = gerr
		}
		if err != nil {
			return nil, fmt.Errorf("%s: namespace %s: %w", tg.Name, ns, err)
		}
	}
	rep := &StrategyReport{Strategy: ps.Name}
	for _, g := range groups {
		tg := v.target[g.Cluster]
		d, pdb := Objects(ns, g, v.residency(g))
		v.tune(d)
		if _, err := tg.CS.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("%s: deployment %s: %w", tg.Name, d.Name, err)
		}
		if _, err := tg.CS.PolicyV1().PodDisruptionBudgets(ns).Create(ctx, pdb, metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("%s: pod disruption budget %s: %w", tg.Name, pdb.Name, err)
		}
		rep.GPUsPlanned += g.Replicas * g.TP
	}
	v.logf("strategy %s: applied %d deployments (%d GPUs) in namespace %s", ps.Name, len(groups), rep.GPUsPlanned, ns)
	for _, g := range groups {
		gr, err := v.wait(ctx, ns, g, g.Name(), g.Replicas)
		if err != nil {
			return nil, err
		}
		rep.Groups = append(rep.Groups, gr)
		rep.GPUsAllocated += gr.Running * g.TP
	}
	rep.OK = rep.GPUsAllocated == rep.GPUsPlanned
	for _, gr := range rep.Groups {
		rep.OK = rep.OK && gr.Running == gr.Replicas && gr.Misplaced == 0 && len(gr.Pending) == 0
	}
	rep.ElapsedS = time.Since(start).Seconds()
	return rep, nil
}

// residency is the residency zone a group's pods must stay in: the site's
// zone when some workload is zone-constrained, else none.
func (v *Validator) residency(g Group) string {
	if !v.Topo.ZoneConstrained {
		return ""
	}
	return v.cluster[g.Cluster].Residency
}

// wait watches the pods of one Deployment (label fleetsim.io/group=name)
// until want are Running, or every pod exists and each one not Running has
// been found unschedulable and nothing changed for Settle, or Timeout.
func (v *Validator) wait(ctx context.Context, ns string, g Group, name string, want int) (GroupResult, error) {
	tg := v.target[g.Cluster]
	deadline := time.Now().Add(v.opt.Timeout)
	var last string
	stableSince := time.Now()
	for {
		gr, sig, settled, err := v.observe(ctx, tg, ns, g, name, want)
		if err != nil {
			return gr, err
		}
		if gr.Running+gr.Misplaced >= want {
			return gr, nil
		}
		if sig != last {
			last, stableSince = sig, time.Now()
		}
		if settled && time.Since(stableSince) >= v.opt.Settle {
			return gr, nil
		}
		if time.Now().After(deadline) {
			if len(gr.Pending) == 0 {
				gr.Pending = append(gr.Pending, PendingPod{Pod: name, Reason: fmt.Sprintf("only %d of %d pods created within %v", gr.Running+gr.Misplaced, want, v.opt.Timeout)})
			}
			return gr, nil
		}
		select {
		case <-ctx.Done():
			return gr, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// observe lists a Deployment's pods once.
func (v *Validator) observe(ctx context.Context, tg *Target, ns string, g Group, name string, want int) (gr GroupResult, sig string, settled bool, err error) {
	gr.Group = g
	pods, err := tg.CS.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "fleetsim.io/group=" + name})
	if err != nil {
		return gr, "", false, fmt.Errorf("%s: list pods: %w", tg.Name, err)
	}
	nodes, err := tg.CS.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return gr, "", false, fmt.Errorf("%s: list nodes: %w", tg.Name, err)
	}
	labels := map[string]map[string]string{}
	for _, n := range nodes.Items {
		labels[n.Name] = n.Labels
	}
	settled = true
	live := 0
	var parts []string
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.DeletionTimestamp != nil {
			continue
		}
		live++
		parts = append(parts, p.Name+"/"+string(p.Status.Phase)+"/"+p.Spec.NodeName)
		if p.Status.Phase == corev1.PodRunning && v.opt.RealNodes && !podReady(p) {
			gr.Pending = append(gr.Pending, PendingPod{Pod: p.Name, Reason: notReadyReason(p)})
			settled = false
			continue
		}
		if p.Status.Phase == corev1.PodRunning {
			l := labels[p.Spec.NodeName]
			if l[LabelGPU] == g.GPU && (name != g.Name() || (l[LabelRegion] == g.Site && l[LabelZone] == g.Cluster)) {
				gr.Running++
			} else {
				gr.Misplaced++
			}
			continue
		}
		reason, unschedulable := v.pendingReason(ctx, tg, p)
		settled = settled && unschedulable
		gr.Pending = append(gr.Pending, PendingPod{Pod: p.Name, Reason: reason})
	}
	settled = settled && live >= want
	return gr, strings.Join(parts, ","), settled, nil
}

// pendingReason is the scheduler's word on a pod: its latest
// FailedScheduling event, else its PodScheduled condition.
func (v *Validator) pendingReason(ctx context.Context, tg *Target, p *corev1.Pod) (string, bool) {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			msg := c.Message
			evs, err := tg.CS.CoreV1().Events(p.Namespace).List(ctx, metav1.ListOptions{
				FieldSelector: "involvedObject.name=" + p.Name + ",reason=FailedScheduling"})
			if err == nil && len(evs.Items) > 0 {
				sort.Slice(evs.Items, func(i, j int) bool { return evs.Items[i].LastTimestamp.Before(&evs.Items[j].LastTimestamp) })
				msg = evs.Items[len(evs.Items)-1].Message
			}
			return "FailedScheduling: " + msg, true
		}
	}
	if p.Spec.NodeName != "" {
		if v.opt.RealNodes {
			return notReadyReason(p), false
		}
		return "bound to " + p.Spec.NodeName + ", not yet Running", false
	}
	return "not yet scheduled", false
}

// FailSite removes one site's nodes (cordon, then delete them and the
// pods they ran, as when a site is lost) while the strategy runs, scales
// the site's Deployments to zero, and offers each displaced group's
// replicas to the remaining clusters with its GPU type (outside the site,
// within its residency zone when workloads are zone-constrained), one
// cluster after another in scenario order, as failover Deployments the
// real scheduler places. Call it after Check; Restore undoes it.
func (v *Validator) FailSite(ctx context.Context, ps planner.PlannedStrategy, site string) (*FailureReport, error) {
	if v.opt.RealNodes && (v.opt.LoseNodes == nil || v.opt.RestoreNodes == nil) {
		return nil, errors.New("fail site: on real nodes it needs Options.LoseNodes and RestoreNodes (a deleted Node's running kubelet registers it again)")
	}
	groups, err := v.Topo.Groups(ps)
	if err != nil {
		return nil, err
	}
	ns := namespace(ps.Name)
	fr := &FailureReport{Site: site, PlacedOn: map[string]int{}}
	for i := range v.Topo.Clusters {
		c := &v.Topo.Clusters[i]
		if c.Region != site {
			continue
		}
		tg := v.target[c.ID()]
		for _, n := range c.Nodes {
			patch := []byte(`{"spec":{"unschedulable":true}}`)
			if _, err := tg.CS.CoreV1().Nodes().Patch(ctx, n.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
				return nil, fmt.Errorf("cordon %s: %w", n.Name, err)
			}
		}
		if v.opt.RealNodes {
			// Stop the kubelets first: a running one would register its
			// deleted Node again.
			if err := v.opt.LoseNodes(ctx, tg, c.Nodes); err != nil {
				return nil, fmt.Errorf("lose the nodes of cluster %s: %w", c.ID(), err)
			}
		}
		for _, n := range c.Nodes {
			if tg.Agent != nil {
				tg.Agent.Forget(n.Name)
			}
			if err := deletePods(ctx, tg.CS, "spec.nodeName="+n.Name); err != nil {
				return nil, err
			}
			if err := tg.CS.CoreV1().Nodes().Delete(ctx, n.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("delete node %s: %w", n.Name, err)
			}
			fr.NodesRemoved++
		}
	}
	for _, g := range groups {
		if g.Site != site {
			continue
		}
		tg := v.target[g.Cluster]
		if err := scale(ctx, tg.CS, ns, g.Name(), 0); err != nil {
			return nil, err
		}
		fr.Displaced += g.Replicas
		left := g.Replicas
		for i := range v.Topo.Clusters {
			c := &v.Topo.Clusters[i]
			if left == 0 {
				break
			}
			res := v.residency(g)
			if c.Region == site || c.GPUs(g.GPU) == 0 || (res != "" && c.Residency != res) {
				continue
			}
			ctg := v.target[c.ID()]
			d := FailoverObjects(ns, g, c.ID(), res, left)
			v.tune(d)
			if _, err := ctg.CS.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
				return nil, fmt.Errorf("%s: failover deployment %s: %w", ctg.Name, d.Name, err)
			}
			fg := g
			fg.Cluster = c.ID()
			gr, err := v.wait(ctx, ns, fg, d.Name, left)
			if err != nil {
				return nil, err
			}
			if gr.Running > 0 {
				fr.PlacedOn[c.ID()] += gr.Running
			}
			fr.Placed += gr.Running
			left -= gr.Running
			if left > 0 {
				fr.Pending = append(fr.Pending, gr.Pending...)
				// Keep only what was placed, so the next cluster is offered the rest.
				if err := scale(ctx, ctg.CS, ns, d.Name, gr.Running); err != nil {
					return nil, err
				}
			}
		}
		if left > 0 && len(fr.Pending) == 0 {
			fr.Pending = append(fr.Pending, PendingPod{Pod: g.Name(), Reason: "no other cluster has " + g.GPU + " GPUs" + residencyNote(v.residency(g))})
		}
		fr.ShortReplicas += left
		fr.ShortGPUs += left * g.TP
	}
	v.logf("strategy %s, site %s down: %d nodes removed, %d of %d displaced replicas placed elsewhere", ps.Name, site, fr.NodesRemoved, fr.Placed, fr.Displaced)
	return fr, nil
}

func residencyNote(res string) string {
	if res == "" {
		return ""
	}
	return " in residency zone " + res
}

// Restore puts back the nodes FailSite removed (the strategy's objects
// are removed by Cleanup): the node agent registers them again, or, with
// RealNodes, Options.RestoreNodes brings them back.
func (v *Validator) Restore(ctx context.Context, site string) error {
	if v.opt.RealNodes && v.opt.RestoreNodes == nil {
		return errors.New("restore: on real nodes it needs Options.RestoreNodes")
	}
	for i := range v.Topo.Clusters {
		c := &v.Topo.Clusters[i]
		if c.Region != site {
			continue
		}
		tg := v.target[c.ID()]
		if v.opt.RealNodes {
			if err := v.opt.RestoreNodes(ctx, tg, c.Nodes); err != nil {
				return fmt.Errorf("restore the nodes of cluster %s: %w", c.ID(), err)
			}
			continue
		}
		if err := tg.Agent.Register(ctx, c.Nodes); err != nil {
			return err
		}
	}
	return nil
}

// Cleanup deletes the strategy's objects (the Deployments, ReplicaSets,
// PodDisruptionBudgets and pods labelled as fleetsim's) from every target
// and waits until those pods are gone; with dropNamespace it then deletes
// the namespace too, if fleetsim made it. Nothing without fleetsim's label
// is touched.
func (v *Validator) Cleanup(ctx context.Context, strategy string, dropNamespace bool) error {
	ns := namespace(strategy)
	var errs []error
	bg := metav1.DeletePropagationBackground
	del := metav1.DeleteOptions{PropagationPolicy: &bg}
	ours := metav1.ListOptions{LabelSelector: LabelManaged + "=" + ManagedBy}
	for _, tg := range v.Targets {
		notFound := func(err error) error {
			if err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("%s: %w", tg.Name, err)
			}
			return nil
		}
		errs = append(errs,
			notFound(tg.CS.AppsV1().Deployments(ns).DeleteCollection(ctx, del, ours)),
			notFound(tg.CS.AppsV1().ReplicaSets(ns).DeleteCollection(ctx, del, ours)),
			notFound(tg.CS.PolicyV1().PodDisruptionBudgets(ns).DeleteCollection(ctx, del, ours)),
			deletePodsIn(ctx, tg.CS, ns, ours))
		if dropNamespace {
			got, err := tg.CS.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			if err == nil && got.Labels[LabelManaged] == ManagedBy {
				err = tg.CS.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
			}
			errs = append(errs, notFound(err))
		}
	}
	return errors.Join(errs...)
}

// scale sets a Deployment's replicas, reading its scale again when the
// deployment controller updated it in between (a conflict; with real
// kubelets the controller writes the Deployment's status often).
func scale(ctx context.Context, cs kubernetes.Interface, ns, name string, n int) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		s, err := cs.AppsV1().Deployments(ns).GetScale(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		s.Spec.Replicas = int32(n)
		_, err = cs.AppsV1().Deployments(ns).UpdateScale(ctx, name, s, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("scale %s: %w", name, err)
	}
	return nil
}

func deletePods(ctx context.Context, cs kubernetes.Interface, fieldSelector string) error {
	pods, err := cs.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{FieldSelector: fieldSelector})
	if err != nil {
		return err
	}
	zero := int64(0)
	for _, p := range pods.Items {
		if err := cs.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// deletePodsIn deletes a namespace's pods at once and waits until none is
// left (the node agent runs no kubelet to finish graceful deletions).
func deletePodsIn(ctx context.Context, cs kubernetes.Interface, ns string, sel metav1.ListOptions) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, sel)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil || len(pods.Items) == 0 {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("namespace %s: %d pods still there after 30 s", ns, len(pods.Items))
		}
		zero := int64(0)
		for _, p := range pods.Items {
			_ = cs.CoreV1().Pods(ns).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// tune applies the options' image and CPU and memory requests to a
// replica Deployment (quantities were checked by NewValidator).
func (v *Validator) tune(d *appsv1.Deployment) {
	for i := range d.Spec.Template.Spec.Containers {
		c := &d.Spec.Template.Spec.Containers[i]
		c.Image = v.opt.Image
		c.Resources.Requests[corev1.ResourceCPU] = resource.MustParse(v.opt.PodCPU)
		c.Resources.Requests[corev1.ResourceMemory] = resource.MustParse(v.opt.PodMemory)
	}
}

// podReady reports whether the pod's Ready condition is True.
func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// notReadyReason says why a bound pod on a real node is not yet serving:
// its phase and each waiting or terminated container's reason (for
// example ErrImageNeverPull, CrashLoopBackOff).
func notReadyReason(p *corev1.Pod) string {
	msg := "on " + p.Spec.NodeName + ", " + string(p.Status.Phase) + ", not Ready"
	for _, cs := range p.Status.ContainerStatuses {
		switch {
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "":
			msg += "; " + cs.Name + ": " + cs.State.Waiting.Reason
			if cs.State.Waiting.Message != "" {
				msg += ": " + cs.State.Waiting.Message
			}
		case cs.State.Terminated != nil:
			msg += fmt.Sprintf("; %s: terminated (%s, exit %d)", cs.Name, cs.State.Terminated.Reason, cs.State.Terminated.ExitCode)
		}
	}
	return msg
}

func (v *Validator) logf(format string, args ...any) {
	if v.opt.Log != nil {
		fmt.Fprintf(v.opt.Log, format+"\n", args...)
	}
}

var _ = appsv1.SchemeGroupVersion

// RemoveNodes deletes the nodes (and node leases) Setup registered, so
// that a cluster fleetsim did not create (--kubeconfig) is left as found.
func (v *Validator) RemoveNodes(ctx context.Context) error {
	v.StopAgents()
	if v.opt.RealNodes {
		return nil
	}
	var errs []error
	for i := range v.Topo.Clusters {
		c := &v.Topo.Clusters[i]
		tg := v.target[c.ID()]
		for _, n := range c.Nodes {
			if tg.Agent != nil {
				tg.Agent.Forget(n.Name)
			}
			if err := tg.CS.CoreV1().Nodes().Delete(ctx, n.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, err)
			}
			if err := tg.CS.CoordinationV1().Leases(corev1.NamespaceNodeLease).Delete(ctx, n.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
