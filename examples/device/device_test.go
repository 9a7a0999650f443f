package device_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/examples/device"
	"github.com/latchsec/latch/internal/testlog"
	"github.com/latchsec/latch/internal/testpki"
	"github.com/latchsec/latch/sealedbox/e2e"
	"github.com/latchsec/latch/tlspolicy"
)

// memLink is a relay in memory: messages are queued by the test, reports
// are kept.
type memLink struct {
	mu      sync.Mutex
	msgs    []api.Message
	more    chan struct{}
	reports [][]byte
}

func newMemLink() *memLink { return &memLink{more: make(chan struct{}, 100)} }

func (l *memLink) push(body []byte) {
	l.mu.Lock()
	l.msgs = append(l.msgs, api.Message{Seq: int64(len(l.msgs) + 1), Body: body})
	l.mu.Unlock()
	l.more <- struct{}{}
}

func (l *memLink) Receive(ctx context.Context, after int64) ([]api.Message, error) {
	for {
		l.mu.Lock()
		var out []api.Message
		for _, m := range l.msgs {
			if m.Seq > after {
				out = append(out, m)
			}
		}
		l.mu.Unlock()
		if len(out) > 0 {
			return out, nil
		}
		select {
		case <-l.more:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (l *memLink) Report(_ context.Context, state any) error {
	b, err := json.Marshal(state)
	l.mu.Lock()
	l.reports = append(l.reports, b)
	l.mu.Unlock()
	return err
}

// keyedAPI is a local API with a self-signed certificate that wants a secret
// header.
func keyedAPI(t *testing.T, now time.Time) (url, pin string) {
	return selfSignedServer(t, now, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "key-123" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte("on"))
	})
}

// selfSignedServer serves h over TLS with a self-signed certificate, which
// it returns for pinning.
func selfSignedServer(t *testing.T, now time.Time, h http.HandlerFunc) (url, pin string) {
	certPEM, keyPEM, err := tlspolicy.GenerateSelfSigned([]string{"lamp.local"}, now.Add(-time.Hour), now.Add(time.Hour))
	require.NoError(t, err)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(h)
	testpki.Start(t, srv, &pair)
	return srv.URL, string(certPEM)
}

func rule(t *testing.T, url, pin string) []byte {
	def, err := json.Marshal(map[string]any{
		"method": "POST", "url": url + "/lamp/on",
		"headers":       []map[string]any{{"name": "X-Api-Key", "value": "key-123", "secret": true}},
		"securityLevel": "TlsPinnedCertificate", "pinnedCertificate": pin,
		"authorization": map[string]any{"type": "NoAuth"},
	})
	require.NoError(t, err)
	b, err := json.Marshal(api.Rule{Integration: "in_1", Request: "rq_1", Definition: def})
	require.NoError(t, err)
	return b
}

func start(t *testing.T, cfg device.Config) (*device.Device, func()) {
	d, err := device.New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	return d, func() { cancel(); require.NoError(t, <-done) }
}

// The device executes a rule from its owner's app, refuses a replayed, an
// altered and a foreign message, remembers what it accepted across a
// restart, and reports outcomes without secrets.
func TestDevice(t *testing.T) {
	now := time.Now()
	url, pin := keyedAPI(t, now)
	key := e2e.GenerateKey()
	prov := api.Provisioning{DeviceID: "dv_1", Key: "dk_1", Secret: "s", E2EKey: key}
	sender, err := e2e.NewSender(key, api.RulesContext("dv_1"), 0)
	require.NoError(t, err)
	link := newMemLink()
	flash := filepath.Join(t.TempDir(), "flash.json")
	d, stop := start(t, device.Config{Provisioning: prov, Link: link, FlashPath: flash, Now: func() time.Time { return now }})

	msg, err := sender.Seal(rule(t, url, pin))
	require.NoError(t, err)
	link.push(msg)
	o := <-d.Outcomes()
	require.Equal(t, device.Outcome{RelaySeq: 1, MessageSeq: 1, Request: "rq_1", StatusCode: 200}, o)

	link.push(msg) // replay
	o = <-d.Outcomes()
	require.Contains(t, o.Refused, "replayed")

	altered := bytes.Clone(msg)
	altered[len(altered)/2] ^= 0x80
	link.push(altered)
	o = <-d.Outcomes()
	require.Contains(t, o.Refused, "does not open")

	// A message for another device (another channel context) is refused.
	other, err := e2e.NewSender(key, api.RulesContext("dv_2"), 5)
	require.NoError(t, err)
	foreign, err := other.Seal(rule(t, url, pin))
	require.NoError(t, err)
	link.push(foreign)
	o = <-d.Outcomes()
	require.NotEmpty(t, o.Refused)
	stop()

	// After a restart, the old message is still a replay, the next one
	// from the app works.
	d, stop = start(t, device.Config{Provisioning: prov, Link: link, FlashPath: flash, Now: func() time.Time { return now }})
	defer stop()
	link.push(msg)
	o = <-d.Outcomes()
	require.Equal(t, int64(5), o.RelaySeq)
	require.Contains(t, o.Refused, "replayed")
	next, err := sender.Seal(rule(t, url, pin))
	require.NoError(t, err)
	link.push(next)
	o = <-d.Outcomes()
	require.Equal(t, uint64(2), o.MessageSeq)
	require.Equal(t, 200, o.StatusCode)

	link.mu.Lock()
	defer link.mu.Unlock()
	require.Len(t, link.reports, 6)
	for _, r := range link.reports {
		require.NotContains(t, string(r), "key-123")
		require.NotContains(t, string(r), "lamp")
	}
}

// oauthAPI is an integrator's API and token endpoint on one pinned,
// self-signed server: the token endpoint rotates the refresh token on
// every use, and the API wants an access token it issued.
type oauthAPI struct {
	url, pin string
	mu       sync.Mutex
	n        int
	valid    map[string]bool
	access   map[string]bool
	seen     []string // refresh tokens received, in order
}

func newOAuthAPI(t *testing.T, now time.Time, firstRefresh string) *oauthAPI {
	a := &oauthAPI{valid: map[string]bool{firstRefresh: true}, access: map[string]bool{}}
	a.url, a.pin = selfSignedServer(t, now, func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if r.URL.Path == "/token" {
			rt := r.PostFormValue("refresh_token")
			a.seen = append(a.seen, rt)
			w.Header().Set("Content-Type", "application/json")
			if !a.valid[rt] {
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte(`{"error":"invalid_grant"}`))
				return
			}
			delete(a.valid, rt)
			a.n++
			at, next := fmt.Sprintf("at-%d", a.n), fmt.Sprintf("rt-%d", a.n)
			a.valid[next], a.access[at] = true, true
			fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600,"refresh_token":%q}`, at, next)
			return
		}
		if !a.access[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")] {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte("opened"))
	})
	return a
}

func (a *oauthAPI) received() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.seen...)
}

// refreshRule is a rule for request rq_1 of integration in_1 authorized by
// a refresh token.
func refreshRule(t *testing.T, level, pin, apiURL, tokenURL, refresh string) []byte {
	return refreshRuleFor(t, "in_1", "rq_1", "/doors/1/open", level, pin, apiURL, tokenURL, refresh)
}

func refreshRuleFor(t *testing.T, integration, request, path, level, pin, apiURL, tokenURL, refresh string) []byte {
	def, err := json.Marshal(map[string]any{
		"method": "POST", "url": apiURL + path, "securityLevel": level, "pinnedCertificate": pin,
		"authorization": map[string]any{"type": "OAuthRefreshToken", "refreshToken": refresh,
			"tokenUrl": tokenURL, "clientId": "door-device", "clientSecret": "s3cret"},
	})
	require.NoError(t, err)
	b, err := json.Marshal(api.Rule{Integration: integration, Request: request, Definition: def})
	require.NoError(t, err)
	return b
}

// The attack of issue 14 against the device: a request ran, so the device
// holds a rotated refresh token; the cloud rewrites the request's token
// endpoint (and lowers the level) and the app delivers it. The device
// sends nothing to the new endpoint, says why, keeps running the real
// definition, and does the same after a restart from its flash.
func TestDeviceRefusesMovedTokenEndpoint(t *testing.T) {
	now := time.Now()
	door := newOAuthAPI(t, now, "rt-0")
	var attackerHits atomic.Int64
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { attackerHits.Add(1) }))
	t.Cleanup(attacker.Close)

	key := e2e.GenerateKey()
	prov := api.Provisioning{DeviceID: "dv_1", Key: "dk_1", Secret: "s", E2EKey: key}
	sender, err := e2e.NewSender(key, api.RulesContext("dv_1"), 0)
	require.NoError(t, err)
	link := newMemLink()
	flash := filepath.Join(t.TempDir(), "flash.json")
	var logs testlog.Buffer
	cfg := device.Config{Provisioning: prov, Link: link, FlashPath: flash, Now: func() time.Time { return now },
		Log: slog.New(slog.NewTextHandler(&logs, nil))}
	push := func(d *device.Device, rule []byte) device.Outcome {
		msg, err := sender.Seal(rule)
		require.NoError(t, err)
		link.push(msg)
		return <-d.Outcomes()
	}
	legit := refreshRule(t, "TlsPinnedCertificate", door.pin, door.url, door.url+"/token", "rt-0")
	evil := refreshRule(t, "AllowHttp", "", door.url, attacker.URL+"/token", "rt-0")

	d, stop := start(t, cfg)
	require.Equal(t, 200, push(d, legit).StatusCode)
	o := push(d, evil)
	require.Zero(t, o.StatusCode)
	require.Contains(t, o.Error, "refused")
	require.Contains(t, o.Error, "changed: securityLevel, pinnedCertificate, authorization.tokenUrl.scheme, authorization.tokenUrl.port")
	require.Equal(t, 200, push(d, legit).StatusCode, "the real definition still runs")
	stop()

	d, stop = start(t, cfg)
	defer stop()
	require.Contains(t, push(d, evil).Error, "refused")
	require.Equal(t, 200, push(d, legit).StatusCode)
	require.Zero(t, attackerHits.Load(), "the attacker's server received a request")
	require.Equal(t, []string{"rt-0", "rt-1"}, door.received(), "the rotation carried on across the restart")

	var f device.Flash
	b, err := os.ReadFile(flash)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &f))
	require.True(t, strings.HasPrefix(f.Credentials["in_1"]["rq_1"], "latch-integrator-credential/v1 "))
	require.True(t, strings.HasSuffix(f.Credentials["in_1"]["rq_1"], " rt-2"))

	logged := logs.String()
	require.Contains(t, logged, "refused")
	require.NotContains(t, logged, "rt-")
	link.mu.Lock()
	defer link.mu.Unlock()
	for _, r := range link.reports {
		require.NotContains(t, string(r), "rt-")
		require.NotContains(t, string(r), "at-")
	}
}

// A flash written by the release before the stored form holds a bare
// refresh token: it is read, bound to the first definition it is used
// with, and saved in the stored form before it is sent.
func TestDeviceReadsLegacyFlash(t *testing.T) {
	now := time.Now()
	door := newOAuthAPI(t, now, "rt-5")
	flash := filepath.Join(t.TempDir(), "flash.json")
	require.NoError(t, os.WriteFile(flash, []byte(`{"highest":0,"cursor":0,"refreshTokens":{"rq_1":"rt-5"}}`), 0o600))
	key := e2e.GenerateKey()
	sender, err := e2e.NewSender(key, api.RulesContext("dv_1"), 0)
	require.NoError(t, err)
	link := newMemLink()
	d, stop := start(t, device.Config{Provisioning: api.Provisioning{DeviceID: "dv_1", E2EKey: key}, Link: link, FlashPath: flash,
		Now: func() time.Time { return now }})
	defer stop()
	msg, err := sender.Seal(refreshRule(t, "TlsPinnedCertificate", door.pin, door.url, door.url+"/token", "rt-0"))
	require.NoError(t, err)
	link.push(msg)
	require.Equal(t, 200, (<-d.Outcomes()).StatusCode)
	require.Equal(t, []string{"rt-5"}, door.received())
	var f device.Flash
	b, err := os.ReadFile(flash)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &f))
	require.True(t, strings.HasPrefix(f.Credentials["in_1"]["rq_1"], "latch-integrator-credential/v1 https://127.0.0.1:"))
	require.True(t, strings.HasSuffix(f.Credentials["in_1"]["rq_1"], " rt-1"), "the rotated token, bound")
	require.Empty(t, f.RefreshTokens, "moved to the integration of the first rule that named it")
}

// The request of another integration that names the same request id (an
// unsigned integration whose requests the cloud writes, or a malicious
// integrator of another integration), with a definition of the same binding
// (Acme's token endpoint, client id, origin and pin) but its own path:
// the device must not run it with the credentials Acme's request holds.
// Before credentials were kept by integration, it ran with them and opened
// another door.
func TestDeviceKeepsCredentialsPerIntegration(t *testing.T) {
	now := time.Now()
	door := newOAuthAPI(t, now, "rt-0")
	key := e2e.GenerateKey()
	sender, err := e2e.NewSender(key, api.RulesContext("dv_1"), 0)
	require.NoError(t, err)
	link := newMemLink()
	flash := filepath.Join(t.TempDir(), "flash.json")
	cfg := device.Config{Provisioning: api.Provisioning{DeviceID: "dv_1", E2EKey: key}, Link: link, FlashPath: flash,
		Now: func() time.Time { return now }}
	push := func(d *device.Device, rule []byte) device.Outcome {
		msg, err := sender.Seal(rule)
		require.NoError(t, err)
		link.push(msg)
		return <-d.Outcomes()
	}
	legit := refreshRule(t, "TlsPinnedCertificate", door.pin, door.url, door.url+"/token", "rt-0")
	// The foreign rule carries a refresh token of its own the server does
	// not know, or none the device would take: either way it must not get
	// rt-1.
	foreign := refreshRuleFor(t, "in_evil", "rq_1", "/doors/2/open", "TlsPinnedCertificate", door.pin, door.url, door.url+"/token", "rt-0")

	d, stop := start(t, cfg)
	require.Equal(t, 200, push(d, legit).StatusCode)
	o := push(d, foreign)
	require.NotEqual(t, 200, o.StatusCode, "the foreign request ran with Acme's credentials")
	require.Equal(t, 200, push(d, legit).StatusCode, "Acme's request still runs")
	stop()

	d, stop = start(t, cfg)
	defer stop()
	require.NotEqual(t, 200, push(d, foreign).StatusCode, "after a restart")
	require.Equal(t, 200, push(d, legit).StatusCode)
	// The foreign request could only try the token it carried (rt-0, used
	// up); Acme's chain went on from its own stored rt-1.
	require.Equal(t, []string{"rt-0", "rt-0", "rt-0", "rt-1"}, door.received())
	var f device.Flash
	b, err := os.ReadFile(flash)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &f))
	require.Empty(t, f.Credentials["in_evil"])
	require.True(t, strings.HasSuffix(f.Credentials["in_1"]["rq_1"], " rt-2"))
}
