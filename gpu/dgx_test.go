//go:build cgo

package gpu

import (
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxh100"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxh200"
)

// TestInventoryDGXMocks runs the inventory on go-nvml's own mock DGX H100
// and H200 servers: every GPU is found, matched to its catalog entry, and
// its memory equals what the mock reports through NVML. A field the mock
// does not implement is listed as missing, never made up.
func TestInventoryDGXMocks(t *testing.T) {
	tests := []struct {
		name string
		lib  nvml.Interface
		want string
	}{
		{"dgxh100", dgxh100.New(), "h100"},
		{"dgxh200", dgxh200.New(), "h200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ret := tt.lib.DeviceGetCount()
			if ret != nvml.SUCCESS {
				t.Fatal(ret)
			}
			devs, err := Inventory(tt.lib)
			if err != nil {
				t.Fatal(err)
			}
			if len(devs) != n || n == 0 {
				t.Fatalf("got %d devices, the mock has %d", len(devs), n)
			}
			for i, d := range devs {
				dev, _ := tt.lib.DeviceGetHandleByIndex(i)
				mem, _ := dev.GetMemoryInfo()
				if d.Catalog != tt.want {
					t.Errorf("device %d (%s): catalog %q (%s), want %q", i, d.Name, d.Catalog, d.CatalogReason, tt.want)
				}
				if d.MemoryTotalBytes == nil || *d.MemoryTotalBytes != mem.Total {
					t.Errorf("device %d: memory %v, want %d", i, d.MemoryTotalBytes, mem.Total)
				}
				for _, m := range d.Missing {
					if m.Field == "" || m.Reason == "" {
						t.Errorf("device %d: missing entry without field or reason: %+v", i, m)
					}
				}
			}
			// Sampling the same machine: a sample per GPU per instant, and
			// what the mock cannot answer is marked, not invented or fatal.
			s, err := NewSampler(tt.lib)
			if err != nil {
				t.Fatal(err)
			}
			t0 := time.Unix(0, 0)
			s.Sample(t0)
			s.Sample(t0.Add(100 * time.Millisecond))
			series := s.Series()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if len(series) != n {
				t.Fatalf("got %d series, want %d", len(series), n)
			}
			for _, se := range series {
				if len(se.Samples) != 2 || se.Samples[1].TimeS != 0.1 {
					t.Errorf("gpu %d: samples %+v, want 2 at 0 and 0.1 s", se.Index, se.Samples)
				}
				if se.Samples[0].MemUsedBytes == nil && !hasMissing(se.Missing, "memUsedBytes") {
					t.Errorf("gpu %d: memory used neither read nor marked missing", se.Index)
				}
			}
		})
	}
}

func hasMissing(ms []Missing, field string) bool {
	for _, m := range ms {
		if m.Field == field {
			return true
		}
	}
	return false
}
