package platform

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/token"
)

// Integrator tokens from the client-credentials grant live an hour; the
// client asks again (x/oauth2's clientcredentials does it by itself).
const clientTokenTTL = time.Hour

const (
	grantClientCredentials = "client_credentials"
	grantTokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeAccess        = "urn:ietf:params:oauth:token-type:access_token"
)

// oauth is the OAuth 2.0 token endpoint: integrators' clients and their
// client-credentials grant, and token exchange for anyone.
type oauth struct {
	base
	tokens *tokens
}

// clientSubject is the token subject of an integrator client.
func clientSubject(id string) string { return "client:" + id }

// RegisterIntegrator registers an OAuth 2.0 client for an integrator, which
// may ask for the given scopes, and returns its credentials. The secret is
// shown once: only its SHA-256 hash is stored (it is 256 random bits, so a
// fast hash is enough). An operator does this out of band, as a console's
// "new API client" button would.
func (p *Platform) RegisterIntegrator(ctx context.Context, name string, scopes []string) (clientID, secret string, err error) {
	return p.oauth.register(ctx, name, scopes)
}

// register registers an integrator's client (RegisterIntegrator).
func (oa *oauth) register(ctx context.Context, name string, scopes []string) (clientID, secret string, err error) {
	for _, s := range scopes {
		if !token.ValidScope(s) {
			return "", "", errors.New("platform: malformed scope")
		}
	}
	clientID = newID("cl_")
	var b [32]byte
	rand.Read(b[:])
	secret = "lcs_" + base64.RawURLEncoding.EncodeToString(b[:])
	h := sha256.Sum256([]byte(secret))
	_, err = oa.db.ExecContext(ctx, `INSERT INTO clients (id, name, secret_hash, scopes) VALUES (?, ?, ?, ?)`,
		clientID, name, h[:], strings.Join(scopes, " "))
	if err != nil {
		return "", "", err
	}
	oa.audit.Info("integrator registered", "client", clientID, "name", name, "scopes", strings.Join(scopes, " "))
	return clientID, secret, nil
}

// tokenEndpoint is the token endpoint (RFC 6749 §3.2): client credentials
// (§4.4) for integrators, token exchange (RFC 8693) to narrow a token.
func (oa *oauth) tokenEndpoint(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil || len(r.URL.RawQuery) > 0 {
		writeError(w, http.StatusBadRequest, "invalid_request", "send the parameters in the form body")
		return
	}
	switch r.PostForm.Get("grant_type") {
	case grantClientCredentials:
		oa.clientCredentials(w, r)
	case grantTokenExchange:
		oa.tokenExchange(w, r)
	default:
		writeError(w, http.StatusBadRequest, "unsupported_grant_type", "client_credentials or token exchange")
	}
}

func (oa *oauth) clientCredentials(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if ok {
		// RFC 6749 §2.3.1: the credentials are form-encoded before Basic.
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	var hash []byte
	var allowed string
	err := oa.db.QueryRowContext(r.Context(), `SELECT secret_hash, scopes FROM clients WHERE id = ?`, id).Scan(&hash, &allowed)
	h := sha256.Sum256([]byte(secret))
	if err != nil || subtle.ConstantTimeCompare(h[:], hash) != 1 {
		// Only a registered client id is logged: a client that swapped
		// its id and secret must not have its secret written to the log.
		if err != nil {
			id = "(not a client id)"
		}
		oa.audit.Warn("integrator refused", "client", id)
		w.Header().Set("WWW-Authenticate", `Basic realm="latch-example"`)
		writeError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	scopes := strings.Fields(allowed)
	if asked := strings.Fields(r.PostForm.Get("scope")); len(asked) > 0 {
		for i, s := range asked {
			if !slices.Contains(scopes, s) {
				writeError(w, http.StatusBadRequest, "invalid_scope", "the client may not have that scope")
				return
			}
			if slices.Contains(asked[:i], s) {
				writeError(w, http.StatusBadRequest, "invalid_scope", "a scope is named twice")
				return
			}
		}
		scopes = asked
	}
	resp, err := oa.tokens.issue(r.Context(), clientSubject(id), "client credentials", scopes, nil, oa.now().Add(clientTokenTTL))
	if errors.Is(err, token.ErrClaims) {
		writeError(w, http.StatusBadRequest, "invalid_scope", "the scope is not one a token can carry")
		return
	}
	if err != nil {
		oa.internalError(w, r, err)
		return
	}
	oa.audit.Info("integrator token issued", "client", id, "token_id", resp.TokenID, "scopes", strings.Join(resp.Scopes, " "))
	writeTokenResponse(w, resp, oa.now(), "")
}

// tokenExchange narrows the subject token (RFC 8693 §2.1) to the scopes
// asked for; it never widens. The subject token authorizes the exchange.
func (oa *oauth) tokenExchange(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	if f.Get("subject_token_type") != tokenTypeAccess || f.Get("subject_token") == "" {
		writeError(w, http.StatusBadRequest, "invalid_request", "subject_token of type access_token is required")
		return
	}
	if rt := f.Get("requested_token_type"); rt != "" && rt != tokenTypeAccess {
		writeError(w, http.StatusBadRequest, "invalid_request", "only access tokens are issued")
		return
	}
	// A narrowed token is for this platform's API only, and for the
	// subject token's holder only: a target or an actor the platform would
	// not honour is refused rather than ignored (RFC 8693 §2.2.2), so that
	// no client believes it got a token for another audience, or a
	// delegation.
	if f.Has("audience") || f.Has("resource") {
		writeError(w, http.StatusBadRequest, "invalid_target", "tokens are issued for this platform's API only: no audience or resource")
		return
	}
	if f.Has("actor_token") || f.Has("actor_token_type") {
		writeError(w, http.StatusBadRequest, "invalid_request", "delegation (actor_token) is not supported")
		return
	}
	ctx := r.Context()
	parent, err := oa.tokens.verifier.Verify(ctx, f.Get("subject_token"))
	if err != nil {
		oa.audit.Warn("token exchange refused", "reason", err.Error())
		writeError(w, http.StatusBadRequest, "invalid_grant", "the subject token is not valid")
		return
	}
	var scopes []string // nil keeps the parent's
	if s := f.Get("scope"); s != "" {
		scopes = strings.Fields(s)
	}
	child, c, err := oa.tokens.issuer.Narrow(ctx, f.Get("subject_token"), scopes, nil, time.Time{})
	if errors.Is(err, token.ErrWidening) || errors.Is(err, token.ErrClaims) {
		writeError(w, http.StatusBadRequest, "invalid_scope", "a token can only be narrowed")
		return
	}
	if err == nil {
		err = oa.tokens.record(ctx, c, "narrowed from "+parent.ID)
	}
	if err != nil {
		oa.internalError(w, r, err)
		return
	}
	oa.audit.Info("token narrowed", "subject", c.Subject, "token_id", c.ID, "parent", parent.ID, "scopes", strings.Join(c.Scopes, " "))
	writeTokenResponse(w, &api.SessionResponse{Token: child, TokenID: c.ID, Scopes: c.Scopes, Expires: c.Expires}, oa.now(), tokenTypeAccess)
}

func writeTokenResponse(w http.ResponseWriter, t *api.SessionResponse, now time.Time, issuedType string) {
	resp := api.TokenResponse{
		AccessToken:     t.Token,
		TokenType:       "Bearer",
		Scope:           strings.Join(t.Scopes, " "),
		IssuedTokenType: issuedType,
	}
	if !t.Expires.IsZero() {
		// At least 1: a token that expires within the second is still
		// sent with an expiry (0 would be left out).
		resp.ExpiresIn = max(int64(t.Expires.Sub(now)/time.Second), 1)
	}
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}
