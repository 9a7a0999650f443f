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
)

// loadClients devices connect at once in BenchmarkMQTTBrokerLoad.
const loadClients = 1000

// BenchmarkMQTTBrokerLoad: loadClients devices at once connect to an
// embedded mochi broker on 127.0.0.1, subscribe to their commands, publish
// their state (QoS 1) and disconnect, with the Latch hook and with mochi's
// allow-all hook. One op is the whole wave, after one untimed wave to warm
// the broker up; connects/s is reported. After
// the broker is closed the goroutine count must come back to where it was
// (bounded: at most 10 s).
func BenchmarkMQTTBrokerLoad(b *testing.B) {
	for _, impl := range []string{"latch", "allowall"} {
		b.Run(impl, func(b *testing.B) {
			e := newMQTTEnv(b, []mqttauth.Rule{
				{Topic: "apps/{app}/devices/{device}/state", Access: mqttauth.Publish},
				{Topic: "apps/{app}/devices/{device}/command/+", Access: mqttauth.Subscribe},
			})
			creds := make([]*mqttauth.Credential, loadClients)
			for i := range creds {
				cred, err := e.issuer.Issue(context.Background(), mqttauth.KeyRequest{App: "app-1", Device: fmt.Sprintf("dev-%d", i)})
				if err != nil {
					b.Fatal(err)
				}
				creds[i] = cred
			}
			before := runtime.NumGoroutine()
			addr, srv := startBroker(b, impl, e)
			wave := func() {
				var wg sync.WaitGroup
				errs := make(chan error, loadClients)
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
			// One wave first, untimed: the first connections of a broker
			// pay for warming up (stacks, maps, pools), and the timed
			// waves should compare the steady state of both hooks.
			wave()
			start := time.Now()
			for b.Loop() {
				wave()
			}
			b.ReportMetric(float64(b.N*loadClients)/time.Since(start).Seconds(), "connects/s")
			_ = srv.Close()
			// Goroutines end asynchronously after Close: give them a bound.
			deadline := time.Now().Add(10 * time.Second)
			for runtime.NumGoroutine() > before+5 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if n := runtime.NumGoroutine(); n > before+5 {
				b.Fatalf("goroutines: %d before, %d after", before, n)
			}
		})
	}
}
