package pairing_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/latchsec/latch/pairing"
)

// At manufacture: a setup code for the label and the device's verification
// record. The code goes on the label only; the record goes on the device.
func ExampleNewRecord() {
	code := pairing.NewSetupCode()
	rec, err := pairing.NewRecord(code, "dev-0001", pairing.KDFParams{})
	if err != nil {
		panic(err)
	}
	stored, _ := rec.MarshalBinary()

	label := code.Printed() // for the person to type: 1234-5678-9
	qr := code.QRPayload()  // for the QR code: LATCH:PAIR:1:123456789
	typed, err := pairing.ParseSetupCode(label)
	fmt.Println(len(label), len(qr), err == nil && typed == code)
	fmt.Println(bytes.Contains(stored, []byte(label[:4])) && bytes.Contains(stored, []byte(label[5:9])))
	// Output:
	// 11 22 true
	// false
}

// Onboarding: the device in pairing mode and the app with the code from
// the label, over a local link (here an in-memory pipe standing in for
// BLE). Both end with the same end-to-end key, and the device with its
// MQTT credentials.
func ExampleDevice_Pair() {
	code := pairing.NewSetupCode()
	rec, err := pairing.NewRecord(code, "dev-0001", pairing.KDFParams{})
	if err != nil {
		panic(err)
	}
	dir, _ := os.MkdirTemp("", "pairing-example")
	defer os.RemoveAll(dir)
	device := &pairing.Device{Record: rec, Store: pairing.FileStore{Path: filepath.Join(dir, "pairing-state")}}
	if err := device.OpenWindow(); err != nil { // the person held the button
		panic(err)
	}

	appEnd, deviceEnd := net.Pipe()
	type result struct {
		res *pairing.DeviceResult
		err error
	}
	done := make(chan result)
	go func() {
		res, err := device.Pair(context.Background(), deviceEnd)
		deviceEnd.Close()
		done <- result{res, err}
	}()

	var app pairing.App
	typed, _ := pairing.ParseSetupCode(code.Printed())
	key, err := app.Pair(context.Background(), appEnd, typed, pairing.Provisioning{
		AppKey:      "ak_example",
		AppSecret:   "as_example",
		PlatformURL: "https://platform.example/",
	})
	appEnd.Close()
	d := <-done
	fmt.Println(err, d.err)
	fmt.Println(key.Equal(d.res.Key), d.res.Provisioning.AppKey)
	// Output:
	// <nil> <nil>
	// true ak_example
}

// A wrong code fails on both sides with ErrAuthentication; the device
// counts one failed attempt.
func ExampleApp_Pair_wrongCode() {
	code := pairing.NewSetupCode()
	rec, _ := pairing.NewRecord(code, "", pairing.KDFParams{})
	dir, _ := os.MkdirTemp("", "pairing-example")
	defer os.RemoveAll(dir)
	store := pairing.FileStore{Path: filepath.Join(dir, "pairing-state")}
	device := &pairing.Device{Record: rec, Store: store}
	device.OpenWindow()

	appEnd, deviceEnd := net.Pipe()
	devErr := make(chan error)
	go func() {
		_, err := device.Pair(context.Background(), deviceEnd)
		deviceEnd.Close()
		devErr <- err
	}()
	guess := pairing.NewSetupCode()
	for guess == code {
		guess = pairing.NewSetupCode()
	}
	var app pairing.App
	_, err := app.Pair(context.Background(), appEnd, guess, pairing.Provisioning{
		AppKey: "ak", AppSecret: "as", PlatformURL: "https://platform.example/",
	})
	appEnd.Close()
	fmt.Println(errors.Is(err, pairing.ErrAuthentication), errors.Is(<-devErr, pairing.ErrAuthentication))
	state, _ := store.Load()
	fmt.Println(state.Failures)
	// Output:
	// true true
	// 1
}
