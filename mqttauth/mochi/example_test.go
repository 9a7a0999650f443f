package mochi_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/latchsec/latch/mqttauth"
	"github.com/latchsec/latch/mqttauth/mochi"
	"github.com/latchsec/latch/tlspolicy"
	"github.com/latchsec/latch/token"
)

// A mochi broker over TLS with the hook; a device connects with its key and
// secret and may publish only its own state.
func ExampleHook() {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }
	keys := token.NewKeyring()
	revocations := &token.MemoryRevocations{Now: now}
	tokens := token.Config{Keys: keys, Issuer: "https://platform.example", Audience: "mqtt", Revocations: revocations, Now: now}
	provisioner := &mqttauth.Provisioner{Tokens: &token.Issuer{Config: tokens}}
	acl, err := mqttauth.Compile(mqttauth.ACLConfig{
		Rules:     []mqttauth.Rule{{Topic: "apps/{app}/devices/{device}/state", Access: mqttauth.Publish}},
		ClientIDs: []string{"{app}:{device}"},
	})
	if err != nil {
		panic(err)
	}
	guard := &mqttauth.Guard{
		Tokens: &token.Verifier{Config: tokens},
		ACL:    acl,
	}

	// The broker. In production: a real certificate, and ":8883".
	certPEM, keyPEM, err := tlspolicy.GenerateSelfSigned([]string{"127.0.0.1"}, now().Add(-time.Hour), now().Add(24*time.Hour))
	if err != nil {
		panic(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		panic(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	server := mqtt.New(&mqtt.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	hook := new(mochi.Hook)
	if err := server.AddHook(hook, &mochi.Options{Guard: guard, Server: server}); err != nil {
		panic(err) // among others: another auth hook was added before
	}
	l := listeners.NewTCP(listeners.Config{ID: "tls", Address: "127.0.0.1:0", TLSConfig: &tls.Config{
		Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
	}})
	if err := server.AddListener(l); err != nil {
		panic(err)
	}
	if err := server.Serve(); err != nil {
		panic(err)
	}
	defer mochi.Shutdown(server)
	if err := hook.Err(); err != nil {
		panic(err) // another auth hook was added after
	}

	// A device.
	cred, err := provisioner.Issue(ctx, mqttauth.KeyRequest{App: "app-1", Device: "d1"})
	if err != nil {
		panic(err)
	}
	connect := func(clientID, secret string) error {
		c := paho.NewClient(paho.NewClientOptions().AddBroker("ssl://" + l.Address()).
			SetTLSConfig(&tls.Config{RootCAs: roots, Time: now}).
			SetClientID(clientID).SetUsername(cred.Key).SetPassword(secret).
			SetAutoReconnect(false).SetConnectRetry(false))
		tok := c.Connect()
		tok.Wait()
		if tok.Error() == nil {
			c.Disconnect(0)
		}
		return tok.Error()
	}
	fmt.Println(connect("app-1:d1", cred.Secret))
	fmt.Println(connect("app-1:d2", cred.Secret)) // another device's client id
	fmt.Println(connect("app-1:d1", "not the secret"))
	// Output:
	// <nil>
	// not Authorized
	// not Authorized
}
