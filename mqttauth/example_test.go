package mqttauth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/latchsec/latch/mqttauth"
	"github.com/latchsec/latch/token"
)

// The whole flow: the platform issues a device its key and secret, the
// broker authenticates the CONNECT and asks the principal about each
// publish and subscription.
func Example() {
	ctx := context.Background()
	// A fixed clock keeps the output stable; servers leave Now nil.
	now := func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }
	keys := token.NewKeyring() // in production: token.ParseKeyring(jwkSetFromSecretStore)
	revocations := &token.MemoryRevocations{Now: now}

	// What the platform's provisioner and the broker's guard share.
	tokens := token.Config{
		Keys: keys, Issuer: "https://platform.example", Audience: "mqtt", Prefix: "lt_",
		Revocations: revocations, Now: now,
	}

	// The platform.
	provisioner := &mqttauth.Provisioner{Tokens: &token.Issuer{Config: tokens}}
	cred, err := provisioner.Issue(ctx, mqttauth.KeyRequest{App: "app-1", Device: "thermostat-7"})
	if err != nil {
		panic(err)
	}
	// cred.Key and cred.Secret go to the device, once; the platform keeps
	// the key and cred.SecretID.

	// The broker.
	acl, err := mqttauth.Compile(mqttauth.ACLConfig{
		Rules: []mqttauth.Rule{
			{Topic: "apps/{app}/devices/{device}/state", Access: mqttauth.Publish},
			{Topic: "apps/{app}/devices/{device}/command/+", Access: mqttauth.Subscribe},
		},
		ClientIDs: []string{"{app}:{device}"},
	})
	if err != nil {
		panic(err)
	}
	guard := &mqttauth.Guard{
		Tokens: &token.Verifier{Config: tokens},
		ACL:    acl,
	}

	// CONNECT: client id, user name = key, password = secret.
	p, err := guard.Authenticate(ctx, "app-1:thermostat-7", cred.Key, cred.Secret)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.App, p.Device)
	fmt.Println(p.CheckPublish("apps/app-1/devices/thermostat-7/state"))
	fmt.Println(p.CheckPublish("apps/app-1/devices/thermostat-8/state"))
	fmt.Println(p.CheckSubscribe("apps/app-1/devices/thermostat-7/command/+"))
	fmt.Println(p.CheckSubscribe("apps/app-1/devices/thermostat-7/command/#"))

	// Another device's client id is refused: no session takeover.
	_, err = guard.Authenticate(ctx, "app-1:thermostat-8", cred.Key, cred.Secret)
	fmt.Println(errors.Is(err, mqttauth.ErrAuthentication), errors.Is(err, mqttauth.ErrClientID))

	// Revoking the key refuses its secrets from now on.
	if err := provisioner.RevokeKey(ctx, cred.Key, cred.Device); err != nil {
		panic(err)
	}
	_, err = guard.Authenticate(ctx, "app-1:thermostat-7", cred.Key, cred.Secret)
	fmt.Println(errors.Is(err, mqttauth.ErrAuthentication), errors.Is(err, token.ErrRevoked))
	// Output:
	// app-1 thermostat-7
	// <nil>
	// mqttauth: not authorized: no rule allows it
	// <nil>
	// mqttauth: not authorized: no rule allows it
	// true true
	// true true
}

// A filter is allowed only if every topic it can match is allowed.
func ExamplePrincipal_CheckSubscribe() {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }
	keys := token.NewKeyring()
	revocations := &token.MemoryRevocations{Now: now}
	tokens := token.Config{Keys: keys, Issuer: "p", Audience: "mqtt", Revocations: revocations, Now: now}
	provisioner := &mqttauth.Provisioner{Tokens: &token.Issuer{Config: tokens}}
	acl, _ := mqttauth.Compile(mqttauth.ACLConfig{Rules: []mqttauth.Rule{
		{Topic: "sensors/{app}/+", Access: mqttauth.Subscribe},
		{Topic: "#", Access: mqttauth.Subscribe},
	}})
	guard := &mqttauth.Guard{
		Tokens: &token.Verifier{Config: tokens},
		ACL:    acl,
	}
	cred, _ := provisioner.Issue(ctx, mqttauth.KeyRequest{App: "app-1"})
	p, _ := guard.Authenticate(ctx, cred.Key, cred.Key, cred.Secret)

	for _, filter := range []string{
		"sensors/app-1/+",
		"$share/workers/sensors/app-1/+", // checked as sensors/app-1/+
		"anything/else/#",                // the "#" rule
		"$SYS/#",                         // "#" does not reach $ topics
	} {
		fmt.Printf("%-32s %v\n", filter, p.CheckSubscribe(filter))
	}
	// Output:
	// sensors/app-1/+                  <nil>
	// $share/workers/sensors/app-1/+   <nil>
	// anything/else/#                  <nil>
	// $SYS/#                           mqttauth: not authorized: no rule allows it
}

// A clustered broker (EMQX 5 here) asks the webhook.
func ExampleWebhook() {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }
	keys := token.NewKeyring()
	revocations := &token.MemoryRevocations{Now: now}
	tokens := token.Config{Keys: keys, Issuer: "p", Audience: "mqtt", Revocations: revocations, Now: now}
	provisioner := &mqttauth.Provisioner{Tokens: &token.Issuer{Config: tokens}}
	acl, _ := mqttauth.Compile(mqttauth.ACLConfig{Rules: []mqttauth.Rule{
		{Topic: "apps/{app}/devices/{device}/state", Access: mqttauth.Publish},
	}, ClientIDs: []string{"{app}:{device}"}})
	// The broker proves itself with a shared secret in a header (EMQX 5:
	// the headers of its HTTP authenticator and authorizer).
	brokerSecret := "kept-in-the-secret-store-0123456789" // in production: from the secret store
	webhook, err := mqttauth.NewWebhook(&mqttauth.Guard{
		Tokens: &token.Verifier{Config: tokens},
		ACL:    acl,
	}, mqttauth.BrokerAuth{HeaderName: "X-Latch-Webhook-Secret", HeaderSecret: brokerSecret})
	if err != nil {
		panic(err)
	}
	webhook.Now = now
	srv := httptest.NewServer(webhook)
	defer srv.Close()
	cred, _ := provisioner.Issue(ctx, mqttauth.KeyRequest{App: "app-1", Device: "d1"})

	post := func(path, body string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Latch-Webhook-Secret", brokerSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		fmt.Print(resp.StatusCode, " ", string(b))
	}
	post("/emqx/authn", `{"clientid": "app-1:d1", "username": "`+cred.Key+`", "password": "`+cred.Secret+`"}`)
	post("/emqx/authz", `{"clientid": "app-1:d1", "username": "`+cred.Key+`", "topic": "apps/app-1/devices/d1/state", "action": "publish"}`)
	post("/emqx/authz", `{"clientid": "app-1:d1", "username": "`+cred.Key+`", "topic": "apps/app-1/devices/d2/state", "action": "publish"}`)
	// Output:
	// 200 {"result":"allow","is_superuser":false}
	// 200 {"result":"allow"}
	// 200 {"result":"deny"}
}
