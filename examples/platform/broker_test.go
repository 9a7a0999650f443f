package platform_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/examples/device"
)

// The broker as the platform configures it: a device connects with its
// own key, secret and client id only, reads only its rules topic, writes
// only its state topic, gets what the app relays, and is cut off when its
// owner removes it.
func TestBroker(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	phone, _ := e.person("nia@example.com")
	a, err := phone.AddDevice(ctx, "a")
	require.NoError(t, err)
	b, err := phone.AddDevice(ctx, "b")
	require.NoError(t, err)
	cfg := func(p api.Provisioning) device.MQTTConfig {
		return device.MQTTConfig{BrokerURL: p.BrokerURL, Roots: e.p.Roots(), ClientID: p.ClientID, Key: p.Key, Secret: p.Secret,
			RulesTopic: api.RulesTopic(p.App, p.DeviceID), StateTopic: api.StateTopic(p.App, p.DeviceID)}
	}
	dial := func(c device.MQTTConfig) (*device.MQTTLink, error) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return device.DialMQTT(ctx, c)
	}

	// Another device's client id, secret or topic: refused.
	c := cfg(a)
	c.ClientID = b.ClientID
	_, err = dial(c)
	require.ErrorIs(t, err, device.ErrRefused)
	c = cfg(a)
	c.Secret = b.Secret
	_, err = dial(c)
	require.ErrorIs(t, err, device.ErrRefused)
	c = cfg(a)
	c.RulesTopic = api.RulesTopic(b.App, b.DeviceID)
	_, err = dial(c)
	require.ErrorContains(t, err, "refused the subscription")

	// Another device's state topic: the broker refuses the PUBLISH (and,
	// in MQTT 3.1.1, disconnects the client); nothing is stored.
	lost := make(chan struct{}, 1)
	newRaw := func(clientID string) paho.Client {
		return paho.NewClient(paho.NewClientOptions().AddBroker(a.BrokerURL).SetClientID(clientID).
			SetUsername(a.Key).SetPassword(a.Secret).SetProtocolVersion(4).SetAutoReconnect(false).
			SetTLSConfig(&tls.Config{RootCAs: e.p.Roots()}).
			SetConnectionLostHandler(func(paho.Client, error) { lost <- struct{}{} }))
	}
	raw := newRaw(a.ClientID + "-x")
	tok := raw.Connect()
	tok.Wait()
	require.Error(t, tok.Error(), "a client id outside the policy is refused")
	raw = newRaw(a.ClientID)
	tok = raw.Connect()
	tok.Wait()
	require.NoError(t, tok.Error())
	raw.Publish(api.StateTopic(b.App, b.DeviceID), 1, false, []byte(`{"forged":true}`))
	select { // not acknowledged: the broker disconnects the client
	case <-lost:
	case <-time.After(10 * time.Second):
		t.Fatal("the broker did not disconnect a client publishing to another device's topic")
	}
	raw.Disconnect(0)
	var db api.Device
	require.NoError(t, phone.Do(ctx, http.MethodGet, "/v1/devices/"+b.DeviceID, phone.Session(), nil, &db))
	require.Empty(t, db.State)

	link, err := dial(cfg(a))
	require.NoError(t, err)
	defer link.Close()

	// Its own state topic: stored (before the broker's acknowledgement).
	require.NoError(t, link.Report(ctx, map[string]any{"ok": true}))
	var da api.Device
	require.NoError(t, phone.Do(ctx, http.MethodGet, "/v1/devices/"+a.DeviceID, phone.Session(), nil, &da))
	require.JSONEq(t, `{"ok":true}`, string(da.State))

	// What the app relays arrives, as it was sent.
	require.NoError(t, phone.Relay(ctx, a.DeviceID, []byte("opaque end-to-end bytes")))
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	msgs, err := link.Receive(rctx, 0)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	require.Equal(t, "opaque end-to-end bytes", string(msgs[0].Body))

	// Removed: the secret is revoked and a new connection refused.
	require.NoError(t, phone.Do(ctx, http.MethodDelete, "/v1/devices/"+a.DeviceID, phone.Session(), nil, nil))
	_, err = dial(cfg(a))
	require.ErrorIs(t, err, device.ErrRefused)
	var list []api.Device
	require.NoError(t, phone.Do(ctx, http.MethodGet, "/v1/devices", phone.Session(), nil, &list))
	require.Len(t, list, 1)
	b2, _ := json.Marshal(list)
	require.NotContains(t, string(b2), a.DeviceID)
	require.Contains(t, e.audit.String(), `"msg":"device removed"`)
}
