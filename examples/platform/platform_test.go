package platform_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/examples/app"
	"github.com/latchsec/latch/examples/device"
	"github.com/latchsec/latch/examples/platform"
	"github.com/latchsec/latch/internal/testclock"
	"github.com/latchsec/latch/internal/testlog"
	"github.com/latchsec/latch/sealedbox"
	"github.com/latchsec/latch/totp"
)

type env struct {
	t      *testing.T
	cfg    platform.Config // extra settings for start: PasswordHashingMemory
	dir    string
	master []byte
	clock  *clock
	audit  *syncBuffer
	p      *platform.Platform
}

func newEnv(t *testing.T) *env { return newEnvWith(t, platform.Config{}) }

// newEnvWith starts a platform with cfg's PasswordHashingMemory.
func newEnvWith(t *testing.T, cfg platform.Config) *env {
	e := &env{t: t, dir: t.TempDir(), master: platform.NewMasterKey(), cfg: cfg,
		clock: testclock.New(time.Now().Truncate(time.Second)), audit: &testlog.Buffer{}}
	e.start()
	return e
}

func (e *env) start() {
	p, err := platform.Start(context.Background(), platform.Config{StateDir: e.dir, MasterKey: e.master,
		Audit: slog.New(slog.NewJSONHandler(e.audit, nil)), Now: e.clock.Now, PasswordHashingMemory: e.cfg.PasswordHashingMemory})
	require.NoError(e.t, err)
	e.p = p
	e.t.Cleanup(func() { p.Close() })
}

// person signs a new person up and in, and returns their app and TOTP key.
func (e *env) person(email string) (*app.Phone, totp.Key) {
	ctx := context.Background()
	phone := app.New(e.p.URL, e.p.Roots())
	key, err := phone.SignUp(ctx, email, "a long enough password")
	require.NoError(e.t, err)
	_, err = phone.SignIn(ctx, email, "a long enough password", func() string { return key.Code(e.clock.Now()) })
	require.NoError(e.t, err)
	return phone, key
}

func status(err error) int {
	var e *app.APIError
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

func (e *env) client() *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.p.Roots()}}}
}

// reportState posts a device's state report with key and secret (HTTP
// Basic) and returns the status.
func (e *env) reportState(key, secret string) int {
	req, err := http.NewRequest(http.MethodPost, e.p.URL+"/v1/device/state", strings.NewReader(`{"ok":true}`))
	require.NoError(e.t, err)
	req.SetBasicAuth(key, secret)
	resp, err := e.client().Do(req)
	require.NoError(e.t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// form posts to the token endpoint and returns the status and the body.
func (e *env) form(v url.Values, user, pass string) (int, string) {
	req, err := http.NewRequest(http.MethodPost, e.p.URL+"/oauth/token", strings.NewReader(v.Encode()))
	require.NoError(e.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := e.client().Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// State survives a restart with the same master key: accounts, the token
// keyring (sessions keep working) and revocations (revoked stays revoked).
// Another master key cannot open the state.
func TestRestart(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	phone, _ := e.person("bob@example.com")
	tok, err := phone.CreateToken(ctx, "ci", []string{api.ScopeDevicesRead}, time.Hour)
	require.NoError(t, err)
	require.NoError(t, phone.RevokeToken(ctx, tok.TokenID))
	require.NoError(t, e.p.Close())

	e.start()
	phone = app.New(e.p.URL, e.p.Roots())
	require.Equal(t, http.StatusUnauthorized, status(phone.Do(ctx, http.MethodGet, "/v1/devices", tok.Token, nil, nil)))
	require.NoError(t, e.p.Close())

	e.master = platform.NewMasterKey()
	_, err = platform.Start(ctx, platform.Config{StateDir: e.dir, MasterKey: e.master})
	require.ErrorContains(t, err, "does not open under this master key")
}

func TestSessionSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	phone, _ := e.person("carol@example.com")
	session := phone.Session()
	require.NoError(t, e.p.Close())
	e.start()
	phone = app.New(e.p.URL, e.p.Roots())
	require.NoError(t, phone.Do(ctx, http.MethodGet, "/v1/tokens", session, nil, nil))
}

// Sign-in refusals: an unknown email and a wrong password look the same;
// a wrong code is refused; a challenge is good for three codes; five
// wrong codes lock the account, and the audit log says so.
func TestSignInRefusals(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	phone, key := e.person("dave@example.com")
	e.clock.Advance(time.Minute)

	err1 := phone.Do(ctx, http.MethodPost, "/v1/signin", "", map[string]string{"email": "nobody@example.com", "password": "a long enough password"}, nil)
	err2 := phone.Do(ctx, http.MethodPost, "/v1/signin", "", map[string]string{"email": "dave@example.com", "password": "wrong password!"}, nil)
	require.Equal(t, err1.Error(), err2.Error())
	require.Equal(t, http.StatusUnauthorized, status(err1))

	wrong := wrongFor(key, e.clock.Now())
	var ch struct {
		Challenge string `json:"challenge"`
	}
	tries := 0
	for tries < 5 {
		require.NoError(t, phone.Do(ctx, http.MethodPost, "/v1/signin", "", map[string]string{"email": "dave@example.com", "password": "a long enough password"}, &ch))
		for i := 0; i < 3 && tries < 5; i++ {
			err := phone.Do(ctx, http.MethodPost, "/v1/signin/totp", "", map[string]string{"challenge": ch.Challenge, "code": wrong}, nil)
			require.Equal(t, http.StatusUnauthorized, status(err))
			tries++
		}
	}
	// Locked: even the right code is refused, and the log says why.
	require.NoError(t, phone.Do(ctx, http.MethodPost, "/v1/signin", "", map[string]string{"email": "dave@example.com", "password": "a long enough password"}, &ch))
	err := phone.Do(ctx, http.MethodPost, "/v1/signin/totp", "", map[string]string{"challenge": ch.Challenge, "code": key.Code(e.clock.Now())}, nil)
	require.Equal(t, http.StatusUnauthorized, status(err))
	require.Contains(t, e.audit.String(), `"msg":"account locked"`)

	// A challenge is used up after three codes.
	require.NoError(t, phone.Do(ctx, http.MethodPost, "/v1/signin", "", map[string]string{"email": "dave@example.com", "password": "a long enough password"}, &ch))
	for range 3 {
		phone.Do(ctx, http.MethodPost, "/v1/signin/totp", "", map[string]string{"challenge": ch.Challenge, "code": wrong}, nil)
	}
	err = phone.Do(ctx, http.MethodPost, "/v1/signin/totp", "", map[string]string{"challenge": ch.Challenge, "code": wrong}, nil)
	require.Equal(t, "invalid_challenge", err.(*app.APIError).Code)

	// After the lockout, the right code signs in.
	e.clock.Advance(2 * time.Minute)
	_, err = phone.SignIn(ctx, "dave@example.com", "a long enough password", func() string { return key.Code(e.clock.Now()) })
	require.NoError(t, err)
	require.NotContains(t, e.audit.String(), "a long enough password")
}

// A key from sign-up never confirmed expires after 15 minutes: the next
// password step gives a new key (once), and only that key's codes work.
func TestEnrollmentRenewed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	phone := app.New(e.p.URL, e.p.Roots())
	creds := map[string]string{"email": "gil@example.com", "password": "a long enough password"}
	old, err := phone.SignUp(ctx, creds["email"], creds["password"])
	require.NoError(t, err)

	// Pending, not expired: no new key.
	e.clock.Advance(14 * time.Minute)
	var ch api.SignInResponse
	require.NoError(t, phone.Do(ctx, http.MethodPost, "/v1/signin", "", creds, &ch))
	require.Nil(t, ch.Enroll)
	e.clock.Advance(time.Minute)
	// The old key's code is refused once the enrollment has expired, even
	// on a challenge from before.
	err = phone.Do(ctx, http.MethodPost, "/v1/signin/totp", "", map[string]string{"challenge": ch.Challenge, "code": old.Code(e.clock.Now())}, nil)
	require.Equal(t, http.StatusUnauthorized, status(err))

	// Through the app: a new key, then a sign-in with it.
	_, err = phone.SignIn(ctx, creds["email"], creds["password"], func() string { return old.Code(e.clock.Now()) })
	var nk *app.NewKeyError
	require.ErrorAs(t, err, &nk)
	require.NotEqual(t, old.URI(), nk.Key.URI())
	require.Contains(t, e.audit.String(), `"msg":"enrollment renewed"`)
	_, err = phone.SignIn(ctx, creds["email"], creds["password"], func() string { return nk.Key.Code(e.clock.Now()) })
	require.NoError(t, err)

	// Confirmed enrollments never get a new key.
	e.clock.Advance(24 * time.Hour)
	require.NoError(t, phone.Do(ctx, http.MethodPost, "/v1/signin", "", creds, &ch))
	require.Nil(t, ch.Enroll)
	require.NotContains(t, e.audit.String(), nk.Key.SecretBase32())
}

// Recovery codes: made only with the password again, shown once, each
// signs in once in place of a TOTP code, a new set replaces the old; none
// reaches the audit log.
func TestRecoveryCodes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const email, password = "hal@example.com", "a long enough password"
	phone, _ := e.person(email)

	_, err := phone.RecoveryCodes(ctx, "not my password", "")
	require.Equal(t, http.StatusUnauthorized, status(err))
	require.Equal(t, http.StatusUnauthorized, status(phone.Do(ctx, http.MethodPost, "/v1/recovery-codes", "", map[string]string{"password": password}, nil)))
	codes, err := phone.RecoveryCodes(ctx, password, "")
	require.NoError(t, err)
	require.Len(t, codes, 10)

	other := app.New(e.p.URL, e.p.Roots())
	_, err = other.SignInWithRecoveryCode(ctx, email, password, "0000-0000-0000-0000")
	require.Equal(t, http.StatusUnauthorized, status(err))
	s, err := other.SignInWithRecoveryCode(ctx, email, password, strings.ToUpper(codes[3]))
	require.NoError(t, err)
	require.ElementsMatch(t, platform.PersonScopes, s.Scopes)
	require.NoError(t, other.Do(ctx, http.MethodGet, "/v1/tokens", other.Session(), nil, nil))
	require.Contains(t, e.audit.String(), `"msg":"recovery code used"`)
	// Once only.
	_, err = other.SignInWithRecoveryCode(ctx, email, password, codes[3])
	require.Equal(t, http.StatusUnauthorized, status(err))

	// A new set replaces the old one.
	fresh, err := other.RecoveryCodes(ctx, password, "")
	require.NoError(t, err)
	_, err = phone.SignInWithRecoveryCode(ctx, email, password, codes[4])
	require.Equal(t, http.StatusUnauthorized, status(err))
	_, err = phone.SignInWithRecoveryCode(ctx, email, password, fresh[0])
	require.NoError(t, err)

	for _, c := range append(codes, fresh...) {
		require.NotContains(t, e.audit.String(), c)
	}
}

// Token key rotation: tokens issued before a rotation keep working, across
// a restart, until their key is retired; then sessions, API tokens and
// device secrets under it all stop, and those under the new key do not.
func TestTokenKeyRotation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	phone, _ := e.person("ida@example.com")
	session := phone.Session()
	dev, err := phone.AddDevice(ctx, "a")
	require.NoError(t, err)
	report := func(secret string) int { return e.reportState(dev.Key, secret) }
	works := func(tok string) bool {
		err := phone.Do(ctx, http.MethodGet, "/v1/tokens", tok, nil, nil)
		if err != nil {
			require.Equal(t, http.StatusUnauthorized, status(err), "refused for the token, not for anything else")
		}
		return err == nil
	}
	old := e.p.TokenKeyIDs()
	require.Len(t, old, 1)

	kid, err := e.p.RotateTokenKey(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{kid, old[0]}, e.p.TokenKeyIDs())
	fresh, err := phone.CreateToken(ctx, "after", []string{api.ScopeTokensManage}, time.Hour)
	require.NoError(t, err)
	require.True(t, works(session))
	require.True(t, works(fresh.Token))
	require.Equal(t, http.StatusNoContent, report(dev.Secret))
	require.Contains(t, e.audit.String(), `"msg":"token key rotated"`)

	// The rotated keyring was stored before it took effect.
	require.NoError(t, e.p.Close())
	e.start()
	phone = app.New(e.p.URL, e.p.Roots())
	require.Equal(t, []string{kid, old[0]}, e.p.TokenKeyIDs())
	require.True(t, works(session))

	require.Error(t, e.p.RetireTokenKey(ctx, kid), "the active key cannot be retired")
	require.NoError(t, e.p.RetireTokenKey(ctx, old[0]))
	require.False(t, works(session))
	require.Equal(t, http.StatusUnauthorized, report(dev.Secret))
	require.True(t, works(fresh.Token))

	require.NoError(t, e.p.Close())
	e.start()
	phone = app.New(e.p.URL, e.p.Roots())
	require.Equal(t, []string{kid}, e.p.TokenKeyIDs())
	require.False(t, works(session))
	require.True(t, works(fresh.Token))
}

// Moving to a new authenticator app: the password first; the old app
// signs in until a code of the new key confirms it, then only the new one.
func TestReplaceAuthenticator(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const email, password = "jan@example.com", "a long enough password"
	phone, old := e.person(email)

	_, err := phone.ReplaceAuthenticator(ctx, "not my password", "")
	require.Equal(t, http.StatusUnauthorized, status(err))
	next, err := phone.ReplaceAuthenticator(ctx, password, "")
	require.NoError(t, err)
	require.NotEqual(t, old.SecretBase32(), next.SecretBase32())

	// Not confirmed yet: the old app signs in.
	e.clock.Advance(time.Minute)
	other := app.New(e.p.URL, e.p.Roots())
	_, err = other.SignIn(ctx, email, password, func() string { return old.Code(e.clock.Now()) })
	require.NoError(t, err)

	require.Equal(t, http.StatusUnauthorized, status(phone.ConfirmAuthenticator(ctx, wrongFor(next, e.clock.Now()))))
	require.NoError(t, phone.ConfirmAuthenticator(ctx, next.Code(e.clock.Now())))
	require.Contains(t, e.audit.String(), `"msg":"authenticator replaced"`)

	e.clock.Advance(time.Minute)
	if old.Code(e.clock.Now()) != next.Code(e.clock.Now()) {
		_, err = other.SignIn(ctx, email, password, func() string { return old.Code(e.clock.Now()) })
		require.Equal(t, http.StatusUnauthorized, status(err))
	}
	_, err = other.SignIn(ctx, email, password, func() string { return next.Code(e.clock.Now()) })
	require.NoError(t, err)
	require.NotContains(t, e.audit.String(), next.SecretBase32())
}

// wrongFor returns a code that k does not give within two steps of at.
func wrongFor(k totp.Key, at time.Time) string {
	for v := 0; ; v++ {
		c := fmt.Sprintf("%06d", v)
		ok := true
		for d := -2; d <= 2; d++ {
			ok = ok && k.Code(at.Add(time.Duration(d)*30*time.Second)) != c
		}
		if ok {
			return c
		}
	}
}

// A person can give a token only scopes they have.
func TestTokenLeastPrivilege(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	phone, _ := e.person("erin@example.com")
	ro, err := phone.CreateToken(ctx, "ro", []string{api.ScopeDevicesRead}, time.Hour)
	require.NoError(t, err)
	_, err = phone.CreateToken(ctx, "x", []string{api.ScopeRequestsWrite}, time.Hour)
	require.Equal(t, http.StatusForbidden, status(err))
	// The read-only token cannot manage tokens at all.
	err = phone.Do(ctx, http.MethodPost, "/v1/tokens", ro.Token, map[string]any{"name": "y", "scopes": []string{api.ScopeDevicesRead}, "expiresIn": 60}, nil)
	require.Equal(t, http.StatusForbidden, status(err))
	// Expiry is enforced by the injected clock.
	e.clock.Advance(time.Hour + 2*time.Minute)
	require.Equal(t, http.StatusUnauthorized, status(phone.Do(ctx, http.MethodGet, "/v1/devices", ro.Token, nil, nil)))
}

// The token endpoint: client credentials with a wrong secret or a scope
// the client may not have are refused; token exchange narrows and never
// widens.
func TestOAuth(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	id, secret, err := e.p.RegisterIntegrator(ctx, "Acme", []string{api.ScopeRequestsWrite})
	require.NoError(t, err)

	cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: e.p.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}
	hctx := context.WithValue(ctx, oauth2.HTTPClient, e.client())
	tok, err := cc.Token(hctx)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(tok.AccessToken, "lt_"))
	require.Equal(t, api.ScopeRequestsWrite, tok.Extra("scope"))

	bad := cc
	bad.ClientSecret = secret + "x"
	_, err = bad.Token(hctx)
	var re *oauth2.RetrieveError
	require.ErrorAs(t, err, &re)
	require.Equal(t, "invalid_client", re.ErrorCode)

	wide := cc
	wide.Scopes = []string{api.ScopeDevicesManage}
	_, err = wide.Token(hctx)
	require.ErrorAs(t, err, &re)
	require.Equal(t, "invalid_scope", re.ErrorCode)

	code, body := e.form(url.Values{"grant_type": {"password"}}, id, secret)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, "unsupported_grant_type")

	// Token exchange (RFC 8693): narrow a person's session to one scope.
	phone, _ := e.person("frank@example.com")
	code, body = e.form(url.Values{
		"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token":      {phone.Session()},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"},
		"scope":              {api.ScopeDevicesRead},
	}, "", "")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"issued_token_type":"urn:ietf:params:oauth:token-type:access_token"`)
	narrow := body[strings.Index(body, `"access_token":"`)+len(`"access_token":"`):]
	narrow = narrow[:strings.IndexByte(narrow, '"')]
	require.NoError(t, phone.Do(ctx, http.MethodGet, "/v1/devices", narrow, nil, nil))
	require.Equal(t, http.StatusForbidden, status(phone.Do(ctx, http.MethodGet, "/v1/tokens", narrow, nil, nil)))

	code, body = e.form(url.Values{
		"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token":      {narrow},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"},
		"scope":              {api.ScopeTokensManage},
	}, "", "")
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, "invalid_scope")

	// Revoking the session revokes what was narrowed from it.
	var list []api.TokenInfo
	require.NoError(t, phone.Do(ctx, http.MethodGet, "/v1/tokens", phone.Session(), nil, &list))
	require.Len(t, list, 2)
	var session string
	for _, ti := range list {
		if ti.Name == "session" {
			session = ti.ID
		} else {
			require.True(t, strings.HasPrefix(ti.Name, "narrowed from "), ti.Name)
			require.Equal(t, []string{api.ScopeDevicesRead}, ti.Scopes)
		}
	}
	require.NotEmpty(t, session)
	require.NoError(t, phone.RevokeToken(ctx, session))
	require.Equal(t, http.StatusUnauthorized, status(phone.Do(ctx, http.MethodGet, "/v1/devices", narrow, nil, nil)))
}

// Request definitions: only the integrator the person chose may post to an
// integration; an invalid definition is refused and nothing is stored; a
// stored envelope opens only for its own record.
func TestRequests(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	acmeID, acmeSecret, err := e.p.RegisterIntegrator(ctx, "Acme", []string{api.ScopeRequestsWrite})
	require.NoError(t, err)
	otherID, otherSecret, err := e.p.RegisterIntegrator(ctx, "Other", []string{api.ScopeRequestsWrite})
	require.NoError(t, err)
	phone, _ := e.person("gina@example.com")
	_, err = phone.AddDevice(ctx, "d") // makes the end-to-end key
	require.NoError(t, err)
	in, err := phone.EnableIntegration(ctx, acmeID)
	require.NoError(t, err)

	tokenOf := func(id, secret string) string {
		cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: e.p.URL + "/oauth/token"}
		tok, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, e.client()))
		require.NoError(t, err)
		return tok.AccessToken
	}
	post := func(tok, def string) int {
		req, _ := http.NewRequest(http.MethodPost, e.p.URL+"/v1/integrations/"+in+"/requests", strings.NewReader(def))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := e.client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	good := `{"method":"GET","url":"https://api.example.com/state","securityLevel":"TlsWithCACheck","authorization":{"type":"NoAuth"}}`
	require.Equal(t, http.StatusNotFound, post(tokenOf(otherID, otherSecret), good))
	require.Equal(t, http.StatusForbidden, post(phone.Session(), good)) // a person cannot post definitions
	acme := tokenOf(acmeID, acmeSecret)
	require.Equal(t, http.StatusBadRequest, post(acme, strings.Replace(good, "https://", "http://", 1)))
	require.Equal(t, http.StatusBadRequest, post(acme, `{"method":"GET"`))
	list, err := phone.SealedRequests(ctx, in)
	require.NoError(t, err)
	require.Empty(t, list)

	require.Equal(t, http.StatusCreated, post(acme, good))
	list, err = phone.SealedRequests(ctx, in)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.NotContains(t, string(list[0].Envelope), "api.example.com")
	// The envelope opens for its own record only; the app's key is
	// needed, which the test does not have: another key is refused.
	other, err := sealedbox.GenerateKey()
	require.NoError(t, err)
	_, err = sealedbox.Open(other, list[0].Envelope, api.RequestContext(in, list[0].ID))
	require.ErrorIs(t, err, sealedbox.ErrWrongKey)
	pushed, err := phone.PushRules(ctx, in, mustDevice(t, phone))
	require.NoError(t, err)
	require.Len(t, pushed, 1)
}

func mustDevice(t *testing.T, phone *app.Phone) string {
	var list []api.Device
	require.NoError(t, phone.Do(context.Background(), http.MethodGet, "/v1/devices", phone.Session(), nil, &list))
	require.NotEmpty(t, list)
	return list[0].ID
}

// A device secret works with its own key only, and is no API token; an
// API token is no device secret.
func TestDeviceCredentials(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	phone, _ := e.person("hank@example.com")
	a, err := phone.AddDevice(ctx, "a")
	require.NoError(t, err)
	b, err := phone.AddDevice(ctx, "b")
	require.NoError(t, err)

	report := e.reportState
	require.Equal(t, http.StatusNoContent, report(a.Key, a.Secret))
	require.Equal(t, http.StatusUnauthorized, report(b.Key, a.Secret))
	require.Equal(t, http.StatusUnauthorized, report(a.Key, phone.Session()))
	require.Equal(t, http.StatusUnauthorized, report("dk_unknown", a.Secret))
	require.Equal(t, http.StatusUnauthorized, status(phone.Do(ctx, http.MethodGet, "/v1/devices", a.Secret, nil, nil)))
	require.Contains(t, e.audit.String(), `"msg":"device refused"`)
	require.NotContains(t, e.audit.String(), a.Secret)

	// The HTTPS relay, for devices without MQTT: messages in order after
	// a cursor, and reports stored.
	link := device.NewHTTPSLink(e.p.URL, e.p.Roots(), a.Key, a.Secret)
	require.NoError(t, phone.Relay(ctx, a.DeviceID, []byte("one")))
	require.NoError(t, phone.Relay(ctx, a.DeviceID, []byte("two")))
	require.NoError(t, phone.Relay(ctx, b.DeviceID, []byte("for b")))
	msgs, err := link.Receive(ctx, 0)
	require.NoError(t, err)
	require.Len(t, msgs, 2)
	require.Equal(t, "one", string(msgs[0].Body))
	require.Equal(t, "two", string(msgs[1].Body))
	msgs, err = link.Receive(ctx, msgs[0].Seq)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	require.Equal(t, "two", string(msgs[0].Body))
	// Waiting: a Receive with nothing new returns when a message comes.
	got := make(chan []api.Message, 1)
	go func() {
		m, _ := link.Receive(ctx, msgs[0].Seq)
		got <- m
	}()
	require.NoError(t, phone.Relay(ctx, a.DeviceID, []byte("three")))
	m3 := <-got
	require.Len(t, m3, 1)
	require.Equal(t, "three", string(m3[0].Body))
	require.NoError(t, link.Report(ctx, map[string]any{"status": 200}))
	var d api.Device
	require.NoError(t, phone.Do(ctx, http.MethodGet, "/v1/devices/"+a.DeviceID, phone.Session(), nil, &d))
	require.JSONEq(t, `{"status":200}`, string(d.State))
	require.Error(t, device.NewHTTPSLink(e.p.URL, e.p.Roots(), a.Key, b.Secret).Report(ctx, map[string]any{}))

	// The queue is bounded: of 103 more messages, the latest 100 are kept.
	for i := range 103 {
		require.NoError(t, phone.Relay(ctx, a.DeviceID, []byte(fmt.Sprint("m", i))))
	}
	msgs, err = link.Receive(ctx, 0)
	require.NoError(t, err)
	require.Len(t, msgs, 100)
	require.Equal(t, "m3", string(msgs[0].Body))
	require.Equal(t, "m102", string(msgs[99].Body))
}

// TestPasswordThrottling: wrong passwords lock an address with growing
// delays, known or not, before the password is checked; a right password
// after the lock resets the count.
func TestPasswordThrottling(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	_, key := e.person("frank@example.com")
	signIn := func(email, password string) (int, string) {
		body, err := json.Marshal(map[string]string{"email": email, "password": password})
		require.NoError(t, err)
		resp, err := e.client().Post(e.p.URL+"/v1/signin", "application/json", bytes.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	for _, email := range []string{"frank@example.com", "nobody@example.com"} {
		for range 5 {
			code, _ := signIn(email, "wrong password!!")
			require.Equal(t, http.StatusUnauthorized, code, email)
		}
		// Locked for a minute: even the right password is refused, and
		// an unknown address is answered the same way.
		code, retry := signIn(email, "a long enough password")
		require.Equal(t, http.StatusTooManyRequests, code, email)
		require.Equal(t, "60", retry)
	}
	require.Contains(t, e.audit.String(), `"msg":"sign-in locked"`)

	// After the minute, one more wrong password locks for two.
	e.clock.Advance(time.Minute)
	code, _ := signIn("frank@example.com", "wrong password!!")
	require.Equal(t, http.StatusUnauthorized, code)
	code, retry := signIn("frank@example.com", "a long enough password")
	require.Equal(t, http.StatusTooManyRequests, code)
	require.Equal(t, "120", retry)

	// After that, the right password works and the count starts again.
	e.clock.Advance(2 * time.Minute)
	phone := app.New(e.p.URL, e.p.Roots())
	_, err := phone.SignIn(ctx, "frank@example.com", "a long enough password", func() string { return key.Code(e.clock.Now()) })
	require.NoError(t, err)
	for range 4 {
		code, _ := signIn("frank@example.com", "wrong password!!")
		require.Equal(t, http.StatusUnauthorized, code)
	}
	code, _ = signIn("frank@example.com", "a long enough password")
	require.Equal(t, http.StatusOK, code)
	require.NotContains(t, e.audit.String(), "a long enough password")
	require.NotContains(t, e.audit.String(), "wrong password!!")
}

// clock is the injected test clock.
type clock = testclock.Clock

// syncBuffer collects what servers log.
type syncBuffer = testlog.Buffer
