package integrator

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/latchsec/latch/internal/testclock"
	"github.com/latchsec/latch/internal/testpki"
	"github.com/stretchr/testify/require"
)

func newClock() *clock { return testclock.New(testpki.Now) }

// events is an ordered log shared by the servers and callbacks of a test.
type events struct {
	mu   sync.Mutex
	list []string
}

func (e *events) add(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, fmt.Sprintf(format, args...))
}

func (e *events) all() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.list...)
}

// authServer is a token endpoint of our own: it issues access tokens
// "at-N" for the refresh token it considers current, rotating it to "rt-N"
// when rotate is set. The previous refresh token stays valid until the new
// one is first used (a grace period, as many servers give), so a device
// that crashed before saving a rotated token can still refresh.
type authServer struct {
	*httptest.Server
	ev *events

	mu        sync.Mutex
	n         int
	rotate    bool
	expiresIn int
	valid     map[string]bool   // refresh tokens that work
	parent    map[string]string // rotated refresh token -> the one it replaced
	access    map[string]bool   // access tokens the API accepts
	revoked   bool              // the grant was revoked: invalid_grant
	refuseAll bool              // the API refuses every access token
	calls     int
	clientID  string
	secret    string
}

func newAuthServer(t *testing.T, ev *events, cert *tls.Certificate, firstRefresh string) *authServer {
	a := &authServer{ev: ev, expiresIn: 3600, valid: map[string]bool{firstRefresh: true},
		parent: map[string]string{}, access: map[string]bool{}, clientID: "device-client", secret: "client-secret-XYZ"}
	a.Server = httptest.NewUnstartedServer(http.HandlerFunc(a.serveToken))
	a.Config.ErrorLog = quietLog
	testpki.Start(t, a.Server, cert)
	return a
}

func (a *authServer) serveToken(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	w.Header().Set("Content-Type", "application/json")
	if id != a.clientID || secret != a.secret {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_client"}`)
		return
	}
	rt := r.PostFormValue("refresh_token")
	if r.PostFormValue("grant_type") != "refresh_token" || a.revoked || !a.valid[rt] {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant","error_description":"grant revoked or refresh token `+rt+` unknown"}`)
		return
	}
	a.n++
	at := fmt.Sprintf("at-%d", a.n)
	a.access[at] = true
	resp := map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": a.expiresIn}
	if a.rotate {
		next := fmt.Sprintf("rt-%d", a.n)
		// Using a rotated token ends the grace period of the one it
		// replaced.
		delete(a.valid, a.parent[rt])
		a.valid[next] = true
		a.parent[next] = rt
		resp["refresh_token"] = next
	}
	a.ev.add("token %s -> %s", rt, at)
	_ = json.NewEncoder(w).Encode(resp)
}

func (a *authServer) tokenCalls() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls
}

func (a *authServer) accepts(at string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.access[at] && !a.refuseAll
}

func (a *authServer) revokeAccess(at string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.access, at)
}

// apiServer is an integrator's API that accepts the access tokens auth
// issued (or any request when auth is nil) and logs each request.
func apiServer(t *testing.T, ev *events, cert *tls.Certificate, auth *authServer) *httptest.Server {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		ev.add("api %s %s %s", r.Method, r.URL.Path, bearer)
		if auth != nil && !auth.accepts(bearer) {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("X-Api-Key-Seen", r.Header.Get("X-Api-Key"))
		fmt.Fprintf(w, "opened %s", r.URL.Path)
	})
	s := httptest.NewUnstartedServer(h)
	s.Config.ErrorLog = quietLog
	testpki.Start(t, s, cert)
	return s
}

// selfSigned is a server certificate for 127.0.0.1 and localhost, and its
// PEM for pinning as a leaf.
func selfSigned(t *testing.T) (tls.Certificate, string) {
	c := testpki.New(t, testpki.Options{Hosts: []string{"device-api.local"}}, nil)
	return c.TLS(), c.PEM()
}

func mustNew(t *testing.T, r *Request, opts Options) *Caller {
	t.Helper()
	c, err := New(r, opts)
	require.NoError(t, err)
	return c
}

func noSave(context.Context, string) error { return nil }

// discardLog drops the package's log lines in tests that do not read them.
var discardLog = slog.New(slog.DiscardHandler)

// quietLog drops the servers' log lines about the handshakes that tests
// make fail on purpose.
var quietLog = log.New(io.Discard, "", 0)

// clock is the injected test clock.
type clock = testclock.Clock

// memoryVersions is a VersionStore in memory, as an app must not keep one:
// it forgets everything when the process ends, which reopens rollback. Like
// a durable store, it never lowers a version.
type memoryVersions struct {
	mu sync.Mutex
	m  map[[2]string]acceptedVersion
}

type acceptedVersion struct {
	version uint64
	digest  [32]byte
}

func (m *memoryVersions) LoadVersion(integrationID, requestID string) (uint64, [32]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.m[[2]string{integrationID, requestID}]
	return a.version, a.digest, nil
}

func (m *memoryVersions) SaveVersion(integrationID, requestID string, version uint64, digest [32]byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{integrationID, requestID}
	if version <= m.m[k].version {
		return errors.New("integrator: a version as high was saved meanwhile")
	}
	if m.m == nil {
		m.m = map[[2]string]acceptedVersion{}
	}
	m.m[k] = acceptedVersion{version, digest}
	return nil
}
