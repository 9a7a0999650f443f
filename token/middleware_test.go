package token

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// failingRevocations is a revocation list that cannot answer, as a shared
// list with a stale mirror.
type failingRevocations struct{ MemoryRevocations }

func (*failingRevocations) Revoked(context.Context, *Claims) (bool, error) {
	return false, fmt.Errorf("mirror stale: %w", ErrRevocationUnavailable)
}

func TestMiddleware(t *testing.T) {
	f := newFixture(t, "lt_")
	var rejected []error
	mw := &Middleware{
		Verifier: f.v,
		Scopes:   []string{"devices:manage", "data:read"},
		App:      func(r *http.Request) string { return r.URL.Query().Get("app") },
		Realm:    "latch",
		OnReject: func(_ *http.Request, _ int, err error) { rejected = append(rejected, err) },
	}
	srv := httptest.NewServer(mw.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := ClaimsFromContext(r.Context())
		if !ok {
			http.Error(w, "no claims", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "hello ", c.Subject)
	})))
	defer srv.Close()

	good := f.issue(t) // data:read devices:manage, app-1
	readOnly, _, err := f.is.Issue(t.Context(), Claims{Subject: "user-42", Scopes: []string{"data:read"}, NeverExpires: true})
	require.NoError(t, err)
	revoked := f.issue(t)
	c, err := f.v.Verify(t.Context(), revoked)
	require.NoError(t, err)
	require.NoError(t, f.revs.RevokeID(t.Context(), c.ID, c.Expires))

	type want struct {
		status    int
		challenge string // WWW-Authenticate, "" for none
		reason    error  // given to OnReject
	}
	cases := []struct {
		name    string
		query   string
		headers []string
		want    want
	}{
		{"valid", "app=app-1", []string{"Bearer " + good}, want{200, "", nil}},
		{"scheme is case-insensitive", "app=app-1", []string{"bearer " + good}, want{200, "", nil}},
		{"several spaces", "app=app-1", []string{"Bearer   " + good}, want{200, "", nil}},
		{"no header", "app=app-1", nil, want{401, `Bearer realm="latch"`, errNoBearer}},
		{"basic scheme", "app=app-1", []string{"Basic dXNlcjpwYXNz"}, want{401, `Bearer realm="latch"`, errNoBearer}},
		{"bearer without token", "app=app-1", []string{"Bearer"}, want{400, `Bearer realm="latch", error="invalid_request"`, errBadCredentials}},
		{"bearer with blank", "app=app-1", []string{"Bearer  "}, want{400, `Bearer realm="latch", error="invalid_request"`, errBadCredentials}},
		{"not a b64token", "app=app-1", []string{"Bearer a,b"}, want{400, `Bearer realm="latch", error="invalid_request"`, errBadCredentials}},
		{"two tokens", "app=app-1", []string{"Bearer " + good + " " + good}, want{400, `Bearer realm="latch", error="invalid_request"`, errBadCredentials}},
		{"two headers", "app=app-1", []string{"Bearer " + good, "Bearer " + good}, want{400, `Bearer realm="latch", error="invalid_request"`, errTwoHeaders}},
		{"token in query", "app=app-1&access_token=" + good, nil, want{400, `Bearer realm="latch", error="invalid_request"`, errQueryToken}},
		{"token in query and header", "access_token=" + good + "&app=app-1", []string{"Bearer " + good}, want{400, `Bearer realm="latch", error="invalid_request"`, errQueryToken}},
		{"garbage token", "app=app-1", []string{"Bearer abc"}, want{401, `Bearer realm="latch", error="invalid_token"`, ErrMalformed}},
		{"token without prefix", "app=app-1", []string{"Bearer " + strings.TrimPrefix(good, "lt_")}, want{401, `Bearer realm="latch", error="invalid_token"`, ErrMalformed}},
		{"revoked", "app=app-1", []string{"Bearer " + revoked}, want{401, `Bearer realm="latch", error="invalid_token"`, ErrRevoked}},
		{"other app", "app=app-2", []string{"Bearer " + good}, want{401, `Bearer realm="latch", error="invalid_token"`, ErrWrongApp}},
		{"missing scope", "app=app-1", []string{"Bearer " + readOnly}, want{403, `Bearer realm="latch", error="insufficient_scope", scope="devices:manage data:read"`, errScope}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rejected = nil
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/devices?"+tc.query, nil)
			require.NoError(t, err)
			for _, h := range tc.headers {
				req.Header.Add("Authorization", h)
			}
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, tc.want.status, resp.StatusCode, string(body))
			require.Equal(t, tc.want.challenge, resp.Header.Get("WWW-Authenticate"))
			if tc.want.status == 200 {
				require.Equal(t, "hello user-42", string(body))
				require.Empty(t, rejected)
				return
			}
			require.Len(t, rejected, 1)
			require.ErrorIs(t, rejected[0], tc.want.reason)
			require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
			// The client learns nothing beyond the status.
			require.Equal(t, http.StatusText(tc.want.status)+"\n", string(body))
		})
	}
}

func TestMiddlewareServerSide(t *testing.T) {
	f := newFixture(t, "")
	tok := f.issue(t)
	call := func(v *Verifier) *http.Response {
		h := (&Middleware{Verifier: v}).Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		rec := httptest.NewRecorder()
		req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		h.ServeHTTP(rec, req)
		return rec.Result()
	}

	stale := *f.v
	stale.Revocations = &failingRevocations{}
	resp := call(&stale)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "fails closed, and says it is the server")
	require.Empty(t, resp.Header.Get("WWW-Authenticate"))

	broken := *f.v
	broken.Keys = nil
	require.Equal(t, http.StatusInternalServerError, call(&broken).StatusCode)

	resp = call(f.v)
	require.Equal(t, http.StatusOK, resp.StatusCode, "no scopes required, no realm")

	// Without a realm, the challenge has the error only.
	f.clock.Advance(2 * time.Hour)
	resp = call(f.v)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Equal(t, `Bearer error="invalid_token"`, resp.Header.Get("WWW-Authenticate"))
}

// brokenRevocations is a revocation list that fails without saying why.
type brokenRevocations struct{ MemoryRevocations }

var errBrokenList = errors.New("list: connection reset")

func (*brokenRevocations) Revoked(context.Context, *Claims) (bool, error) {
	return false, errBrokenList
}

// TestRevocationListFailure: whatever error a list gives, Verify fails
// closed under ErrRevocationUnavailable (the list's error under it), never
// as the token's fault, and the Middleware answers 503.
func TestRevocationListFailure(t *testing.T) {
	f := newFixture(t, "")
	tok := f.issue(t)
	for name, list := range map[string]Revocations{
		"says why":     &failingRevocations{},
		"does not say": &brokenRevocations{},
	} {
		t.Run(name, func(t *testing.T) {
			v := *f.v
			v.Revocations = list
			_, err := v.Verify(t.Context(), tok)
			require.ErrorIs(t, err, ErrRevocationUnavailable)
			require.NotErrorIs(t, err, ErrInvalid)
			require.True(t, strings.HasPrefix(err.Error(), "token: revocation state unavailable: "), err.Error())
			is := *f.is
			is.Revocations = list
			_, _, err = is.Narrow(t.Context(), tok, nil, nil, time.Time{})
			require.ErrorIs(t, err, ErrRevocationUnavailable)

			h := (&Middleware{Verifier: &v}).Wrap(http.NotFoundHandler())
			rec := httptest.NewRecorder()
			req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			h.ServeHTTP(rec, req)
			require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		})
	}
	v := *f.v
	v.Revocations = &brokenRevocations{}
	_, err := v.Verify(t.Context(), tok)
	require.ErrorIs(t, err, errBrokenList, "the list's own error stays under it")
}

func TestMiddlewarePanicsOnBadConfig(t *testing.T) {
	f := newFixture(t, "")
	next := http.NotFoundHandler()
	require.Panics(t, func() { (&Middleware{}).Wrap(next) })
	require.Panics(t, func() { (&Middleware{Verifier: f.v, Scopes: []string{"data"}}).Wrap(next) })
	require.Panics(t, func() { (&Middleware{Verifier: f.v, Realm: `a"b`}).Wrap(next) })
}
