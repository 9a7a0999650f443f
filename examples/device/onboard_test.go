package device_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/latchsec/latch/sealedbox/e2e"
	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/examples/internal/onboardtest"
	"github.com/latchsec/latch/pairing"
)

// onboarded is what each side of one onboarding returned.
type onboarded struct {
	prov   api.Provisioning
	err    error // the device's
	key    *e2e.Key
	appErr error
}

// onboardWith pairs a device in pairing mode with an app that sends
// settings, and returns both sides' results.
func onboardWith(t *testing.T, settings []byte) onboarded {
	t.Helper()
	now := time.Unix(1_800_000_000, 0) // the pairing window's clock; no certificate here
	d := onboardtest.Start(t, func() time.Time { return now })
	var app pairing.App
	key, appErr := app.Pair(context.Background(), d.Conn, d.Code, pairing.Provisioning{
		AppKey: "ak_1", AppSecret: "as_1", PlatformURL: "mqtts://127.0.0.1:8883", Settings: settings,
	})
	prov, err := d.Wait()
	return onboarded{prov, err, key, appErr}
}

func TestOnboard(t *testing.T) {
	settings, err := json.Marshal(api.DeviceIdentity{DeviceID: "dv_1", App: "u_1", ClientID: "u_1:dv_1"})
	require.NoError(t, err)
	o := onboardWith(t, settings)
	require.NoError(t, o.err)
	require.NoError(t, o.appErr)
	require.Equal(t, api.Provisioning{DeviceID: "dv_1", App: "u_1", ClientID: "u_1:dv_1", Key: "ak_1", Secret: "as_1",
		BrokerURL: "mqtts://127.0.0.1:8883", E2EKey: o.key}, o.prov)

	// A payload without the device's identity is refused.
	require.ErrorContains(t, onboardWith(t, nil).err, "no device identity")
	require.ErrorContains(t, onboardWith(t, []byte(`{"deviceId":"dv_1"}`)).err, "no device identity")
}
