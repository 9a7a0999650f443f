package benchmarks

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/latchsec/latch/mqttauth"
	"github.com/latchsec/latch/mqttauth/mochi"
)

// loadClients devices connect at once in BenchmarkMQTTBrokerLoad.
const loadClients = 1000

// BenchmarkMQTTBrokerLoad: loadClients devices at once connect to an
// embedded mochi broker on 127.0.0.1, subscribe to their commands, publish
// their state (QoS 1) and disconnect, with the Latch hook and with mochi's
// allow-all hook. One op is the whole wave; connects/s is reported. After
// the broker is closed the goroutine count must come back to where it was
// (bounded: at most 10 s).
//
// Warming up matters more here than anywhere else: the first waves a
// process runs are up to twice as slow as the later ones (threads, heap and
// sockets are still being set up), whichever hook the broker has. Run
// cold, the implementation measured first lost 25–30 % to that alone, so
// the process runs warmUpWaves untimed waves against a broker of its own
// before either implementation is measured, and each broker gets one more
// before its timed waves.
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
	for _, impl := range []string{"latch", "allowall"} {
		b.Run(impl, func(b *testing.B) {
			e := newMQTTEnv(b, rules)
			creds := loadCredentials(b, e)
			addr, srv := startBroker(b, impl, e)
			loadWave(b, addr, creds)
			start := time.Now()
			for b.Loop() {
				loadWave(b, addr, creds)
			}
			b.ReportMetric(float64(b.N*loadClients)/time.Since(start).Seconds(), "connects/s")
			_ = mochi.Shutdown(srv)
			waitGoroutines(b, before)
		})
	}
}

// warmUpWaves is how many waves warm a process up before
// BenchmarkMQTTBrokerLoad measures: wave times settle after three.
const warmUpWaves = 4

// loadCredentials issues loadClients devices' credentials.
func loadCredentials(b *testing.B, e *mqttEnv) []*mqttauth.Credential {
	creds := make([]*mqttauth.Credential, loadClients)
	for i := range creds {
		cred, err := e.issuer.Issue(context.Background(), mqttauth.KeyRequest{App: "app-1", Device: fmt.Sprintf("dev-%d", i)})
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
