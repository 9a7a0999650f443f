// Package job is the work that footprint/latch and footprint/latch-pairing
// both measure: execute an integrator's request definition with integrator
// under its tlspolicy level.
package job

import (
	"context"
	"fmt"
	"io"

	"github.com/latchsec/latch/integrator"
	"github.com/latchsec/latch/tlspolicy"
)

// Run reads a request definition (at most 1 MiB) from def, executes it
// and prints the security level, the status and the size of the body.
func Run(ctx context.Context, def io.Reader) error {
	b, err := io.ReadAll(io.LimitReader(def, 1<<20))
	if err != nil {
		return err
	}
	req, err := integrator.ParseRequest(b)
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
	resp, err := caller.Do(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("%s %d %d bytes\n", policy.SecurityLevel, resp.StatusCode, len(resp.Body))
	return nil
}
