// Package onboardtest runs the device's side of onboarding for tests of the
// example: a device fresh from the factory, in pairing mode, on one end of
// an in-memory link, so that a test pairs an app with it over the other.
package onboardtest

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/examples/device"
	"github.com/latchsec/latch/pairing"
)

// Device is a device in pairing mode, onboarding on one end of a link.
type Device struct {
	// Code is the setup code on its label.
	Code pairing.SetupCode
	// Conn is the app's end of the link.
	Conn net.Conn

	done chan result
}

type result struct {
	prov api.Provisioning
	err  error
}

// Start makes a device with a new setup code (under a key derivation
// cheap enough for tests), opens its pairing window by the clock now and
// starts its side of onboarding ([device.Onboard]).
func Start(t testing.TB, now func() time.Time) *Device {
	t.Helper()
	code := pairing.NewSetupCode()
	rec, err := pairing.NewRecord(code, "dev", pairing.KDFParams{Time: 1, MemoryKiB: 8 << 10, Threads: 1})
	require.NoError(t, err)
	pd := &pairing.Device{Record: rec, Now: now, Store: pairing.FileStore{Path: filepath.Join(t.TempDir(), "state")}}
	require.NoError(t, pd.OpenWindow())
	appEnd, deviceEnd := net.Pipe()
	d := &Device{Code: code, Conn: appEnd, done: make(chan result, 1)}
	go func() {
		prov, err := device.Onboard(context.Background(), deviceEnd, pd)
		deviceEnd.Close()
		d.done <- result{prov, err}
	}()
	return d
}

// Wait closes the app's end of the link and returns what the device's
// onboarding returned.
func (d *Device) Wait() (api.Provisioning, error) {
	d.Conn.Close()
	r := <-d.done
	return r.prov, r.err
}
