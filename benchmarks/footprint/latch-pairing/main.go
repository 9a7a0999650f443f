// Command latch-pairing is footprint/latch with onboarding: the device
// program that pairs with the app first (pairing, over a TCP socket that
// stands in for the local link), then executes an integrator's request
// with integrator under its tlspolicy level. BenchmarkDeviceBinary builds
// it like footprint/latch, so the difference in size is what pairing adds
// to a device (SPAKE2+ on P-256, ML-KEM-768, Argon2id, ChaCha20-Poly1305).
//
// Usage: latch-pairing RECORD STATE ADDRESS REQUEST
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/latchsec/latch/benchmarks/footprint/internal/job"
	"github.com/latchsec/latch/benchmarks/footprint/internal/prog"
	"github.com/latchsec/latch/pairing"
)

func main() { prog.Main("latch-pairing", run) }

func run() error {
	if len(os.Args) != 5 {
		return fmt.Errorf("usage: latch-pairing RECORD STATE ADDRESS REQUEST")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	// Onboarding: pair once over the stand-in link.
	b, err := os.ReadFile(os.Args[1])
	if err != nil {
		return err
	}
	record, err := pairing.ParseRecord(b)
	if err != nil {
		return err
	}
	dev := &pairing.Device{Record: record, Store: pairing.FileStore{Path: os.Args[2]}}
	if err := dev.OpenWindow(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", os.Args[3])
	if err != nil {
		return err
	}
	conn, err := ln.Accept()
	ln.Close()
	if err != nil {
		return err
	}
	res, err := dev.Pair(ctx, conn)
	conn.Close()
	if err != nil {
		return err
	}
	fmt.Printf("paired; platform %s\n", res.Provisioning.PlatformURL)

	// Then the job of footprint/latch.
	f, err := os.Open(os.Args[4])
	if err != nil {
		return err
	}
	defer f.Close()
	return job.Run(ctx, f)
}
