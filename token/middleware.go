package token

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// Middleware authenticates HTTP requests with a bearer token (RFC 6750) in
// the Authorization header and puts the verified claims in the request's
// context ([ClaimsFromContext]). Verifier is required.
//
// Its answers follow RFC 6750 §3:
//   - no bearer token: 401 with WWW-Authenticate: Bearer (no error code);
//   - a malformed Authorization header, two of them, or a token in the query
//     string (access_token, which leaks into logs and Referer headers and is
//     never accepted): 400 with error="invalid_request";
//   - a token that does not verify, or is limited to other applications:
//     401 with error="invalid_token", and nothing more (the reason goes to
//     OnReject only);
//   - a valid token without every scope of Scopes: 403 with
//     error="insufficient_scope" and scope="..." naming the required scopes;
//   - a revocation list that cannot answer: 503; another server-side
//     failure (a misconfigured Verifier): 500.
type Middleware struct {
	Verifier *Verifier
	// Scopes are required, all of them (see [ValidScope]).
	Scopes []string
	// App, if set, returns the application id a request acts on; a token
	// limited to other applications is refused (see [Claims.CheckApp]).
	App func(*http.Request) string
	// Realm, if set, is sent as the realm of WWW-Authenticate. It must be
	// printable ASCII without quotes or backslashes.
	Realm string
	// OnReject, if set, is called with the reason of every refusal (for
	// logs: the error never contains the token).
	OnReject func(r *http.Request, status int, err error)
}

type claimsKey struct{}

// ClaimsFromContext returns the claims that Middleware put in a request's
// context.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok
}

// Wrap returns next behind the middleware. It panics if the Middleware is
// misconfigured (no Verifier, a malformed scope or realm).
func (m *Middleware) Wrap(next http.Handler) http.Handler {
	if m.Verifier == nil {
		panic("token: Middleware.Verifier is nil")
	}
	for _, s := range m.Scopes {
		if !ValidScope(s) {
			panic("token: Middleware.Scopes: " + scopeProblem(s))
		}
	}
	for i := 0; i < len(m.Realm); i++ {
		if c := m.Realm[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			panic("token: Middleware.Realm must be printable ASCII without quotes or backslashes")
		}
	}
	// Everything derived from the configuration, computed once.
	mw := *m
	mw.Scopes = append([]string(nil), m.Scopes...)
	challenge := "Bearer"
	if m.Realm != "" {
		challenge += ` realm="` + m.Realm + `"`
	}
	scopeAttr := `scope="` + strings.Join(mw.Scopes, " ") + `"`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, status, err := mw.authenticate(r)
		if err != nil {
			if mw.OnReject != nil {
				mw.OnReject(r, status, err)
			}
			var params []string
			switch {
			case status == http.StatusBadRequest:
				params = []string{`error="invalid_request"`}
			case status == http.StatusUnauthorized && !errors.Is(err, errNoBearer):
				params = []string{`error="invalid_token"`}
			case status == http.StatusForbidden:
				params = []string{`error="insufficient_scope"`, scopeAttr}
			}
			if status == http.StatusUnauthorized || status == http.StatusBadRequest || status == http.StatusForbidden {
				v := challenge
				if len(params) > 0 {
					sep := " "
					if mw.Realm != "" {
						sep = ", "
					}
					v += sep + strings.Join(params, ", ")
				}
				w.Header().Set("WWW-Authenticate", v)
			}
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, http.StatusText(status), status)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, claims)))
	})
}

// authenticate returns the request's verified claims, or the status to
// answer with and the reason.
func (m *Middleware) authenticate(r *http.Request) (*Claims, int, error) {
	if strings.Contains(r.URL.RawQuery, "access_token") && r.URL.Query().Has("access_token") {
		return nil, http.StatusBadRequest, refusedQueryToken
	}
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return nil, http.StatusUnauthorized, refusedNoBearer
	case 1:
	default:
		return nil, http.StatusBadRequest, refusedTwoHeaders
	}
	scheme, cred, _ := strings.Cut(values[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		// Another scheme (Basic, ...) carries no bearer token.
		return nil, http.StatusUnauthorized, refusedNoBearer
	}
	cred = strings.TrimLeft(cred, " ")
	if !b64token(cred) {
		return nil, http.StatusBadRequest, refusedCredentials
	}
	claims, err := m.Verifier.Verify(r.Context(), cred)
	switch {
	case errors.Is(err, ErrInvalid):
		return nil, http.StatusUnauthorized, err
	case errors.Is(err, ErrRevocationUnavailable):
		return nil, http.StatusServiceUnavailable, err
	case err != nil:
		return nil, http.StatusInternalServerError, err
	}
	if m.App != nil {
		if err := claims.CheckApp(m.App(r)); err != nil {
			return nil, http.StatusUnauthorized, err
		}
	}
	for _, s := range m.Scopes {
		if !claims.HasScope(s) {
			return nil, http.StatusForbidden, refusedScope
		}
	}
	return claims, 0, nil
}

// b64token reports whether s is an RFC 6750 b64token:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
func b64token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~+/", c) >= 0) {
			return false
		}
	}
	return true
}
