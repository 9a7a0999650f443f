package device

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/pairing"
)

// Onboard is the device's side of onboarding: it pairs with the owner's
// app over conn, the local link (BLE on a real device; a socket in the
// example), with the setup code on its label, and returns its provisioning
// with the end-to-end key both sides derived. The key never crosses the
// link and never reaches the cloud. pd holds the verification record from
// the factory and must be in pairing mode.
func Onboard(ctx context.Context, conn io.ReadWriter, pd *pairing.Device) (api.Provisioning, error) {
	res, err := pd.Pair(ctx, conn)
	if err != nil {
		return api.Provisioning{}, err
	}
	var id api.DeviceIdentity
	if err := json.Unmarshal(res.Provisioning.Settings, &id); err != nil || id.DeviceID == "" || id.App == "" || id.ClientID == "" {
		return api.Provisioning{}, errors.New("device: the pairing payload has no device identity")
	}
	return api.Provisioning{
		DeviceID: id.DeviceID, App: id.App, ClientID: id.ClientID,
		Key: res.Provisioning.AppKey, Secret: res.Provisioning.AppSecret,
		BrokerURL: res.Provisioning.PlatformURL, E2EKey: res.Key,
	}, nil
}

// Label is what the device maker prints on the device: its setup code, as
// a person types it.
func Label(code pairing.SetupCode) string {
	return fmt.Sprintf("setup code %s", code.Printed())
}
