package mochi_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/internal/interop"
)

// mqttScript is a device on npm mqtt 5.x over MQTT 5: refused with a wrong
// secret, then connected; it subscribes to an allowed and a denied filter,
// publishes with a topic alias and then by the alias alone, and tries
// another device's topic.
const mqttScript = `
import mqtt from 'mqtt';
import fs from 'node:fs';
const [port, caFile, key, secret, wrongSecret, clientId] = process.argv.slice(2);
const ca = fs.readFileSync(caFile);
const opts = (password) => ({ ca, username: key, password, clientId, protocolVersion: 5,
  reconnectPeriod: 0, connectTimeout: 20000 });
const out = {};
try {
  const c = await mqtt.connectAsync('mqtts://127.0.0.1:' + port, opts(wrongSecret));
  out.wrongSecret = 'connected';
  await c.endAsync();
} catch (e) {
  out.wrongSecret = e.code;
}
const c = await mqtt.connectAsync('mqtts://127.0.0.1:' + port, opts(secret));
try {
  await c.subscribeAsync(['apps/app-1/devices/dev-a/command/+', 'apps/app-1/#'], { qos: 1 });
  out.granted = 'all';
} catch (e) {
  out.granted = e.packet.granted; // the SUBACK's reason codes, in order
}
const state = 'apps/app-1/devices/dev-a/state';
await c.publishAsync(state, 'aliased-1', { qos: 1, properties: { topicAlias: 1 } });
await c.publishAsync('', 'aliased-2', { qos: 1, properties: { topicAlias: 1 } });
try {
  await c.publishAsync('apps/app-1/devices/dev-b/state', 'forged', { qos: 1 });
  out.forged = 'accepted';
} catch (e) {
  out.forged = e.code;
}
await c.publishAsync(state, 'last', { qos: 1 });
await c.endAsync();
console.log(JSON.stringify(out));
`

func TestNodeMQTT(t *testing.T) {
	interop.Node(t, "mqtt")
	b := startBroker(t)
	svc := b.mustConnect(t, b.issue(t, "app-1", "", "mqtt:service"))
	require.Equal(t, byte(1), svc.subscribe(t, "apps/app-1/#"))
	a := b.issue(t, "app-1", "dev-a")
	other := b.issue(t, "app-1", "dev-b")

	out := interop.RunNode(t, mqttScript, nil, b.port, b.caFile, a.Key, a.Secret, other.Secret, "app-1:dev-a")
	var res struct {
		WrongSecret any `json:"wrongSecret"`
		Granted     any `json:"granted"`
		Forged      any `json:"forged"`
	}
	require.NoError(t, json.Unmarshal(out, &res), "%s", out)
	require.Equal(t, float64(0x86), res.WrongSecret) // CONNACK bad user name or password
	// QoS 1 granted; 0x87 not authorized.
	require.Equal(t, []any{float64(1), float64(0x87)}, res.Granted)
	require.Equal(t, float64(0x87), res.Forged) // PUBACK not authorized

	// The alias-only publish is decided, and delivered, as the topic the
	// alias stands for; the forged one never arrives.
	for _, want := range []string{"aliased-1", "aliased-2", "last"} {
		m := svc.next(t)
		require.Equal(t, "apps/app-1/devices/dev-a/state", m.Topic())
		require.Equal(t, want, string(m.Payload()))
	}
}
