package integrator_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/examples/app"
	acme "github.com/latchsec/latch/examples/integrator"
	"github.com/latchsec/latch/examples/platform"
	"github.com/latchsec/latch/integrator"
	"github.com/latchsec/latch/internal/testclock"
	"github.com/latchsec/latch/sealedbox"
)

// linked starts a platform and Acme, links an integration, and returns
// Acme and the definition it registered.
func linked(t *testing.T, c *clock) (*acme.Server, *integrator.Request) {
	ctx := context.Background()
	p, err := platform.Start(ctx, platform.Config{StateDir: t.TempDir(), MasterKey: platform.NewMasterKey(), Now: c.Now})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	id, secret, err := p.RegisterIntegrator(ctx, "Acme", []string{api.ScopeRequestsWrite})
	require.NoError(t, err)
	s, err := acme.Start(acme.Config{PlatformURL: p.URL, PlatformRoots: p.Roots(), ClientID: id, ClientSecret: secret, Now: c.Now})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })

	phone := app.New(p.URL, p.Roots())
	key, err := phone.SignUp(ctx, "ivy@example.com", "a long enough password")
	require.NoError(t, err)
	_, err = phone.SignIn(ctx, "ivy@example.com", "a long enough password", func() string { return key.Code(c.Now()) })
	require.NoError(t, err)
	_, err = phone.AddDevice(ctx, "door")
	require.NoError(t, err)
	in, err := phone.EnableIntegration(ctx, id)
	require.NoError(t, err)
	rid, def, err := s.Link(ctx, in, "front")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(rid, "rq_"))
	req, err := integrator.ParseRequest(def)
	require.NoError(t, err)
	list, err := phone.SealedRequests(ctx, in)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, rid, list[0].ID)
	_, err = sealedbox.EnvelopeKeyID(list[0].Envelope)
	require.NoError(t, err)
	return s, req
}

func TestDefinition(t *testing.T) {
	c := testclock.New(time.Now().Truncate(time.Second))
	s, req := linked(t, c)
	require.Equal(t, "TlsPinnedCertificate", req.SecurityLevel.String())
	require.Equal(t, s.CertPEM, req.PinnedCertificate)
	require.Equal(t, "OAuthRefreshToken", req.Authorization.Type)
	require.Equal(t, s.URL+"/oauth/token", req.Authorization.TokenURL)
}

// The token endpoint rotates refresh tokens, and a rotated-away one used
// again ends the grant; access tokens expire by the injected clock.
func TestRefreshRotation(t *testing.T) {
	c := testclock.New(time.Now().Truncate(time.Second))
	s, req := linked(t, c)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM([]byte(s.CertPEM)))
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	a := req.Authorization

	exchange := func(rt string) (int, map[string]any) {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
		r, _ := http.NewRequest(http.MethodPost, a.TokenURL, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth(a.ClientID, a.ClientSecret)
		resp, err := hc.Do(r)
		require.NoError(t, err)
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	open := func(at string) int {
		r, _ := http.NewRequest(http.MethodPost, req.URL, strings.NewReader("{}"))
		r.Header.Set("Authorization", "Bearer "+at)
		resp, err := hc.Do(r)
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}

	code, m := exchange(a.RefreshToken)
	require.Equal(t, http.StatusOK, code)
	rt2, at := m["refresh_token"].(string), m["access_token"].(string)
	require.NotEqual(t, a.RefreshToken, rt2)
	require.Equal(t, http.StatusOK, open(at))
	require.Equal(t, http.StatusOK, (<-s.Calls()).StatusCode)

	c.Advance(acme.AccessTokenTTL)
	require.Equal(t, http.StatusUnauthorized, open(at))
	require.Equal(t, http.StatusUnauthorized, (<-s.Calls()).StatusCode)

	// The old refresh token again: refused, and the grant is over, so the
	// current one is refused too.
	code, m = exchange(a.RefreshToken)
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "invalid_grant", m["error"])
	code, _ = exchange(rt2)
	require.Equal(t, http.StatusBadRequest, code)

	// A wrong client secret is invalid_client.
	a.ClientSecret += "x"
	code, m = exchange(rt2)
	require.Equal(t, http.StatusUnauthorized, code)
	require.Equal(t, "invalid_client", m["error"])
}

// clock is the injected test clock.
type clock = testclock.Clock
