package platform

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/latchsec/latch/internal/strictjson"
	"github.com/latchsec/latch/mqttauth"
	"github.com/latchsec/latch/mqttauth/mochi"
	"github.com/latchsec/latch/token"
)

// The MQTT side of the platform: an embedded mochi-mqtt broker on TLS,
// whose every CONNECT, SUBSCRIBE, PUBLISH and delivery goes through
// mqttauth. A device connects with its application key (user name) and
// secret (password), as client id "{app}:{device}", where {app} is its
// owner's id; it may subscribe to its rules topic only and publish to its
// state topic only. The platform publishes the owner's end-to-end messages
// to the rules topic and stores what arrives on state topics.

// audienceMQTT is the token audience of device secrets.
const audienceMQTT = "mqtt"

var brokerACL = mqttauth.ACLConfig{
	Rules: []mqttauth.Rule{
		{Topic: "apps/{app}/devices/{device}/rules", Access: mqttauth.Subscribe},
		{Topic: "apps/{app}/devices/{device}/state", Access: mqttauth.Publish},
	},
	ClientIDs: []string{"{app}:{device}"},
}

// broker is the embedded MQTT broker, the provisioner of device
// credentials and the guard that admits devices.
type broker struct {
	base
	provisioner *mqttauth.Provisioner
	guard       *mqttauth.Guard
	server      *mqtt.Server // nil until start
	hook        *mochi.Hook
	url         string // "ssl://host:port", once started
}

// newBroker makes the provisioner and the guard of device credentials:
// the API's token settings with an audience of their own, so that API
// tokens and MQTT secrets never stand in for each other.
func newBroker(b base, api token.Config) (*broker, error) {
	acl, err := mqttauth.Compile(brokerACL)
	if err != nil {
		return nil, err
	}
	br := &broker{base: b}
	secrets := api
	secrets.Audience = audienceMQTT
	br.provisioner = &mqttauth.Provisioner{Tokens: &token.Issuer{Config: secrets}}
	br.guard = &mqttauth.Guard{
		Tokens: &token.Verifier{Config: secrets},
		ACL:    acl,
	}
	return br, nil
}

// start starts the broker on TLS at addr with the platform's certificate;
// state is the hook that stores what devices report.
func (br *broker) start(addr string, pair tls.Certificate, state mqtt.Hook) error {
	srv := mqtt.New(&mqtt.Options{InlineClient: true, Logger: br.audit.With("component", "broker")})
	br.hook = new(mochi.Hook)
	if err := srv.AddHook(br.hook, &mochi.Options{Guard: br.guard, Server: srv}); err != nil {
		return err
	}
	if err := srv.AddHook(state, nil); err != nil {
		return err
	}
	l := listeners.NewTCP(listeners.Config{ID: "tls", Address: addr,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}})
	if err := srv.AddListener(l); err != nil {
		return fmt.Errorf("platform: MQTT listener: %w", err)
	}
	if err := srv.Serve(); err != nil {
		return err
	}
	if err := br.hook.Err(); err != nil {
		_ = mochi.Shutdown(srv)
		return err
	}
	br.server = srv
	br.url = "ssl://" + l.Address()
	return nil
}

// close shuts the broker down, if it started.
func (br *broker) close() error {
	if br == nil || br.server == nil {
		return nil
	}
	return mochi.Shutdown(br.server)
}

// stateHook stores what devices publish on their state topics. It runs
// in OnPublish, after the mqttauth hook has allowed the PUBLISH and before
// the broker acknowledges it, so a device whose report was acknowledged
// finds it stored. It checks again that the topic is the publisher's own.
type stateHook struct {
	mqtt.HookBase
	devices *devices
}

func (h *stateHook) ID() string { return "latch-example-state" }

func (h *stateHook) Provides(b byte) bool { return b == mqtt.OnPublish }

func (h *stateHook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline || !strings.HasSuffix(pk.TopicName, "/state") {
		return pk, nil
	}
	parts := strings.Split(pk.TopicName, "/") // apps/{owner}/devices/{device}/state
	if len(parts) != 5 || len(pk.Payload) > maxStateSize {
		return pk, packets.ErrRejectPacket
	}
	ctx := context.Background()
	var n int
	err := h.devices.db.QueryRowContext(ctx, `SELECT count(*) FROM devices WHERE key = ? AND owner = ? AND id = ?`,
		string(cl.Properties.Username), parts[1], parts[3]).Scan(&n)
	if err != nil || n != 1 {
		return pk, packets.ErrRejectPacket
	}
	var state map[string]any
	if err := strictjson.Decode(pk.Payload, &state); err != nil {
		return pk, packets.ErrRejectPacket
	}
	if err := h.devices.saveState(ctx, parts[1], parts[3], state); err != nil {
		h.devices.audit.Error("storing device state", "device", parts[3], "err", err.Error())
		return pk, packets.ErrRejectPacket
	}
	return pk, nil
}
