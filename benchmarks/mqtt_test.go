package benchmarks

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/latchsec/latch/mqttauth"
	"github.com/latchsec/latch/mqttauth/mochi"
	"github.com/latchsec/latch/token"
)

// mqttRules are the rules both ACLs hold: a device's own topics, and the
// topics of its application it may read.
var mqttRules = []struct {
	filter string
	access mqttauth.Access
}{
	{"apps/app-1/devices/dev-1/state", mqttauth.Publish},
	{"apps/app-1/devices/dev-1/events/#", mqttauth.Publish},
	{"apps/app-1/devices/dev-1/command/+", mqttauth.Subscribe},
	{"apps/app-1/broadcast/#", mqttauth.Subscribe},
	{"apps/app-1/devices/dev-1/config", mqttauth.PublishSubscribe},
}

// mqttChecks are what a broker asks, in turn: publishes, subscriptions and
// deliveries, allowed and denied.
var mqttChecks = []struct {
	topic string
	write bool
}{
	{"apps/app-1/devices/dev-1/state", true},
	{"apps/app-1/devices/dev-1/events/boot/1", true},
	{"apps/app-1/devices/dev-2/state", true},
	{"apps/app-1/devices/dev-1/command/+", false},
	{"apps/app-1/broadcast/firmware/v2", false},
	{"apps/app-1/devices/+/state", false},
	{"apps/app-1/devices/dev-1/config", false},
}

type mqttEnv struct {
	provisioner *mqttauth.Provisioner
	guard       *mqttauth.Guard
	cred        *mqttauth.Credential
}

func newMQTTEnv(b *testing.B, rules []mqttauth.Rule) *mqttEnv {
	now := func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }
	keys := token.NewKeyring()
	revs := &token.MemoryRevocations{Now: now}
	acl, err := mqttauth.Compile(mqttauth.ACLConfig{Rules: rules, ClientIDs: []string{"{app}:{device}"}})
	if err != nil {
		b.Fatal(err)
	}
	tokens := token.Config{Keys: keys, Issuer: "https://platform.example", Audience: "mqtt", Prefix: "lt_", Revocations: revs, Now: now}
	e := &mqttEnv{
		provisioner: &mqttauth.Provisioner{Tokens: &token.Issuer{Config: tokens}},
		guard: &mqttauth.Guard{
			Tokens: &token.Verifier{Config: tokens},
			ACL:    acl,
		},
	}
	e.cred, err = e.provisioner.Issue(context.Background(), mqttauth.KeyRequest{App: "app-1", Device: "dev-1"})
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// BenchmarkMQTTACL evaluates the same checks against the same rules with
// Latch's compiled ACL and with mochi-mqtt's hooks/auth Ledger (whose
// answers differ from the specification on several of them; see
// mqttauth/mochi's TestLedgerDecisionTable). One op is one check.
func BenchmarkMQTTACL(b *testing.B) {
	b.Run("latch", func(b *testing.B) {
		var rules []mqttauth.Rule
		for _, r := range mqttRules {
			rules = append(rules, mqttauth.Rule{Topic: r.filter, Access: r.access})
		}
		e := newMQTTEnv(b, rules)
		p, err := e.guard.Authenticate(context.Background(), "app-1:dev-1", e.cred.Key, e.cred.Secret)
		if err != nil {
			b.Fatal(err)
		}
		if p.CheckPublish(mqttChecks[0].topic) != nil || p.CheckPublish(mqttChecks[2].topic) == nil {
			b.Fatal("the ACL does not decide as the rules say")
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			c := mqttChecks[i%len(mqttChecks)]
			if c.write {
				_ = p.CheckPublish(c.topic)
			} else {
				_ = p.CheckSubscribe(c.topic)
			}
			i++
		}
	})
	b.Run("ledger", func(b *testing.B) {
		filters := auth.Filters{}
		for _, r := range mqttRules {
			a := map[mqttauth.Access]auth.Access{mqttauth.Publish: auth.WriteOnly, mqttauth.Subscribe: auth.ReadOnly, mqttauth.PublishSubscribe: auth.ReadWrite}[r.access]
			filters[auth.RString(r.filter)] = a
		}
		ledger := &auth.Ledger{ACL: auth.ACLRules{{Username: "mk_user", Filters: filters}}}
		cl := &mqtt.Client{ID: "app-1:dev-1", Properties: mqtt.ClientProperties{Username: []byte("mk_user")}}
		if _, ok := ledger.ACLOk(cl, mqttChecks[0].topic, true); !ok {
			b.Fatal("the ledger does not decide as the rules say")
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			c := mqttChecks[i%len(mqttChecks)]
			_, _ = ledger.ACLOk(cl, c.topic, c.write)
			i++
		}
	})
}

// BenchmarkMQTTConnectAuth is the whole CONNECT check: identities, secret
// (token decryption and revocation lookup), key binding, client id binding
// and the expansion of the policy for the principal. Its target compares it
// with BenchmarkTokenVerify/latch in the same run.
func BenchmarkMQTTConnectAuth(b *testing.B) {
	b.Run("latch", func(b *testing.B) {
		e := newMQTTEnv(b, []mqttauth.Rule{
			{Topic: "apps/{app}/devices/{device}/state", Access: mqttauth.Publish},
			{Topic: "apps/{app}/devices/{device}/events/#", Access: mqttauth.Publish},
			{Topic: "apps/{app}/devices/{device}/command/+", Access: mqttauth.Subscribe},
			{Topic: "apps/{app}/broadcast/#", Access: mqttauth.Subscribe},
			{Topic: "apps/{app}/devices/{device}/config", Access: mqttauth.PublishSubscribe},
		})
		b.ReportAllocs()
		cpu := startCPU()
		for b.Loop() {
			if _, err := e.guard.Authenticate(context.Background(), "app-1:dev-1", e.cred.Key, e.cred.Secret); err != nil {
				b.Fatal(err)
			}
		}
		cpu.report(b)
	})
}

// startBroker runs an embedded mochi broker on 127.0.0.1 (plain TCP, so
// that TLS does not hide the difference) with the Latch hook or mochi's
// allow-all hook, closed when the benchmark ends.
func startBroker(b *testing.B, impl string, e *mqttEnv) (addr string, srv *mqtt.Server) {
	srv = mqtt.New(&mqtt.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var hook mqtt.Hook = new(auth.AllowHook)
	var cfg any
	if impl == "latch" {
		hook, cfg = new(mochi.Hook), &mochi.Options{Guard: e.guard, Server: srv, RecheckInterval: -1}
	}
	if err := srv.AddHook(hook, cfg); err != nil {
		b.Fatal(err)
	}
	l := listeners.NewTCP(listeners.Config{ID: "t", Address: "127.0.0.1:0"})
	if err := srv.AddListener(l); err != nil {
		b.Fatal(err)
	}
	if err := serveLabelled(srv, impl); err != nil {
		b.Fatal(err)
	}
	return l.Address(), srv
}

// serveLabelled starts srv with the profiler label broker=impl: the
// broker's goroutines (its listeners, and each client's reading and writing
// loops, which they start) inherit it, so that a CPU profile of a benchmark
// that runs two brokers tells their samples apart:
// go tool pprof -tagfocus broker=latch.
func serveLabelled(srv *mqtt.Server, impl string) error {
	var err error
	pprof.Do(context.Background(), pprof.Labels("broker", impl), func(context.Context) { err = srv.Serve() })
	return err
}

// collectorOff collects garbage, turns the collector off, and returns a
// function that turns it back on and reports the objects and bytes
// allocated in between. A benchmark that times two brokers in alternating
// blocks runs each block between the two calls (with its timer stopped
// around them): no block pays for another's garbage, nor collects its own
// (a collection scans both brokers and lands on whichever block is
// running), and what each block allocated is counted instead.
func collectorOff() (restore func() (objects, bytes uint64)) {
	runtime.GC()
	gc := debug.SetGCPercent(-1)
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	objects, bytes := m.Mallocs, m.TotalAlloc
	return func() (uint64, uint64) {
		runtime.ReadMemStats(&m)
		debug.SetGCPercent(gc)
		return m.Mallocs - objects, m.TotalAlloc - bytes
	}
}

// BenchmarkMQTTBrokerConnect: CONNECT, CONNACK and DISCONNECT of MQTT 3.1.1
// clients against an embedded mochi broker with the Latch hook and with
// mochi's allow-all hook. One op is one client's session; 4 × GOMAXPROCS
// clients, each a device of its own, run concurrently.
func BenchmarkMQTTBrokerConnect(b *testing.B) {
	for _, impl := range []string{"latch", "allowall"} {
		b.Run(impl, func(b *testing.B) {
			e := newMQTTEnv(b, []mqttauth.Rule{{Topic: "apps/{app}/devices/{device}/state", Access: mqttauth.Publish}})
			addr, srv := startBroker(b, impl, e)
			defer mochi.Shutdown(srv)
			// Each device needs its own key: a client id is bound to one.
			const devices = 64
			creds := make([]*mqttauth.Credential, devices)
			for i := range creds {
				cred, err := e.provisioner.Issue(context.Background(), mqttauth.KeyRequest{App: "app-1", Device: fmt.Sprintf("dev-%d", i)})
				if err != nil {
					b.Fatal(err)
				}
				creds[i] = cred
			}
			var next atomic.Int64
			b.SetParallelism(4)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				cred := creds[next.Add(1)%devices]
				o := paho.NewClientOptions().AddBroker("tcp://" + addr).
					SetClientID(cred.App + ":" + cred.Device).
					SetUsername(cred.Key).SetPassword(cred.Secret).SetProtocolVersion(4).
					SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(30 * time.Second)
				for pb.Next() {
					cl := paho.NewClient(o)
					if tok := cl.Connect(); !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
						b.Errorf("connect: %v", tok.Error())
						return
					}
					cl.Disconnect(0)
				}
			})
		})
	}
}
