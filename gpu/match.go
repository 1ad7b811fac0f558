package gpu

import (
	"fmt"
	"math"
	"strings"

	"github.com/fleetsim/fleetsim/serving"
)

// MemoryTolerance is the largest relative difference between the memory a
// device reports (in GiB) and a catalog entry's MemoryGB for MatchCatalog to
// accept the entry. NVIDIA's marketed sizes are binary: an "80GB" H100 SXM
// reports 81559 MiB (79.6 GiB), an H200 143771 MiB (140.4 GiB) for 141 GB, an
// L40S 46068 MiB (45.0 GiB) for 48 GB (nvidia-smi output of those boards),
// all within 7%; 10% still separates every pair of catalog entries of one
// family (a100-40gb and a100-80gb differ by a factor of two).
const MemoryTolerance = 0.10

// NoMatch is the catalog id MatchCatalog returns when no entry fits.
const NoMatch = "none"

// MatchCatalog matches an NVML device name and total memory in bytes
// (0 when unknown) to an id of the fleetsim GPU catalog (serving.GPUs).
// It returns the id, or NoMatch, and a reason that says why.
//
// The rule: the name is lower-cased and split into words on spaces, dashes
// and underscores. A catalog entry is a candidate when the family of its id
// (the id up to the first dash: h100, h200, a100, b200, gb200, l4, l40s) is
// one of the words, so "NVIDIA H100 80GB HBM3" and "NVIDIA H200" are
// candidates of h100 and h200, and "NVIDIA GB200" is not a b200. When the
// name has the word "pcie", only ids with "pcie" remain ("NVIDIA H100 PCIe"
// is h100-pcie); otherwise ids with "pcie" are dropped. Then, when memory is
// known, the candidate whose MemoryGB is nearest to the memory in GiB is
// kept if it lies within MemoryTolerance; when memory is unknown, a single
// remaining candidate is kept.
func MatchCatalog(name string, memoryBytes uint64) (id, reason string) {
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return r == ' ' || r == '-' || r == '_'
	})
	has := func(w string) bool {
		for _, x := range words {
			if x == w {
				return true
			}
		}
		return false
	}
	pcie := has("pcie")
	var family []serving.GPU
	for _, g := range serving.GPUs() {
		fam, _, _ := strings.Cut(g.ID, "-")
		if has(fam) {
			family = append(family, g)
		}
	}
	if len(family) == 0 {
		return NoMatch, fmt.Sprintf("no catalog family in name %q", name)
	}
	var cands []serving.GPU
	for _, g := range family {
		if strings.Contains(g.ID, "pcie") == pcie {
			cands = append(cands, g)
		}
	}
	if len(cands) == 0 {
		form := "SXM"
		if pcie {
			form = "PCIe"
		}
		return NoMatch, fmt.Sprintf("catalog has no %s variant of %q", form, name)
	}
	if memoryBytes == 0 {
		if len(cands) == 1 {
			return cands[0].ID, "name only (memory unknown)"
		}
		return NoMatch, fmt.Sprintf("memory unknown and %d catalog entries fit the name", len(cands))
	}
	gib := float64(memoryBytes) / (1 << 30)
	best, bestDiff := -1, math.Inf(1)
	for i, g := range cands {
		if d := math.Abs(gib-g.MemoryGB) / g.MemoryGB; d < bestDiff {
			best, bestDiff = i, d
		}
	}
	g := cands[best]
	if bestDiff > MemoryTolerance {
		return NoMatch, fmt.Sprintf("%.1f GiB is not within %.0f%% of %s (%g GB)", gib, 100*MemoryTolerance, g.ID, g.MemoryGB)
	}
	return g.ID, fmt.Sprintf("name and memory (%.1f GiB, catalog %g GB)", gib, g.MemoryGB)
}
