package platform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/examples/app"
	"github.com/latchsec/latch/examples/platform"
	"github.com/latchsec/latch/sealedbox"
)

// post sends body as JSON to path (with bearer, if not empty) and returns
// the status and the headers of the answer.
func (e *env) post(path, bearer string, body any) (int, http.Header) {
	b, err := json.Marshal(body)
	require.NoError(e.t, err)
	req, err := http.NewRequest(http.MethodPost, e.p.URL+path, bytes.NewReader(b))
	require.NoError(e.t, err)
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := e.client().Do(req)
	require.NoError(e.t, err)
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// heldHashes holds every password evaluation of a platform in flight until
// released, and counts them.
type heldHashes struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
	n       atomic.Int32
}

// holdHashes holds the platform's evaluations from now on, until free.
func (e *env) holdHashes() *heldHashes {
	h := &heldHashes{entered: make(chan struct{}, 1000), release: make(chan struct{})}
	platform.SetHashHook(e.p, func() {
		h.n.Add(1)
		h.entered <- struct{}{}
		<-h.release
	})
	e.t.Cleanup(h.free)
	return h
}

func (h *heldHashes) free() { h.once.Do(func() { close(h.release) }) }

// attack runs f n times at once while h holds every evaluation: once each
// attempt is either held in an evaluation or answered, the evaluations are
// let go. It returns the count of each status.
func attack(h *heldHashes, n int, f func() int) map[int]int {
	answers := make(chan int, n)
	for range n {
		go func() { answers <- f() }()
	}
	counts := map[int]int{}
	entered, answered := 0, 0
	for entered+answered < n {
		select {
		case <-h.entered:
			entered++
		case s := <-answers:
			counts[s]++
			answered++
		}
	}
	h.free()
	for answered < n {
		counts[<-answers]++
		answered++
	}
	return counts
}

// Wrong passwords sent at once for one address, known or not: exactly the
// allowed number (5) are evaluated; the rest are refused before the hash
// with 429. The hashing budget is large here, so none waits for it.
func TestPasswordThrottlingConcurrent(t *testing.T) {
	e := newEnvWith(t, platform.Config{PasswordHashingMemory: 1 << 40})
	e.person("gus@example.com")
	for _, email := range []string{"gus@example.com", "nobody@example.com"} {
		h := e.holdHashes()
		counts := attack(h, 60, func() int {
			s, _ := e.post("/v1/signin", "", map[string]string{"email": email, "password": "wrong password!!"})
			return s
		})
		require.Equal(t, map[int]int{http.StatusUnauthorized: 5, http.StatusTooManyRequests: 55}, counts, email)
		require.Equal(t, int32(5), h.n.Load(), email)
	}
}

// The password asked again before a second-factor change shares the
// count, and is throttled the same way under concurrency.
func TestPasswordAgainThrottlingConcurrent(t *testing.T) {
	e := newEnvWith(t, platform.Config{PasswordHashingMemory: 1 << 40})
	phone, _ := e.person("gwen@example.com")
	h := e.holdHashes()
	counts := attack(h, 60, func() int {
		s, _ := e.post("/v1/recovery-codes", phone.Session(), map[string]string{"password": "wrong password!!"})
		return s
	})
	require.Equal(t, map[int]int{http.StatusUnauthorized: 5, http.StatusTooManyRequests: 55}, counts)
	require.Equal(t, int32(5), h.n.Load())
	h = e.holdHashes()
	counts = attack(h, 20, func() int {
		s, _ := e.post("/v1/totp/reenroll", phone.Session(), map[string]string{"password": "a long enough password"})
		return s
	})
	require.Equal(t, map[int]int{http.StatusTooManyRequests: 20}, counts, "locked, even for the right password")
	require.Zero(t, h.n.Load())
}

// Password hashing has a memory budget: with room for two evaluations and
// two held in flight, a third sign-in (or sign-up) is answered 503 with
// Retry-After at once, without being counted against its address; once
// the two end, it goes through.
func TestPasswordHashingBudget(t *testing.T) {
	e := newEnvWith(t, platform.Config{PasswordHashingMemory: 2 * int64(platform.PasswordParams.Memory) << 10})
	h := e.holdHashes()
	answers := make(chan int, 2)
	for _, email := range []string{"a@example.com", "b@example.com"} {
		go func() {
			s, _ := e.post("/v1/signin", "", map[string]string{"email": email, "password": "wrong password!!"})
			answers <- s
		}()
	}
	<-h.entered
	<-h.entered
	for range 6 {
		s, hdr := e.post("/v1/signin", "", map[string]string{"email": "c@example.com", "password": "wrong password!!"})
		require.Equal(t, http.StatusServiceUnavailable, s)
		require.Equal(t, "1", hdr.Get("Retry-After"))
	}
	s, hdr := e.post("/v1/signup", "", map[string]string{"email": "d@example.com", "password": "a long enough password"})
	require.Equal(t, http.StatusServiceUnavailable, s)
	require.Equal(t, "1", hdr.Get("Retry-After"))
	require.Contains(t, e.audit.String(), `"reason":"hashing busy"`)
	// The console says it the same way.
	page := e.consoleForm(e.consoleClient())
	for _, path := range []string{"/console/signin", "/console/signup"} {
		code, body := page(path, url.Values{"email": {"e@example.com"}, "password": {"a long enough password"}})
		require.Equal(t, http.StatusServiceUnavailable, code, path)
		require.Contains(t, body, "try again in a moment", path)
	}
	h.free()
	require.Equal(t, http.StatusUnauthorized, <-answers)
	require.Equal(t, http.StatusUnauthorized, <-answers)
	// The refusals did not count: c's address is not locked.
	s, _ = e.post("/v1/signin", "", map[string]string{"email": "c@example.com", "password": "wrong password!!"})
	require.Equal(t, http.StatusUnauthorized, s)
	require.Equal(t, int32(3), h.n.Load())
}

// A token limited to other applications (apps) is refused on every route
// that acts on the person's application (devices, integrations), and one
// limited to the person's own works there.
func TestTokenAppLimits(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	clientID, _, err := e.p.RegisterIntegrator(ctx, "Acme", []string{api.ScopeRequestsWrite})
	require.NoError(t, err)
	phone, _ := e.person("ivy@example.com")
	dev, err := phone.AddDevice(ctx, "lamp")
	require.NoError(t, err)
	in, err := phone.EnableIntegration(ctx, clientID)
	require.NoError(t, err)
	limited := func(apps ...string) string {
		var s api.SessionResponse
		require.NoError(t, phone.Do(ctx, http.MethodPost, "/v1/tokens", phone.Session(), map[string]any{"name": "limited",
			"scopes":    []string{api.ScopeDevicesManage, api.ScopeDevicesRead, api.ScopeIntegrationsManage},
			"apps":      apps,
			"expiresIn": 3600}, &s))
		return s.Token
	}
	other, own := limited("other-app"), limited(dev.App)
	pub, err := sealedbox.GenerateKey()
	require.NoError(t, err)
	routes := []struct {
		method, path string
		body         any
		ok           int // the status with a token of the right application
	}{
		{http.MethodGet, "/v1/devices", nil, http.StatusOK},
		{http.MethodPost, "/v1/devices", map[string]string{"name": "x"}, http.StatusCreated},
		{http.MethodGet, "/v1/devices/" + dev.DeviceID, nil, http.StatusOK},
		{http.MethodPost, "/v1/devices/" + dev.DeviceID + "/messages", map[string][]byte{"message": []byte("m")}, http.StatusAccepted},
		{http.MethodGet, "/v1/integrations", nil, http.StatusOK},
		{http.MethodPost, "/v1/integrations", map[string]any{"integrator": clientID, "publicKey": pub.PublicKey().String(), "wrappedKey": []byte("w")}, http.StatusCreated},
		{http.MethodGet, "/v1/integrations/" + in, nil, http.StatusOK},
		{http.MethodGet, "/v1/integrations/" + in + "/requests", nil, http.StatusOK},
		{http.MethodGet, "/v1/integrations/" + in + "/requests/rq_none", nil, http.StatusNotFound},
		{http.MethodDelete, "/v1/devices/" + dev.DeviceID, nil, http.StatusNoContent},
	}
	for _, r := range routes {
		err := phone.Do(ctx, r.method, r.path, other, r.body, nil)
		require.Equal(t, http.StatusForbidden, status(err), "%s %s", r.method, r.path)
		err = phone.Do(ctx, r.method, r.path, own, r.body, nil)
		if r.ok < 300 {
			require.NoError(t, err, "%s %s", r.method, r.path)
		} else {
			require.Equal(t, r.ok, status(err), "%s %s", r.method, r.path)
		}
	}
	require.Equal(t, len(routes), strings.Count(e.audit.String(), `"msg":"api token refused"`))
}

// The second factor cannot be replaced without the second factor: an API
// token with tokens:manage and the password make neither recovery codes
// nor a new authenticator; a fresh TOTP code does, as does a session whose
// code (or recovery code) is minutes old, and not an older one.
func TestSecondFactorChangeNeedsSecondFactor(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	const email, password = "nat@example.com", "a long enough password"
	phone, key := e.person(email)
	apiTok, err := phone.CreateToken(ctx, "ci", []string{api.ScopeTokensManage}, time.Hour)
	require.NoError(t, err)
	narrowed, err := phone.Exchange(ctx, phone.Session(), []string{api.ScopeTokensManage})
	require.NoError(t, err)
	for _, path := range []string{"/v1/recovery-codes", "/v1/totp/reenroll"} {
		for _, tok := range []string{apiTok.Token, narrowed} {
			s, _ := e.post(path, tok, map[string]string{"password": password})
			require.Equal(t, http.StatusForbidden, s, path)
		}
	}
	require.Contains(t, e.audit.String(), "no code, and no session with a recent one")

	// With a code of the app, the API token may (it holds every factor).
	e.clock.Advance(30 * time.Second)
	s, _ := e.post("/v1/recovery-codes", apiTok.Token, map[string]string{"password": password, "code": wrongFor(key, e.clock.Now())})
	require.Equal(t, http.StatusUnauthorized, s)
	s, _ = e.post("/v1/recovery-codes", apiTok.Token, map[string]string{"password": password, "code": key.Code(e.clock.Now())})
	require.Equal(t, http.StatusOK, s)
	s, _ = e.post("/v1/recovery-codes", apiTok.Token, map[string]string{"password": password, "code": key.Code(e.clock.Now())})
	require.Equal(t, http.StatusUnauthorized, s, "a code is accepted once")

	// The session: without a code while its code is minutes old, not after.
	codes, err := phone.RecoveryCodes(ctx, password, "")
	require.NoError(t, err)
	e.clock.Advance(11 * time.Minute)
	_, err = phone.RecoveryCodes(ctx, password, "")
	require.Equal(t, http.StatusForbidden, status(err))
	_, err = phone.ReplaceAuthenticator(ctx, password, "")
	require.Equal(t, http.StatusForbidden, status(err))

	// Lost the app: a recovery code signs in, and the new app is set up at
	// once without a code of the old one.
	lost := app.New(e.p.URL, e.p.Roots())
	_, err = lost.SignInWithRecoveryCode(ctx, email, password, codes[0])
	require.NoError(t, err)
	next, err := lost.ReplaceAuthenticator(ctx, password, "")
	require.NoError(t, err)
	require.NoError(t, lost.ConfirmAuthenticator(ctx, next.Code(e.clock.Now())))
}

// The console asks for a code of the app too once the session's is more
// than minutes old.
func TestConsoleSecondFactorChangeNeedsSecondFactor(t *testing.T) {
	e := newEnv(t)
	page, creds, key := e.consoleSignedUp(e.consoleClient(), "olga@example.com")
	e.clock.Advance(11 * time.Minute)
	for _, path := range []string{"/console/recovery-codes", "/console/authenticator"} {
		code, body := page(path, url.Values{"password": creds["password"]})
		require.Equal(t, http.StatusBadRequest, code, path)
		require.Contains(t, body, "Type a code from your authenticator app too.", path)
	}
	code, body := page("/console/recovery-codes", url.Values{"password": creds["password"], "code": {key.Code(e.clock.Now())}})
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `id="recovery-codes"`)
}

// A device that swaps its key and secret, and an integrator that sends its
// secret as client_id, do not get their secret written to the audit log.
func TestNoSecretsInAuditLog(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	phone, _ := e.person("pia@example.com")
	dev, err := phone.AddDevice(ctx, "lamp")
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, e.reportState(dev.Secret, dev.Key))
	require.Equal(t, http.StatusUnauthorized, e.reportState(dev.Key, "wrong secret"))
	require.Equal(t, http.StatusNoContent, e.reportState(dev.Key, dev.Secret))

	clientID, secret, err := e.p.RegisterIntegrator(ctx, "Acme", []string{api.ScopeRequestsWrite})
	require.NoError(t, err)
	grant := url.Values{"grant_type": {"client_credentials"}}
	code, _ := e.form(grant, secret, clientID)
	require.Equal(t, http.StatusUnauthorized, code)
	grant.Set("client_id", secret)
	grant.Set("client_secret", clientID)
	code, _ = e.form(grant, "", "")
	require.Equal(t, http.StatusUnauthorized, code)
	code, _ = e.form(url.Values{"grant_type": {"client_credentials"}}, clientID, "wrong")
	require.Equal(t, http.StatusUnauthorized, code)

	log := e.audit.String()
	require.NotContains(t, log, dev.Secret)
	require.NotContains(t, log, secret)
	require.Contains(t, log, `"key":"(not a key)"`)
	require.Contains(t, log, `"key":"`+dev.Key+`"`, "a well-formed key is still logged")
	require.Equal(t, 2, strings.Count(log, `"client":"(not a client id)"`))
	require.Contains(t, log, `"client":"`+clientID+`"`)
}

// The token endpoint refuses what it would otherwise ignore or choke on: a
// scope named twice (400, not 500); a token exchange with an audience or
// resource (invalid_target) or an actor token (invalid_request), which
// RFC 8693 asks a server that does not honour them to refuse.
func TestTokenEndpointRefusals(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	id, secret, err := e.p.RegisterIntegrator(ctx, "Acme", []string{api.ScopeRequestsWrite})
	require.NoError(t, err)
	code, body := e.form(url.Values{"grant_type": {"client_credentials"}, "scope": {"requests:write requests:write"}}, id, secret)
	require.Equal(t, http.StatusBadRequest, code, body)
	require.Contains(t, body, `"error":"invalid_scope"`)
	require.NotContains(t, e.audit.String(), `"msg":"internal error"`)

	phone, _ := e.person("quinn@example.com")
	exchange := func(extra url.Values) (int, string) {
		v := url.Values{
			"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
			"subject_token":      {phone.Session()},
			"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"},
			"scope":              {api.ScopeDevicesRead},
		}
		for k, vs := range extra {
			v[k] = vs
		}
		return e.form(v, "", "")
	}
	for _, c := range []struct {
		extra url.Values
		error string
	}{
		{url.Values{"audience": {"https://other.example"}}, "invalid_target"},
		{url.Values{"resource": {"https://other.example/api"}}, "invalid_target"},
		{url.Values{"audience": {""}}, "invalid_target"},
		{url.Values{"actor_token": {phone.Session()}, "actor_token_type": {"urn:ietf:params:oauth:token-type:access_token"}}, "invalid_request"},
		{url.Values{"actor_token_type": {"urn:ietf:params:oauth:token-type:access_token"}}, "invalid_request"},
	} {
		code, body := exchange(c.extra)
		require.Equal(t, http.StatusBadRequest, code, "%v", c.extra)
		require.Contains(t, body, `"error":"`+c.error+`"`, "%v", c.extra)
	}
	code, body = exchange(nil)
	require.Equal(t, http.StatusOK, code, body)
}

// The console serves its script and style sheet, and not the source of
// its page templates, nor a listing of its files.
func TestConsoleStaticFiles(t *testing.T) {
	e := newEnv(t)
	get := func(path string) (int, string) {
		resp, err := e.client().Get(e.p.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	for _, path := range []string{"/console/static/app.js", "/console/static/style.css"} {
		code, _ := get(path)
		require.Equal(t, http.StatusOK, code, path)
	}
	for _, path := range []string{"/console/static/console.html", "/console/static/../console.html",
		"/console/static/", "/console/static/static/app.js", "/console/static/web/console.html"} {
		code, body := get(path)
		require.NotEqual(t, http.StatusOK, code, path)
		require.NotContains(t, body, "{{define", path)
		require.NotContains(t, body, "app.js", path)
	}
}

// Signing up with an address that has an account says so (409, see "Who
// has an account" in doc.go), and does nothing else: no key, no account
// id, and the account's password and authenticator stay as they were.
func TestSignUpTakenAddress(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	_, key := e.person("rae@example.com")
	var resp map[string]any
	err := app.New(e.p.URL, e.p.Roots()).Do(ctx, http.MethodPost, "/v1/signup", "",
		map[string]string{"email": " RAE@example.com", "password": "the intruder's password"}, &resp)
	require.Equal(t, http.StatusConflict, status(err))
	require.Nil(t, resp)

	e.clock.Advance(30 * time.Second)
	other := app.New(e.p.URL, e.p.Roots())
	_, err = other.SignIn(ctx, "rae@example.com", "the intruder's password", func() string { return key.Code(e.clock.Now()) })
	require.Equal(t, http.StatusUnauthorized, status(err))
	_, err = other.SignIn(ctx, "rae@example.com", "a long enough password", func() string { return key.Code(e.clock.Now()) })
	require.NoError(t, err)
}
