package measure

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetsim/fleetsim/emulate"
)

// emulatedEndpoint serves one emulated replica of cfg over HTTP, as a pod
// would, and counts the completions it was sent.
func emulatedEndpoint(t *testing.T, cfg emulate.Config) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	srv, err := emulate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			n.Add(1)
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		hs.Close()
		_ = srv.Close()
	})
	return hs, &n
}

// TestCheckRemote: an endpoint is accepted when it serves the pool's
// model and the default emulator paces the simulator's; refused otherwise.
func TestCheckRemote(t *testing.T) {
	s := loadTwoSites(t)
	opts := Options{Scenario: s, Duration: 10 * time.Second}
	w, _, err := buildWorld(&opts)
	if err != nil {
		t.Fatal(err)
	}
	ps := pools(w, &w.Strategies[0])
	good, _ := emulatedEndpoint(t, emulate.Config{GPU: "h100", Model: "llama-3.1-8b"})
	other, _ := emulatedEndpoint(t, emulate.Config{GPU: "h100", Model: "llama-2-7b"})
	cases := []struct {
		name, endpoint string
		tokenBudget    int
		want           string // error substring; empty: accepted
	}{
		{"same model", good.URL, 0, ""},
		{"other model", other.URL, 0, `serves model "llama-2-7b", want "llama-3.1-8b"`},
		{"not a base URL", good.URL + "/v1", 0, "want http://host:port"},
		{"not http", strings.Replace(good.URL, "http:", "https:", 1), 0, "want http://host:port"},
		{"token budget", good.URL, 4096, "tokenBudget 4096"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := ps[0]
			d := *p.deployment
			d.TokenBudget = tc.tokenBudget
			p.deployment, p.endpoint = &d, tc.endpoint
			addr, err := checkRemote(context.Background(), &p)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("got error %v, want none", err)
			case tc.want == "" && addr != strings.TrimPrefix(good.URL, "http://"):
				t.Errorf("got address %q, want %q", addr, strings.TrimPrefix(good.URL, "http://"))
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestRunWithEndpoint: a pool given an endpoint is served there (every
// request the report counts for it reached the endpoint, and none were
// emulated here), the others in-process, and every request succeeds.
func TestRunWithEndpoint(t *testing.T) {
	s := loadTwoSites(t)
	ep, got := emulatedEndpoint(t, emulate.Config{GPU: "h100", Model: "llama-3.1-8b"})
	rep, err := Run(context.Background(), Options{Scenario: s, Duration: 2 * time.Second, Warmup: -1, Scale: 1,
		Endpoints: map[string]string{PoolKey("eu-west", "llama-3.1-8b"): ep.URL}})
	if err != nil {
		t.Fatal(err)
	}
	if c := rep.Requests; c.Sent == 0 || c.OK != c.Sent {
		t.Errorf("requests %+v: want every sent request ok", c)
	}
	found := false
	for _, p := range rep.Pools {
		switch p.Name {
		case "eu-west":
			found = true
			if p.Endpoint != ep.URL {
				t.Errorf("pool eu-west: endpoint %q, want %q", p.Endpoint, ep.URL)
			}
			if int64(p.Requests) != got.Load() || p.Requests == 0 {
				t.Errorf("pool eu-west: %d requests reported, endpoint got %d; want equal and > 0", p.Requests, got.Load())
			}
		default:
			if p.Endpoint != "" {
				t.Errorf("pool %s: endpoint %q, want none (emulated here)", p.Name, p.Endpoint)
			}
		}
	}
	if !found {
		t.Errorf("no pool eu-west in %+v", rep.Pools)
	}
	if !strings.Contains(strings.Join(rep.Notes, "\n"), "eu-west at "+ep.URL) {
		t.Errorf("notes %q: want one naming eu-west's endpoint", rep.Notes)
	}
}

// TestRunRejectsUnknownEndpoint: a key that names no pool is an error that
// names it, not a pool silently emulated in-process.
func TestRunRejectsUnknownEndpoint(t *testing.T) {
	s := loadTwoSites(t)
	_, err := Run(context.Background(), Options{Scenario: s, Duration: time.Second,
		Endpoints: map[string]string{"eu-west/llama-3.1-70b": "http://127.0.0.1:1"}})
	if err == nil || !strings.Contains(err.Error(), "endpoints for eu-west/llama-3.1-70b: no such pool") {
		t.Errorf("got error %v, want one naming the unknown pool", err)
	}
}
