package token_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/latchsec/latch/token"
)

// The whole life of a token: issue, verify, narrow, revoke.
func Example() {
	ctx := context.Background()
	// A fixed clock keeps the output stable; servers leave Now nil.
	now := func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }

	keys := token.NewKeyring() // in production: token.ParseKeyring(jwkSetFromSecretStore)
	revocations := &token.MemoryRevocations{Now: now}
	// The issuer and its verifiers share one Config.
	cfg := token.Config{
		Keys: keys, Issuer: "https://platform.example", Audience: "api",
		Prefix: "lt_", Revocations: revocations, Now: now,
	}
	issuer := &token.Issuer{Config: cfg}
	verifier := &token.Verifier{Config: cfg}

	// A person asks for a token that can read data and manage devices.
	// The platform records its claims' ID (never the token), to revoke it.
	tok, issued, err := issuer.Issue(ctx, token.Claims{
		Subject: "user-42",
		Scopes:  []string{"data:read", "devices:manage"},
		Expires: now().Add(30 * 24 * time.Hour),
	})
	if err != nil {
		panic(err)
	}
	c, err := verifier.Verify(ctx, tok)
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Subject, c.Scopes, c.Expires.Format(time.DateOnly), c.ID == issued.ID)

	// They hand an integrator a narrower token: read only, one app, a day.
	child, _, err := issuer.Narrow(ctx, tok, []string{"data:read"}, []string{"app-1"}, now().Add(24*time.Hour))
	if err != nil {
		panic(err)
	}
	cc, err := verifier.Verify(ctx, child)
	if err != nil {
		panic(err)
	}
	fmt.Println(cc.Scopes, cc.Apps, cc.Expires.Format(time.DateOnly))

	// The narrow token cannot be widened again.
	_, _, err = issuer.Narrow(ctx, child, []string{"devices:manage"}, nil, time.Time{})
	fmt.Println(errors.Is(err, token.ErrInvalid), errors.Is(err, token.ErrWidening))

	// Revoking the original token revokes the narrow one as well.
	if err := issuer.Revoke(ctx, issued); err != nil {
		panic(err)
	}
	_, err = verifier.Verify(ctx, child)
	fmt.Println(errors.Is(err, token.ErrInvalid), errors.Is(err, token.ErrRevoked))
	// Output:
	// user-42 [data:read devices:manage] 2026-12-26 true
	// [data:read] [app-1] 2026-11-27
	// true true
	// true true
}

// An API behind the middleware: the handler runs only for a valid token
// with the required scope, and finds the claims in the request's context.
func ExampleMiddleware() {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }
	keys := token.NewKeyring()
	revocations := &token.MemoryRevocations{Now: now}
	cfg := token.Config{Keys: keys, Issuer: "https://platform.example", Audience: "api", Revocations: revocations, Now: now}
	issuer := &token.Issuer{Config: cfg}
	verifier := &token.Verifier{Config: cfg}

	mw := &token.Middleware{Verifier: verifier, Scopes: []string{"devices:manage"}}
	srv := httptest.NewServer(mw.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := token.ClaimsFromContext(r.Context())
		fmt.Fprintf(w, "devices of %s", c.Subject)
	})))
	defer srv.Close()

	call := func(tok string) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/devices", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Printf("%d %q\n", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	manager, _, _ := issuer.Issue(ctx, token.Claims{Subject: "user-42", Scopes: []string{"devices:manage"}, Expires: now().Add(time.Hour)})
	reader, _, _ := issuer.Issue(ctx, token.Claims{Subject: "user-42", Scopes: []string{"data:read"}, Expires: now().Add(time.Hour)})
	call(manager)
	call(reader)
	call("not-a-token")
	call("")
	// Output:
	// 200 ""
	// 403 "Bearer error=\"insufficient_scope\", scope=\"devices:manage\""
	// 401 "Bearer error=\"invalid_token\""
	// 401 "Bearer"
}

// Rotating keys: new tokens use the new key, older tokens keep verifying
// until their key is retired.
func ExampleKeyring_Rotate() {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }
	keys := token.NewKeyring()
	cfg := token.Config{Keys: keys, Issuer: "iss", Audience: "api", Revocations: &token.MemoryRevocations{Now: now}, Now: now}
	issuer := &token.Issuer{Config: cfg}
	verifier := &token.Verifier{Config: cfg}
	old, _, _ := issuer.Issue(ctx, token.Claims{Subject: "u", Scopes: []string{"data:read"}, Expires: now().Add(time.Hour)})

	oldKey := keys.ActiveKeyID()
	if _, err := keys.Rotate(); err != nil {
		panic(err)
	}
	_, err := verifier.Verify(ctx, old)
	fmt.Println("before retiring:", err)

	if err := keys.Retire(oldKey); err != nil {
		panic(err)
	}
	_, err = verifier.Verify(ctx, old)
	fmt.Println("after retiring:", errors.Is(err, token.ErrUnknownKey))

	// Save the keyring (a secret) and load it on every server.
	set, _ := keys.JWKSet()
	loaded, err := token.ParseKeyring(set)
	fmt.Println(err, len(loaded.KeyIDs()))
	// Output:
	// before retiring: <nil>
	// after retiring: true
	// <nil> 1
}

// A support tool shows what an expired token said, which Verify would only
// refuse. Inspect judges nothing: never grant anything on its result.
func ExampleConfig_Inspect() {
	issued := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	keys := token.NewKeyring()
	issuer := &token.Issuer{Config: token.Config{Keys: keys, Issuer: "https://platform.example", Audience: "api", Prefix: "lt_",
		Now: func() time.Time { return issued }}}
	tok, _, err := issuer.Issue(context.Background(), token.Claims{
		Subject: "user-42", Scopes: []string{"data:read"}, Expires: issued.Add(time.Hour),
	})
	if err != nil {
		panic(err)
	}

	// The support tool has the keys and the prefix: a Config with only
	// those is enough.
	c, kid, err := (&token.Config{Keys: keys, Prefix: "lt_"}).Inspect(tok)
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Subject, c.Scopes, c.Expires.Format(time.DateTime), kid == keys.ActiveKeyID())
	// Output: user-42 [data:read] 2026-11-26 13:00:00 true
}
