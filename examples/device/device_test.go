package device_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/examples/device"
	"github.com/latchsec/latch/sealedbox"
	"github.com/latchsec/latch/tlspolicy"
)

// memLink is a relay in memory: messages are queued by the test, reports
// are kept.
type memLink struct {
	mu      sync.Mutex
	msgs    []device.RelayedMessage
	more    chan struct{}
	reports [][]byte
}

func newMemLink() *memLink { return &memLink{more: make(chan struct{}, 100)} }

func (l *memLink) push(body []byte) {
	l.mu.Lock()
	l.msgs = append(l.msgs, device.RelayedMessage{Seq: int64(len(l.msgs) + 1), Body: body})
	l.mu.Unlock()
	l.more <- struct{}{}
}

func (l *memLink) Receive(ctx context.Context, after int64) ([]device.RelayedMessage, error) {
	for {
		l.mu.Lock()
		var out []device.RelayedMessage
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

// api is a local API with a self-signed certificate that wants a secret
// header.
func api(t *testing.T, now time.Time) (url, pin string) {
	certPEM, keyPEM, err := tlspolicy.GenerateSelfSigned([]string{"lamp.local"}, now.Add(-time.Hour), now.Add(time.Hour))
	require.NoError(t, err)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "key-123" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte("on"))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
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
	b, err := json.Marshal(device.Rule{Integration: "in_1", Request: "rq_1", Definition: def})
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
	url, pin := api(t, now)
	e2e := sealedbox.GenerateE2EKey()
	prov := device.Provisioning{DeviceID: "dv_1", Key: "dk_1", Secret: "s", E2EKey: e2e}
	sender, err := sealedbox.NewMessageSender(e2e, device.RulesContext("dv_1"), 0)
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
	other, err := sealedbox.NewMessageSender(e2e, device.RulesContext("dv_2"), 5)
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
