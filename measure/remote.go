package measure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/fleetsim/fleetsim/emulate"
	"github.com/fleetsim/fleetsim/serving"
)

// remoteWait bounds how long checkRemote retries an endpoint's
// /v1/models: a new Service's rules reach kube-proxy within seconds, but a
// loaded 2-core host can take longer.
const remoteWait = 60 * time.Second

// checkRemote checks a pool whose replicas serve at p.endpoint, and
// returns the endpoint's host:port. The replicas cannot be inspected
// from here, so it checks what it can: that `fleetsim emulate` with only
// the deployment's GPU, model and TP (every other setting at its default,
// as kubeplan's replica pods run it) paces the simulator's model
// (checkModel, and the token budget and KV block size), and that the
// endpoint answers GET /v1/models with the pool's model, retrying for up
// to remoteWait.
func checkRemote(ctx context.Context, p *pool) (string, error) {
	u, err := url.Parse(p.endpoint)
	if err != nil || u.Scheme != "http" || u.Host == "" || strings.Trim(u.Path, "/") != "" {
		return "", fmt.Errorf("endpoint %q: want http://host:port", p.endpoint)
	}
	d := p.deployment
	if tb := d.TokenBudget; tb != 0 && tb != serving.DefaultTokenBudget {
		return "", fmt.Errorf("tokenBudget %d: the endpoint's replicas run the default %d", tb, serving.DefaultTokenBudget)
	}
	if bt := d.BlockTokens; bt != 0 && bt != emulate.DefaultBlockTokens {
		return "", fmt.Errorf("blockSize %d, the emulator has %d-token blocks", bt, emulate.DefaultBlockTokens)
	}
	ref, err := emulate.New(emulate.Config{GPU: d.GPU, Model: d.Model, TP: d.TP})
	if err != nil {
		return "", err
	}
	err = checkModel(d.Estimator, ref.Model())
	_ = ref.Close()
	if err != nil {
		return "", fmt.Errorf("the endpoint's replicas (default precision, profile and batch limit) would pace a different model than the simulator: %w", err)
	}
	deadline := time.Now().Add(remoteWait)
	for {
		id, err := servedModel(ctx, p.endpoint)
		switch {
		case err == nil && id == d.Model:
			return u.Host, nil
		case err == nil:
			return "", fmt.Errorf("endpoint %s serves model %q, want %q", p.endpoint, id, d.Model)
		case ctx.Err() != nil:
			return "", ctx.Err()
		case time.Now().After(deadline):
			return "", fmt.Errorf("endpoint %s: no answer after %v: %w", p.endpoint, remoteWait, err)
		}
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", ctx.Err()
		case <-t.C:
		}
	}
}

// servedModel returns the id of the one model base's /v1/models lists.
func servedModel(ctx context.Context, base string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/v1/models", nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET /v1/models: status %s", resp.Status)
	}
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return "", fmt.Errorf("GET /v1/models: %w", err)
	}
	if len(list.Data) != 1 {
		return "", errors.New("GET /v1/models: want exactly one model")
	}
	return list.Data[0].ID, nil
}

// remoteNote says which pools ran at endpoints, and what that changes;
// empty when none did.
func remoteNote(ps []pool) string {
	var names []string
	for _, p := range ps {
		if p.endpoint != "" {
			names = append(names, p.name+" at "+p.endpoint)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return "pools " + strings.Join(names, ", ") + " ran on replicas outside this process: the same fleetsim binary and serving model (`fleetsim emulate` with the deployment's GPU, model and TP, other settings at their defaults; checked against the simulator's model here, and the served model by GET /v1/models, but the remote replicas themselves cannot be inspected); whatever balances requests in front of them (for kind, kube-proxy's random choice among the pool's pods) replaces the least-loaded choice, and the extra upstream delay (jitter, transfer, gateway) is waited at the client"
}

// checkEndpointKeys reports an error naming every key of eps that is no
// pool of ps (a misspelt key would otherwise be emulated in-process).
func checkEndpointKeys(eps map[string]string, ps []pool) error {
	var bad, have []string
	for _, p := range ps {
		have = append(have, p.key)
	}
	for k := range eps {
		if !slices.Contains(have, k) {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	slices.Sort(bad)
	return fmt.Errorf("measure: endpoints for %s: no such pool (pools: %s)", strings.Join(bad, ", "), strings.Join(have, ", "))
}
