package gpu

import "testing"

func TestMatchCatalog(t *testing.T) {
	const mib = 1 << 20
	// Memory totals are what nvidia-smi reports on those boards (MiB),
	// as commonly posted: H100 SXM 81559, H200 143771, H100 NVL 95830,
	// A100 SXM4 40GB 40536, A100 80GB 81920, L4 23034, L40S 46068,
	// B200 183359. The go-nvml mocks use 81920 (H100) and 144384 (H200).
	tests := []struct {
		name   string
		memory uint64
		want   string
	}{
		{"NVIDIA H100 80GB HBM3", 81559 * mib, "h100"},
		{"NVIDIA H100 80GB HBM3", 81920 * mib, "h100"},
		{"NVIDIA H200", 143771 * mib, "h200"},
		{"NVIDIA H200 141GB HBM3e", 144384 * mib, "h200"},
		{"NVIDIA H100 PCIe", 81559 * mib, "h100-pcie"},
		{"NVIDIA H100 NVL", 95830 * mib, NoMatch}, // 93.6 GiB is 17% off the 80 GB h100
		{"NVIDIA A100-SXM4-40GB", 40536 * mib, "a100-40gb"},
		{"NVIDIA A100-SXM4-80GB", 81920 * mib, "a100-80gb"},
		{"NVIDIA A100 80GB PCIe", 81920 * mib, NoMatch}, // no PCIe A100 in the catalog
		{"NVIDIA B200", 183359 * mib, "b200"},
		{"NVIDIA L4", 23034 * mib, "l4"},
		{"NVIDIA L40S", 46068 * mib, "l40s"},
		{"Tesla T4", 15360 * mib, NoMatch},
		{"NVIDIA H100 80GB HBM3", 0, "h100"},  // memory unknown, one candidate
		{"NVIDIA A100-SXM4-80GB", 0, NoMatch}, // memory unknown, a100-80gb and a100-40gb
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason := MatchCatalog(tt.name, tt.memory)
			if got != tt.want {
				t.Errorf("MatchCatalog(%q, %d) = %q (%s), want %q", tt.name, tt.memory, got, reason, tt.want)
			}
			if reason == "" {
				t.Errorf("MatchCatalog(%q, %d): empty reason", tt.name, tt.memory)
			}
		})
	}
}
