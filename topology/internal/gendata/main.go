// Command gendata regenerates topology/testdata from the shared measured
// data: the Azure region coordinates and P95 RTT matrix, and a deterministic
// subset of the WonderProxy city-to-city pings. Run it from the module root:
//
//	go run ./topology/internal/gendata -shared ../shared/data -out topology/testdata
//
// The output is byte-identical for the same input. topology/testdata/README.md
// describes the files and the subset rules implemented here.
package main

import (
	"cmp"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/fleetsim/fleetsim/topology"
)

// Subset sizes; see topology/testdata/README.md.
const (
	maxWonderProxyPairs = 3000 // upper bound on the distance-stratified subset
	metroKm             = 50.0 // pairs closer than this are "same metro"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
}

// run parses flags and writes every testdata file.
func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("gendata", flag.ContinueOnError)
	shared := fs.String("shared", "../shared/data", "folder holding the shared measured data")
	out := fs.String("out", "topology/testdata", "testdata folder to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := azure(*shared, *out, stdout); err != nil {
		return fmt.Errorf("azure: %w", err)
	}
	if err := wonderProxy(*shared, *out, stdout); err != nil {
		return fmt.Errorf("wonderproxy: %w", err)
	}
	return nil
}

// readCSV reads a whole CSV file, header included.
func readCSV(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: empty", path)
	}
	return rows, nil
}

// writeCSV writes rows to path.
func writeCSV(path string, rows [][]string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	if err := w.WriteAll(rows); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// column returns the index of name in header.
func column(header []string, name string) (int, error) {
	if i := slices.Index(header, name); i >= 0 {
		return i, nil
	}
	return 0, fmt.Errorf("no column %q in %v", name, header)
}

// azure copies the coordinates file byte for byte and keeps the matrix rows
// whose two regions both have coordinates.
func azure(shared, out string, stdout io.Writer) error {
	dir := filepath.Join(shared, "azure_region_rtt")
	coords, err := readCSV(filepath.Join(dir, "azure_region_coords.csv"))
	if err != nil {
		return err
	}
	disp, err := column(coords[0], "display_name")
	if err != nil {
		return err
	}
	lat, err := column(coords[0], "latitude")
	if err != nil {
		return err
	}
	has := map[string]bool{}
	for _, r := range coords[1:] {
		has[r[disp]] = r[lat] != ""
	}
	matrix, err := readCSV(filepath.Join(dir, "azure_rtt_p95_long.csv"))
	if err != nil {
		return err
	}
	keep := [][]string{matrix[0]}
	for _, r := range matrix[1:] {
		if has[r[0]] && has[r[1]] {
			keep = append(keep, r)
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "azure_region_coords.csv"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "azure_region_coords.csv"), raw, 0o644); err != nil {
		return err
	}
	if err := writeCSV(filepath.Join(out, "azure_rtt_p95.csv"), keep); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "azure: %d regions, %d of %d directed pairs have coordinates\n", len(coords)-1, len(keep)-1, len(matrix)-1)
	return nil
}

// server is a WonderProxy server with coordinates.
type server struct {
	id, name, country string
	lat, lon          float64
}

// pair is one directed WonderProxy ping pair.
type pair struct {
	src, dst     int
	distKm       float64
	minMs, avgMs float64
}

// wonderProxy writes the servers, the distance-stratified pair subset and
// every same-metro pair.
//
// Kept pairs: source != destination, both servers have coordinates, and
// min_ms is not below the speed-of-light bound 2*d/200 km/ms (those point to
// wrong server locations, as the shared README says). They are sorted by
// (great-circle distance, source id, destination id); the subset is every
// k-th from the first, with k = ceil(kept / 3000), so it spans the whole
// distance range in proportion. The metro file has every kept pair closer
// than 50 km (the two files may share a row).
func wonderProxy(shared, out string, stdout io.Writer) error {
	dir := filepath.Join(shared, "wonderproxy_city_pings")
	srows, err := readCSV(filepath.Join(dir, "servers.csv"))
	if err != nil {
		return err
	}
	var idx [5]int
	for i, name := range []string{"id", "name", "country", "latitude", "longitude"} {
		if idx[i], err = column(srows[0], name); err != nil {
			return err
		}
	}
	servers := map[int]server{}
	for _, r := range srows[1:] {
		id, err := strconv.Atoi(r[idx[0]])
		if err != nil {
			return fmt.Errorf("servers.csv: id %q: %w", r[idx[0]], err)
		}
		s := server{id: r[idx[0]], name: r[idx[1]], country: r[idx[2]]}
		if s.lat, err = strconv.ParseFloat(r[idx[3]], 64); err != nil {
			return fmt.Errorf("servers.csv: server %d latitude: %w", id, err)
		}
		if s.lon, err = strconv.ParseFloat(r[idx[4]], 64); err != nil {
			return fmt.Errorf("servers.csv: server %d longitude: %w", id, err)
		}
		servers[id] = s
	}
	prows, err := readCSV(filepath.Join(dir, "pings_grouped.csv"))
	if err != nil {
		return err
	}
	var pidx [4]int
	for i, name := range []string{"source", "destination", "min_ms", "avg_ms"} {
		if pidx[i], err = column(prows[0], name); err != nil {
			return err
		}
	}
	var kept []pair
	self, noCoords, belowLight := 0, 0, 0
	for n, r := range prows[1:] {
		var v [4]float64
		for i := range v {
			if v[i], err = strconv.ParseFloat(r[pidx[i]], 64); err != nil {
				return fmt.Errorf("pings_grouped.csv line %d: %w", n+2, err)
			}
		}
		p := pair{src: int(v[0]), dst: int(v[1]), minMs: v[2], avgMs: v[3]}
		a, okA := servers[p.src]
		b, okB := servers[p.dst]
		switch {
		case p.src == p.dst:
			self++
			continue
		case !okA || !okB:
			noCoords++
			continue
		}
		p.distKm = topology.GreatCircleKm(a.lat, a.lon, b.lat, b.lon)
		if p.minMs < 2*p.distKm/topology.DefaultFiberKmPerMs {
			belowLight++
			continue
		}
		kept = append(kept, p)
	}
	slices.SortFunc(kept, func(a, b pair) int {
		return cmp.Or(cmp.Compare(a.distKm, b.distKm), cmp.Compare(a.src, b.src), cmp.Compare(a.dst, b.dst))
	})
	k := (len(kept) + maxWonderProxyPairs - 1) / maxWonderProxyPairs
	var subset, metro []pair
	for i, p := range kept {
		if i%k == 0 {
			subset = append(subset, p)
		}
		if p.distKm < metroKm {
			metro = append(metro, p)
		}
	}
	used := map[int]bool{}
	header := []string{"source", "destination", "min_ms", "avg_ms"}
	rows := func(ps []pair) [][]string {
		out := [][]string{header}
		for _, p := range ps {
			used[p.src], used[p.dst] = true, true
			out = append(out, []string{strconv.Itoa(p.src), strconv.Itoa(p.dst), ms(p.minMs), ms(p.avgMs)})
		}
		return out
	}
	if err := writeCSV(filepath.Join(out, "wonderproxy_pairs.csv"), rows(subset)); err != nil {
		return err
	}
	if err := writeCSV(filepath.Join(out, "wonderproxy_metro_pairs.csv"), rows(metro)); err != nil {
		return err
	}
	ids := make([]int, 0, len(used))
	for id := range used {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	srv := [][]string{{"id", "name", "country", "latitude", "longitude"}}
	for _, id := range ids {
		s := servers[id]
		srv = append(srv, []string{s.id, s.name, s.country, strconv.FormatFloat(s.lat, 'f', -1, 64), strconv.FormatFloat(s.lon, 'f', -1, 64)})
	}
	if err := writeCSV(filepath.Join(out, "wonderproxy_servers.csv"), srv); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wonderproxy: %d rows; dropped %d self, %d without coordinates, %d below the speed of light; kept %d; subset every %d-th: %d pairs; %d metro pairs; %d servers\n",
		len(prows)-1, self, noCoords, belowLight, len(kept), k, len(subset), len(metro), len(ids))
	return nil
}

// ms formats an RTT rounded to 0.1 µs, removing float noise such as
// 218.68200000000002 without losing the published precision.
func ms(v float64) string {
	return strconv.FormatFloat(math.Round(v*1e4)/1e4, 'f', -1, 64)
}
