package integrator

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/latchsec/latch/internal/testpki"
	"github.com/latchsec/latch/tlspolicy"
	"github.com/stretchr/testify/require"
)

// TestLevelsEndToEnd executes NoAuth and OAuthAccessToken requests against
// local APIs at each level.
func TestLevelsEndToEnd(t *testing.T) {
	ev := &events{}
	leafCert, leafPEM := selfSigned(t)
	pinnedLeafAPI := apiServer(t, ev, &leafCert, nil)

	root := testpki.New(t, testpki.Options{CA: true}, nil)
	inter := testpki.New(t, testpki.Options{CA: true}, root)
	leaf := testpki.New(t, testpki.Options{}, inter) // localhost, 127.0.0.1
	chain := leaf.TLS(inter)
	caAPI := apiServer(t, ev, &chain, nil)
	plainAPI := apiServer(t, ev, nil, nil)
	localhost := func(u string) string { return strings.Replace(u, "127.0.0.1", "localhost", 1) }

	cases := []struct {
		name string
		req  Request
		opts Options
	}{
		{"pinned self-signed leaf by address", Request{Method: "POST", URL: pinnedLeafAPI.URL + "/open", Body: "x",
			SecurityLevel: tlspolicy.TlsPinnedCertificate, PinnedCertificate: leafPEM,
			Headers: []Header{{Name: "X-Api-Key", Value: secretValue, Secret: true}}}, Options{Now: testpki.Clock}},
		{"pinned intermediate of a CA chain", Request{Method: "GET", URL: localhost(caAPI.URL) + "/open",
			SecurityLevel: tlspolicy.TlsPinnedCertificate, PinnedCertificate: inter.PEM(),
			Authorization: Authorization{Type: oauthAccessToken, AccessToken: secretToken}}, Options{Now: testpki.Clock}},
		{"CA check with the chain's root", Request{Method: "GET", URL: localhost(caAPI.URL) + "/open"},
			Options{RootCAs: root.Pool(), Now: testpki.Clock}},
		{"allow self-signed", Request{Method: "GET", URL: pinnedLeafAPI.URL + "/open", SecurityLevel: tlspolicy.TlsAllowSelfSigned}, Options{}},
		{"plain http at AllowHttp", Request{Method: "GET", URL: plainAPI.URL + "/open", SecurityLevel: tlspolicy.AllowHttp}, Options{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := mustNew(t, &tc.req, tc.opts).Do(context.Background())
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, "opened /open", string(resp.Body))
		})
	}
	logged := strings.Join(ev.all(), "\n")
	require.Contains(t, logged, "api POST /open \n", "NoAuth sends no Authorization")
	require.Contains(t, logged, "api GET /open "+secretToken, "OAuthAccessToken sends the bearer token")
}

func TestLevelRefusals(t *testing.T) {
	ev := &events{}
	leafCert, _ := selfSigned(t)
	api := apiServer(t, ev, &leafCert, nil)
	plain := apiServer(t, ev, nil, nil)
	other := testpki.New(t, testpki.Options{}, nil)

	// A pin that does not match: refused in the handshake, nothing sent.
	r := Request{Method: "GET", URL: api.URL + "/open", SecurityLevel: tlspolicy.TlsPinnedCertificate, PinnedCertificate: other.PEM(),
		Authorization: Authorization{Type: oauthAccessToken, AccessToken: secretToken}}
	_, err := mustNew(t, &r, Options{Now: testpki.Clock}).Do(context.Background())
	require.ErrorIs(t, err, ErrRequestFailed)
	require.ErrorIs(t, err, tlspolicy.ErrPinMismatch)
	requireNoSecret(t, err.Error())

	// A self-signed API at TlsWithCACheck.
	r = Request{Method: "GET", URL: api.URL + "/open?key=" + secretValue}
	_, err = mustNew(t, &r, Options{}).Do(context.Background())
	require.ErrorIs(t, err, ErrRequestFailed)
	requireNoSecret(t, err.Error())

	// Plain http below AllowHttp is refused when the request is checked.
	for _, level := range []tlspolicy.Level{tlspolicy.TlsWithCACheck, tlspolicy.TlsAllowSelfSigned} {
		r = Request{Method: "GET", URL: plain.URL + "/open", SecurityLevel: level}
		_, err = New(&r, Options{})
		require.ErrorIs(t, err, ErrInvalidRequest)
	}
	require.Empty(t, ev.all(), "no request reached an API")
}

func TestResponseCap(t *testing.T) {
	ev := &events{}
	api := apiServer(t, ev, nil, nil) // answers "opened /open" (12 bytes)
	r := Request{Method: "GET", URL: api.URL + "/open", SecurityLevel: tlspolicy.AllowHttp}
	_, err := mustNew(t, &r, Options{MaxResponseBody: 11}).Do(context.Background())
	require.ErrorIs(t, err, errResponseTooLarge)
	resp, err := mustNew(t, &r, Options{MaxResponseBody: 12}).Do(context.Background())
	require.NoError(t, err)
	require.Len(t, resp.Body, 12)
}

func TestStatusReturnedAsIs(t *testing.T) {
	ev := &events{}
	auth := newAuthServer(t, ev, nil, "unused")
	api := apiServer(t, ev, nil, auth) // refuses every token
	r := Request{Method: "GET", URL: api.URL + "/x", SecurityLevel: tlspolicy.AllowHttp,
		Authorization: Authorization{Type: oauthAccessToken, AccessToken: secretToken}}
	resp, err := mustNew(t, &r, Options{}).Do(context.Background())
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a fixed access token is not retried")
	require.Len(t, ev.all(), 1)
}
