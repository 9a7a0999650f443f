package benchmarks

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BenchmarkDeviceBinary reports the size of a device program, built as
// firmware would be: for linux/arm (GOARM=7), with -trimpath and
// -ldflags='-s -w', without cgo. footprint/latch executes a request
// definition with integrator under its tlspolicy level; footprint/nethttp
// does the same job with net/http alone; footprint/latch-pairing is
// footprint/latch that pairs with the app first (pairing over a socket).
//
// The figure is bytes/binary. There is no time to measure: the program is
// built once per run of the benchmark, outside the timer, and ns/op is
// suppressed (the loop only stats the binary).
func BenchmarkDeviceBinary(b *testing.B) {
	for _, name := range []string{"latch", "latch-pairing", "nethttp"} {
		b.Run(name, func(b *testing.B) {
			out := filepath.Join(b.TempDir(), name)
			cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./footprint/"+name)
			cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm", "GOARM=7", "CGO_ENABLED=0")
			if msg, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("go build ./footprint/%s: %v\n%s", name, err, msg)
			}
			var size int64
			for b.Loop() {
				fi, err := os.Stat(out)
				if err != nil {
					b.Fatal(err)
				}
				size = fi.Size()
			}
			b.ReportMetric(float64(size), "bytes/binary")
			b.ReportMetric(0, "ns/op")
		})
	}
}
