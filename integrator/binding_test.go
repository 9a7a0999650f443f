package integrator

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchsec/latch/internal/testlog"
	"github.com/latchsec/latch/internal/testpki"
	"github.com/latchsec/latch/tlspolicy"
	"github.com/stretchr/testify/require"
)

// trap is a server that must receive nothing: it counts every request
// that reaches it, whatever the path.
type trap struct {
	*httptest.Server
	hits atomic.Int64
}

func newTrap(t *testing.T, cert *tls.Certificate) *trap {
	tr := &trap{}
	tr.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"stolen","token_type":"Bearer","refresh_token":"stolen-rt"}`))
	}))
	tr.Config.ErrorLog = quietLog
	testpki.Start(t, tr.Server, cert)
	return tr
}

// logTo is a logger writing JSON lines to a buffer the test reads.
func logTo(b *testlog.Buffer) *slog.Logger { return slog.New(slog.NewJSONHandler(b, nil)) }

// ranOnce is an OAuthRefreshToken setup whose request ran once, so that
// the device holds a rotated refresh token ("rt-1") in the stored form.
func ranOnce(t *testing.T) (*oauthSetup, *Caller) {
	t.Helper()
	s := newOAuthSetup(t)
	s.auth.rotate = true
	c := mustNew(t, &s.req, s.options())
	do(t, c)
	require.Equal(t, "rt-1", s.stored())
	return s, c
}

// requireRefused checks a refusal: ErrBindingChanged, a *BindingError
// naming exactly the changed fields, and no token in the message.
func requireRefused(t *testing.T, err error, changed ...string) {
	t.Helper()
	require.ErrorIs(t, err, ErrBindingChanged)
	var be *BindingError
	require.ErrorAs(t, err, &be)
	require.Equal(t, changed, be.Changed)
	require.NotContains(t, err.Error(), "rt-")
}

// TestAttackTokenEndpointMoved is the attack of issue 14 at library level:
// a request ran once, so the device holds a rotated refresh token; a
// definition of the same request arrives with the token URL on the
// attacker's server and the level lowered to AllowHttp. The attacker's
// server must receive nothing, whether the definition reaches the running
// Caller (Rebind) or a restarted device (New with the stored form), and
// whatever refresh token it carries that the device already knows.
func TestAttackTokenEndpointMoved(t *testing.T) {
	s, c := ranOnce(t)
	attacker := newTrap(t, nil)
	var logs testlog.Buffer
	evil := s.req
	evil.SecurityLevel, evil.PinnedCertificate = tlspolicy.AllowHttp, ""
	evil.Authorization.TokenURL = attacker.URL + "/token"
	changed := []string{fieldLevel, fieldPin, fieldTokenURLScheme, fieldTokenURLPort}

	for _, carried := range []string{"rt-0", "rt-1"} { // the delivered token; the stored one
		evil.Authorization.RefreshToken = carried
		c.opts.Log = logTo(&logs)
		c.tokens.log = c.opts.Log
		requireRefused(t, c.Rebind(context.Background(), &evil), changed...)

		opts := s.options()
		opts.Log = logTo(&logs)
		opts.RefreshToken = s.storedForm()
		_, err := New(&evil, opts)
		requireRefused(t, err, changed...)
	}
	require.Zero(t, attacker.hits.Load(), "the attacker's server received a request")

	// The refusal is logged with the changed fields' names, no value.
	logged := logs.String()
	require.Contains(t, logged, "refused")
	require.Contains(t, logged, `"changed":["securityLevel","pinnedCertificate","authorization.tokenUrl.scheme","authorization.tokenUrl.port"]`)
	for _, v := range []string{"rt-", "127.0.0.1", "/token", s.auth.clientID, s.auth.secret, "BEGIN"} {
		require.NotContains(t, logged, v)
	}

	// The running Caller kept its definition and credentials.
	s.clock.Advance(2 * time.Hour)
	do(t, c)
	require.Equal(t, []string{
		"token rt-0 -> at-1", "save rt-1", "api POST /doors/12/open at-1",
		"token rt-1 -> at-2", "save rt-2", "api POST /doors/12/open at-2",
	}, s.ev.all())
}

// TestEachBindingFieldChanged changes each field of the binding in turn.
// Every changed definition is refused the stored credentials, by a running
// Caller and after a restart, before anything is sent anywhere; the
// refusal names exactly the changed fields.
func TestEachBindingFieldChanged(t *testing.T) {
	cert, _ := selfSigned(t)
	otherTLS := newTrap(t, &cert) // another port, the same certificate
	otherPlain := newTrap(t, nil)
	otherPin := testpki.New(t, testpki.Options{}, nil).PEM()
	localhost := func(u string) string { return strings.Replace(u, "127.0.0.1", "localhost", 1) }

	cases := []struct {
		name    string
		base    func(*Request) // applied to the legitimate definition too
		change  func(s *oauthSetup, r *Request)
		changed []string
	}{
		{"token URL scheme", nil, func(s *oauthSetup, r *Request) {
			r.SecurityLevel, r.PinnedCertificate = tlspolicy.AllowHttp, ""
			r.Authorization.TokenURL = otherPlain.URL + "/token"
		}, []string{fieldLevel, fieldPin, fieldTokenURLScheme, fieldTokenURLPort}},
		{"token URL host", nil, func(s *oauthSetup, r *Request) {
			r.Authorization.TokenURL = localhost(r.Authorization.TokenURL)
		}, []string{fieldTokenURLHost}},
		{"token URL port", nil, func(s *oauthSetup, r *Request) {
			r.Authorization.TokenURL = otherTLS.URL + "/token"
		}, []string{fieldTokenURLPort}},
		{"token URL path", nil, func(s *oauthSetup, r *Request) {
			r.Authorization.TokenURL = s.auth.URL + "/other/token"
		}, []string{fieldTokenURLPath}},
		{"client id", nil, func(s *oauthSetup, r *Request) {
			r.Authorization.ClientID = "another-client"
		}, []string{fieldClientID}},
		{"auth style", nil, func(s *oauthSetup, r *Request) {
			r.Authorization.AuthStyle = authInParams
		}, []string{fieldAuthStyle}},
		{"API origin scheme", nil, func(s *oauthSetup, r *Request) {
			r.SecurityLevel, r.PinnedCertificate = tlspolicy.AllowHttp, ""
			r.URL = otherPlain.URL + "/doors/12/open"
		}, []string{fieldURLScheme, fieldURLPort, fieldLevel, fieldPin}},
		{"API origin host", nil, func(s *oauthSetup, r *Request) {
			r.URL = localhost(r.URL)
		}, []string{fieldURLHost}},
		{"API origin port", nil, func(s *oauthSetup, r *Request) {
			r.URL = otherTLS.URL + "/doors/12/open"
		}, []string{fieldURLPort}},
		{"level lowered", func(r *Request) {
			r.SecurityLevel, r.PinnedCertificate = tlspolicy.TlsAllowSelfSigned, ""
		}, func(s *oauthSetup, r *Request) {
			r.SecurityLevel = tlspolicy.AllowHttp
		}, []string{fieldLevel}},
		{"level raised", func(r *Request) {
			r.SecurityLevel, r.PinnedCertificate = tlspolicy.TlsAllowSelfSigned, ""
		}, func(s *oauthSetup, r *Request) {
			r.SecurityLevel, r.PinnedCertificate = tlspolicy.TlsPinnedCertificate, otherPin
		}, []string{fieldLevel, fieldPin}},
		{"pinned certificate", nil, func(s *oauthSetup, r *Request) {
			r.PinnedCertificate = otherPin
		}, []string{fieldPin}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newOAuthSetup(t)
			s.auth.rotate = true
			if tc.base != nil {
				tc.base(&s.req)
			}
			c := mustNew(t, &s.req, s.options())
			do(t, c)
			before := s.ev.all()
			hits := otherTLS.hits.Load() + otherPlain.hits.Load()

			changed := s.req
			changed.Authorization.Scopes = append([]string(nil), s.req.Authorization.Scopes...)
			tc.change(s, &changed)
			require.NoError(t, changed.Validate())
			for _, carried := range []string{"rt-0", "rt-1"} {
				changed.Authorization.RefreshToken = carried
				requireRefused(t, c.Rebind(context.Background(), &changed), tc.changed...)
				opts := s.options()
				opts.RefreshToken = s.storedForm()
				_, err := New(&changed, opts)
				requireRefused(t, err, tc.changed...)
			}
			require.Equal(t, before, s.ev.all(), "the token endpoint or the API was called")
			require.Equal(t, hits, otherTLS.hits.Load()+otherPlain.hits.Load(), "another server was called")
			do(t, c) // the running Caller still runs its own definition
		})
	}
}

// TestSameBindingOtherSpelling: definitions that send to the same place
// written differently keep the stored credentials: the default auth style
// with a client secret is InHeader, the pin's PEM may be wrapped again,
// and what is not part of the binding (method, path, body, headers,
// scopes, client secret) may change.
func TestSameBindingOtherSpelling(t *testing.T) {
	s, c := ranOnce(t)
	same := s.req
	same.Authorization.AuthStyle = authInHeader
	same.PinnedCertificate = "\n" + strings.ReplaceAll(s.req.PinnedCertificate, "\n", "\r\n")
	same.Method, same.Body = "PUT", "close"
	same.URL = s.api.URL + "/doors/12/close?x=1"
	same.Headers = []Header{{Name: "X-Reason", Value: "leaving"}}
	same.Authorization.Scopes = nil
	require.NoError(t, c.Rebind(context.Background(), &same))
	do(t, c)

	opts := s.options()
	opts.RefreshToken = s.storedForm()
	restarted := mustNew(t, &same, opts)
	s.clock.Advance(2 * time.Hour)
	do(t, restarted)
	require.Equal(t, []string{
		"token rt-0 -> at-1", "save rt-1", "api POST /doors/12/open at-1",
		"api PUT /doors/12/close at-1",
		"token rt-1 -> at-2", "save rt-2", "api PUT /doors/12/close at-2",
	}, s.ev.all())
}

// TestRotationAcrossRestarts: a device that restarts from the stored form
// each time carries the rotation on, and saves nothing it did not rotate.
func TestRotationAcrossRestarts(t *testing.T) {
	s, _ := ranOnce(t)
	for i := 1; i <= 3; i++ {
		opts := s.options()
		opts.RefreshToken = s.storedForm()
		st, err := parseStored(opts.RefreshToken)
		require.NoError(t, err)
		require.Equal(t, bindingOf(&s.req), st.binding)
		require.Equal(t, tokenDigest("rt-0"), st.delivered, "the chain started with the definition's token")

		c := mustNew(t, &s.req, opts)
		s.clock.Advance(2 * time.Hour)
		do(t, c)
		do(t, c)
	}
	require.Equal(t, []string{"rt-1", "rt-2", "rt-3", "rt-4"}, s.saved)
	require.Contains(t, s.ev.all(), "token rt-3 -> at-4")
}

// TestNewEndpointWithItsOwnToken: the integrator moves its token endpoint
// and delivers a fresh refresh token for it. The new definition runs with
// that token only: the stored token never reaches the new endpoint, and
// the old endpoint hears nothing more.
func TestNewEndpointWithItsOwnToken(t *testing.T) {
	for _, how := range []string{"rebind", "restart"} {
		t.Run(how, func(t *testing.T) {
			s, c := ranOnce(t)
			moved := newOAuthSetup(t) // another token endpoint, API and certificate
			moved.auth.valid = map[string]bool{"fresh-0": true}
			moved.req.Authorization.RefreshToken = "fresh-0"

			var logs testlog.Buffer
			opts := s.options()
			opts.Log = logTo(&logs)
			if how == "rebind" {
				c.tokens.log = opts.Log
				require.NoError(t, c.Rebind(context.Background(), &moved.req))
			} else {
				opts.RefreshToken = s.storedForm()
				c = mustNew(t, &moved.req, opts)
			}
			do(t, c)
			do(t, c)
			require.Equal(t, []string{
				"token fresh-0 -> at-1", "api POST /doors/12/open at-1", "api POST /doors/12/open at-1",
			}, moved.ev.all(), "only its own token reached the new endpoint")
			require.Equal(t, 1, s.auth.tokenCalls(), "the old endpoint heard nothing more")
			require.Contains(t, logs.String(), "runs only with the refresh token it carries")
			require.Contains(t, logs.String(), `"changed":["url.port","pinnedCertificate","authorization.tokenUrl.port"]`)

			// Once the new endpoint rotates, the stored form is bound to it.
			moved.auth.mu.Lock()
			moved.auth.rotate = true
			moved.auth.mu.Unlock()
			s.clock.Advance(2 * time.Hour)
			do(t, c)
			st, err := parseStored(s.storedForm())
			require.NoError(t, err)
			require.Equal(t, bindingOf(&moved.req), st.binding)
			require.Equal(t, tokenDigest("fresh-0"), st.delivered)

		})
	}
}

// TestLegacyStoredTokenBoundOnFirstUse: a bare refresh token, as today's
// release stores it, is bound to the first definition it is used with, and
// that binding is saved before the token is sent.
func TestLegacyStoredTokenBoundOnFirstUse(t *testing.T) {
	s, _ := ranOnce(t)
	s.ev = &events{} // a new log for the upgraded device
	s.auth.ev = s.ev
	s.api.Config.Handler = apiServer(t, s.ev, nil, s.auth).Config.Handler

	var logs testlog.Buffer
	opts := s.options()
	opts.Log = logTo(&logs)
	opts.RefreshToken = "rt-1" // what the release before this one saved

	// Saving fails: nothing is sent.
	s.fail.Store(true)
	c := mustNew(t, &s.req, opts)
	_, err := c.Do(context.Background())
	require.ErrorIs(t, err, ErrPersist)
	require.Equal(t, []string{"save rt-1 failed"}, s.ev.all())
	s.fail.Store(false)

	s.clock.Advance(2 * time.Hour)
	do(t, c)
	require.Equal(t, []string{"save rt-1 failed", "save rt-1", "token rt-1 -> at-2", "save rt-2", "api POST /doors/12/open at-2"}, s.ev.all())
	require.Contains(t, logs.String(), "earlier release")
	st, err := parseStored(s.forms[len(s.forms)-2])
	require.NoError(t, err)
	require.Equal(t, bindingOf(&s.req), st.binding)
	require.Equal(t, tokenDigest("rt-0"), st.delivered)

	// From then on it is bound like any other.
	evil := s.req
	evil.Authorization.TokenURL = newTrap(t, nil).URL + "/token"
	evil.SecurityLevel, evil.PinnedCertificate = tlspolicy.AllowHttp, ""
	opts.RefreshToken = s.storedForm()
	_, err = New(&evil, opts)
	require.ErrorIs(t, err, ErrBindingChanged)

	// What trust on first use trusts: had the first definition after the
	// upgrade been a changed one, the bare token would have been bound to
	// it. The package doc says so.
	opts.RefreshToken = "rt-2"
	c, err = New(&evil, opts)
	require.NoError(t, err)
	require.True(t, c.tokens.bound)
	require.Equal(t, bindingOf(&evil), c.tokens.binding)
}

// TestNoAuthAndAccessTokenKeepStoredState: a definition that carries its
// own credential (or none) runs with it and leaves the stored refresh
// token alone; a later OAuthRefreshToken definition with the old binding
// gets it back.
func TestNoAuthAndAccessTokenKeepStoredState(t *testing.T) {
	s, c := ranOnce(t)
	noauth := Request{Method: "GET", URL: s.api.URL + "/doors/12", SecurityLevel: tlspolicy.TlsPinnedCertificate, PinnedCertificate: s.req.PinnedCertificate}
	require.NoError(t, c.Rebind(context.Background(), &noauth))
	resp := do(t, c)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "no stored access token went with it")
	access := noauth
	access.Authorization = Authorization{Type: oauthAccessToken, AccessToken: "its-own"}
	require.NoError(t, c.Rebind(context.Background(), &access))
	do(t, c)
	require.NoError(t, c.Rebind(context.Background(), &s.req))
	do(t, c)
	require.Equal(t, []string{
		"token rt-0 -> at-1", "save rt-1", "api POST /doors/12/open at-1",
		"api GET /doors/12 ", "api GET /doors/12 its-own", "api POST /doors/12/open at-1",
	}, s.ev.all())
}

// TestRebindConcurrentWithCalls: calls run while definitions are swapped:
// the same binding spelled otherwise, a refused one, and finally a moved
// endpoint with its own token. No call fails but with ErrBindingChanged
// (a call that began under the old binding), the attacker hears nothing,
// and no token crosses from one endpoint to the other. Run with -race.
func TestRebindConcurrentWithCalls(t *testing.T) {
	s, c := ranOnce(t)
	attacker := newTrap(t, nil)
	evil := s.req
	evil.SecurityLevel, evil.PinnedCertificate = tlspolicy.AllowHttp, ""
	evil.Authorization.TokenURL = attacker.URL + "/token"
	same := s.req
	same.Body = "open again"
	moved := newOAuthSetup(t)
	moved.auth.valid = map[string]bool{"fresh-0": true}
	moved.req.Authorization.RefreshToken = "fresh-0"
	ctx := context.Background()

	// The callers run until 60 calls after the last rebind, so every
	// rebind happens while calls are in flight.
	var wg sync.WaitGroup
	var unexpected atomic.Value
	var calls, stopAt atomic.Int64
	for range 6 {
		wg.Go(func() {
			for {
				if n, stop := calls.Add(1), stopAt.Load(); stop != 0 && n > stop {
					return
				}
				resp, err := c.Do(ctx)
				switch {
				case errors.Is(err, ErrBindingChanged):
				case err != nil:
					unexpected.Store(err)
				case resp.StatusCode != http.StatusOK:
					unexpected.Store(fmt.Errorf("status %d", resp.StatusCode))
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 40 {
			if err := c.Rebind(ctx, &evil); !errors.Is(err, ErrBindingChanged) {
				unexpected.Store(err)
			}
			def := &same
			if i%2 == 0 {
				def = &s.req
			}
			if err := c.Rebind(ctx, def); err != nil {
				unexpected.Store(err)
			}
			s.clock.Advance(20 * time.Minute) // refreshes and rotations while calls run
		}
		if err := c.Rebind(ctx, &moved.req); err != nil {
			unexpected.Store(err)
		}
		stopAt.Store(calls.Load() + 60)
	})
	wg.Wait()
	require.Nil(t, unexpected.Load())
	do(t, c)

	require.Zero(t, attacker.hits.Load())
	for _, e := range s.ev.all() {
		require.NotContains(t, e, "fresh-")
	}
	for _, e := range moved.ev.all() {
		if strings.HasPrefix(e, "token ") {
			require.True(t, strings.HasPrefix(e, "token fresh-0 -> "), e)
		}
	}
	require.NotEmpty(t, moved.ev.all())
}

// TestStoredStateRefused: stored state that does not parse is refused with
// ErrStoredState before anything is sent, and the error quotes nothing.
func TestStoredStateRefused(t *testing.T) {
	s, _ := ranOnce(t)
	good := s.storedForm()
	f := strings.Split(good, " ")
	with := func(i int, v string) string {
		g := append([]string(nil), f...)
		g[i] = v
		return strings.Join(g, " ")
	}
	bad := map[string]string{
		"space in a bare token":      "rt 1",
		"control character":          "rt-1\x00",
		"non-ASCII bare token":       "rt-ü",
		"unknown version":            strings.Replace(good, "/v1 ", "/v2 ", 1),
		"missing field":              strings.Join(f[:8], " "),
		"extra field":                good + " x",
		"double space":               strings.Replace(good, " ", "  ", 1),
		"trailing newline":           good + "\n",
		"origin with a path":         with(1, f[1]+"/x"),
		"origin without port":        with(1, strings.TrimSuffix(f[1], f[1][strings.LastIndex(f[1], ":"):])),
		"origin upper case":          with(1, strings.ToUpper(f[1])),
		"http origin at a TLS level": with(1, strings.Replace(f[1], "https", "http", 1)),
		"unknown level":              with(2, "TlsMaybe"),
		"pin upper case":             with(3, strings.ToUpper(f[3])),
		"pin missing":                with(3, "-"),
		"pin short":                  with(3, f[3][:62]),
		"token endpoint query":       with(4, f[4]+"?a=b"),
		"token endpoint fragment":    with(4, f[4]+"#a"),
		"token endpoint user":        with(4, strings.Replace(f[4], "://", "://u@", 1)),
		"auth style default":         with(6, ""),
		"auth style unknown":         with(6, "InBody"),
		"delivered not hex":          with(7, strings.Repeat("g", 64)),
		"refresh token empty":        with(8, ""),
		"oversized":                  strings.Repeat("a", maxStored+1),
	}
	for name, v := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := parseStored(v)
			require.ErrorIs(t, err, ErrStoredState)
			opts := s.options()
			opts.RefreshToken = v
			_, err = New(&s.req, opts)
			require.ErrorIs(t, err, ErrStoredState)
			require.NotContains(t, err.Error(), "rt-")
			require.NotContains(t, err.Error(), "127.0.0.1")
		})
	}
	require.Equal(t, 1, s.auth.tokenCalls())
}

// TestStoredFormKnownAnswer: the stored form of a known definition, byte
// for byte (the digest of the refresh token checked with sha256sum), and
// its reading back.
func TestStoredFormKnownAnswer(t *testing.T) {
	r := validRefreshRequest()
	st := stored{binding: bindingOf(&r), delivered: tokenDigest(secretRefresh), refresh: "rt-9"}
	const want = "latch-integrator-credential/v1 https://api.example.test:443 TlsWithCACheck - " +
		"https://auth.example.test:443/token device-client InHeader " +
		"41d65cbb03ba187d2713151034a12d483aa3f04ef5135ff2dc9490c05a23eab5 rt-9"
	require.Equal(t, want, st.marshal())
	back, err := parseStored(want)
	require.NoError(t, err)
	require.Equal(t, &st, back)

	// IPv6 hosts, escaped paths and plain http at AllowHttp read too.
	pin := strings.Repeat("ab", 32)
	for _, s := range []string{
		storedVersion + " https://[::1]:8443 TlsPinnedCertificate " + pin + " https://[::1]:8443/o/t%20x c InParams " + pin + " r",
		storedVersion + " http://10.0.0.2:80 AllowHttp - http://10.0.0.2:80 c InParams " + pin + " r",
	} {
		_, err := parseStored(s)
		require.NoError(t, err)
	}
}

// TestCachedTokenPathAllocatesNothing: the binding check on the hot path
// (a call with a cached access token) allocates nothing.
func TestCachedTokenPathAllocatesNothing(t *testing.T) {
	_, c := ranOnce(t)
	d := c.def.Load()
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := c.tokens.get(ctx, d, ""); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, allocs)
}

// TestMovedAndBack: a definition with another binding and a token of its
// own runs with that token; when the first definition comes back before
// the new chain was saved, it gets its stored chain back (as it would
// after a restart), and a third definition gets no token of either.
func TestMovedAndBack(t *testing.T) {
	s, c := ranOnce(t)
	moved := newOAuthSetup(t)
	moved.auth.valid = map[string]bool{"fresh-0": true}
	moved.req.Authorization.RefreshToken = "fresh-0"
	ctx := context.Background()

	require.NoError(t, c.Rebind(ctx, &moved.req))
	do(t, c)
	third := s.req
	third.Authorization.TokenURL = newTrap(t, nil).URL + "/token"
	third.SecurityLevel, third.PinnedCertificate = tlspolicy.AllowHttp, ""
	for _, carried := range []string{"rt-0", "rt-1", "fresh-0"} {
		third.Authorization.RefreshToken = carried
		require.ErrorIs(t, c.Rebind(ctx, &third), ErrBindingChanged, carried)
	}

	require.NoError(t, c.Rebind(ctx, &s.req))
	s.clock.Advance(2 * time.Hour)
	do(t, c)
	require.Equal(t, []string{
		"token rt-0 -> at-1", "save rt-1", "api POST /doors/12/open at-1",
		"token rt-1 -> at-2", "save rt-2", "api POST /doors/12/open at-2",
	}, s.ev.all(), "the stored chain, not the definition's retired token")
	require.Equal(t, []string{"token fresh-0 -> at-1", "api POST /doors/12/open at-1"}, moved.ev.all())

	// Once the moved chain is saved, the stored form holds it alone.
	require.NoError(t, c.Rebind(ctx, &moved.req))
	moved.auth.mu.Lock()
	moved.auth.rotate = true
	moved.auth.mu.Unlock()
	do(t, c)
	require.Nil(t, c.tokens.shelved)
	st, err := parseStored(s.storedForm())
	require.NoError(t, err)
	require.Equal(t, bindingOf(&moved.req), st.binding)
}

// TestRelinkedSameBinding: the person links the integration again, and the
// definition, with the same binding, carries the new grant's refresh
// token: it replaces the stored chain, on a running Caller and after a
// restart.
func TestRelinkedSameBinding(t *testing.T) {
	for _, how := range []string{"rebind", "restart"} {
		t.Run(how, func(t *testing.T) {
			s, c := ranOnce(t)
			s.auth.mu.Lock()
			s.auth.valid["relinked-0"] = true
			s.auth.mu.Unlock()
			relinked := s.req
			relinked.Authorization.RefreshToken = "relinked-0"
			if how == "rebind" {
				require.NoError(t, c.Rebind(context.Background(), &relinked))
			} else {
				opts := s.options()
				opts.RefreshToken = s.storedForm()
				c = mustNew(t, &relinked, opts)
			}
			do(t, c)
			require.Contains(t, s.ev.all(), "token relinked-0 -> at-2")
			st, err := parseStored(s.storedForm())
			require.NoError(t, err)
			require.Equal(t, tokenDigest("relinked-0"), st.delivered)
		})
	}
}

// TestStoredFormKeepsEveryBinding: whatever URLs a valid definition has,
// its binding written in the stored form reads back the same, so that a
// restarted device recognises its own definition.
func TestStoredFormKeepsEveryBinding(t *testing.T) {
	for _, u := range []string{
		"https://API.Example.TEST/x",
		"https://api.example.test:443",
		"https://api.example.test:8443/a/b%20c/",
		"https://[fe80::1%25eth0]:8443/t",
		"https://[2001:DB8::1]/t",
		"https://bücher.example/t",
		"https://a%25b.example/t",
		"https://a.example/p;q/%7Euser?x=1#frag",
		"https://a.example:0443/t",
	} {
		r := validRefreshRequest()
		r.URL, r.Authorization.TokenURL = u, u
		if err := r.Validate(); err != nil {
			t.Logf("%s: %v", u, err)
			continue // not a definition: nothing to store
		}
		st := stored{binding: bindingOf(&r), delivered: tokenDigest("x"), refresh: "y"}
		back, err := parseStored(st.marshal())
		require.NoError(t, err, u)
		require.Equal(t, st.binding, back.binding, u)
	}
}

// TestCallBegunBeforeRebind: a call that loaded the old definition before a
// Rebind to another binding, and asks for a token after it, gets
// ErrBindingChanged: the new definition's token never goes to the old
// endpoint, nor the old chain's to the new one.
func TestCallBegunBeforeRebind(t *testing.T) {
	s, c := ranOnce(t)
	moved := newOAuthSetup(t)
	moved.auth.valid = map[string]bool{"fresh-0": true}
	moved.req.Authorization.RefreshToken = "fresh-0"
	ctx := context.Background()

	old := c.def.Load() // the call has begun
	require.NoError(t, c.Rebind(ctx, &moved.req))
	_, err := c.tokens.get(ctx, old, "")
	requireRefused(t, err, fieldURLPort, fieldPin, fieldTokenURLPort)
	_, err = c.tokens.get(ctx, old, "at-1") // its retry after a 401
	require.ErrorIs(t, err, ErrBindingChanged)
	require.Equal(t, 1, s.auth.tokenCalls())
	require.Zero(t, moved.auth.tokenCalls())
}
