package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
)

// allReduceTopologies are the Vidur topologies the table keeps: one DGX
// node of A100 or H100 GPUs (all-to-all NVLink through NVSwitch).
var allReduceTopologies = []string{"a100_dgx", "h100_dgx"}

// allReduceWorkers are the tensor-parallel degrees the table keeps.
var allReduceWorkers = []int{2, 4, 8}

// allReduceTable reads Vidur's collectives.csv and returns the subset
// serving embeds: for each topology of allReduceTopologies and each
// worker count of allReduceWorkers, on one node (devices_per_node =
// num_workers), the all_reduce medians at rank 0 for the smallest and
// largest measured sizes and the measured size nearest (in log size) to
// each of 2^k, 1.25 × 2^k, 1.5 × 2^k and 1.75 × 2^k bytes between them. Of a size measured twice
// the first row is kept. Medians are copied unchanged.
func allReduceTable(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open collectives: %w", err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, n := range []string{"topology", "collective", "num_workers", "devices_per_node", "rank", "size_bytes", "median_ms"} {
		if _, ok := col[n]; !ok {
			return nil, fmt.Errorf("%s: header lacks %s", path, n)
		}
	}
	type point struct {
		size   int
		median string
	}
	type key struct {
		topo    string
		workers int
	}
	series := map[key][]point{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if rec[col["collective"]] != "all_reduce" || rec[col["rank"]] != "0" ||
			!slices.Contains(allReduceTopologies, rec[col["topology"]]) ||
			rec[col["devices_per_node"]] != rec[col["num_workers"]] {
			continue
		}
		w, err := strconv.Atoi(rec[col["num_workers"]])
		if err != nil || !slices.Contains(allReduceWorkers, w) {
			continue
		}
		size, err := strconv.Atoi(rec[col["size_bytes"]])
		if err != nil {
			return nil, fmt.Errorf("%s: size_bytes %q: %w", path, rec[col["size_bytes"]], err)
		}
		if _, err := strconv.ParseFloat(rec[col["median_ms"]], 64); err != nil {
			return nil, fmt.Errorf("%s: median_ms %q: %w", path, rec[col["median_ms"]], err)
		}
		k := key{rec[col["topology"]], w}
		if slices.ContainsFunc(series[k], func(p point) bool { return p.size == size }) {
			continue
		}
		series[k] = append(series[k], point{size, rec[col["median_ms"]]})
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write([]string{"topology", "num_workers", "size_bytes", "median_ms"})
	for _, topo := range allReduceTopologies {
		for _, w := range allReduceWorkers {
			pts := series[key{topo, w}]
			if len(pts) < 2 {
				return nil, fmt.Errorf("%s: %s with %d workers: got %d sizes, want at least 2", path, topo, w, len(pts))
			}
			slices.SortFunc(pts, func(a, b point) int { return a.size - b.size })
			keep := map[int]bool{0: true, len(pts) - 1: true}
			lo, hi := float64(pts[0].size), float64(pts[len(pts)-1].size)
			for e := 0; e < 40; e++ {
				for _, m := range []float64{1, 1.25, 1.5, 1.75} {
					target := m * math.Exp2(float64(e))
					if target < lo || target > hi {
						continue
					}
					best := 0
					for i, p := range pts {
						if math.Abs(math.Log(float64(p.size)/target)) < math.Abs(math.Log(float64(pts[best].size)/target)) {
							best = i
						}
					}
					keep[best] = true
				}
			}
			for i, p := range pts {
				if keep[i] {
					_ = cw.Write([]string{topo, strconv.Itoa(w), strconv.Itoa(p.size), p.median})
				}
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
