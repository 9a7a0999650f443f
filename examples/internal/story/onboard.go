package story

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/examples/app"
	"github.com/latchsec/latch/examples/device"
	"github.com/latchsec/latch/pairing"
)

// onboarding is what the onboarding act leaves for the story.
type onboarding struct {
	prov  api.Provisioning // the device's, with the key it derived
	label string           // what the device's label reads
	link  string           // the address standing in for BLE
}

// onboard is the onboarding act. At the factory the device gets a setup
// code on its label and only the verification record in its flash. In
// pairing mode it listens on a local socket that stands in for BLE.
// Someone in range relays a pairing with a guessed code: the device
// refuses it and counts one failed attempt. Then Alice's app pairs with
// the code from the label: each side derives the end-to-end key itself,
// and the device gets its credentials under it. The key is never handed
// from the app to the device as a Go value.
func onboard(ctx context.Context, o Options, phone *app.Phone, name string) (*onboarding, error) {
	code := pairing.NewSetupCode()
	record, err := pairing.NewRecord(code, "front-door-0001", pairing.KDFParams{})
	if err != nil {
		return nil, err
	}
	pd := &pairing.Device{Record: record, Now: o.Now, StepTimeout: o.StepTimeout,
		Store: pairing.FileStore{Path: filepath.Join(o.StateDir, "device-pairing-state")}}
	if err := pd.OpenWindow(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer ln.Close()

	// The device answers one connection after another until it pairs.
	type result struct {
		prov api.Provisioning
		err  error
	}
	results := make(chan result)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			prov, err := device.Onboard(ctx, conn, pd)
			conn.Close()
			results <- result{prov, err}
			if err == nil {
				return
			}
		}
	}()

	// Someone in range, with a guessed code.
	guess := pairing.NewSetupCode()
	for guess == code {
		guess = pairing.NewSetupCode()
	}
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return nil, err
	}
	var relay pairing.App
	_, err = relay.Pair(ctx, conn, guess, pairing.Provisioning{AppKey: "k", AppSecret: "s", PlatformURL: "https://attacker.example/"})
	conn.Close()
	devSide := <-results
	if !errors.Is(err, pairing.ErrAuthentication) || !errors.Is(devSide.err, pairing.ErrAuthentication) {
		return nil, fmt.Errorf("a pairing with a guessed code was not refused: %v / %v", err, devSide.err)
	}
	if s, err := pd.Store.Load(); err != nil || s.Failures != 1 {
		return nil, fmt.Errorf("the device did not count the guess as one failed attempt: %+v %v", s, err)
	}

	// Alice types the code from the label.
	typed, err := pairing.ParseSetupCode(code.Printed())
	if err != nil {
		return nil, err
	}
	conn, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return nil, err
	}
	deviceID, err := phone.PairDevice(ctx, conn, typed, name)
	conn.Close()
	devSide = <-results
	if err != nil || devSide.err != nil {
		return nil, fmt.Errorf("pairing with the code from the label: app %v, device %v", err, devSide.err)
	}
	if devSide.prov.DeviceID != deviceID {
		return nil, fmt.Errorf("the device was provisioned as %s, the app registered %s", devSide.prov.DeviceID, deviceID)
	}
	return &onboarding{prov: devSide.prov, label: device.Label(code), link: ln.Addr().String()}, nil
}
