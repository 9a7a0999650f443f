package benchmarks

import (
	"testing"
	"time"
)

// cpuMeter measures the CPU time a benchmark's loop uses, reported as
// cpu-ns/op beside the wall-clock ns/op. On a shared machine, ns/op counts
// the time the benchmark waits for a CPU that other processes hold; CPU
// time does not, so its ratios between implementations stay meaningful when
// the machine is busy. It covers the whole process, so the garbage
// collector's work for what the loop allocates is counted. Nothing else may
// run in the process meanwhile (no server goroutines, as in the TLS
// benchmark).
type cpuMeter struct {
	start time.Duration
	ok    bool
}

// startCPU starts measuring: call it just before the loop (after
// b.ResetTimer in a b.N loop).
func startCPU() cpuMeter {
	t, ok := processCPU()
	return cpuMeter{t, ok}
}

// report stops measuring after the loop and reports cpu-ns/op over the
// b.N iterations run.
func (m cpuMeter) report(b *testing.B) {
	t, ok := processCPU()
	if !m.ok || !ok || b.N == 0 {
		return
	}
	b.ReportMetric(float64(t-m.start)/float64(b.N), "cpu-ns/op")
}
