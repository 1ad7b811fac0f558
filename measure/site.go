package measure

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fleetsim/fleetsim/emulate"
	"github.com/fleetsim/fleetsim/fleet"
	"github.com/fleetsim/fleetsim/serving"
)

// extraDelayHeader carries, in microseconds, the part of a call's
// upstream network time that the delay proxy does not produce (jitter,
// prompt transfer, gateway): the site sleeps that long before it hands
// the request to a replica, where the simulator adds it before the call
// reaches the site.
const extraDelayHeader = "X-Fleetsim-Extra-Delay-Us"

// site is one pool (a deployment's replicas at one site) served over HTTP:
// a listener, and a balancer that hands each request to the replica with
// the fewest requests in flight, lowest index first on ties: the choice
// the simulator makes among the replicas that can take a call
// (fleet/engine.go onAtServer).
type site struct {
	name     string
	replicas []*emulate.Server
	inFlight []atomic.Int64
	mu       sync.Mutex
	srv      *http.Server
	ln       net.Listener
	done     chan struct{}
}

// newSite starts n emulated replicas of cfg behind one listener.
func newSite(name string, cfg emulate.Config, n int) (*site, error) {
	s := &site{name: name, inFlight: make([]atomic.Int64, n), done: make(chan struct{})}
	for range n {
		r, err := emulate.New(cfg)
		if err != nil {
			s.closeReplicas()
			return nil, fmt.Errorf("site %s: %w", name, err)
		}
		s.replicas = append(s.replicas, r)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.closeReplicas()
		return nil, fmt.Errorf("site %s: %w", name, err)
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: time.Minute}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// addr is the site's listening address.
func (s *site) addr() string { return s.ln.Addr().String() }

// ServeHTTP delays the request by its extra upstream time, then hands it
// to the least-loaded replica.
func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if v := r.Header.Get(extraDelayHeader); v != "" {
		if us, err := strconv.ParseInt(v, 10, 64); err == nil && us > 0 {
			t := time.NewTimer(time.Duration(us) * time.Microsecond)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
	}
	s.mu.Lock()
	best := 0
	for i := range s.inFlight {
		if s.inFlight[i].Load() < s.inFlight[best].Load() {
			best = i
		}
	}
	s.inFlight[best].Add(1)
	s.mu.Unlock()
	defer s.inFlight[best].Add(-1)
	s.replicas[best].ServeHTTP(w, r)
}

func (s *site) closeReplicas() {
	for _, r := range s.replicas {
		_ = r.Close()
	}
}

// close stops the listener and the replicas.
func (s *site) close() error {
	err := s.srv.Close()
	<-s.done
	s.closeReplicas()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// checkModel reports an error when the emulated replica's step model sm
// differs from the simulator's estimator est: its KV capacity, batch limit
// or step time on a few probe batches (relative difference above 1e-9).
// Predictions and measurements can only agree when both pace the same model.
func checkModel(est serving.Estimator, sm *serving.StepModel) error {
	if a, b := est.KVCapacityTokens(), sm.KVCapacityTokens(); a != b {
		return fmt.Errorf("kv capacity: simulator %d tokens, emulator %d", a, b)
	}
	if a, b := est.MaxBatch(), sm.MaxBatch(); a != b {
		return fmt.Errorf("max batch: simulator %d, emulator %d", a, b)
	}
	probes := []serving.Batch{
		{PrefillTokens: 512, PrefillSeqs: 1, PrefillPairs: 512 * 256},
		{DecodeSeqs: 1, DecodeContext: 600},
		{DecodeSeqs: 32, DecodeContext: 32 * 1500},
		{PrefillTokens: 2048, PrefillSeqs: 2, PrefillPairs: 2 * 1024 * 512, DecodeSeqs: 8, DecodeContext: 8000},
	}
	for _, b := range probes {
		x, y := est.StepSeconds(b), sm.StepSeconds(b)
		if math.Abs(x-y) > 1e-9*math.Max(math.Abs(x), math.Abs(y)) {
			return fmt.Errorf("step time of %+v: simulator %g s, emulator %g s", b, x, y)
		}
	}
	return nil
}

// pool is a deployment's replicas at one site, in the simulator's order:
// deployments in order, their placements with replicas in order, so that
// the simulator's replica index first..first+n-1 names this pool
// (fleet/engine.go builds its pools the same way).
type pool struct {
	dep, site  int
	first, n   int
	name       string
	key        string // PoolKey
	deployment *fleet.Deployment
	served     *site  // the in-process replicas; nil for an endpoint
	endpoint   string // base URL of replicas elsewhere (Options.Endpoints)
	addr       string // host:port the delay proxies forward to
}

// pools lists st's pools in the simulator's order.
func pools(w *fleet.World, st *fleet.Strategy) []pool {
	var out []pool
	next := 0
	for di := range st.Deployments {
		d := &st.Deployments[di]
		for _, pl := range d.Placements {
			if pl.Replicas <= 0 {
				continue
			}
			name := w.Sites[pl.Site].Name
			if len(st.Deployments) > 1 {
				name = fmt.Sprintf("%s/%s", name, d.Model)
			}
			out = append(out, pool{dep: di, site: pl.Site, first: next, n: pl.Replicas, name: name,
				key: PoolKey(w.Sites[pl.Site].Name, d.Model), deployment: d})
			next += pl.Replicas
		}
	}
	return out
}
