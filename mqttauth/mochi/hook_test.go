package mochi_test

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/internal/testpki"
	"github.com/latchsec/latch/mqttauth"
	"github.com/latchsec/latch/mqttauth/mochi"
	"github.com/latchsec/latch/token"
)

func TestConnect(t *testing.T) {
	b := startBroker(t)
	a := b.issue(t, "app-1", "dev-a")
	other := b.issue(t, "app-1", "dev-b")

	c := b.mustConnect(t, a)
	require.True(t, c.IsConnectionOpen())
	// The key as client id is bound too.
	_, err := b.connect(t, a.Key, a.Key, a.Secret, nil)
	require.NoError(t, err)

	refused := []struct {
		name               string
		clientID, user, pw string
	}{
		{"wrong secret", "app-1:dev-a", a.Key, other.Secret},
		{"secret of key A, user name of key B", "app-1:dev-b", other.Key, a.Secret},
		{"client id of another device", "app-1:dev-b", a.Key, a.Secret},
		{"no secret", "app-1:dev-a", a.Key, ""},
		{"wildcard client id", "#", a.Key, a.Secret},
		{"garbage secret", "app-1:dev-a", a.Key, "lt_not-a-token"},
		{"secret as the user name", "app-1:dev-a", a.Secret, a.Secret},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.connect(t, tt.clientID, tt.user, tt.pw, nil)
			// MQTT 3.1.1 has one code for it: 0x05 not authorized.
			require.ErrorIs(t, err, packets.ErrorRefusedNotAuthorised)
		})
	}
}

func TestWillTopicCheckedAtConnect(t *testing.T) {
	b := startBroker(t)
	a := b.issue(t, "app-1", "dev-a")
	_, err := b.connect(t, "app-1:dev-a", a.Key, a.Secret, func(o *paho.ClientOptions) {
		o.SetWill("apps/app-1/devices/dev-b/will", "gone", 1, false)
	})
	require.ErrorIs(t, err, packets.ErrorRefusedNotAuthorised)
	_, err = b.connect(t, "app-1:dev-a", a.Key, a.Secret, func(o *paho.ClientOptions) {
		o.SetWill("$SYS/broker/x", "gone", 0, false)
	})
	require.ErrorIs(t, err, packets.ErrorRefusedNotAuthorised)
	_, err = b.connect(t, "app-1:dev-a", a.Key, a.Secret, func(o *paho.ClientOptions) {
		o.SetWill("apps/app-1/devices/dev-a/will", "gone", 1, false)
	})
	require.NoError(t, err)
}

func TestPublishAndSubscribe(t *testing.T) {
	b := startBroker(t)
	svc := b.mustConnect(t, b.issue(t, "app-1", "", "mqtt:service"))
	a := b.mustConnect(t, b.issue(t, "app-1", "dev-a"))

	require.Equal(t, byte(1), svc.subscribe(t, "apps/app-1/#"))
	require.Equal(t, byte(1), a.subscribe(t, "apps/app-1/devices/dev-a/command/+"))
	require.Equal(t, byte(1), a.subscribe(t, "$share/g/apps/app-1/devices/dev-a/command/reboot"))
	for _, f := range []string{
		"apps/app-1/devices/dev-a/command/#", // "#" widening the "+" rule
		"apps/app-1/devices/+/command/+",     // other devices' commands
		"apps/app-1/#",
		"$share/g/apps/app-1/#",
		"#",
		"$SYS/#",
		"apps/app-2/devices/dev-a/command/+",
	} {
		require.Equal(t, byte(0x80), a.subscribe(t, f), f)
	}

	// A denied QoS 0 publish is dropped; the allowed one after it on the
	// same connection arrives, and is the first thing that does.
	require.NoError(t, a.publish(t, "apps/app-1/devices/dev-b/state", 0, "forged"))
	require.NoError(t, a.publish(t, "$SYS/broker/uptime", 0, "forged"))
	require.NoError(t, a.publish(t, "apps/app-1/devices/dev-a/state", 0, "ok"))
	m := svc.next(t)
	require.Equal(t, "apps/app-1/devices/dev-a/state", m.Topic())
	require.Equal(t, "ok", string(m.Payload()))

	// The service sends a command; the device receives it.
	require.NoError(t, svc.publish(t, "apps/app-1/devices/dev-a/command/reboot", 1, "now"))
	m = a.next(t)
	require.Equal(t, "apps/app-1/devices/dev-a/command/reboot", m.Topic())
	require.Equal(t, "apps/app-1/devices/dev-a/command/reboot", svc.next(t).Topic())

	// A denied QoS 1 publish ends an MQTT 3.1.1 connection (it has no
	// negative PUBACK).
	_ = a.Publish("apps/app-1/devices/dev-b/state", 1, false, "forged")
	a.waitLost(t)
}

func TestNoSessionTakeover(t *testing.T) {
	b := startBroker(t)
	svc := b.mustConnect(t, b.issue(t, "app-1", "", "mqtt:service"))
	require.Equal(t, byte(1), svc.subscribe(t, "apps/app-1/#"))
	a := b.mustConnect(t, b.issue(t, "app-1", "dev-a"))
	evil := b.issue(t, "app-1", "dev-b")

	_, err := b.connect(t, "app-1:dev-a", evil.Key, evil.Secret, nil)
	require.ErrorIs(t, err, packets.ErrorRefusedNotAuthorised)
	// mochi would have disconnected the session before answering the
	// CONNACK; it is still there.
	require.NoError(t, a.publish(t, "apps/app-1/devices/dev-a/state", 1, "still here"))
	require.Equal(t, "still here", string(svc.next(t).Payload()))
	select {
	case <-a.lost:
		t.Fatal("session was taken over")
	default:
	}
}

func TestRevokedSessionDisconnected(t *testing.T) {
	b := startBroker(t)
	cred := b.issue(t, "app-1", "dev-a")
	keep := b.issue(t, "app-1", "dev-b")
	a := b.mustConnect(t, cred)
	k := b.mustConnect(t, keep)

	require.Zero(t, b.hook.Recheck(context.Background()))
	require.NoError(t, b.provisioner.RevokeKey(context.Background(), cred.Key, cred.Device))
	require.Equal(t, 1, b.hook.Recheck(context.Background()))
	a.waitLost(t)
	require.NoError(t, k.publish(t, "apps/app-1/devices/dev-b/state", 1, "fine"))

	_, err := b.connect(t, "app-1:dev-a", cred.Key, cred.Secret, nil)
	require.ErrorIs(t, err, packets.ErrorRefusedNotAuthorised)
}

// The schedule: with a short interval, a revoked credential's session ends
// by itself (the test waits for the disconnection, not for time).
func TestRecheckSchedule(t *testing.T) {
	b := startBrokerRecheck(t, 5*time.Millisecond)
	cred := b.issue(t, "app-1", "dev-a")
	a := b.mustConnect(t, cred)
	require.NoError(t, a.publish(t, "apps/app-1/devices/dev-a/state", 1, "up"))
	require.NoError(t, b.provisioner.RevokeKey(context.Background(), cred.Key, cred.Device))
	a.waitLost(t)
}

// fickle is an allow-all hook that says it provides nothing when the Latch
// hook looks and starts providing OnConnectAuthenticate and OnACLCheck
// later (mochi asks Provides on every call), so that it passes the check
// for other auth hooks: what the hook's vetoes are for.
type fickle struct {
	auth.AllowHook
	on atomic.Bool
}

func (f *fickle) Provides(b byte) bool { return f.on.Load() && f.AllowHook.Provides(b) }

// mochi lets the first hook that allows win. With an allow-all hook that
// went unnoticed before it, the Latch hook still refuses what its ACL
// refuses.
func TestOtherHooksCannotWiden(t *testing.T) {
	f := new(fickle)
	b := startBrokerWith(t, brokerOptions{before: []mqtt.Hook{f}, recheck: -1})
	f.on.Store(true)
	svc := b.mustConnect(t, b.issue(t, "app-1", "", "mqtt:service"))
	require.Equal(t, byte(1), svc.subscribe(t, "apps/app-1/#"))
	cred := b.issue(t, "app-1", "dev-a")

	_, err := b.connect(t, "app-1:dev-a", cred.Key, "wrong", nil)
	require.ErrorIs(t, err, packets.ErrorRefusedNotAuthorised)

	a := b.mustConnect(t, cred)
	require.Equal(t, byte(0x80), a.subscribe(t, "apps/app-1/#"))
	require.NoError(t, a.publish(t, "apps/app-1/devices/dev-b/state", 0, "forged"))
	require.NoError(t, a.publish(t, "apps/app-1/devices/dev-a/state", 0, "ok"))
	require.Equal(t, "ok", string(svc.next(t).Payload()))

	// The refused subscription really is gone: a command to the device
	// arrives once, through its allowed subscription only.
	require.Equal(t, byte(1), a.subscribe(t, "apps/app-1/devices/dev-a/command/+"))
	require.NoError(t, svc.publish(t, "apps/app-1/devices/dev-a/command/x", 1, "c1"))
	require.NoError(t, svc.publish(t, "apps/app-1/devices/dev-a/command/y", 1, "c2"))
	require.Equal(t, "c1", string(a.next(t).Payload()))
	require.Equal(t, "c2", string(a.next(t).Payload()))
	require.Contains(t, b.log.String(), "subscription allowed by another hook taken back")
}

func TestInitNeedsOptions(t *testing.T) {
	g := &mqttauth.Guard{Tokens: &token.Verifier{}}
	for _, tt := range []struct {
		config any
		msg    string
	}{
		{nil, "mqttauth/mochi: invalid hook options: config is not a *mochi.Options"},
		{mochi.Options{Guard: g, Server: mqtt.New(nil)}, "mqttauth/mochi: invalid hook options: config is not a *mochi.Options"},
		{&mochi.Options{}, "mqttauth/mochi: invalid hook options: Options.Guard with Tokens is required"},
		{&mochi.Options{Guard: &mqttauth.Guard{}, Server: mqtt.New(nil)}, "mqttauth/mochi: invalid hook options: Options.Guard with Tokens is required"},
		{&mochi.Options{Guard: g}, "mqttauth/mochi: invalid hook options: Options.Server is required"},
	} {
		err := new(mochi.Hook).Init(tt.config)
		require.ErrorIs(t, err, mochi.ErrOptions)
		require.EqualError(t, err, tt.msg)
	}
	// A server not made by mqtt.New has no hook list to check.
	require.ErrorIs(t, new(mochi.Hook).Init(&mochi.Options{Guard: g, Server: &mqtt.Server{}}), mochi.ErrUnsupportedServer)
}

// TestReadDecisionRemembered attacks the session's memory of the last
// topic a read check allowed: it answers only for that exact topic, never
// for another client or after the session has ended.
func TestReadDecisionRemembered(t *testing.T) {
	b := startBroker(t)
	svc := b.mustConnect(t, b.issue(t, "app-1", "", "mqtt:service"))
	cred := b.issue(t, "app-1", "dev-a")
	a := b.mustConnect(t, cred)
	require.Equal(t, byte(1), a.subscribe(t, "apps/app-1/devices/dev-a/command/+"))
	for range 3 {
		require.NoError(t, svc.publish(t, "apps/app-1/devices/dev-a/command/reboot", 1, "now"))
		require.Equal(t, "now", string(a.next(t).Payload()))
	}
	cl, ok := b.srv.Clients.Get("app-1:dev-a")
	require.True(t, ok)
	allowed := "apps/app-1/devices/dev-a/command/reboot"
	require.True(t, b.hook.OnACLCheck(cl, allowed, false))
	// Topics next to the remembered one are decided by the ACL.
	for _, topic := range []string{
		"apps/app-1/devices/dev-b/command/reboot",
		"apps/app-1/devices/dev-a/command/reboot/x",
		"apps/app-1/devices/dev-a/command/#",
		"apps/app-1/devices/dev-a/state",
	} {
		require.False(t, b.hook.OnACLCheck(cl, topic, false), topic)
		require.True(t, b.hook.OnACLCheck(cl, allowed, false))
	}
	// A write of the remembered topic is still a write.
	require.False(t, b.hook.OnACLCheck(cl, allowed, true))
	// Another client (not the session's) gets nothing from it.
	require.False(t, b.hook.OnACLCheck(&mqtt.Client{ID: cl.ID}, allowed, false))

	require.NoError(t, b.provisioner.RevokeKey(context.Background(), cred.Key, cred.Device))
	require.Equal(t, 1, b.hook.Recheck(context.Background()))
	a.waitLost(t)
	require.False(t, b.hook.OnACLCheck(cl, allowed, false), "the ended session's memory is gone with it")
}

// TestRecentSessionReplaced: when a device connects again under its client
// id, the client object of the old connection loses every right, even
// though the hook had its session at hand from the last check.
func TestRecentSessionReplaced(t *testing.T) {
	b := startBroker(t)
	cred := b.issue(t, "app-1", "dev-a")
	a := b.mustConnect(t, cred)
	require.Equal(t, byte(1), a.subscribe(t, "apps/app-1/devices/dev-a/command/+"))
	old, ok := b.srv.Clients.Get("app-1:dev-a")
	require.True(t, ok)
	topic := "apps/app-1/devices/dev-a/command/reboot"
	require.True(t, b.hook.OnACLCheck(old, topic, false))
	require.True(t, b.hook.OnACLCheck(old, "apps/app-1/devices/dev-a/state", true))

	again := b.mustConnect(t, cred)
	a.waitLost(t)
	cl, ok := b.srv.Clients.Get("app-1:dev-a")
	require.True(t, ok)
	require.NotSame(t, old, cl)
	require.False(t, b.hook.OnACLCheck(old, topic, false))
	require.False(t, b.hook.OnACLCheck(old, "apps/app-1/devices/dev-a/state", true))
	require.True(t, b.hook.OnACLCheck(cl, topic, false))
	require.NoError(t, again.publish(t, "apps/app-1/devices/dev-a/state", 1, "back"))
}

// TestReadTopicsInterned attacks the hook's table of the topics read
// checks were asked about, by which a session remembers the last topic it
// may read: a copy of a topic gets the remembered answer, no other topic
// does, and a client that floods the table with long filters neither
// grows it past its bound nor changes a decision.
func TestReadTopicsInterned(t *testing.T) {
	b := startBroker(t)
	a := b.mustConnect(t, b.issue(t, "app-1", "dev-a"))
	require.Equal(t, byte(1), a.subscribe(t, "apps/app-1/devices/dev-a/command/+"))
	cl, ok := b.srv.Clients.Get("app-1:dev-a")
	require.True(t, ok)
	allowed := "apps/app-1/devices/dev-a/command/reboot"
	refused := "apps/app-1/devices/dev-b/command/reboot"
	require.True(t, b.hook.OnACLCheck(cl, allowed, false))
	// A topic of the same bytes in other memory, as each PUBLISH brings.
	require.True(t, b.hook.OnACLCheck(cl, strings.Clone(allowed), false))
	require.False(t, b.hook.OnACLCheck(cl, refused, false))
	require.True(t, b.hook.OnACLCheck(cl, strings.Clone(allowed), false))

	// Another client floods the table with refused filters of every
	// length, long ones included.
	b.mustConnect(t, b.issue(t, "app-1", "dev-m"))
	mcl, ok := b.srv.Clients.Get("app-1:dev-m")
	require.True(t, ok)
	for i := range 3000 {
		filter := fmt.Sprintf("apps/app-2/%d/%s", i, strings.Repeat("x", i%2000))
		require.False(t, b.hook.OnACLCheck(mcl, filter, false))
		require.LessOrEqual(t, b.hook.InternedSize(), int64(mochi.MaxInternedSize))
		if i%500 == 0 {
			require.True(t, b.hook.OnACLCheck(cl, strings.Clone(allowed), false))
			require.False(t, b.hook.OnACLCheck(cl, refused, false))
		}
	}
	require.True(t, b.hook.OnACLCheck(cl, allowed, false))
	require.False(t, b.hook.OnACLCheck(mcl, allowed, false), "dev-m may not read dev-a's commands")
	require.False(t, b.hook.OnACLCheck(cl, refused, false))
}

// A client that sends a second CONNECT on its connection (a firmware bug,
// or someone probing) is disconnected, as MQTT wants, and its secret
// reaches the server's log in no form: mochi logs the whole packet it
// refuses, and would write the password (and a secret sent as the user
// name) as bytes in a text log and as base64 in a JSON one.
func TestSecondConnectLogsNoSecret(t *testing.T) {
	b := startBroker(t)
	a := b.issue(t, "app-1", "dev-a")
	conn, err := tls.Dial("tcp", b.addr, &tls.Config{RootCAs: b.ca.Pool(), Time: testpki.Clock, MinVersion: tls.VersionTLS12})
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(wait))) // a bound on waiting, not a sleep
	connect := func(user, pass string) {
		cp := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
		cp.ProtocolName, cp.ProtocolVersion, cp.CleanSession, cp.Keepalive = "MQTT", 4, true, 30
		cp.ClientIdentifier = "app-1:dev-a"
		cp.UsernameFlag, cp.Username = true, user
		cp.PasswordFlag, cp.Password = true, []byte(pass)
		require.NoError(t, cp.Write(conn))
	}
	connect(a.Key, a.Secret)
	ack, err := packets.ReadPacket(conn)
	require.NoError(t, err)
	require.Equal(t, byte(packets.Accepted), ack.(*packets.ConnackPacket).ReturnCode)

	connect(a.Secret, a.Secret)
	_, err = packets.ReadPacket(conn)
	require.Error(t, err, "the broker kept a connection that sent a second CONNECT")
	logs := b.log.String()
	require.Contains(t, logs, "error processing packet") // mochi logged the packet it refused
	for _, form := range []string{a.Secret, base64.StdEncoding.EncodeToString([]byte(a.Secret)), strings.Trim(fmt.Sprint([]byte(a.Secret)), "[]")} {
		require.NotContains(t, logs, form)
	}
}
