package benchmarks

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/latchsec/latch/mqttauth"
	"github.com/latchsec/latch/mqttauth/mochi"
	"github.com/latchsec/latch/token"
)

// How costs grow with the work: the benchmarks here measure one operation
// at several sizes of the state it consults, and report what each unit of
// state costs in memory. The sizes are the issue's: a million revoked
// tokens, a thousand subscribers to one topic, ten thousand connected
// devices.

// revokedSizes are the sizes of the revocation list in
// BenchmarkTokenVerifyRevoked, by implementation name.
var revokedSizes = []struct {
	impl string
	n    int
}{{"latch-empty", 0}, {"latch-10k", 10_000}, {"latch-1m", 1_000_000}}

// revokedTokens is how many different tokens BenchmarkTokenVerifyRevoked
// verifies in turn, so that its lookups fall all over the list, as a
// server's do, rather than on one place the CPU keeps in its cache.
const revokedTokens = 1 << 14

// BenchmarkTokenVerifyRevoked measures Verify (as BenchmarkTokenVerify/latch
// does) with 0, 10,000 and 1,000,000 revoked IDs in a MemoryRevocations:
// the time must not grow with the list. The tokens verified are not
// revoked (the common case: a lookup that finds nothing); they are
// revokedTokens different ones, verified in turn. Each list is built once
// per run, outside the timer, and bytes/revoked-id is the growth of the
// live heap while it is built, after a collection, divided by its size.
func BenchmarkTokenVerifyRevoked(b *testing.B) {
	f := newTokenFixture(b)
	ctx := context.Background()
	toks := make([]string, revokedTokens+1)
	for i := range toks {
		tok, _, err := f.issuer.Issue(ctx, token.Claims{
			Subject: benchSubject, Scopes: benchScopes, Apps: benchApps, Expires: time.Now().Add(time.Hour),
		})
		if err != nil {
			b.Fatal(err)
		}
		toks[i] = tok
	}
	victimTok := toks[len(toks)-1]
	toks = toks[:len(toks)-1]
	victim, err := f.verifier.Verify(ctx, victimTok)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	for _, size := range revokedSizes {
		revs := &token.MemoryRevocations{}
		heap := liveHeap()
		for range size.n {
			var id [16]byte
			for i := range id {
				id[i] = byte(rng.Uint32())
			}
			if err := revs.RevokeID(ctx, base64.RawURLEncoding.EncodeToString(id[:]), time.Now().Add(time.Hour)); err != nil {
				b.Fatal(err)
			}
		}
		perID := float64(liveHeap()-heap) / float64(max(size.n, 1))
		v := *f.verifier
		v.Revocations = revs
		if size.n > 0 {
			// The list is really consulted: a revoked token is refused.
			if err := revs.RevokeID(ctx, victim.ID, victim.Expires); err != nil {
				b.Fatal(err)
			}
			if _, err := v.Verify(ctx, victimTok); !errors.Is(err, token.ErrRevoked) {
				b.Fatalf("a revoked token is not refused: %v", err)
			}
		}
		b.Run(size.impl, func(b *testing.B) {
			for _, tok := range toks[:4] {
				if _, err := v.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			cpu := startCPU()
			i := 0
			for b.Loop() {
				if _, err := v.Verify(ctx, toks[i%len(toks)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			cpu.report(b)
			if size.n > 0 {
				b.ReportMetric(perID, "bytes/revoked-id")
			}
		})
		runtime.KeepAlive(revs)
	}
}

// liveHeap returns the bytes of live heap objects, after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// growthBroker is an embedded mochi broker, with the Latch hook or mochi's
// allow-all hook, that the growth benchmarks reach over TCP on 127.0.0.1 or
// over in-memory pipes, and whose own inline client publishes.
type growthBroker struct {
	srv  *mqtt.Server
	addr string        // TCP address, or ""
	pipe *pipeListener // or pipes
}

// newGrowthBroker starts a broker. writesPending bounds each client's queue
// of outbound packets (mochi's MaximumClientWritesPending; 0 keeps mochi's
// default of 8192, which allocates 64 KiB per client up front).
func newGrowthBroker(b *testing.B, impl string, e *mqttEnv, pipe bool, writesPending int32) *growthBroker {
	caps := mqtt.NewDefaultServerCapabilities()
	if writesPending > 0 {
		caps.MaximumClientWritesPending = writesPending
	}
	srv := mqtt.New(&mqtt.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), InlineClient: true, Capabilities: caps})
	var hook mqtt.Hook = new(auth.AllowHook)
	var cfg any
	if impl == "latch" {
		hook, cfg = new(mochi.Hook), &mochi.Options{Guard: e.guard, Server: srv, RecheckInterval: -1}
	}
	if err := srv.AddHook(hook, cfg); err != nil {
		b.Fatal(err)
	}
	g := &growthBroker{srv: srv}
	var l listeners.Listener
	if pipe {
		g.pipe = newPipeListener()
		l = listeners.NewNet("p", g.pipe)
	} else {
		tcp := listeners.NewTCP(listeners.Config{ID: "t", Address: "127.0.0.1:0"})
		l = tcp
		defer func() { g.addr = tcp.Address() }()
	}
	if err := srv.AddListener(l); err != nil {
		b.Fatal(err)
	}
	if err := serveLabelled(srv, impl); err != nil {
		b.Fatal(err)
	}
	return g
}

// connect connects a device with cred and subscribes it to filters.
func (g *growthBroker) connect(cred *mqttauth.Credential, filters ...string) (*wireClient, error) {
	var conn net.Conn
	var err error
	if g.pipe != nil {
		conn, err = g.pipe.dial()
	} else {
		conn, err = net.Dial("tcp", g.addr)
	}
	if err != nil {
		return nil, err
	}
	c, err := wireConnect(conn, cred.App+":"+cred.Device, cred.Key, cred.Secret)
	if err == nil && len(filters) > 0 {
		err = c.subscribe(filters...)
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// connectAll connects a device per credential, at most 16 at a time.
func (g *growthBroker) connectAll(b *testing.B, creds []*mqttauth.Credential, filters func(i int) []string) []*wireClient {
	clients := make([]*wireClient, len(creds))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	errs := make(chan error, len(creds))
	for i, cred := range creds {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := g.connect(cred, filters(i)...)
			if err != nil {
				errs <- err
				return
			}
			clients[i] = c
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return clients
}

// close ends the clients' connections and then the broker (which would
// wait for ever on a pipe that nobody reads, to say goodbye).
func (g *growthBroker) close(clients []*wireClient) {
	for _, c := range clients {
		if c != nil {
			c.conn.Close()
		}
	}
	_ = mochi.Shutdown(g.srv)
	if g.pipe != nil {
		g.pipe.Close()
	}
}

// fanOutSizes are the numbers of subscribers of one topic in
// BenchmarkMQTTFanOut; fanOutTopic(n) is the topic that many subscribe to.
var fanOutSizes = []int{100, 1000}

func fanOutTopic(n int) string { return fmt.Sprintf("apps/app-1/broadcast/%d", n) }

// fanOutBlock is how many PUBLISHes go to one broker before the other
// gets as many.
const fanOutBlock = 4

// BenchmarkMQTTFanOut: one PUBLISH (QoS 0, from the broker's inline client)
// delivered to 100 and to 1,000 subscribers of its topic, each a device of
// its own, connected over TCP on 127.0.0.1. mochi checks the ACL on every
// delivery, so the Latch hook runs a thousand times per PUBLISH.
//
// Both brokers, with the Latch hook and with allow-all, are alive at once
// with the same subscribers, and get alternating blocks of fanOutBlock
// PUBLISHes (which of the two goes first in a pair of blocks is drawn at
// random: a fixed pattern let garbage collections fall more on one side),
// each block timed from a collected heap, with the collector off, until
// its last delivery has been read: load from elsewhere falls on both alike,
// and a collection (which scans both brokers) on neither; allocs/delivery
// and allowall-allocs/delivery count what each made instead. Each
// broker's goroutines carry the profiler label broker=latch or
// broker=allowall, so a CPU profile of this benchmark splits their time. One op is one PUBLISH to each broker. ns/op and deliveries/s are
// the Latch broker's; allowall-deliveries/s the allow-all broker's in the
// same loop, and vs-allowall the ratio of the two rates. hook-ns/delivery
// is what the Latch broker spent per delivery beyond the allow-all one: the
// hook's cost inside a broker, where 1,000 principals do not all stay in
// the CPU's caches. The cpu- metrics are the same on the process's CPU time
// during each broker's blocks (nothing else runs meanwhile: the other
// broker is idle), which does not count waiting for a CPU that other
// processes hold.
func BenchmarkMQTTFanOut(b *testing.B) {
	e := newMQTTEnv(b, []mqttauth.Rule{{Topic: "apps/{app}/broadcast/#", Access: mqttauth.Subscribe}})
	creds := loadCredentials(b, e)[:slices.Max(fanOutSizes)]
	filters := func(i int) []string {
		var f []string
		for _, n := range fanOutSizes {
			if i < n {
				f = append(f, fanOutTopic(n))
			}
		}
		return f
	}
	type side struct {
		impl      string
		g         *growthBroker
		clients   []*wireClient
		remaining atomic.Int64
		done      chan struct{}
		dur, cpu  time.Duration
		mallocs   uint64
	}
	sides := map[string]*side{}
	for _, impl := range []string{"latch", "allowall"} {
		s := &side{impl: impl, g: newGrowthBroker(b, impl, e, false, 0), done: make(chan struct{}, 1)}
		s.clients = s.g.connectAll(b, creds, filters)
		for _, c := range s.clients {
			go c.countPublishes(func() {
				if s.remaining.Add(-1) == 0 {
					s.done <- struct{}{}
				}
			})
		}
		defer s.g.close(s.clients)
		sides[impl] = s
	}
	payload := []byte("firmware v2 is out")
	block := func(b *testing.B, s *side, topic string, n, pubs int) {
		s.remaining.Store(int64(n * pubs))
		b.StopTimer()
		restore := collectorOff() // allocs/delivery counts the garbage instead
		b.StartTimer()
		cpu, _ := processCPU()
		start := time.Now()
		pprof.Do(context.Background(), pprof.Labels("broker", s.impl), func(context.Context) {
			for range pubs {
				if err := s.g.srv.Publish(topic, payload, false, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
		select {
		case <-s.done:
		case <-time.After(time.Minute):
			b.Fatalf("%d deliveries missing after a minute", s.remaining.Load())
		}
		s.dur += time.Since(start)
		end, _ := processCPU()
		s.cpu += end - cpu
		b.StopTimer()
		objects, _ := restore()
		s.mallocs += objects
		b.StartTimer()
	}
	for _, n := range fanOutSizes {
		b.Run(fmt.Sprintf("latch-%d", n), func(b *testing.B) {
			topic := fanOutTopic(n)
			latch, allow := sides["latch"], sides["allowall"]
			for _, s := range []*side{latch, allow} {
				block(b, s, topic, n, fanOutBlock) // warm up
				s.dur, s.cpu, s.mallocs = 0, 0, 0
			}
			b.ResetTimer()
			coin := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
			for i := 0; i < b.N; i += fanOutBlock {
				pubs := min(fanOutBlock, b.N-i)
				order := []*side{latch, allow}
				if coin.IntN(2) == 1 {
					order[0], order[1] = allow, latch
				}
				for _, s := range order {
					block(b, s, topic, n, pubs)
				}
			}
			deliveries := float64(b.N * n)
			b.ReportMetric(float64(latch.dur.Nanoseconds())/float64(b.N), "ns/op")
			b.ReportMetric(deliveries/latch.dur.Seconds(), "deliveries/s")
			b.ReportMetric(deliveries/allow.dur.Seconds(), "allowall-deliveries/s")
			b.ReportMetric(allow.dur.Seconds()/latch.dur.Seconds(), "vs-allowall")
			b.ReportMetric(float64((latch.dur-allow.dur).Nanoseconds())/deliveries, "hook-ns/delivery")
			b.ReportMetric(float64(latch.mallocs)/deliveries, "allocs/delivery")
			b.ReportMetric(float64(allow.mallocs)/deliveries, "allowall-allocs/delivery")
			if latch.cpu > 0 && allow.cpu > 0 {
				b.ReportMetric(float64(allow.cpu)/float64(latch.cpu), "cpu-vs-allowall")
				b.ReportMetric(float64((latch.cpu-allow.cpu).Nanoseconds())/deliveries, "hook-cpu-ns/delivery")
			}
		})
	}
}

// connectedClients is how many devices BenchmarkMQTTConnected keeps
// connected.
const connectedClients = 10_000

// BenchmarkMQTTConnected: connectedClients devices connected at once to an
// embedded mochi broker, each subscribed to its commands, with the Latch
// hook and with allow-all. They connect over in-memory pipes (net.Pipe):
// ten thousand TCP connections inside one process would take twenty
// thousand file descriptors, both ends of each.
//
// bytes/client is the growth of the process's live heap and goroutine
// stacks while they connect, after a collection, divided by their number
// (heap-bytes/client the heap's alone, which varies less from run to run):
// the broker's state for a client (two goroutines, buffers, the session and
// its subscription), the hook's session and principal, and the
// benchmark's own end of each pipe (the same for both). mochi's queue of
// outbound packets is bounded at 64 packets a client
// (MaximumClientWritesPending; the default, 8192, allocates 64 KiB per
// client up front, which would hide everything else). One op is one more
// device connecting, subscribing and disconnecting while the others stay
// connected.
func BenchmarkMQTTConnected(b *testing.B) {
	rules := []mqttauth.Rule{{Topic: "apps/{app}/devices/{device}/command/+", Access: mqttauth.Subscribe}}
	before := runtime.NumGoroutine()
	for _, impl := range []string{"latch", "allowall"} {
		b.Run(impl, func(b *testing.B) {
			e := newMQTTEnv(b, rules)
			creds := make([]*mqttauth.Credential, connectedClients+1)
			for i := range creds {
				cred, err := e.provisioner.Issue(context.Background(), mqttauth.KeyRequest{App: "app-1", Device: fmt.Sprintf("dev-%d", i)})
				if err != nil {
					b.Fatal(err)
				}
				creds[i] = cred
			}
			g := newGrowthBroker(b, impl, e, true, 64)
			command := func(cred *mqttauth.Credential) []string {
				return []string{"apps/app-1/devices/" + cred.Device + "/command/+"}
			}
			heap, stacks := liveMemory()
			clients := g.connectAll(b, creds[:connectedClients], func(i int) []string { return command(creds[i]) })
			heap2, stacks2 := liveMemory()
			perClient := float64(heap2+stacks2-heap-stacks) / connectedClients
			heapPerClient := float64(heap2-heap) / connectedClients
			if n := atomic.LoadInt64(&g.srv.Info.ClientsConnected); n != connectedClients {
				b.Fatalf("%d clients connected, want %d", n, connectedClients)
			}
			extra := creds[connectedClients]
			for b.Loop() {
				c, err := g.connect(extra, command(extra)...)
				if err != nil {
					b.Fatal(err)
				}
				c.conn.Close()
			}
			b.ReportMetric(perClient, "bytes/client")
			b.ReportMetric(heapPerClient, "heap-bytes/client")
			g.close(clients)
			waitGoroutines(b, before)
		})
	}
}

// liveMemory returns the bytes of live heap objects and of goroutine
// stacks, after a collection.
func liveMemory() (heap, stacks uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, m.StackInuse
}
