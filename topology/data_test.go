package topology

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// Loaders for the measured data in testdata (see testdata/README.md) and,
// for IBM Cloud, in the shared data folder.

// readTestCSV reads a CSV file and returns its rows after the header, as maps
// from column name to value.
func readTestCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(rows) < 2 {
		t.Fatalf("%s: no data rows", path)
	}
	out := make([]map[string]string, 0, len(rows)-1)
	for _, r := range rows[1:] {
		m := make(map[string]string, len(r))
		for i, name := range rows[0] {
			m[name] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// parseF parses a float or fails the test.
func parseF(t *testing.T, what, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// azureCoords maps Azure display names to [lat, lon] for the regions that
// have coordinates, and ARM names to display names.
func azureCoords(t *testing.T) (coords map[string][2]float64, displayOf map[string]string) {
	t.Helper()
	coords, displayOf = map[string][2]float64{}, map[string]string{}
	for _, r := range readTestCSV(t, filepath.Join("testdata", "azure_region_coords.csv")) {
		if r["latitude"] == "" {
			continue
		}
		coords[r["display_name"]] = [2]float64{parseF(t, "latitude", r["latitude"]), parseF(t, "longitude", r["longitude"])}
		displayOf[r["region_name"]] = r["display_name"]
	}
	return coords, displayOf
}

// azureSamples returns the Azure P95 samples between regions at distinct
// coordinates, and how many pairs were skipped because the source gives two
// regions the same coordinates (Australia Central and Central 2).
func azureSamples(t *testing.T) (samples []Sample, sameCoords int) {
	t.Helper()
	coords, _ := azureCoords(t)
	for _, r := range readTestCSV(t, filepath.Join("testdata", "azure_rtt_p95.csv")) {
		a, okA := coords[r["src"]]
		b, okB := coords[r["dst"]]
		if !okA || !okB {
			t.Fatalf("azure pair %s -> %s: region without coordinates in testdata", r["src"], r["dst"])
		}
		d := GreatCircleKm(a[0], a[1], b[0], b[1])
		if d == 0 {
			sameCoords++
			continue
		}
		samples = append(samples, Sample{DistKm: d, RTTMs: parseF(t, "p95_rtt_ms", r["p95_rtt_ms"])})
	}
	return samples, sameCoords
}

// wonderProxyServers maps server ids to their rows.
func wonderProxyServers(t *testing.T) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, r := range readTestCSV(t, filepath.Join("testdata", "wonderproxy_servers.csv")) {
		out[r["id"]] = r
	}
	return out
}

// wonderProxySamples returns the avg_ms samples of a WonderProxy pair file.
func wonderProxySamples(t *testing.T, file string) []Sample {
	t.Helper()
	servers := wonderProxyServers(t)
	var out []Sample
	for _, r := range readTestCSV(t, filepath.Join("testdata", file)) {
		a, okA := servers[r["source"]]
		b, okB := servers[r["destination"]]
		if !okA || !okB {
			t.Fatalf("%s: pair %s -> %s: server not in wonderproxy_servers.csv", file, r["source"], r["destination"])
		}
		d := GreatCircleKm(parseF(t, "latitude", a["latitude"]), parseF(t, "longitude", a["longitude"]),
			parseF(t, "latitude", b["latitude"]), parseF(t, "longitude", b["longitude"]))
		out = append(out, Sample{DistKm: d, RTTMs: parseF(t, "avg_ms", r["avg_ms"])})
	}
	return out
}

// ibmMetros maps IBM Cloud region names to catalog edge metros: the
// coordinates used for IBM are those city centres.
var ibmMetros = map[string]string{
	"Dallas": "dallas", "Toronto": "toronto", "Washington DC": "washington-dc",
	"Frankfurt": "frankfurt", "London": "london", "Madrid": "madrid",
	"Osaka": "osaka", "Sydney": "sydney", "Tokyo": "tokyo",
	"Sao Paulo": "sao-paulo", "Montreal": "montreal", "Chennai": "chennai",
	"Mumbai": "mumbai",
}

// sharedDataDir is the shared measured-data folder: $FLEETSIM_SHARED_DATA,
// else ../../shared/data beside the module.
func sharedDataDir() string {
	if d := os.Getenv("FLEETSIM_SHARED_DATA"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared", "data")
}

// ibmSamples returns one sample per directed IBM Cloud inter-region pair: the
// median over the published 30-day windows. The data is not copied into the
// repository (its README asks not to redistribute it), so the test is
// skipped when the shared folder is absent.
func ibmSamples(t *testing.T) []Sample {
	t.Helper()
	path := filepath.Join(sharedDataDir(), "ibm_cloud_rtt_monthly", "ibm_vpc_latency_long.csv")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("IBM Cloud data not found (%v); set FLEETSIM_SHARED_DATA to the shared data folder", err)
	}
	windows := map[[2]string][]float64{}
	for _, r := range readTestCSV(t, path) {
		if r["kind"] != "inter_region" {
			continue
		}
		k := [2]string{r["src"], r["dst"]}
		windows[k] = append(windows[k], parseF(t, "avg_rtt_ms", r["avg_rtt_ms"]))
	}
	keys := make([][2]string, 0, len(windows))
	for k := range windows {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int { return slices.Compare(a[:], b[:]) })
	var out []Sample
	for _, k := range keys {
		var pl [2]Place
		for i, name := range k {
			p, ok := Lookup(ibmMetros[name])
			if !ok {
				t.Fatalf("IBM region %q has no catalog metro", name)
			}
			pl[i] = p
		}
		v := windows[k]
		slices.Sort(v)
		med := (v[(len(v)-1)/2] + v[len(v)/2]) / 2
		out = append(out, Sample{DistKm: GreatCircleKm(pl[0].Lat, pl[0].Lon, pl[1].Lat, pl[1].Lon), RTTMs: med})
	}
	return out
}

// fitSamples are the samples the defaults are fitted to: Azure and the
// WonderProxy subset. IBM Cloud is held out for validation.
func fitSamples(t *testing.T) []Sample {
	t.Helper()
	az, _ := azureSamples(t)
	return slices.Concat(az, wonderProxySamples(t, "wonderproxy_pairs.csv"))
}

// wonderProxyAllSamples returns every WonderProxy pair of the shared data
// that the testdata subset was drawn from (same filter as
// internal/gendata: distinct servers with coordinates, min RTT not below the
// speed-of-light bound), as avg_ms samples. It skips the test when the
// shared folder is absent.
func wonderProxyAllSamples(t *testing.T) []Sample {
	t.Helper()
	dir := filepath.Join(sharedDataDir(), "wonderproxy_city_pings")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("WonderProxy shared data not found (%v); set FLEETSIM_SHARED_DATA", err)
	}
	coords := map[string][2]float64{}
	for _, r := range readTestCSV(t, filepath.Join(dir, "servers.csv")) {
		coords[r["id"]] = [2]float64{parseF(t, "latitude", r["latitude"]), parseF(t, "longitude", r["longitude"])}
	}
	var out []Sample
	for _, r := range readTestCSV(t, filepath.Join(dir, "pings_grouped.csv")) {
		a, okA := coords[r["source"]]
		b, okB := coords[r["destination"]]
		if r["source"] == r["destination"] || !okA || !okB {
			continue
		}
		d := GreatCircleKm(a[0], a[1], b[0], b[1])
		if parseF(t, "min_ms", r["min_ms"]) < 2*d/DefaultFiberKmPerMs {
			continue
		}
		out = append(out, Sample{DistKm: d, RTTMs: parseF(t, "avg_ms", r["avg_ms"])})
	}
	return out
}
