package device_test

import (
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"testing"

	"github.com/latchsec/latch/sealedbox/e2e"
	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/examples/device"
	"github.com/latchsec/latch/pairing"
)

// onboarded is what each side of one onboarding returned.
type onboarded struct {
	prov   device.Provisioning
	err    error // the device's
	key    *e2e.Key
	appErr error
}

// onboardWith pairs a device in pairing mode with an app that sends
// settings, and returns both sides' results.
func onboardWith(t *testing.T, settings []byte) onboarded {
	t.Helper()
	code := pairing.NewSetupCode()
	rec, err := pairing.NewRecord(code, "dev", pairing.KDFParams{Time: 1, MemoryKiB: 8 << 10, Threads: 1})
	require.NoError(t, err)
	pd := &pairing.Device{Record: rec, Store: pairing.FileStore{Path: filepath.Join(t.TempDir(), "state")}}
	require.NoError(t, pd.OpenWindow())
	a, d := net.Pipe()
	type result struct {
		prov device.Provisioning
		err  error
	}
	done := make(chan result, 1)
	go func() {
		prov, err := device.Onboard(context.Background(), d, pd)
		d.Close()
		done <- result{prov, err}
	}()
	var app pairing.App
	key, appErr := app.Pair(context.Background(), a, code, pairing.Provisioning{
		AppKey: "ak_1", AppSecret: "as_1", PlatformURL: "mqtts://127.0.0.1:8883", Settings: settings,
	})
	a.Close()
	r := <-done
	return onboarded{r.prov, r.err, key, appErr}
}

func TestOnboard(t *testing.T) {
	settings, err := json.Marshal(device.Identity{DeviceID: "dv_1", App: "u_1", ClientID: "u_1:dv_1"})
	require.NoError(t, err)
	o := onboardWith(t, settings)
	require.NoError(t, o.err)
	require.NoError(t, o.appErr)
	require.Equal(t, device.Provisioning{DeviceID: "dv_1", App: "u_1", ClientID: "u_1:dv_1", Key: "ak_1", Secret: "as_1",
		BrokerURL: "mqtts://127.0.0.1:8883", E2EKey: o.key}, o.prov)

	// A payload without the device's identity is refused.
	require.ErrorContains(t, onboardWith(t, nil).err, "no device identity")
	require.ErrorContains(t, onboardWith(t, []byte(`{"deviceId":"dv_1"}`)).err, "no device identity")
}
