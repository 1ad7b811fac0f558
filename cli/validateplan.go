package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/fleetsim/fleetsim/controlplane"
	"github.com/fleetsim/fleetsim/kindbackend"
	"github.com/fleetsim/fleetsim/kubeplan"
	"github.com/fleetsim/fleetsim/measure"
	"github.com/fleetsim/fleetsim/planner"
	"github.com/fleetsim/fleetsim/scenarios"
)

type validatePlanFlags struct {
	backend, controlPlanes, binDir, kubeconfig, failSite, output string
	strategies                                                   []string
	keep, requireFailover, quiet                                 bool
	timeout, measure                                             time.Duration
	measureScale                                                 float64
	kindImage, replicaImage                                      string
	kindMaxNodes                                                 int
}

func newValidatePlanCommand(streams Streams) *cobra.Command {
	var f validatePlanFlags
	cmd := &cobra.Command{
		Use:   "validate-plan PLAN [SCENARIO]",
		Short: "Check a plan on real Kubernetes control planes: the real scheduler places every planned replica, or says why not",
		Long: `validate-plan starts a real Kubernetes control plane (etcd, kube-apiserver,
kube-scheduler, kube-controller-manager, built by scripts/build-controlplane.sh)
per cluster of the plan's scenario (or one shared), registers the clusters'
GPU nodes, applies each planned strategy as Deployments with GPU requests and
node affinity to the planned sites, and checks that every replica is Running
on a node of its site and GPU type, nothing is Pending (a Pending pod is
reported with the scheduler's reason) and the GPUs allocated equal the GPUs
the plan pays for. With --fail-site it then removes a site's nodes and asks
the scheduler whether the other clusters can host the displaced replicas.
Everything it started is stopped and removed at the end, also on Ctrl-C.

With --backend kind it creates kind clusters instead (one worker node per GPU
node, labelled and advertising nvidia.com/gpu), the replica pods really run
fleetsim emulate from --replica-image, and a replica counts only when its pod
is Running and Ready; --fail-site stops the site's worker containers (and
starts them again afterwards), and --measure sends its requests to the pods
through NodePort Services (docs/validate-plan.md).

Exit codes: 0 every check passed, 1 a replica was not placed as planned (or,
with --require-failover, a site's replicas did not fit elsewhere), 2 bad input.`,
		Args: argsRange(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runValidatePlan(cmd.Context(), args, &f, streams)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.backend, "backend", "local", "local (control planes as local processes, a node agent plays the kubelets) or kind (kind clusters whose worker nodes run the replicas; docs/kind.md)")
	fl.StringVar(&f.kindImage, "kind-image", kindbackend.DefaultNodeImage, "with --backend kind: the kind node image (scripts/kind-node-image.sh builds it)")
	fl.StringVar(&f.replicaImage, "replica-image", kindbackend.DefaultReplicaImage, "with --backend kind: the image the replica pods run (scripts/build-image.sh builds it)")
	fl.IntVar(&f.kindMaxNodes, "kind-max-nodes", 12, "with --backend kind: refuse plans whose scenario has more GPU nodes (one kind worker container each) than this")
	fl.StringVar(&f.controlPlanes, "control-planes", "per-cluster", "per-cluster (one control plane per scenario cluster) or shared (one for all)")
	fl.StringVar(&f.binDir, "bin-dir", "", "folder with etcd, kube-apiserver, kube-scheduler, kube-controller-manager (default $FLEETSIM_CONTROLPLANE_DIR/bin or .cache/controlplane/bin)")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "use this existing cluster instead of starting control planes (only fleetsim's own nodes and namespaces are touched, and removed)")
	fl.StringSliceVar(&f.strategies, "strategy", nil, "check only these planned strategies (default all)")
	fl.StringVar(&f.failSite, "fail-site", "", "after the check, remove this site's nodes (a site name, all, or none; default all when the plan was made with --survive, else none)")
	fl.BoolVar(&f.requireFailover, "require-failover", false, "fail when a removed site's replicas do not all fit on the other clusters")
	fl.BoolVar(&f.keep, "keep", false, "keep the control planes and objects after the check until Ctrl-C (prints the kubeconfig paths)")
	fl.DurationVar(&f.timeout, "timeout", 120*time.Second, "longest wait for the scheduler and controllers, per deployment")
	fl.DurationVar(&f.measure, "measure", 0, "after each strategy's check, replay its load for this long against its replicas (real-time servers in-process; with --backend kind, the pods) behind WAN-delay proxies and print predicted next to measured latency (docs/measure.md)")
	fl.Float64Var(&f.measureScale, "measure-scale", 0.1, "with --measure: multiply every user group's rate by this, so one machine can serve the run")
	fl.StringVar(&f.output, "output", "table", "table or json")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print nothing on stderr but errors")
	return cmd
}

// validatePlanReport is the JSON output.
type validatePlanReport struct {
	Plan          string                     `json:"plan"`
	Scenario      string                     `json:"scenario"`
	ControlPlanes int                        `json:"controlPlanes"`
	Nodes         int                        `json:"nodes"`
	Strategies    []*kubeplan.StrategyReport `json:"strategies"`
	// Measured holds, per strategy checked with --measure, predicted next
	// to measured latency.
	Measured []*measure.Report `json:"measured,omitempty"`
	OK       bool              `json:"ok"`
}

func runValidatePlan(ctx context.Context, args []string, f *validatePlanFlags, streams Streams) (err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	switch {
	case f.backend != "local" && f.backend != "kind":
		return invalid(fmt.Errorf("--backend %q: want local or kind", f.backend))
	case f.controlPlanes != "per-cluster" && f.controlPlanes != "shared":
		return invalid(fmt.Errorf("--control-planes %q: want per-cluster or shared", f.controlPlanes))
	case f.output != "table" && f.output != "json":
		return invalid(fmt.Errorf("--output %q: want table or json", f.output))
	case f.timeout <= 0:
		return invalid(fmt.Errorf("--timeout %v: must be > 0", f.timeout))
	case f.measure < 0:
		return invalid(fmt.Errorf("--measure %v: must be > 0", f.measure))
	case !(f.measureScale > 0) || f.measureScale > 1000:
		return invalid(fmt.Errorf("--measure-scale %v: must be in (0, 1000]", f.measureScale))
	case f.backend == "kind" && f.kubeconfig != "":
		return invalid(errors.New("--backend kind and --kubeconfig: choose one (kind creates its own clusters)"))
	case f.backend == "kind" && f.kindMaxNodes < 1:
		return invalid(fmt.Errorf("--kind-max-nodes %d: must be >= 1", f.kindMaxNodes))
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		return invalid(err)
	}
	pf, err := planner.ParsePlan(args[0], data)
	if err != nil {
		return invalid(err)
	}
	scen := pf.Metadata.Scenario
	if len(args) == 2 {
		scen = args[1]
	}
	if scen == "" {
		return invalid(fmt.Errorf("%s: metadata.scenario is empty; name the scenario as the second argument", args[0]))
	}
	s, err := openPlanScenario(scen, args[0])
	if err != nil {
		return invalid(err)
	}
	topo, err := kubeplan.NewTopology(s)
	if err != nil {
		return invalid(err)
	}
	var strategies []planner.PlannedStrategy
	for _, ps := range pf.Strategies {
		if len(f.strategies) == 0 || slices.Contains(f.strategies, ps.Name) {
			strategies = append(strategies, ps)
		}
	}
	for _, want := range f.strategies {
		if !slices.ContainsFunc(pf.Strategies, func(ps planner.PlannedStrategy) bool { return ps.Name == want }) {
			return invalid(fmt.Errorf("--strategy %s: not in %s", want, args[0]))
		}
	}
	sites := map[string]bool{}
	for _, ps := range strategies {
		if _, err := topo.Groups(ps); err != nil {
			return invalid(fmt.Errorf("%s: %w", args[0], err))
		}
		for _, d := range ps.Deployments {
			for site, n := range d.Replicas {
				if n > 0 {
					sites[site] = true
				}
			}
		}
	}
	failSites, err := pickFailSites(f.failSite, pf.Metadata.Survive, sites)
	if err != nil {
		return invalid(err)
	}
	logw := streams.Err
	if f.quiet {
		logw = io.Discard
	}
	opts := kubeplan.Options{Timeout: f.timeout, Log: logw}
	var kindClusters *kindbackend.Kind
	if f.backend == "kind" {
		if err := checkKind(ctx, f, topo); err != nil {
			return err
		}
		kindClusters = kindbackend.New(logw)
		// A site is lost by stopping its worker containers; Restore starts
		// them again and re-adopts the nodes.
		opts.LoseNodes, opts.RestoreNodes = kindFailureHooks(kindClusters, logw)
		opts.RealNodes = true
		opts.Image = f.replicaImage
		// The replica pods are emulators: a few millicores and a little
		// memory each (fleetsim emulate idles at a few MiB), so that a
		// kind worker on a 2-core host holds every replica of an 8-GPU node.
		opts.PodCPU, opts.PodMemory = "10m", "64Mi"
	}

	// Ctrl-C and SIGTERM cancel the run; the deferred teardown still runs.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	var targets []*kubeplan.Target
	var teardown func() error
	if f.backend == "kind" {
		targets, teardown, err = startKindTargets(ctx, kindClusters, f, topo, logw)
	} else {
		targets, teardown, err = startTargets(ctx, f, topo, logw)
	}
	defer func() {
		if terr := teardown(); terr != nil && err == nil {
			err = terr
		}
	}()
	if err != nil {
		return err
	}
	v, err := kubeplan.NewValidator(topo, targets, opts)
	if err != nil {
		return err
	}
	// The agents stop with runCtx, before the control planes. On an
	// existing cluster (--kubeconfig) the nodes and namespaces fleetsim made
	// are removed, even after Ctrl-C (with a fresh, bounded context).
	runCtx, cancelAgents := context.WithCancel(ctx)
	defer cancelAgents()
	if f.kubeconfig != "" {
		defer func() {
			cctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			for _, ps := range strategies {
				_ = v.Cleanup(cctx, ps.Name, true)
			}
			if rerr := v.RemoveNodes(cctx); rerr != nil && err == nil {
				err = rerr
			}
		}()
	}
	if err := v.Setup(runCtx); err != nil {
		return err
	}
	rep := validatePlanReport{Plan: args[0], Scenario: scen, ControlPlanes: len(targets), OK: true}
	for _, c := range topo.Clusters {
		rep.Nodes += len(c.Nodes)
	}
	for _, ps := range strategies {
		sr, err := v.Check(runCtx, ps)
		if err != nil {
			return err
		}
		failed := false
		for _, site := range failSites {
			if !siteUsed(ps, site) {
				continue
			}
			if err := v.Cleanup(runCtx, ps.Name, false); err != nil {
				return err
			}
			if _, err := v.Check(runCtx, ps); err != nil {
				return err
			}
			fr, err := v.FailSite(runCtx, ps, site)
			if err != nil {
				return err
			}
			sr.Failures = append(sr.Failures, *fr)
			if err := v.Restore(runCtx, site); err != nil {
				return err
			}
			if f.requireFailover && fr.ShortReplicas > 0 {
				sr.OK = false
			}
			failed = true
		}
		if failed && f.measure > 0 && f.backend == "kind" {
			// The failures left the failover Deployments and the site's
			// Deployments at zero: the kind pods that --measure reaches must
			// be the planned ones again.
			if err := v.Cleanup(runCtx, ps.Name, false); err != nil {
				return err
			}
			again, err := v.Check(runCtx, ps)
			if err != nil {
				return err
			}
			sr.OK = sr.OK && again.OK
		}
		if f.measure > 0 {
			if !sr.OK {
				fmt.Fprintf(logw, "strategy %s: not measured: its replicas are not all Running as planned\n", ps.Name)
			} else {
				one := *pf // only this strategy: others (planner-choice) may not be in the scenario
				one.Strategies = []planner.PlannedStrategy{ps}
				var eps map[string]string
				if f.backend == "kind" {
					// The kind pods serve the run, through NodePort Services.
					if eps, err = kindEndpoints(runCtx, topo, targets, ps, logw); err != nil {
						return fmt.Errorf("strategy %s: measure: %w", ps.Name, err)
					}
				}
				mr, err := measure.Run(runCtx, measure.Options{Scenario: s, Plan: &one, Strategy: ps.Name, Duration: f.measure, Scale: f.measureScale, Log: logw, Endpoints: eps})
				if err != nil {
					return fmt.Errorf("strategy %s: measure: %w", ps.Name, err)
				}
				rep.Measured = append(rep.Measured, mr)
			}
		}
		if !f.keep {
			if err := v.Cleanup(runCtx, ps.Name, true); err != nil {
				return err
			}
		}
		rep.Strategies = append(rep.Strategies, sr)
		rep.OK = rep.OK && sr.OK
	}
	if f.output == "json" {
		enc := json.NewEncoder(streams.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printValidatePlan(streams.Out, &rep)
		for _, mr := range rep.Measured {
			fmt.Fprintf(streams.Out, "\nmeasured against predicted, strategy %s (rates × %g, %gs window): median |difference| %.1f%%\n", mr.Strategy, mr.Scale, mr.DurationS, mr.MedianAbsDiffPct())
			if err := mr.WriteTable(streams.Out); err != nil {
				return err
			}
		}
	}
	if f.keep {
		fmt.Fprintln(logw, "--keep: control planes running; Ctrl-C stops and removes them")
		<-ctx.Done()
	}
	if !rep.OK {
		return fmt.Errorf("%s: not every planned replica was placed as planned (see the report)", args[0])
	}
	return nil
}

// openPlanScenario opens a plan's scenario: a built-in name or a file,
// relative to the working folder or else to the plan's folder.
func openPlanScenario(name, planPath string) (*scenarios.Scenario, error) {
	s, err := scenarios.Open(name)
	if err == nil || filepath.IsAbs(name) {
		return s, err
	}
	alt := filepath.Join(filepath.Dir(planPath), name)
	if _, statErr := os.Stat(alt); statErr == nil {
		return scenarios.Open(alt)
	}
	return nil, err
}

func pickFailSites(flag, survive string, used map[string]bool) ([]string, error) {
	all := make([]string, 0, len(used))
	for s := range used {
		all = append(all, s)
	}
	sort.Strings(all)
	switch flag {
	case "":
		if survive == "oneSiteDown" {
			return all, nil
		}
		return nil, nil
	case "none":
		return nil, nil
	case "all":
		return all, nil
	}
	if !used[flag] {
		return nil, fmt.Errorf("--fail-site %s: no planned replicas there (sites: %s)", flag, strings.Join(all, ", "))
	}
	return []string{flag}, nil
}

func siteUsed(ps planner.PlannedStrategy, site string) bool {
	for _, d := range ps.Deployments {
		if d.Replicas[site] > 0 {
			return true
		}
	}
	return false
}

// startTargets starts the control planes (or connects to --kubeconfig)
// and returns a teardown that stops them.
func startTargets(ctx context.Context, f *validatePlanFlags, topo *kubeplan.Topology, logw io.Writer) ([]*kubeplan.Target, func() error, error) {
	var cps []*controlplane.ControlPlane
	teardown := func() error {
		var errs []error
		for i := len(cps) - 1; i >= 0; i-- {
			errs = append(errs, cps[i].Stop())
		}
		return errors.Join(errs...)
	}
	if f.kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", f.kubeconfig)
		if err != nil {
			return nil, teardown, invalid(fmt.Errorf("--kubeconfig: %w", err))
		}
		// client-go's default of 5 requests/s would pace the node agent.
		cfg.QPS, cfg.Burst = 200, 400
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return nil, teardown, invalid(err)
		}
		t := &kubeplan.Target{Name: f.kubeconfig, CS: cs}
		for _, c := range topo.Clusters {
			t.Clusters = append(t.Clusters, c.ID())
		}
		return []*kubeplan.Target{t}, teardown, nil
	}
	bin := f.binDir
	if bin == "" {
		if d := os.Getenv("FLEETSIM_CONTROLPLANE_DIR"); d != "" {
			bin = filepath.Join(d, "bin")
		} else {
			bin = filepath.Join(".cache", "controlplane", "bin")
		}
	}
	if m := controlplane.Missing(bin); len(m) > 0 {
		return nil, teardown, fmt.Errorf("control plane binaries missing in %s: %s; build them with scripts/build-controlplane.sh (about 25 min cold, seconds when cached)", bin, strings.Join(m, ", "))
	}
	groups := [][]string{}
	if f.controlPlanes == "shared" {
		var all []string
		for _, c := range topo.Clusters {
			all = append(all, c.ID())
		}
		groups = append(groups, all)
	} else {
		for _, c := range topo.Clusters {
			groups = append(groups, []string{c.ID()})
		}
	}
	var targets []*kubeplan.Target
	for _, g := range groups {
		name := "shared"
		if f.controlPlanes != "shared" {
			name = g[0]
		}
		cp, err := controlplane.Start(ctx, controlplane.Options{BinDir: bin, Name: name, Log: logw})
		if cp != nil && err == nil {
			cps = append(cps, cp)
		}
		if err != nil {
			return nil, teardown, fmt.Errorf("control plane %s: %w", name, err)
		}
		cs, err := kubernetes.NewForConfig(cp.RESTConfig)
		if err != nil {
			return nil, teardown, err
		}
		targets = append(targets, &kubeplan.Target{Name: name, CS: cs, Clusters: g})
		if f.keep {
			fmt.Fprintf(logw, "control plane %s: KUBECONFIG=%s\n", name, cp.Kubeconfig)
		}
	}
	return targets, teardown, nil
}

func printValidatePlan(w io.Writer, rep *validatePlanReport) {
	fmt.Fprintf(w, "plan %s (scenario %s): %d control plane(s), %d nodes\n", rep.Plan, rep.Scenario, rep.ControlPlanes, rep.Nodes)
	for _, sr := range rep.Strategies {
		verdict := "PASS"
		if !sr.OK {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "\n%s  strategy %s: GPUs planned %d, allocated %d (%.1fs)\n", verdict, sr.Strategy, sr.GPUsPlanned, sr.GPUsAllocated, sr.ElapsedS)
		t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
		t.Header("site", "cluster", "model", "gpu", "tp", "planned", "running", "misplaced", "pending")
		for _, g := range sr.Groups {
			_ = t.Append(g.Site, g.Cluster, g.Model, g.GPU, fmt.Sprint(g.TP), fmt.Sprint(g.Replicas), fmt.Sprint(g.Running), fmt.Sprint(g.Misplaced), fmt.Sprint(len(g.Pending)))
		}
		_ = t.Render()
		for _, g := range sr.Groups {
			for _, p := range uniqueReasons(g.Pending) {
				fmt.Fprintf(w, "  pending %s: %s\n", g.Name(), p)
			}
		}
		for _, fr := range sr.Failures {
			fmt.Fprintf(w, "  site %s down (%d nodes removed): %d of %d displaced replicas fit elsewhere", fr.Site, fr.NodesRemoved, fr.Placed, fr.Displaced)
			if len(fr.PlacedOn) > 0 {
				var on []string
				for c, n := range fr.PlacedOn {
					on = append(on, fmt.Sprintf("%s %d", c, n))
				}
				sort.Strings(on)
				fmt.Fprintf(w, " (%s)", strings.Join(on, ", "))
			}
			if fr.ShortReplicas > 0 {
				fmt.Fprintf(w, "; short by %d replicas (%d GPUs)", fr.ShortReplicas, fr.ShortGPUs)
			}
			fmt.Fprintln(w)
			for _, p := range uniqueReasons(fr.Pending) {
				fmt.Fprintf(w, "    pending: %s\n", p)
			}
		}
	}
}

// uniqueReasons lists each distinct reason once, with its pod count.
func uniqueReasons(ps []kubeplan.PendingPod) []string {
	count := map[string]int{}
	var order []string
	for _, p := range ps {
		if count[p.Reason] == 0 {
			order = append(order, p.Reason)
		}
		count[p.Reason]++
	}
	out := make([]string, len(order))
	for i, r := range order {
		out[i] = fmt.Sprintf("%s (%d pods)", r, count[r])
	}
	return out
}
