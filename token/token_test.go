package token

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/token/internal/lexical"
)

func TestIssueVerifyRoundTrip(t *testing.T) {
	f := newFixture(t, "")
	now := f.clock.Now()
	tok, issued, err := f.is.Issue(t.Context(), Claims{
		Subject:  "user-42",
		Audience: "api",
		Scopes:   []string{"devices:manage", "data:read"},
		Apps:     []string{"app-2", "app-1"},
		Expires:  now.Add(time.Hour + 500*time.Millisecond),
	})
	require.NoError(t, err)
	require.Len(t, strings.Split(tok, "."), 5)

	c, err := f.v.Verify(t.Context(), tok)
	require.NoError(t, err)
	require.Equal(t, c, issued, "Issue returns the claims as the token holds them")
	require.Equal(t, "https://latch.example", c.Issuer)
	require.Equal(t, "user-42", c.Subject)
	require.Equal(t, "api", c.Audience)
	require.Equal(t, now, c.IssuedAt)
	require.Equal(t, now, c.NotBefore)
	require.Equal(t, now.Add(time.Hour), c.Expires, "times are whole seconds")
	require.Equal(t, []string{"data:read", "devices:manage"}, c.Scopes, "scopes are written sorted")
	require.Equal(t, []string{"app-1", "app-2"}, c.Apps)
	require.Empty(t, c.Lineage)
	require.Len(t, c.ID, 22)
	require.True(t, c.HasScope("data:read"))
	require.False(t, c.HasScope("data:write"))

	// The header is exactly what the format says.
	h, err := lexical.AppendBase64(nil, tok[:strings.IndexByte(tok, '.')])
	require.NoError(t, err)
	require.Equal(t, `{"alg":"dir","enc":"A256GCM","kid":"`+f.keys.ActiveKeyID()+`"}`, string(h))

	// Claims marshal back to the bytes in the token.
	plain, err := open(f.keys.load(), "", tok)
	require.NoError(t, err)
	require.Equal(t, string(plain), string(c.appendJSON(nil)))
	require.True(t, json.Valid(plain))
}

// TestRevokeWithIssuedClaims: the claims Issue and Narrow return are
// enough to revoke the token, its descendants with it, and only them.
func TestRevokeWithIssuedClaims(t *testing.T) {
	f := newFixture(t, "lt_")
	ctx := t.Context()
	tok, issued, err := f.is.Issue(ctx, Claims{Subject: "user-42", Scopes: []string{"data:read"}, Expires: f.clock.Now().Add(time.Hour)})
	require.NoError(t, err)
	child, childClaims, err := f.is.Narrow(ctx, tok, nil, []string{"app-1"}, time.Time{})
	require.NoError(t, err)
	verified, err := f.v.Verify(ctx, child)
	require.NoError(t, err)
	require.Equal(t, verified, childClaims, "Narrow returns the child's claims as the token holds them")
	other := f.issue(t)

	require.NoError(t, f.is.Revoke(ctx, childClaims))
	_, err = f.v.Verify(ctx, child)
	requireRefused(t, err, ErrRevoked, child)
	_, err = f.v.Verify(ctx, tok)
	require.NoError(t, err, "revoking a child leaves its parent")

	require.NoError(t, f.is.Revoke(ctx, issued))
	_, err = f.v.Verify(ctx, tok)
	requireRefused(t, err, ErrRevoked, tok)
	_, err = f.v.Verify(ctx, other)
	require.NoError(t, err, "revoking one token leaves the subject's others")

	// A token that never expires stays revoked for ever.
	forever, foreverClaims, err := f.is.Issue(ctx, Claims{Subject: "device-1", Scopes: []string{"mqtt:connect"}, NeverExpires: true})
	require.NoError(t, err)
	require.NoError(t, f.is.Revoke(ctx, foreverClaims))
	f.clock.Advance(100 * 365 * 24 * time.Hour)
	_, err = f.v.Verify(ctx, forever)
	requireRefused(t, err, ErrRevoked, forever)

	// Claims that name no token revoke nothing; an Issuer without a list
	// cannot revoke.
	require.Error(t, f.is.Revoke(ctx, &Claims{ID: "not-a-token-id"}))
	noList := *f.is
	noList.Revocations = nil
	require.Error(t, noList.Revoke(ctx, issued))
}

// TestIssueRequiresExpiry: forgetting Expires must not make a token that
// works forever; never expiring is asked for by name.
func TestIssueRequiresExpiry(t *testing.T) {
	f := newFixture(t, "")
	tok, _, err := f.is.Issue(t.Context(), Claims{Subject: "integrator-7", Scopes: []string{"data:read"}})
	require.ErrorIs(t, err, ErrNoExpiry)
	require.ErrorIs(t, err, ErrClaims)
	require.Empty(t, tok)
	require.Contains(t, err.Error(), "NeverExpires")

	_, _, err = f.is.Issue(t.Context(), Claims{Subject: "integrator-7", Scopes: []string{"data:read"},
		Expires: f.clock.Now().Add(time.Hour), NeverExpires: true})
	require.ErrorIs(t, err, ErrClaims, "both an expiry and NeverExpires")
}

func TestIssueNeverExpiring(t *testing.T) {
	f := newFixture(t, "")
	tok, _, err := f.is.Issue(t.Context(), Claims{Subject: "integrator-7", Scopes: []string{"data:read"}, NeverExpires: true})
	require.NoError(t, err)
	f.clock.Advance(50 * 365 * 24 * time.Hour)
	c, err := f.v.Verify(t.Context(), tok)
	require.NoError(t, err)
	require.True(t, c.Expires.IsZero())
	require.True(t, c.NeverExpires)
	require.Empty(t, c.Apps, "no app limit")
	require.NoError(t, c.CheckApp("any-app"))
}

func TestIssueIDsAreUnique(t *testing.T) {
	f := newFixture(t, "")
	seen := map[string]bool{}
	for range 100 {
		c, err := f.v.Verify(t.Context(), f.issue(t))
		require.NoError(t, err)
		require.False(t, seen[c.ID])
		seen[c.ID] = true
	}
}

func TestIssueRefusesBadClaims(t *testing.T) {
	f := newFixture(t, "")
	now := f.clock.Now()
	ok := Claims{Subject: "u", Scopes: []string{"data:read"}}
	with := func(mod func(*Claims)) Claims { c := ok; mod(&c); return c }
	cases := map[string]Claims{
		"no subject":          with(func(c *Claims) { c.Subject = "" }),
		"subject with CR":     with(func(c *Claims) { c.Subject = "u\r" }),
		"subject too long":    with(func(c *Claims) { c.Subject = strings.Repeat("u", 257) }),
		"no scopes":           with(func(c *Claims) { c.Scopes = nil }),
		"bad scope":           with(func(c *Claims) { c.Scopes = []string{"data:*"} }),
		"repeated scope":      with(func(c *Claims) { c.Scopes = []string{"data:read", "data:read"} }),
		"too many scopes":     with(func(c *Claims) { c.Scopes = strings.Split(manyScopes(maxScopes+1), " ") }),
		"bad app":             with(func(c *Claims) { c.Apps = []string{"a/b"} }),
		"repeated app":        with(func(c *Claims) { c.Apps = []string{"a", "a"} }),
		"too many apps":       with(func(c *Claims) { c.Apps = strings.Fields("a b c d e f g h i j k l m n o p q") }),
		"caller-chosen ID":    with(func(c *Claims) { c.ID = "AAECAwQFBgcICQoLDA0ODw" }),
		"caller-chosen iat":   with(func(c *Claims) { c.IssuedAt = now }),
		"lineage":             with(func(c *Claims) { c.Lineage = []string{"AAECAwQFBgcICQoLDA0ODw"} }),
		"other issuer":        with(func(c *Claims) { c.Issuer = "someone-else" }),
		"expired":             with(func(c *Claims) { c.Expires = now.Add(-time.Second) }),
		"expires now":         with(func(c *Claims) { c.Expires = now }),
		"nbf in the past":     with(func(c *Claims) { c.NotBefore = now.Add(-time.Hour) }),
		"exp before nbf":      with(func(c *Claims) { c.NotBefore = now.Add(2 * time.Hour); c.Expires = now.Add(time.Hour) }),
		"exp after year 9999": with(func(c *Claims) { c.Expires = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }),
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			tok, _, err := f.is.Issue(t.Context(), c)
			require.ErrorIs(t, err, ErrClaims)
			require.Empty(t, tok)
		})
	}
	noAud := *f.is
	noAud.Audience = ""
	_, _, err := noAud.Issue(t.Context(), ok)
	require.ErrorIs(t, err, ErrClaims, "no audience at all")
}

func TestRotation(t *testing.T) {
	f := newFixture(t, "")
	old := f.issue(t)
	oldKid := f.keys.ActiveKeyID()

	newKid, err := f.keys.Rotate()
	require.NoError(t, err)
	require.NotEqual(t, oldKid, newKid)
	require.Equal(t, []string{newKid, oldKid}, f.keys.KeyIDs())

	fresh := f.issue(t)
	require.True(t, strings.HasPrefix(fresh, f.keys.load().active().header+"."), "new tokens use the new key")
	for _, tok := range []string{old, fresh} {
		_, err := f.v.Verify(t.Context(), tok)
		require.NoError(t, err)
	}

	require.Error(t, f.keys.Retire(newKid), "the active key cannot be retired")
	require.Error(t, f.keys.Retire("no-such-key"))
	require.NoError(t, f.keys.Retire(oldKid))
	_, err = f.v.Verify(t.Context(), old)
	require.ErrorIs(t, err, ErrUnknownKey)
	_, err = f.v.Verify(t.Context(), fresh)
	require.NoError(t, err)

	// A saved and reloaded keyring verifies the same tokens.
	set, err := f.keys.JWKSet()
	require.NoError(t, err)
	loaded, err := ParseKeyring(set)
	require.NoError(t, err)
	v := *f.v
	v.Keys = loaded
	_, err = v.Verify(t.Context(), fresh)
	require.NoError(t, err)
}

// A rotation made on a copy, stored, then applied with Replace: the
// Issuer and Verifier sharing the keyring see it at once, and until Replace
// nothing changed. Verifications running meanwhile see one whole keyset or
// the other (run with -race).
func TestReplace(t *testing.T) {
	f := newFixture(t, "")
	old := f.issue(t)
	oldKid := f.keys.ActiveKeyID()

	set, err := f.keys.JWKSet()
	require.NoError(t, err)
	next, err := ParseKeyring(set)
	require.NoError(t, err)
	newKid, err := next.Rotate()
	require.NoError(t, err)
	require.Equal(t, []string{oldKid}, f.keys.KeyIDs(), "the copy's rotation does not touch the original")

	done := make(chan error, 1)
	go func() {
		for range 200 {
			if _, err := f.v.Verify(t.Context(), old); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	require.NoError(t, f.keys.Replace(next))
	require.NoError(t, <-done)
	require.Equal(t, []string{newKid, oldKid}, f.keys.KeyIDs())
	fresh := f.issue(t)
	for _, tok := range []string{old, fresh} {
		_, err := f.v.Verify(t.Context(), tok)
		require.NoError(t, err)
	}

	// Changing next afterwards does not change f.keys.
	require.NoError(t, next.Retire(oldKid))
	_, err = f.v.Verify(t.Context(), old)
	require.NoError(t, err)

	require.Error(t, f.keys.Replace(new(Keyring)))
	require.Error(t, f.keys.Replace(nil))
	require.Equal(t, []string{newKid, oldKid}, f.keys.KeyIDs())
}

func TestRotateUpToMaxKeys(t *testing.T) {
	var kr Keyring // the zero Keyring makes its first key on Rotate
	for range maxKeys {
		_, err := kr.Rotate()
		require.NoError(t, err)
	}
	_, err := kr.Rotate()
	require.Error(t, err)
	require.Len(t, kr.KeyIDs(), maxKeys)
}

// TestLargestTokenFits issues the largest claims the limits allow, with the
// longest kid and prefix, and checks that the token is within maxTokenSize,
// as the limits promise.
func TestLargestTokenFits(t *testing.T) {
	secret := make([]byte, keySize)
	kid := strings.Repeat("k", maxKeyID)
	keys := new(Keyring)
	keys.keys.Store(&keyset{list: []*key{newKey(kid, secret)}})
	f := newFixture(t, strings.Repeat("p", 16))
	f.is.Keys, f.v.Keys = keys, keys
	f.is.Issuer = strings.Repeat(`"`, maxText)
	f.v.Issuer = f.is.Issuer
	long := func(prefix string, n int) string { return prefix + strings.Repeat("x", n-len(prefix)) }
	c := Claims{
		Subject:  strings.Repeat(`\`, maxText),
		Audience: strings.Repeat(`"`, maxText),
		Expires:  time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
	}
	for i := range maxScopes {
		c.Scopes = append(c.Scopes, long(fmt.Sprintf("r%02d", i), maxScopePart)+":"+long("a", maxScopePart))
	}
	for i := range maxApps {
		c.Apps = append(c.Apps, long(fmt.Sprintf("a%02d", i), maxAppID))
	}
	tok, _, err := f.is.Issue(t.Context(), c)
	require.NoError(t, err)
	for range maxLineage {
		tok, _, err = f.is.Narrow(t.Context(), tok, nil, nil, time.Time{})
		require.NoError(t, err)
	}
	t.Logf("largest token: %d bytes", len(tok))
	require.LessOrEqual(t, len(tok), maxTokenSize)
	v := *f.v
	v.Audience = c.Audience
	got, err := v.Verify(t.Context(), tok)
	require.NoError(t, err)
	require.Len(t, got.Lineage, maxLineage)
}

// TestRotateWhileVerifying rotates and retires keys while other goroutines
// issue and verify (run with -race).
func TestRotateWhileVerifying(t *testing.T) {
	f := newFixture(t, "")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				tok, _, err := f.is.Issue(t.Context(), Claims{Subject: "u", Scopes: []string{"data:read"}, NeverExpires: true})
				if err != nil {
					t.Error(err)
					return
				}
				// The key may be retired between Issue and Verify; any
				// other failure is a bug.
				if _, err = f.v.Verify(t.Context(), tok); err != nil && !errors.Is(err, ErrUnknownKey) {
					t.Error(err)
					return
				}
			}
		})
	}
	for range 20 {
		old := f.keys.ActiveKeyID()
		_, err := f.keys.Rotate()
		require.NoError(t, err)
		require.NoError(t, f.keys.Retire(old))
	}
	close(stop)
	wg.Wait()
	require.Len(t, f.keys.KeyIDs(), 1)
}

// TestVerifyNamesAMissingPrefix: a token of an Issuer with a Prefix,
// verified by a Verifier without one, failed with "header is not canonical
// base64url"; the error now says what is wrong, and the other way round.
func TestVerifyNamesAMissingPrefix(t *testing.T) {
	f := newFixture(t, "lt_")
	tok := f.issue(t)
	noPrefix := *f.v
	noPrefix.Prefix = ""
	_, err := noPrefix.Verify(t.Context(), tok)
	require.ErrorIs(t, err, ErrMalformed)
	require.Contains(t, err.Error(), "prefix")
	require.Contains(t, err.Error(), "Config.Prefix")
	require.NotContains(t, err.Error(), tok[3:20])

	plain := newFixture(t, "")
	tok = plain.issue(t)
	withPrefix := *plain.v
	withPrefix.Prefix = "lt_"
	_, err = withPrefix.Verify(t.Context(), tok)
	require.ErrorIs(t, err, ErrMalformed)
	require.Contains(t, err.Error(), "prefix")
}

// TestIssueNamesTheBadScope: a scope error says which scope and what a
// scope must look like.
func TestIssueNamesTheBadScope(t *testing.T) {
	f := newFixture(t, "")
	for _, s := range []string{"Data:read", "data", "data:*", "data: read"} {
		_, _, err := f.is.Issue(t.Context(), Claims{Subject: "u", Scopes: []string{"data:read", s}, Expires: f.clock.Now().Add(time.Hour)})
		require.ErrorIs(t, err, ErrClaims)
		require.Contains(t, err.Error(), strconv.Quote(s))
		require.Contains(t, err.Error(), "resource:action")
	}
}
