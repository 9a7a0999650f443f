package benchmarks

import (
	"context"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/latchsec/latch/pairing"
	"github.com/latchsec/latch/sealedbox/e2e"
)

// The pairing benchmarks run one whole pairing (SPAKE2+ with ML-KEM-768,
// key confirmation, the provisioning payload) per iteration over an
// in-memory net.Pipe, with the other side in a goroutine:
//
//   - device: pairing.Device.Pair with a verification record of the
//     default work factor and a FileStore in a temporary folder (the
//     attempt is counted with a synced write before the device answers, as
//     on a device), OpenWindow included;
//   - app: pairing.App.Pair, which runs Argon2id with the record's default
//     work factor (64 MiB, 3 passes) once per pairing.
//
// ns/op is the measured side's own time: the wall time of its Pair minus
// the time it spent blocked on the link, waiting for the other side.
// exchange-ns/op is the wall time of the whole exchange; B/op and
// allocs/op count both sides (Argon2id's 64 MiB is the app's). There is no peer
// library to compare with: no Go SPAKE2+ is the ecosystem's standard.

// timedConn counts the time spent in Read and Write.
type timedConn struct {
	net.Conn
	mu      sync.Mutex
	blocked time.Duration
}

func (c *timedConn) Read(p []byte) (int, error) {
	t := time.Now()
	n, err := c.Conn.Read(p)
	c.add(time.Since(t))
	return n, err
}

func (c *timedConn) Write(p []byte) (int, error) {
	t := time.Now()
	n, err := c.Conn.Write(p)
	c.add(time.Since(t))
	return n, err
}

func (c *timedConn) add(d time.Duration) {
	c.mu.Lock()
	c.blocked += d
	c.mu.Unlock()
}

func BenchmarkPairing(b *testing.B) {
	code := pairing.NewSetupCode()
	record, err := pairing.NewRecord(code, "dev-0001", pairing.KDFParams{})
	if err != nil {
		b.Fatal(err)
	}
	prov := pairing.Provisioning{AppKey: "ak_bench", AppSecret: "as_bench", PlatformURL: "https://platform.example/"}
	for _, side := range []string{"device", "app"} {
		b.Run(side, func(b *testing.B) {
			dev := &pairing.Device{Record: record, Store: pairing.FileStore{Path: filepath.Join(b.TempDir(), "state")}}
			var own, exchange time.Duration
			for b.Loop() {
				if err := dev.OpenWindow(); err != nil {
					b.Fatal(err)
				}
				a, d := net.Pipe()
				ta, td := &timedConn{Conn: a}, &timedConn{Conn: d}
				var devKey, appKey *e2e.Key
				var devErr, appErr error
				var devTime, appTime time.Duration
				start := time.Now()
				var wg sync.WaitGroup
				wg.Add(1)
				go func() {
					defer wg.Done()
					t := time.Now()
					var res *pairing.DeviceResult
					res, devErr = dev.Pair(context.Background(), td)
					devTime = time.Since(t)
					if res != nil {
						devKey = res.Key
					}
					d.Close()
				}()
				var app pairing.App
				t := time.Now()
				appKey, appErr = app.Pair(context.Background(), ta, code, prov)
				appTime = time.Since(t)
				a.Close()
				wg.Wait()
				exchange += time.Since(start)
				if devErr != nil || appErr != nil || !devKey.Equal(appKey) {
					b.Fatalf("pairing failed: device %v, app %v", devErr, appErr)
				}
				if side == "device" {
					own += devTime - td.blocked
				} else {
					own += appTime - ta.blocked
				}
			}
			b.ReportMetric(float64(own)/float64(b.N), "ns/op")
			b.ReportMetric(float64(exchange)/float64(b.N), "exchange-ns/op")
		})
	}
}
