package traces

import (
	"bytes"
	"os"
	"strconv"
	"testing"
	"time"
)

// benchAzure returns a synthetic Azure CSV of n rows, 0.1 s apart, with
// 7 fractional digits like the upstream files.
func benchAzure(n int) []byte {
	var b bytes.Buffer
	b.WriteString(hdr)
	t0 := time.Date(2023, 11, 16, 18, 15, 46, 680590000, time.UTC)
	for i := range n {
		b.WriteString(t0.Add(time.Duration(i) * 100 * time.Millisecond).Format("2006-01-02 15:04:05.0000000"))
		b.WriteByte(',')
		b.WriteString(strconv.Itoa(100 + i%4000))
		b.WriteByte(',')
		b.WriteString(strconv.Itoa(1 + i%600))
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// BenchmarkReadAzure reads a 100,000-row Azure CSV from memory.
func BenchmarkReadAzure(b *testing.B) {
	const rows = 100_000
	data := benchAzure(rows)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		tr, _, err := Read(bytes.NewReader(data), "bench.csv", Options{Format: Azure})
		if err != nil || tr.Len() != rows {
			b.Fatalf("got %v, %v", tr, err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkReadMooncake reads the 300-row Mooncake test file from memory.
func BenchmarkReadMooncake(b *testing.B) {
	data, err := os.ReadFile("testdata/mooncake_conv_300.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Read(bytes.NewReader(data), "bench.jsonl", Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(300*b.N)/b.Elapsed().Seconds(), "rows/s")
}
