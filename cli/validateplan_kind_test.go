package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetsim/fleetsim/kindbackend"
	"github.com/fleetsim/fleetsim/kubeplan"
)

const (
	kindPlan         = "testdata/kind-agentic.plan.yaml"
	kindPlanOverfull = "testdata/kind-two-regions-overfull.plan.yaml"
	kindPlanSplit    = "testdata/kind-split-site.plan.yaml"
)

// requireKind skips the test under -short, and when Docker or the node or
// replica image is missing (it fails instead when FLEETSIM_REQUIRE_KIND=1).
func requireKind(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("creates kind clusters")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, img := range []struct{ image, script string }{
		{kindbackend.DefaultNodeImage, "scripts/kind-node-image.sh"},
		{kindbackend.DefaultReplicaImage, "scripts/build-image.sh"},
	} {
		if err := kindbackend.ImageExists(ctx, img.image); err != nil {
			msg := "needs Docker and the image " + img.image + " (" + img.script + "): " + err.Error()
			if os.Getenv("FLEETSIM_REQUIRE_KIND") == "1" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// kindRunContext is the context the kind runs stop on: it ends a kind
// create's length (kindbackend.WaitForReady, which kind's create does not
// cut short) and a minute for the teardown before go test's -timeout
// would kill the test binary, so that a run that is too slow fails and
// still deletes its clusters. With less than 2 minutes of running left
// after that margin, the test fails at once, naming -timeout.
func kindRunContext(t *testing.T) context.Context {
	t.Helper()
	d, ok := t.Deadline()
	if !ok {
		return context.Background()
	}
	margin := kindbackend.WaitForReady + time.Minute
	if left := time.Until(d); left < margin+2*time.Minute {
		t.Fatalf("%v left before go test's -timeout; the kind test needs %v more than it takes (run go test -timeout 30m, as the README does)", left.Round(time.Second), margin+2*time.Minute)
	}
	ctx, cancel := context.WithDeadline(context.Background(), d.Add(-margin))
	t.Cleanup(cancel)
	return ctx
}

var kindCreated = regexp.MustCompile(`kind: creating cluster (fleetsim-[0-9a-f]+(?:-[0-9]+)?) `)

// assertKindClustersGone: every cluster the run's log says it created is
// gone, and no fleetsim-* cluster exists that did not exist before.
func assertKindClustersGone(t *testing.T, stderr string, before []string) {
	t.Helper()
	after, err := kindbackend.New(nil).List()
	if err != nil {
		t.Fatal(err)
	}
	created := kindCreated.FindAllStringSubmatch(stderr, -1)
	if len(created) == 0 {
		t.Errorf("the log names no created cluster:\n%s", stderr)
	}
	for _, m := range created {
		if slices.Contains(after, m[1]) {
			t.Errorf("kind cluster %s still exists after the run", m[1])
		}
	}
	for _, c := range after {
		if strings.HasPrefix(c, kindbackend.Prefix) && !slices.Contains(before, c) {
			t.Errorf("kind cluster %s appeared during the run and remains", c)
		}
	}
}

// TestIntegrationValidatePlanKind runs a small plan on two kind clusters
// (one per scenario cluster, one worker each) and then a broken variant
// on one shared cluster.
func TestIntegrationValidatePlanKind(t *testing.T) {
	requireKind(t)
	before, err := kindbackend.New(nil).List()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range before {
		if strings.HasPrefix(c, kindbackend.Prefix) {
			t.Logf("kind cluster %s, left by an earlier run, shares the CPU with this test (scripts/kind-clean.sh removes it)", c)
		}
	}
	ctx := kindRunContext(t)

	t.Run("fits", func(t *testing.T) {
		// The plan: one replica of TP 2 per site, serving chat from New
		// York and agent sessions from London.
		// --fail-site us-east: its worker container is stopped, its Node
		// deleted, and its replica goes to eu-west's kind cluster, whose
		// node has 6 GPUs free; then the container starts again and the
		// node is adopted again.
		// --measure: after the check, the calls of a 10 s window (rates ×
		// 2: about 17 chat calls to us-east and 7 agent sessions of 3
		// steps to eu-west) go to the kind pods through NodePort Services
		// and the delay proxies.
		r := runCtx(t, ctx, "validate-plan", kindPlan, "--backend", "kind", "--output", "json", "--timeout", "90s",
			"--fail-site", "us-east", "--require-failover", "--measure", "10s", "--measure-scale", "2")
		defer assertKindClustersGone(t, r.stderr, before)
		if r.err != nil {
			t.Fatalf("validate-plan: %v\n%s\n%s", r.err, r.stdout, r.stderr)
		}
		var rep validatePlanReport
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("json: %v\n%s", err, r.stdout)
		}
		// The plan file: us-east 1 and eu-west 1 replicas of TP 2, so 4
		// GPUs (each pod requests 2), on one kind cluster per scenario
		// cluster.
		if !rep.OK || rep.ControlPlanes != 2 || rep.Nodes != 2 || len(rep.Strategies) != 1 {
			t.Fatalf("ok %v, %d control planes, %d nodes, %d strategies; want true, 2, 2, 1\n%s", rep.OK, rep.ControlPlanes, rep.Nodes, len(rep.Strategies), r.stdout)
		}
		sr := rep.Strategies[0]
		if sr.GPUsPlanned != 4 || sr.GPUsAllocated != 4 {
			t.Errorf("GPUs planned %d, allocated %d; want 4 and 4", sr.GPUsPlanned, sr.GPUsAllocated)
		}
		want := map[string]int{"us-east": 1, "eu-west": 1}
		for _, g := range sr.Groups {
			// On real nodes Running counts pods Running and Ready on a node
			// labelled with the group's site, cluster and GPU.
			if g.Running != want[g.Site] || g.Replicas != want[g.Site] || g.Misplaced != 0 || len(g.Pending) != 0 {
				t.Errorf("%s: %d of %d Running and Ready (want %d), %d misplaced, pending %v", g.Name(), g.Running, g.Replicas, want[g.Site], g.Misplaced, g.Pending)
			}
		}
		// Each scenario cluster's one node became the worker of its own
		// kind cluster, with the node's 8 GPUs advertised.
		for _, c := range []string{"us-east-use", "eu-west-euw"} {
			re := regexp.MustCompile(`kind: node fleetsim-[0-9a-f]+-[01]-worker is ` + c + ` \(h100, 8 nvidia.com/gpu\)`)
			if !re.MatchString(r.stderr) {
				t.Errorf("no worker adopted as %s with 8 GPUs in the log:\n%s", c, r.stderr)
			}
		}
		checkKindFailover(t, sr.Failures, r.stderr)
		// After the failure and the restore the planned pods run again
		// (checked again before measuring): --measure reaches them.
		checkKindMeasured(t, &rep, append(slices.Clone(chatRows), agentRows...), 3) // about 7 sessions start in the window
	})

	t.Run("split-site", func(t *testing.T) {
		// us-east's 3 replicas: 2 on its first scenario cluster (2 GPUs),
		// 1 on its second; all on one shared kind cluster, where one pool
		// Service spans both groups' pods and --measure sends us-east's
		// calls to it, as the simulator pools the site's replicas.
		r := runCtx(t, ctx, "validate-plan", kindPlanSplit, "--backend", "kind", "--control-planes", "shared", "--output", "json",
			"--timeout", "90s", "--measure", "10s", "--measure-scale", "2")
		defer assertKindClustersGone(t, r.stderr, before)
		if r.err != nil {
			t.Fatalf("validate-plan: %v\n%s\n%s", r.err, r.stdout, r.stderr)
		}
		var rep validatePlanReport
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("json: %v\n%s", err, r.stdout)
		}
		if !rep.OK || rep.ControlPlanes != 1 || rep.Nodes != 3 || len(rep.Strategies) != 1 {
			t.Fatalf("ok %v, %d control planes, %d nodes, %d strategies; want true, 1, 3, 1\n%s", rep.OK, rep.ControlPlanes, rep.Nodes, len(rep.Strategies), r.stdout)
		}
		want := map[string]int{"us-east-use": 2, "us-east-use2": 1, "eu-west-euw": 1}
		for _, g := range rep.Strategies[0].Groups {
			if g.Running != want[g.Cluster] || g.Replicas != want[g.Cluster] {
				t.Errorf("%s: %d of %d Running and Ready, want %d", g.Name(), g.Running, g.Replicas, want[g.Cluster])
			}
		}
		pool := regexp.MustCompile(`kind: pool us-east/llama-3.1-8b \(3 pods of llama-3-1-8b-h100-us-east-use, llama-3-1-8b-h100-us-east-use2\) at http://`)
		if !pool.MatchString(r.stderr) {
			t.Errorf("no one Service over us-east's 3 pods in the log:\n%s", r.stderr)
		}
		checkKindMeasured(t, &rep, chatRows, 0)
	})

	t.Run("overfull", func(t *testing.T) {
		r := runCtx(t, ctx, "validate-plan", kindPlanOverfull, "--backend", "kind", "--control-planes", "shared", "--output", "json", "--timeout", "90s")
		defer assertKindClustersGone(t, r.stderr, before)
		if code := ExitCode(r.err); code != ExitFailure {
			t.Fatalf("exit %d, want 1: %v\n%s", code, r.err, r.stderr)
		}
		var rep validatePlanReport
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("json: %v\n%s", err, r.stdout)
		}
		// us-east asks 9 replicas of TP 1 of its one 8-GPU node: 8 run,
		// 1 stays Pending; eu-west's 1 runs. 10 GPUs planned, 9 allocated.
		sr := rep.Strategies[0]
		if sr.OK || sr.GPUsPlanned != 10 || sr.GPUsAllocated != 9 {
			t.Errorf("ok %v, GPUs planned %d, allocated %d; want false, 10, 9", sr.OK, sr.GPUsPlanned, sr.GPUsAllocated)
		}
		for _, g := range sr.Groups {
			wantRun, wantPending := 1, 0
			if g.Site == "us-east" {
				wantRun, wantPending = 8, 1
			}
			if g.Running != wantRun || len(g.Pending) != wantPending {
				t.Errorf("%s: %d Running, %d Pending; want %d and %d", g.Name(), g.Running, len(g.Pending), wantRun, wantPending)
			}
			for _, p := range g.Pending {
				if !strings.Contains(p.Reason, "Insufficient nvidia.com/gpu") {
					t.Errorf("pending %s: reason %q, want the scheduler's Insufficient nvidia.com/gpu", p.Pod, p.Reason)
				}
			}
		}
	})
}

var (
	chatRows  = []string{"chat ttft p50", "chat ttft p95", "chat e2e p50", "chat e2e p95"}
	agentRows = []string{"agent ttft p50", "agent ttft p95", "agent e2e p50", "agent e2e p95", "agent task p50", "agent task p95"}
)

// checkKindMeasured: the measured run used the kind pods (every pool at a
// node address, http://<node IP>:<node port>), every request sent came
// back OK, at least 10 calls and minSessions agent sessions were
// compared, the rows are rows ("workload metric pNN", in the report's
// order), and the median |difference| over them is at most 10%. The aim is the local backend's
// (docs/measure.md); kube-proxy's random choice of pod instead of the
// least-loaded one, and the pods sharing 2 cores with two clusters, cost a
// few per cent (docs/validate-plan.md measured 3.1% against 0.6% for the
// same calls on in-process emulators), well inside it.
func checkKindMeasured(t *testing.T, rep *validatePlanReport, rows []string, minSessions int) {
	t.Helper()
	if len(rep.Measured) != 1 {
		t.Fatalf("%d measured strategies, want 1", len(rep.Measured))
	}
	m := rep.Measured[0]
	if len(m.Pools) != 2 {
		t.Errorf("%d pools, want 2 (us-east, eu-west)", len(m.Pools))
	}
	nodeURL := regexp.MustCompile(`^http://[0-9.]+:[0-9]+$`)
	for _, p := range m.Pools {
		if !nodeURL.MatchString(p.Endpoint) {
			t.Errorf("pool %s: endpoint %q, want the kind pods at http://<node IP>:<node port>", p.Name, p.Endpoint)
		}
	}
	c := m.Requests
	if c.Sent == 0 || c.OK != c.Sent || c.Failed != 0 || c.Compared < 10 {
		t.Errorf("requests %+v: want every sent request ok and at least 10 compared", c)
	}
	if c.Sessions < minSessions {
		t.Errorf("%d agent sessions compared, want at least %d", c.Sessions, minSessions)
	}
	var got []string
	for _, row := range m.Rows {
		got = append(got, fmt.Sprintf("%s %s p%g", row.Workload, row.Metric, row.Percentile))
		if row.Skipped != "" || row.PredictedMs <= 0 || row.MeasuredMs <= 0 {
			t.Errorf("row %+v: want positive predicted and measured", row)
		}
	}
	if !slices.Equal(got, rows) {
		t.Errorf("rows %v, want %v", got, rows)
	}
	med := m.MedianAbsDiffPct()
	t.Logf("kind pods: median |difference| %.1f%% over %d compared calls: %+v", med, c.Compared, m.Rows)
	if !(med <= 10) {
		t.Errorf("median |difference| %.1f%%, want at most 10%%: %+v", med, m.Rows)
	}
}

// checkKindFailover: the us-east failure stopped exactly us-east's worker
// container (kind cluster -0), removed its one node, and placed the
// displaced replica on eu-west's cluster as a Running and Ready pod; the
// container was started again and its node was Ready and adopted again.
func checkKindFailover(t *testing.T, failures []kubeplan.FailureReport, stderr string) {
	t.Helper()
	if len(failures) != 1 {
		t.Fatalf("%d failures reported, want 1 (us-east)", len(failures))
	}
	fr := failures[0]
	if fr.Site != "us-east" || fr.NodesRemoved != 1 || fr.Displaced != 1 || fr.Placed != 1 || fr.ShortReplicas != 0 || fr.PlacedOn["eu-west-euw"] != 1 {
		t.Errorf("failure %+v: want us-east, 1 node removed, 1 displaced, placed on eu-west-euw, none short", fr)
	}
	stopped := regexp.MustCompile(`kind: cluster (fleetsim-[0-9a-f]+-0): stopped node containers \[(fleetsim-[0-9a-f]+-0-worker)\]`)
	m := stopped.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no stopped us-east worker container in the log:\n%s", stderr)
	}
	back := regexp.MustCompile(`kind: cluster ` + m[1] + `: node containers \[` + m[2] + `\] started, Ready and adopted again`)
	if !back.MatchString(stderr) {
		t.Errorf("%s not started, Ready and adopted again in the log:\n%s", m[2], stderr)
	}
	if strings.Contains(stderr, "-1: stopped node containers") {
		t.Errorf("eu-west's worker was stopped too:\n%s", stderr)
	}
}
