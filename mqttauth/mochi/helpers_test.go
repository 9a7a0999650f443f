package mochi_test

import (
	"context"
	"crypto/tls"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/internal/testlog"
	"github.com/latchsec/latch/internal/testpki"
	"github.com/latchsec/latch/mqttauth"
	"github.com/latchsec/latch/mqttauth/mochi"
	"github.com/latchsec/latch/token"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// aclConfig is the ACL: devices publish their state and Will and receive
// their commands; services (permission mqtt:service) receive everything of
// their application and send commands.
var aclConfig = mqttauth.ACLConfig{
	Rules: []mqttauth.Rule{
		{Topic: "apps/{app}/devices/{device}/state", Access: mqttauth.Publish},
		{Topic: "apps/{app}/devices/{device}/will", Access: mqttauth.Publish},
		{Topic: "apps/{app}/devices/{device}/command/+", Access: mqttauth.Subscribe},
		{Topic: "apps/{app}/#", Access: mqttauth.Subscribe, Permission: "mqtt:service"},
		{Topic: "apps/{app}/devices/+/command/+", Access: mqttauth.Publish, Permission: "mqtt:service"},
	},
	ClientIDs: []string{"{app}:{device}", "{key}"},
}

// broker is a mochi server with the hook, on 127.0.0.1 over TLS.
type broker struct {
	addr        string // host:port
	port        string
	srv         *mqtt.Server
	hook        *mochi.Hook
	provisioner *mqttauth.Provisioner
	revs        *token.MemoryRevocations
	ca          *testpki.Cert
	caFile      string
	log         *syncBuffer
	subscribed  chan string // client ids, as the broker handles their SUBSCRIBEs
	shut        bool        // the test shut the server down itself
	// issued secrets, to check that none reaches the log
	secrets []string
}

// startBroker starts a broker with the Latch hook, which never rechecks
// credentials by itself.
func startBroker(t *testing.T) *broker {
	t.Helper()
	return startBrokerWith(t, brokerOptions{recheck: -1})
}

// startBrokerRecheck starts a broker whose hook rechecks credentials every
// interval.
func startBrokerRecheck(t *testing.T, interval time.Duration) *broker {
	t.Helper()
	return startBrokerWith(t, brokerOptions{recheck: interval})
}

// brokerOptions: hooks added before and after the Latch hook (mochi asks
// hooks in the order they were added), and its recheck interval.
type brokerOptions struct {
	before, after []mqtt.Hook
	recheck       time.Duration
}

func startBrokerWith(t *testing.T, o brokerOptions) *broker {
	t.Helper()
	now := func() time.Time { return t0 }
	keys := token.NewKeyring()
	revs := &token.MemoryRevocations{Now: now}
	acl, err := mqttauth.Compile(aclConfig)
	require.NoError(t, err)
	g := &mqttauth.Guard{
		Tokens: &token.Verifier{Config: token.Config{Keys: keys, Issuer: "https://platform.example", Audience: "mqtt", Prefix: "lt_", Revocations: revs, Now: now}},
		ACL:    acl,
	}
	b := &broker{
		provisioner: &mqttauth.Provisioner{Tokens: &token.Issuer{Config: token.Config{Keys: keys, Issuer: "https://platform.example", Audience: "mqtt", Prefix: "lt_", Revocations: revs, Now: now}}},
		revs:        revs,
		log:         &testlog.Buffer{},
	}
	// mosquitto and node check the broker's certificate against the real
	// clock.
	from, until := testpki.PeerValidity()
	b.ca = testpki.New(t, testpki.Options{CA: true, CommonName: "test root", NotBefore: from, NotAfter: until}, nil)
	leaf := testpki.New(t, testpki.Options{NotBefore: from, NotAfter: until}, b.ca)
	b.caFile = filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(b.caFile, []byte(b.ca.PEM()), 0o600))

	b.srv = mqtt.New(&mqtt.Options{Logger: slog.New(slog.NewTextHandler(b.log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	for _, h := range o.before {
		require.NoError(t, b.srv.AddHook(h, nil))
	}
	b.hook = new(mochi.Hook)
	require.NoError(t, b.srv.AddHook(b.hook, &mochi.Options{Guard: g, Server: b.srv, RecheckInterval: o.recheck}))
	for _, h := range o.after {
		require.NoError(t, b.srv.AddHook(h, nil))
	}
	b.subscribed = make(chan string, 64)
	require.NoError(t, b.srv.AddHook(&observer{subscribed: b.subscribed}, nil))
	l := listeners.NewTCP(listeners.Config{ID: "tls", Address: "127.0.0.1:0", TLSConfig: &tls.Config{
		Certificates: []tls.Certificate{leaf.TLS()}, MinVersion: tls.VersionTLS12,
	}})
	require.NoError(t, b.srv.AddListener(l))
	require.NoError(t, b.srv.Serve())
	b.addr = l.Address()
	b.port = b.addr[strings.LastIndexByte(b.addr, ':')+1:]
	t.Cleanup(func() {
		if !b.shut {
			require.NoError(t, mochi.Shutdown(b.srv))
		}
		logs := b.log.String()
		for _, s := range b.secrets {
			require.NotContains(t, logs, s[3:40], "a secret reached the broker's log")
		}
	})
	return b
}

func (b *broker) issue(t *testing.T, app, device string, perms ...string) *mqttauth.Credential {
	t.Helper()
	c, err := b.provisioner.Issue(context.Background(), mqttauth.KeyRequest{App: app, Device: device, Permissions: perms})
	require.NoError(t, err)
	b.secrets = append(b.secrets, c.Secret)
	return c
}

// observer is a hook that tells the test when the broker has handled a
// SUBSCRIBE, so tests wait for the event rather than for time.
type observer struct {
	mqtt.HookBase
	subscribed chan string
}

func (o *observer) ID() string { return "test-observer" }

func (o *observer) Provides(b byte) bool { return b == mqtt.OnSubscribed || b == mqtt.OnPacketEncode }

// OnPacketEncode advertises the topic aliases mochi accepts (its
// TopicAliasMaximum capability) in the CONNACK, which mochi 2.7.9 does not
// do itself; clients such as mqtt.js send aliases only when told.
func (o *observer) OnPacketEncode(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	if pk.FixedHeader.Type == packets.Connack && pk.ReasonCode == 0 && cl.Properties.ProtocolVersion == 5 {
		pk.Properties.TopicAliasMaximum = 16
	}
	return pk
}

func (o *observer) OnSubscribed(cl *mqtt.Client, pk packets.Packet, reasonCodes []byte) {
	select {
	case o.subscribed <- cl.ID:
	default:
	}
}

// forgetSubscribed drops the SUBSCRIBE events so far.
func (b *broker) forgetSubscribed() {
	for {
		select {
		case <-b.subscribed:
		default:
			return
		}
	}
}

// waitSubscribed waits until the broker has handled a SUBSCRIBE of
// clientID.
func (b *broker) waitSubscribed(t *testing.T, clientID string) {
	t.Helper()
	for {
		select {
		case id := <-b.subscribed:
			if id == clientID {
				return
			}
		case <-time.After(wait):
			t.Fatal("no SUBSCRIBE from " + clientID)
		}
	}
}

// client is a paho client (MQTT 3.1.1) with a channel of messages and one
// that is closed when the connection is lost.
type client struct {
	paho.Client
	msgs chan paho.Message
	lost chan struct{}
}

const wait = 20 * time.Second // a bound on waiting for an event, not a sleep

func (b *broker) connect(t *testing.T, clientID, user, pass string, opt func(*paho.ClientOptions)) (*client, error) {
	t.Helper()
	c := &client{msgs: make(chan paho.Message, 16), lost: make(chan struct{})}
	var once sync.Once
	o := paho.NewClientOptions().AddBroker("ssl://" + b.addr).
		SetTLSConfig(&tls.Config{RootCAs: b.ca.Pool(), Time: testpki.Clock, MinVersion: tls.VersionTLS12}).
		SetClientID(clientID).SetUsername(user).SetPassword(pass).
		SetProtocolVersion(4).SetAutoReconnect(false).SetConnectRetry(false).SetCleanSession(true).
		SetOrderMatters(true).SetConnectTimeout(wait).
		SetConnectionLostHandler(func(paho.Client, error) { once.Do(func() { close(c.lost) }) }).
		SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) { c.msgs <- m })
	if opt != nil {
		opt(o)
	}
	c.Client = paho.NewClient(o)
	tok := c.Connect()
	require.True(t, tok.WaitTimeout(wait), "connect timed out")
	if err := tok.Error(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return c, nil
}

func (b *broker) mustConnect(t *testing.T, cred *mqttauth.Credential) *client {
	t.Helper()
	id := cred.Key
	if cred.Device != "" {
		id = cred.App + ":" + cred.Device
	}
	c, err := b.connect(t, id, cred.Key, cred.Secret, nil)
	require.NoError(t, err)
	return c
}

func (c *client) subscribe(t *testing.T, filter string) byte {
	t.Helper()
	tok := c.Subscribe(filter, 1, nil)
	require.True(t, tok.WaitTimeout(wait))
	require.NoError(t, tok.Error())
	res := tok.(*paho.SubscribeToken).Result()
	require.Len(t, res, 1)
	for _, code := range res { // paho keys shared subscriptions by their filter only
		return code
	}
	return 0
}

func (c *client) publish(t *testing.T, topic string, qos byte, payload string) error {
	t.Helper()
	tok := c.Publish(topic, qos, false, payload)
	require.True(t, tok.WaitTimeout(wait))
	return tok.Error()
}

// next returns the next message the client receives.
func (c *client) next(t *testing.T) paho.Message {
	t.Helper()
	select {
	case m := <-c.msgs:
		return m
	case <-time.After(wait):
		t.Fatal("no message")
		return nil
	}
}

// waitLost waits for the connection to be closed by the broker.
func (c *client) waitLost(t *testing.T) {
	t.Helper()
	select {
	case <-c.lost:
	case <-time.After(wait):
		t.Fatal("connection not lost")
	}
}

// syncBuffer collects what servers log.
type syncBuffer = testlog.Buffer
