// Command latch is the Latch side of BenchmarkDeviceBinary: the smallest
// device program that executes an integrator's request with Latch. It reads
// a request definition (JSON, as the app hands it to the device) from the
// file named by its argument, or from standard input, checks its transport
// policy, executes it with integrator under that tlspolicy level, and
// prints the response status and body size.
//
// The benchmark builds it for linux/arm (GOARM=7) with -trimpath and
// -ldflags='-s -w' and reports the size of the binary; footprint/nethttp is
// the same job with net/http alone.
package main

import (
	"context"
	"time"

	"github.com/latchsec/latch/benchmarks/footprint/internal/job"
	"github.com/latchsec/latch/benchmarks/footprint/internal/prog"
)

func main() { prog.Main("latch", run) }

func run() error {
	in, err := prog.Input()
	if err != nil {
		return err
	}
	defer in.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return job.Run(ctx, in)
}
