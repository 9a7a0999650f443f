package platform

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/internal/strictjson"
	"github.com/latchsec/latch/token"
)

// maxBody caps every request body the API reads (1 MiB, the largest
// request definition integrator.ParseRequest accepts, plus room).
const maxBody = 1<<20 + 4096

func (p *Platform) routes() http.Handler {
	tk, ac, sf, ig, ds := p.tokens, p.accounts, p.secondFactor, p.integrations, p.devices
	mux := http.NewServeMux()
	// People: sign-up and sign-in (no token yet).
	mux.HandleFunc("POST /v1/signup", ac.signUp)
	mux.HandleFunc("POST /v1/signin", ac.signIn)
	mux.HandleFunc("POST /v1/signin/totp", ac.signInCode(false))
	mux.HandleFunc("POST /v1/signin/recovery", ac.signInCode(true))
	mux.Handle("POST /v1/recovery-codes", tk.need(sf.recoveryCodes, api.ScopeTokensManage))
	mux.Handle("POST /v1/totp/reenroll", tk.need(sf.reenrollRoute, api.ScopeTokensManage))
	mux.Handle("POST /v1/totp/reenroll/confirm", tk.need(sf.confirmReenrollRoute, api.ScopeTokensManage))
	// Tokens.
	mux.Handle("POST /v1/tokens", tk.need(tk.createRoute, api.ScopeTokensManage))
	mux.Handle("GET /v1/tokens", tk.need(tk.listRoute, api.ScopeTokensManage))
	mux.Handle("DELETE /v1/tokens/{id}", tk.need(tk.revokeRoute, api.ScopeTokensManage))
	mux.Handle("POST /v1/signout-everywhere", tk.need(tk.signOutEverywhere, api.ScopeTokensManage))
	// OAuth 2.0 for integrators (and token exchange for anyone).
	mux.HandleFunc("POST /oauth/token", p.oauth.tokenEndpoint)
	// Integrations: the person's application's (needApp), and the
	// integrator's route, which checks the application of the integration.
	mux.Handle("POST /v1/integrations", tk.needApp(ig.create, api.ScopeIntegrationsManage))
	mux.Handle("GET /v1/integrations", tk.needApp(ig.list, api.ScopeIntegrationsManage))
	mux.Handle("GET /v1/integrations/{id}", tk.needApp(ig.get, api.ScopeIntegrationsManage))
	mux.Handle("GET /v1/integrations/{id}/requests", tk.needApp(ig.listRequests, api.ScopeIntegrationsManage))
	mux.Handle("GET /v1/integrations/{id}/requests/{rid}", tk.needApp(ig.getRequest, api.ScopeIntegrationsManage))
	mux.Handle("POST /v1/integrations/{id}/requests", tk.need(ig.postRequest, api.ScopeRequestsWrite))
	mux.Handle("GET /v1/integrations/{id}/public-key", tk.need(ig.integratorPublicKey, api.ScopeRequestsWrite))
	mux.Handle("PUT /v1/integrations/{id}/requests/{rid}", tk.need(ig.putSignedRequest, api.ScopeRequestsWrite))
	// Devices, as their owner sees them: all of the person's application.
	mux.Handle("POST /v1/devices", tk.needApp(ds.create, api.ScopeDevicesManage))
	mux.Handle("GET /v1/devices", tk.needApp(ds.listRoute, api.ScopeDevicesRead))
	mux.Handle("GET /v1/devices/{id}", tk.needApp(ds.get, api.ScopeDevicesRead))
	mux.Handle("POST /v1/devices/{id}/messages", tk.needApp(ds.sendMessage, api.ScopeDevicesManage))
	mux.Handle("DELETE /v1/devices/{id}", tk.needApp(ds.remove, api.ScopeDevicesManage))
	// Devices themselves, with their application key and secret.
	mux.Handle("GET /v1/device/messages", ds.auth(ds.messages))
	mux.Handle("POST /v1/device/state", ds.auth(ds.state))
	// The web console.
	p.console.routes(mux)
	return securityHeaders(mux)
}

// securityHeaders sets what every API answer carries.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=63072000")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// need puts h behind token.Middleware requiring scopes; refusals go to the
// audit log with their reason (never the token).
func (tk *tokens) need(h http.HandlerFunc, scopes ...string) http.Handler {
	mw := &token.Middleware{
		Verifier: tk.verifier,
		Scopes:   scopes,
		Realm:    "latch-example",
		OnReject: func(r *http.Request, status int, err error) {
			tk.audit.Warn("api token refused", "path", r.URL.Path, "status", status, "reason", err.Error())
		},
	}
	return mw.Wrap(h)
}

// needApp is need for a route that acts on the application of the token's
// holder. In this platform a person has one application, whose id is the
// person's (the {app} of their devices' topics, api.DeviceCredentials.App): a
// token limited to other applications (Claims.Apps) is refused here with
// 403, as a missing scope is.
func (tk *tokens) needApp(h http.HandlerFunc, scopes ...string) http.Handler {
	return tk.need(func(w http.ResponseWriter, r *http.Request) {
		if c := claims(r); !tk.checkApp(w, r, c, c.Subject) {
			return
		}
		h(w, r)
	}, scopes...)
}

// checkApp answers 403 and returns false if c may not act on the
// application app.
func (b *base) checkApp(w http.ResponseWriter, r *http.Request, c *token.Claims, app string) bool {
	err := c.CheckApp(app)
	if err == nil {
		return true
	}
	b.audit.Warn("api token refused", "path", r.URL.Path, "status", http.StatusForbidden, "reason", err.Error(), "token_id", c.ID)
	w.Header().Set("WWW-Authenticate", `Bearer realm="latch-example", error="insufficient_scope"`)
	writeError(w, http.StatusForbidden, "insufficient_scope", "this token is limited to other applications")
	return false
}

// claims returns the verified claims of a request behind need.
func claims(r *http.Request) *token.Claims {
	c, _ := token.ClaimsFromContext(r.Context())
	return c
}

// readJSON reads a request body strictly (internal/strictjson): exact
// member names, no duplicates in any case, no unknown members, nothing
// after the value, at most maxBody bytes.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "the body is too large or unreadable")
		return false
	}
	if err := strictjson.DecodeLimits(body, v, strictjson.Limits{MaxSize: maxBody}); err != nil {
		// The error names a member, never a value.
		writeError(w, http.StatusBadRequest, "invalid_request", "the body is not the JSON this route takes: "+err.Error())
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeError answers with a JSON error in the shape OAuth 2.0 uses.
func writeError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, api.Error{Code: code, Description: description})
}

// newID returns a random 128-bit identifier with a readable prefix.
func newID(prefix string) string {
	var b [16]byte
	rand.Read(b[:])
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

func (b *base) internalError(w http.ResponseWriter, r *http.Request, err error) {
	b.audit.Error("internal error", "path", r.URL.Path, "err", err.Error())
	writeError(w, http.StatusInternalServerError, "server_error", "internal error")
}
