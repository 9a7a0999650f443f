package integrator

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchsec/latch/internal/interop"
	"github.com/latchsec/latch/internal/testpki"
	"github.com/latchsec/latch/tlspolicy"
	"github.com/stretchr/testify/require"
)

// oidcProvider is npm oidc-provider as started by testdata/oidc-provider.mjs.
type oidcProvider struct {
	Issuer, TokenURL, IntrospectionURL, RevocationURL string
	ClientID, ClientSecret, RefreshToken              string

	client *http.Client // trusts the provider's certificate
}

func (p *oidcProvider) form(t *testing.T, endpoint string, values url.Values) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(values.Encode()))
	require.NoError(t, err)
	req.SetBasicAuth(p.ClientID, p.ClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	return body
}

// active asks the provider whether an access token is active (RFC 7662).
func (p *oidcProvider) active(t *testing.T, token string) bool {
	var r struct {
		Active bool `json:"active"`
	}
	require.NoError(t, json.Unmarshal(p.form(t, p.IntrospectionURL, url.Values{"token": {token}}), &r))
	return r.Active
}

// grants lists the grant types the provider's token endpoint served since
// the account was linked.
func (p *oidcProvider) grants(t *testing.T) []string {
	resp, err := p.client.Get(p.Issuer + "/test/grants")
	require.NoError(t, err)
	defer resp.Body.Close()
	var g []string
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&g))
	return g
}

// TestInteropOIDCProvider runs the device's OAuthRefreshToken flow against
// npm oidc-provider with refresh-token rotation, every connection to it
// under a pinned certificate.
func TestInteropOIDCProvider(t *testing.T) {
	interop.Node(t, "oidc-provider")

	// One certificate for the authorization server and the API; the device
	// pins it. Valid both around the test clock and now, for Node.
	clk := newClock()
	from, until := testpki.PeerValidity() // Node checks it against the real clock
	certPEM, keyPEM, err := tlspolicy.GenerateSelfSigned([]string{"127.0.0.1"}, from, until)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600))
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)

	proc := interop.StartNode(t, filepath.Join("testdata", "oidc-provider.mjs"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	var op oidcProvider
	require.NoError(t, json.Unmarshal([]byte(proc.Line(t)), &op))
	op.client, err = tlspolicy.Policy{SecurityLevel: tlspolicy.TlsPinnedCertificate, PinnedCertificate: string(certPEM)}.Client()
	require.NoError(t, err)

	// The integrator's API: a resource server that asks the provider
	// whether each bearer token is active.
	// It can also be told to stop accepting a token early. (Revoking an
	// access token at oidc-provider revokes every token of its grant, the
	// refresh tokens too, so the test does not use revocation for that.)
	ev := &events{}
	var refused sync.Map
	api := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		ev.add("api %s", bearer)
		if _, no := refused.Load(bearer); no || bearer == "" || !op.active(t, bearer) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, "opened")
	}))
	api.Config.ErrorLog = quietLog
	testpki.Start(t, api, &pair)

	req := Request{
		Method: "POST", URL: api.URL + "/doors/12/open", Body: "open",
		SecurityLevel: tlspolicy.TlsPinnedCertificate, PinnedCertificate: string(certPEM),
		Authorization: Authorization{Type: oauthRefreshToken, RefreshToken: op.RefreshToken,
			TokenURL: op.TokenURL, ClientID: op.ClientID, ClientSecret: op.ClientSecret},
	}
	var stored []string
	opts := Options{Now: clk.Now, SaveRefreshToken: func(_ context.Context, rt string) error {
		stored = append(stored, rt)
		ev.add("save")
		return nil
	}}
	c := mustNew(t, &req, opts)
	ctx := context.Background()
	lastBearer := func() string {
		all := ev.all()
		for i := len(all) - 1; i >= 0; i-- {
			if b, ok := strings.CutPrefix(all[i], "api "); ok {
				return b
			}
		}
		return ""
	}

	// An access token is obtained, the rotated refresh token saved before
	// it is used, and the access token reused.
	resp, err := c.Do(ctx)
	require.NoError(t, err)
	require.Equal(t, "opened", string(resp.Body))
	first := lastBearer()
	require.Equal(t, []string{"save", "api " + first}, ev.all(), "saved before use")
	require.Len(t, stored, 1)
	require.NotEqual(t, op.RefreshToken, stored[0], "the provider rotated the refresh token")
	_, err = c.Do(ctx)
	require.NoError(t, err)
	require.Equal(t, first, lastBearer())
	require.Equal(t, []string{"refresh_token"}, op.grants(t))

	// The API stops accepting the access token early: it answers 401, and
	// the device refreshes exactly once and retries.
	refused.Store(first, true)
	resp, err = c.Do(ctx)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotEqual(t, first, lastBearer())
	require.Equal(t, []string{"refresh_token", "refresh_token"}, op.grants(t))
	require.Len(t, stored, 2)

	// Near expiry (by the device's clock) it refreshes again.
	clk.Advance(2 * time.Hour)
	_, err = c.Do(ctx)
	require.NoError(t, err)
	require.Len(t, op.grants(t), 3)
	require.Len(t, stored, 3)

	// A device restarted from what it stored carries on.
	restartOpts := opts
	restartOpts.RefreshToken = stored[len(stored)-1]
	restarted := mustNew(t, &req, restartOpts)
	_, err = restarted.Do(ctx)
	require.NoError(t, err)
	require.Len(t, stored, 4)

	// Last: the provider revokes the grant (here: a rotated refresh token
	// is replayed, which oidc-provider answers by revoking the grant). Both
	// the replaying device and the current one must be re-linked.
	stale := mustNew(t, &req, Options{Now: clk.Now, SaveRefreshToken: noSave, RefreshToken: stored[0]})
	_, err = stale.Do(ctx)
	require.ErrorIs(t, err, ErrReauthorize)
	clk.Advance(2 * time.Hour)
	_, err = restarted.Do(ctx)
	require.ErrorIs(t, err, ErrReauthorize)
	require.Contains(t, err.Error(), ": invalid_grant")
	require.NotContains(t, err.Error(), op.ClientSecret)
	for _, rt := range stored {
		require.NotContains(t, err.Error(), rt)
	}
}
