package platform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/integrator"
	"github.com/latchsec/latch/sealedbox"
	"github.com/stretchr/testify/require"
)

// TestSignedRequests: only the integration's own integrator gets its
// public key and stores signed requests; the platform refuses an unsigned
// envelope, one sealed to another key, a bad request id and another
// integration's request id, and marks what it stores as signed.
func TestSignedRequests(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	acmeID, acmeSecret, err := e.p.RegisterIntegrator(ctx, "Acme", []string{api.ScopeRequestsWrite})
	require.NoError(t, err)
	otherID, otherSecret, err := e.p.RegisterIntegrator(ctx, "Other", []string{api.ScopeRequestsWrite})
	require.NoError(t, err)
	phone, _ := e.person("hal@example.com")
	_, err = phone.AddDevice(ctx, "d")
	require.NoError(t, err)
	in, err := phone.EnableIntegration(ctx, acmeID)
	require.NoError(t, err)
	in2, err := phone.EnableIntegration(ctx, otherID)
	require.NoError(t, err)

	tokenOf := func(id, secret string) string {
		cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: e.p.URL + "/oauth/token"}
		tok, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, e.client()))
		require.NoError(t, err)
		return tok.AccessToken
	}
	call := func(method, path, tok string, body []byte) (int, []byte) {
		req, _ := http.NewRequest(method, e.p.URL+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := e.client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		return resp.StatusCode, buf.Bytes()
	}
	acme, other := tokenOf(acmeID, acmeSecret), tokenOf(otherID, otherSecret)

	code, body := call(http.MethodGet, "/v1/integrations/"+in+"/public-key", acme, nil)
	require.Equal(t, http.StatusOK, code)
	var key struct{ PublicKey string }
	require.NoError(t, json.Unmarshal(body, &key))
	pub, err := sealedbox.ParsePublicKey(key.PublicKey)
	require.NoError(t, err)
	code, _ = call(http.MethodGet, "/v1/integrations/"+in+"/public-key", other, nil)
	require.Equal(t, http.StatusNotFound, code, "another integrator")
	code, _ = call(http.MethodGet, "/v1/integrations/"+in+"/public-key", phone.Session(), nil)
	require.Equal(t, http.StatusForbidden, code, "a person's session")

	signer, err := sealedbox.Ed25519().GenerateSigningKey()
	require.NoError(t, err)
	def := &integrator.Request{Method: "GET", URL: "https://api.example.com/state"}
	env, err := (&integrator.Statement{IntegrationID: in, RequestID: "rq_1", Version: 1, Definition: def}).Seal(pub, signer)
	require.NoError(t, err)
	unsigned, err := sealedbox.Seal(pub, []byte("{}"), nil)
	require.NoError(t, err)
	elsewhere, err := sealedbox.GenerateKey()
	require.NoError(t, err)
	toOther, err := sealedbox.SealSigned(elsewhere.PublicKey(), signer, []byte("{}"), nil)
	require.NoError(t, err)

	put := func(tok, integration, rid string, env []byte) int {
		code, _ := call(http.MethodPut, "/v1/integrations/"+integration+"/requests/"+rid, tok, env)
		return code
	}
	require.Equal(t, http.StatusBadRequest, put(acme, in, "rq_1", unsigned))
	require.Equal(t, http.StatusBadRequest, put(acme, in, "rq_1", toOther))
	require.Equal(t, http.StatusBadRequest, put(acme, in, "rq_1", []byte("not an envelope")))
	require.Equal(t, http.StatusBadRequest, put(acme, in, "x1", env))
	require.Equal(t, http.StatusNotFound, put(other, in, "rq_1", env))
	require.Equal(t, http.StatusForbidden, put(phone.Session(), in, "rq_1", env))
	require.Equal(t, http.StatusOK, put(acme, in, "rq_1", env))
	require.Equal(t, http.StatusOK, put(acme, in, "rq_1", env), "a new version replaces the request")

	// Another integrator cannot take over rq_1 from its own integration.
	code, body = call(http.MethodGet, "/v1/integrations/"+in2+"/public-key", other, nil)
	require.Equal(t, http.StatusOK, code)
	require.NoError(t, json.Unmarshal(body, &key))
	pub2, err := sealedbox.ParsePublicKey(key.PublicKey)
	require.NoError(t, err)
	env2, err := sealedbox.SealSigned(pub2, signer, []byte("{}"), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusConflict, put(other, in2, "rq_1", env2))

	list, err := phone.SealedRequests(ctx, in)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.True(t, list[0].Signed)
	require.Equal(t, env, list[0].Envelope)
	require.NotContains(t, string(list[0].Envelope), "api.example.com")
}
