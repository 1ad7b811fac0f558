package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/fleetsim/fleetsim/kindbackend"
	"github.com/fleetsim/fleetsim/kubeplan"
	"github.com/fleetsim/fleetsim/measure"
	"github.com/fleetsim/fleetsim/planner"
	"github.com/fleetsim/fleetsim/serving"
)

// checkKind refuses, as bad input (exit 2), a kind run this machine
// should not attempt: more GPU nodes than --kind-max-nodes, or a node or
// replica image Docker does not have.
func checkKind(ctx context.Context, f *validatePlanFlags, topo *kubeplan.Topology) error {
	n := 0
	for _, c := range topo.Clusters {
		n += len(c.Nodes)
	}
	if n > f.kindMaxNodes {
		return invalid(fmt.Errorf("--backend kind: the scenario has %d GPU nodes, each a kind worker container; the limit is %d (--kind-max-nodes raises it)", n, f.kindMaxNodes))
	}
	var errs []error
	for _, img := range []struct{ flag, image, script string }{
		{"--kind-image", f.kindImage, "scripts/kind-node-image.sh"},
		{"--replica-image", f.replicaImage, "scripts/build-image.sh"},
	} {
		if err := kindbackend.ImageExists(ctx, img.image); err != nil {
			errs = append(errs, fmt.Errorf("%s %s: not a local Docker image (%s builds it): %w", img.flag, img.image, img.script, err))
		}
	}
	if len(errs) > 0 {
		return invalid(errors.Join(errs...))
	}
	return nil
}

// startKindTargets creates one kind cluster per scenario cluster (or one
// for all with --control-planes shared), each with one worker node per GPU
// node, loads the replica image into it, renames the topology's nodes to
// the kind workers and labels them and advertises their GPUs. The
// teardown deletes every cluster k created (only those).
func startKindTargets(ctx context.Context, k *kindbackend.Kind, f *validatePlanFlags, topo *kubeplan.Topology, logw io.Writer) ([]*kubeplan.Target, func() error, error) {
	teardown := func() error {
		names := k.Created()
		var errs []error
		for i := len(names) - 1; i >= 0; i-- {
			fmt.Fprintf(logw, "kind: deleting cluster %s\n", names[i])
			errs = append(errs, k.Delete(names[i]))
		}
		return errors.Join(errs...)
	}
	base, err := kindbackend.NewName()
	if err != nil {
		return nil, teardown, err
	}
	var groups [][]int // indexes into topo.Clusters
	if f.controlPlanes == "shared" {
		var all []int
		for i := range topo.Clusters {
			all = append(all, i)
		}
		groups = append(groups, all)
	} else {
		for i := range topo.Clusters {
			groups = append(groups, []int{i})
		}
	}
	var targets []*kubeplan.Target
	for gi, g := range groups {
		name := base
		if len(groups) > 1 {
			name = fmt.Sprintf("%s-%d", base, gi)
		}
		workers := 0
		var ids []string
		for _, ci := range g {
			workers += len(topo.Clusters[ci].Nodes)
			ids = append(ids, topo.Clusters[ci].ID())
		}
		t0 := time.Now()
		fmt.Fprintf(logw, "kind: creating cluster %s (1 control plane, %d workers) for %v\n", name, workers, ids)
		if err := k.Create(ctx, name, workers, f.kindImage); err != nil {
			return nil, teardown, err
		}
		cfg, err := k.RESTConfig(name)
		if err != nil {
			return nil, teardown, err
		}
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return nil, teardown, err
		}
		if err := kindbackend.WaitNodesReady(ctx, cs, workers+1, kindbackend.WaitForReady); err != nil {
			return nil, teardown, fmt.Errorf("kind cluster %s: %w", name, err)
		}
		fmt.Fprintf(logw, "kind: cluster %s: %d nodes Ready in %.1fs\n", name, workers+1, time.Since(t0).Seconds())
		t1 := time.Now()
		if err := k.LoadImage(ctx, name, f.replicaImage); err != nil {
			return nil, teardown, err
		}
		fmt.Fprintf(logw, "kind: cluster %s: loaded %s in %.1fs\n", name, f.replicaImage, time.Since(t1).Seconds())
		names, err := kindbackend.Workers(ctx, cs)
		if err != nil {
			return nil, teardown, fmt.Errorf("kind cluster %s: %w", name, err)
		}
		var nodes []kubeplan.Node
		for _, ci := range g {
			c := &topo.Clusters[ci]
			if err := kindbackend.MapNodes(c.Nodes, names); err != nil {
				return nil, teardown, fmt.Errorf("kind cluster %s, cluster %s: %w", name, c.ID(), err)
			}
			names = names[len(c.Nodes):]
			nodes = append(nodes, c.Nodes...)
		}
		// 3 s: long enough for a kubelet status update (every 10 s by
		// default, but it patches only what changed) to have had a chance
		// to undo the patch if it were going to on the next sync.
		if err := kindbackend.Adopt(ctx, cs, nodes, 3*time.Second); err != nil {
			return nil, teardown, fmt.Errorf("kind cluster %s: %w", name, err)
		}
		for _, n := range nodes {
			fmt.Fprintf(logw, "kind: node %s is %s (%s, %d %s)\n", n.Name, n.Cluster, n.GPU, n.GPUs, kubeplan.ResourceGPU)
		}
		targets = append(targets, &kubeplan.Target{Name: name, CS: cs, Clusters: ids})
		if f.keep {
			fmt.Fprintf(logw, "kind cluster %s: KUBECONFIG=%s\n", name, filepath.Join(os.TempDir(), name+".kubeconfig"))
		}
	}
	return targets, teardown, nil
}

// kindEndpoints exposes each pool of strategy ps (one deployment's
// replicas at one site, as the simulator pools them) through a NodePort
// Service and returns measure.Options.Endpoints for them. A pool in one
// scenario cluster gets its group's Service; one split over several
// scenario clusters of its site gets one Service over all of their
// planned pods when they share a kind cluster (--control-planes shared).
// A pool whose groups are in different kind clusters, or differ in GPU
// type or TP, has no one Service: it is left out (measured in-process),
// with a line on logw saying why.
func kindEndpoints(ctx context.Context, topo *kubeplan.Topology, targets []*kubeplan.Target, ps planner.PlannedStrategy, logw io.Writer) (map[string]string, error) {
	groups, err := topo.Groups(ps)
	if err != nil {
		return nil, err
	}
	key := func(g kubeplan.Group) string {
		model := g.Model
		if m, ok := serving.LookupModel(model); ok {
			model = m.ID // measure keys pools by the catalog id
		}
		return measure.PoolKey(g.Site, model)
	}
	var keys []string // in the order of groups, for a stable log
	pools := map[string][]kubeplan.Group{}
	for _, g := range groups {
		if g.Replicas <= 0 {
			continue
		}
		k := key(g)
		if _, ok := pools[k]; !ok {
			keys = append(keys, k)
		}
		pools[k] = append(pools[k], g)
	}
	targetOf := func(g kubeplan.Group) (int, error) {
		ti := slices.IndexFunc(targets, func(t *kubeplan.Target) bool { return slices.Contains(t.Clusters, g.Cluster) })
		if ti < 0 {
			return -1, fmt.Errorf("group %s: no kind cluster holds cluster %s", g.Name(), g.Cluster)
		}
		return ti, nil
	}
	eps := map[string]string{}
	for _, k := range keys {
		gs := pools[k]
		ti, err := targetOf(gs[0])
		if err != nil {
			return nil, err
		}
		var names []string
		pods, inOne := 0, true
		for _, g := range gs {
			names = append(names, g.Name())
			pods += g.Replicas
			tj, err := targetOf(g)
			if err != nil {
				return nil, err
			}
			inOne = inOne && tj == ti
		}
		svc := kubeplan.ServiceObject(gs[0])
		if len(gs) > 1 {
			if !inOne {
				fmt.Fprintf(logw, "strategy %s: pool %s spans %d scenario clusters on different kind clusters, no single Service reaches it: measured on in-process emulators (--control-planes shared puts them on one)\n", ps.Name, k, len(gs))
				continue
			}
			if svc, err = kubeplan.PoolServiceObject(gs); err != nil {
				fmt.Fprintf(logw, "strategy %s: pool %s: %v: measured on in-process emulators\n", ps.Name, k, err)
				continue
			}
		}
		u, err := kindbackend.ExposeService(ctx, targets[ti].CS, svc)
		if err != nil {
			return nil, fmt.Errorf("kind cluster %s: %w", targets[ti].Name, err)
		}
		fmt.Fprintf(logw, "kind: pool %s (%d pods of %s) at %s\n", k, pods, strings.Join(names, ", "), u)
		eps[k] = u
	}
	return eps, nil
}

// kindFailureHooks are kubeplan.Options.LoseNodes and RestoreNodes on kind
// clusters k created (a target's Name is its kind cluster): a site is lost
// by stopping its worker containers (docker stop), so that their kubelets
// cannot register the Nodes kubeplan then deletes; it comes back by
// starting them, waiting until the kubelets have registered the nodes
// Ready (up to kindbackend.WaitForReady) and adopting them again (labels
// and GPUs, read back after 3 s as at start).
func kindFailureHooks(k *kindbackend.Kind, logw io.Writer) (lose, restore func(context.Context, *kubeplan.Target, []kubeplan.Node) error) {
	names := func(nodes []kubeplan.Node) []string {
		var out []string
		for _, n := range nodes {
			out = append(out, n.Name)
		}
		return out
	}
	lose = func(ctx context.Context, tg *kubeplan.Target, nodes []kubeplan.Node) error {
		t0 := time.Now()
		if err := k.StopNodes(ctx, tg.Name, names(nodes)); err != nil {
			return err
		}
		fmt.Fprintf(logw, "kind: cluster %s: stopped node containers %v in %.1fs\n", tg.Name, names(nodes), time.Since(t0).Seconds())
		return nil
	}
	restore = func(ctx context.Context, tg *kubeplan.Target, nodes []kubeplan.Node) error {
		t0 := time.Now()
		if err := k.StartNodes(ctx, tg.Name, names(nodes)); err != nil {
			return err
		}
		if err := kindbackend.Readopt(ctx, tg.CS, nodes, kindbackend.WaitForReady, 3*time.Second); err != nil {
			return fmt.Errorf("kind cluster %s: %w", tg.Name, err)
		}
		fmt.Fprintf(logw, "kind: cluster %s: node containers %v started, Ready and adopted again in %.1fs\n", tg.Name, names(nodes), time.Since(t0).Seconds())
		return nil
	}
	return lose, restore
}
