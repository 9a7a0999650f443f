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
	"fmt"
	"io"
	"os"
	"time"

	"github.com/latchsec/latch/integrator"
	"github.com/latchsec/latch/tlspolicy"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "latch:", err)
		os.Exit(1)
	}
}

func run() error {
	in := io.Reader(os.Stdin)
	if len(os.Args) > 1 {
		f, err := os.Open(os.Args[1])
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	def, err := io.ReadAll(io.LimitReader(in, 1<<20))
	if err != nil {
		return err
	}
	req, err := integrator.ParseRequest(def)
	if err != nil {
		return err
	}
	policy := tlspolicy.Policy{SecurityLevel: req.SecurityLevel, PinnedCertificate: req.PinnedCertificate}
	if err := policy.Validate(); err != nil {
		return err
	}
	caller, err := integrator.New(req, integrator.Options{})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := caller.Do(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("%s %d %d bytes\n", policy.SecurityLevel, resp.StatusCode, len(resp.Body))
	return nil
}
