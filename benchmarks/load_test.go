package benchmarks

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	mqtt "github.com/mochi-mqtt/server/v2"

	"github.com/latchsec/latch/mqttauth"
	"github.com/latchsec/latch/mqttauth/mochi"
)

// loadClients devices connect at once in BenchmarkMQTTBrokerLoad.
const loadClients = 1000

// BenchmarkMQTTBrokerLoad: loadClients devices at once connect to an
// embedded mochi broker on 127.0.0.1, subscribe to their commands, publish
// their state (QoS 1) and disconnect. Two brokers are alive at once, one
// with the Latch hook and one with mochi's allow-all hook, and get
// alternating waves (the first broker of a pair of waves alternates too),
// so that load from elsewhere on the machine falls on both alike. One op is
// one wave on each broker; ns/op and connects/s are the Latch broker's,
// allowall-connects/s the allow-all broker's, vs-allowall the ratio of the
// two rates and cpu-vs-allowall the same on the process's CPU time during
// each broker's waves. Waves run with the collector off (it collects
// between them), and bytes/connect and allowall-bytes/connect count what
// each wave allocated, clients included. Each broker's goroutines carry the
// profiler label broker=latch or broker=allowall. After the brokers are
// closed the goroutine count must come back to where it was (bounded: at
// most 10 s).
//
// Warming up matters more here than anywhere else: the first waves a
// process runs are up to twice as slow as the later ones (threads, heap and
// sockets are still being set up), whichever hook the broker has. Run
// cold, the implementation measured first lost 25–30 % to that alone, so
// the process runs warmUpWaves untimed waves against a broker of its own
// before either is measured, and each broker gets one more before its
// timed waves.
func BenchmarkMQTTBrokerLoad(b *testing.B) {
	rules := []mqttauth.Rule{
		{Topic: "apps/{app}/devices/{device}/state", Access: mqttauth.Publish},
		{Topic: "apps/{app}/devices/{device}/command/+", Access: mqttauth.Subscribe},
	}
	before := runtime.NumGoroutine()
	{
		e := newMQTTEnv(b, rules)
		creds := loadCredentials(b, e)
		addr, srv := startBroker(b, "allowall", e)
		for range warmUpWaves {
			loadWave(b, addr, creds)
		}
		_ = mochi.Shutdown(srv)
		waitGoroutines(b, before)
	}
	b.Run("latch", func(b *testing.B) {
		type side struct {
			addr     string
			srv      *mqtt.Server
			creds    []*mqttauth.Credential
			dur, cpu time.Duration
			bytes    uint64
		}
		var sides [2]*side // latch, allow-all
		for i, impl := range []string{"latch", "allowall"} {
			e := newMQTTEnv(b, rules)
			s := &side{creds: loadCredentials(b, e)}
			s.addr, s.srv = startBroker(b, impl, e)
			loadWave(b, s.addr, s.creds)
			sides[i] = s
		}
		wave := func(s *side) {
			b.StopTimer()
			restore := collectorOff() // bytes/connect counts the garbage instead
			b.StartTimer()
			cpu, _ := processCPU()
			start := time.Now()
			loadWave(b, s.addr, s.creds)
			s.dur += time.Since(start)
			end, _ := processCPU()
			s.cpu += end - cpu
			b.StopTimer()
			_, bytes := restore()
			s.bytes += bytes
			b.StartTimer()
		}
		b.ResetTimer()
		for i := range b.N {
			if i%2 == 0 {
				wave(sides[0])
				wave(sides[1])
			} else {
				wave(sides[1])
				wave(sides[0])
			}
		}
		latch, allow := sides[0], sides[1]
		clients := float64(b.N * loadClients)
		b.ReportMetric(float64(latch.dur.Nanoseconds())/float64(b.N), "ns/op")
		b.ReportMetric(clients/latch.dur.Seconds(), "connects/s")
		b.ReportMetric(clients/allow.dur.Seconds(), "allowall-connects/s")
		b.ReportMetric(allow.dur.Seconds()/latch.dur.Seconds(), "vs-allowall")
		if latch.cpu > 0 && allow.cpu > 0 {
			b.ReportMetric(float64(allow.cpu)/float64(latch.cpu), "cpu-vs-allowall")
		}
		b.ReportMetric(float64(latch.bytes)/clients, "bytes/connect")
		b.ReportMetric(float64(allow.bytes)/clients, "allowall-bytes/connect")
		for _, s := range sides {
			_ = mochi.Shutdown(s.srv)
		}
		waitGoroutines(b, before)
	})
}

// warmUpWaves is how many waves warm a process up before
// BenchmarkMQTTBrokerLoad measures: wave times settle after three.
const warmUpWaves = 4

// loadCredentials issues loadClients devices' credentials.
func loadCredentials(b *testing.B, e *mqttEnv) []*mqttauth.Credential {
	creds := make([]*mqttauth.Credential, loadClients)
	for i := range creds {
		cred, err := e.provisioner.Issue(context.Background(), mqttauth.KeyRequest{App: "app-1", Device: fmt.Sprintf("dev-%d", i)})
		if err != nil {
			b.Fatal(err)
		}
		creds[i] = cred
	}
	return creds
}

// loadWave connects every device at once, each subscribing to its commands,
// publishing its state and disconnecting, and returns when all are done.
func loadWave(b *testing.B, addr string, creds []*mqttauth.Credential) {
	var wg sync.WaitGroup
	errs := make(chan error, len(creds))
	for _, cred := range creds {
		wg.Go(func() {
			cl := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + addr).
				SetClientID(cred.App + ":" + cred.Device).SetUsername(cred.Key).SetPassword(cred.Secret).
				SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(60 * time.Second))
			if tok := cl.Connect(); !tok.WaitTimeout(60*time.Second) || tok.Error() != nil {
				errs <- fmt.Errorf("connect: %v", tok.Error())
				return
			}
			defer cl.Disconnect(0)
			prefix := "apps/app-1/devices/" + cred.Device
			if tok := cl.Subscribe(prefix+"/command/+", 1, nil); !tok.WaitTimeout(60*time.Second) || tok.Error() != nil {
				errs <- fmt.Errorf("subscribe: %v", tok.Error())
				return
			}
			if tok := cl.Publish(prefix+"/state", 1, false, "up"); !tok.WaitTimeout(60*time.Second) || tok.Error() != nil {
				errs <- fmt.Errorf("publish: %v", tok.Error())
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// waitGoroutines fails b unless the goroutine count comes back to before
// (give or take 5) within 10 s of a broker's Close: its goroutines end
// asynchronously.
func waitGoroutines(b *testing.B, before int) {
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before+5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+5 {
		b.Fatalf("goroutines: %d before, %d after", before, n)
	}
}
