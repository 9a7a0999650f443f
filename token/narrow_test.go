package token

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNarrow(t *testing.T) {
	f := newFixture(t, "lt_")
	parentTok := f.issue(t) // data:read devices:manage, app-1, 1 h
	parent, err := f.v.Verify(t.Context(), parentTok)
	require.NoError(t, err)

	f.clock.Advance(time.Minute)
	childTok, _, err := f.is.Narrow(t.Context(), parentTok, []string{"data:read"}, nil, time.Time{})
	require.NoError(t, err)
	child, err := f.v.Verify(t.Context(), childTok)
	require.NoError(t, err)
	require.Equal(t, []string{"data:read"}, child.Scopes)
	require.Equal(t, parent.Apps, child.Apps, "nil apps keep the parent's")
	require.Equal(t, parent.Expires, child.Expires, "zero exp keeps the parent's")
	require.Equal(t, parent.Subject, child.Subject)
	require.Equal(t, parent.Audience, child.Audience)
	require.Equal(t, []string{parent.ID}, child.Lineage)
	require.NotEqual(t, parent.ID, child.ID)
	require.Equal(t, f.clock.Now(), child.IssuedAt)

	grandTok, _, err := f.is.Narrow(t.Context(), childTok, nil, []string{"app-1"}, parent.Expires.Add(-time.Minute))
	require.NoError(t, err)
	grand, err := f.v.Verify(t.Context(), grandTok)
	require.NoError(t, err)
	require.Equal(t, []string{parent.ID, child.ID}, grand.Lineage)
	require.Equal(t, parent.Expires.Add(-time.Minute), grand.Expires)

	// Revoking the original revokes its descendants; revoking the middle
	// one revokes only its own line.
	sibling, _, err := f.is.Narrow(t.Context(), parentTok, []string{"devices:manage"}, nil, time.Time{})
	require.NoError(t, err)
	require.NoError(t, f.revs.RevokeID(t.Context(), child.ID, child.Expires))
	for _, tok := range []string{childTok, grandTok} {
		_, err := f.v.Verify(t.Context(), tok)
		requireRefused(t, err, ErrRevoked, tok)
	}
	for _, tok := range []string{parentTok, sibling} {
		_, err := f.v.Verify(t.Context(), tok)
		require.NoError(t, err)
	}
	require.NoError(t, f.revs.RevokeID(t.Context(), parent.ID, parent.Expires))
	_, err = f.v.Verify(t.Context(), sibling)
	require.ErrorIs(t, err, ErrRevoked, "child of a revoked parent")
	_, _, err = f.is.Narrow(t.Context(), parentTok, []string{"data:read"}, nil, time.Time{})
	require.ErrorIs(t, err, ErrRevoked, "a revoked token cannot be narrowed")
}

func TestNarrowRefusesWidening(t *testing.T) {
	f := newFixture(t, "")
	parentTok := f.issue(t) // data:read devices:manage, app-1, 1 h
	parent, err := f.v.Verify(t.Context(), parentTok)
	require.NoError(t, err)

	cases := map[string]struct {
		scopes, apps []string
		exp          time.Time
	}{
		"another scope":             {[]string{"data:write"}, nil, time.Time{}},
		"a subset plus one":         {[]string{"data:read", "admin:all"}, nil, time.Time{}},
		"a malformed scope":         {[]string{"data:*"}, nil, time.Time{}},
		"another app":               {nil, []string{"app-2"}, time.Time{}},
		"apps plus one":             {nil, []string{"app-1", "app-2"}, time.Time{}},
		"no app limit":              {nil, []string{}, time.Time{}},
		"a later expiry":            {nil, nil, parent.Expires.Add(time.Second)},
		"a later expiry, all other": {[]string{"data:read"}, []string{"app-1"}, parent.Expires.Add(time.Hour)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tok, _, err := f.is.Narrow(t.Context(), parentTok, tc.scopes, tc.apps, tc.exp)
			requireRefused(t, err, ErrWidening, parentTok)
			require.Empty(t, tok)
		})
	}

	// A parent without expiry or app limit can be narrowed to both.
	open, _, err := f.is.Issue(t.Context(), Claims{Subject: "u", Scopes: []string{"data:read"}, NeverExpires: true})
	require.NoError(t, err)
	child, _, err := f.is.Narrow(t.Context(), open, nil, []string{"app-9"}, f.clock.Now().Add(time.Hour))
	require.NoError(t, err)
	c, err := f.v.Verify(t.Context(), child)
	require.NoError(t, err)
	require.Equal(t, []string{"app-9"}, c.Apps)
	require.Equal(t, f.clock.Now().Add(time.Hour), c.Expires)
	_, _, err = f.is.Narrow(t.Context(), child, nil, nil, f.clock.Now().Add(2*time.Hour))
	require.ErrorIs(t, err, ErrWidening, "the child now has an expiry")

	// Not widening, but nothing to issue.
	_, _, err = f.is.Narrow(t.Context(), parentTok, []string{}, nil, time.Time{})
	require.ErrorIs(t, err, ErrClaims, "no scopes at all")
	_, _, err = f.is.Narrow(t.Context(), parentTok, nil, nil, f.clock.Now().Add(-time.Second))
	require.ErrorIs(t, err, ErrClaims, "an expiry in the past")
}

func TestNarrowDepthAndForeignTokens(t *testing.T) {
	f := newFixture(t, "")
	tok := f.issue(t)
	for range maxLineage {
		var err error
		tok, _, err = f.is.Narrow(t.Context(), tok, nil, nil, time.Time{})
		require.NoError(t, err)
	}
	_, _, err := f.is.Narrow(t.Context(), tok, nil, nil, time.Time{})
	requireRefused(t, err, ErrWidening, tok)

	other := newFixture(t, "")
	_, _, err = f.is.Narrow(t.Context(), other.issue(t), nil, nil, time.Time{})
	require.ErrorIs(t, err, ErrUnknownKey)
	_, _, err = f.is.Narrow(t.Context(), "garbage", nil, nil, time.Time{})
	require.ErrorIs(t, err, ErrMalformed)

	// A token of another issuer name under the same keys is refused.
	is := *f.is
	is.Issuer = "someone-else"
	_, _, err = is.Narrow(t.Context(), f.issue(t), nil, nil, time.Time{})
	require.ErrorIs(t, err, ErrWrongIssuer)

	noRevs := *f.is
	noRevs.Revocations = nil
	_, _, err = noRevs.Narrow(t.Context(), f.issue(t), nil, nil, time.Time{})
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrInvalid)
}

func TestNarrowKeepsAudience(t *testing.T) {
	f := newFixture(t, "")
	tok, _, err := f.is.Issue(t.Context(), Claims{Subject: "u", Audience: "mqtt", Scopes: []string{"mqtt:connect"}, NeverExpires: true})
	require.NoError(t, err)
	child, _, err := f.is.Narrow(t.Context(), tok, nil, []string{"app-1"}, time.Time{})
	require.NoError(t, err)
	v := *f.v
	v.Audience = "mqtt"
	c, err := v.Verify(t.Context(), child)
	require.NoError(t, err)
	require.Equal(t, "mqtt", c.Audience)
}
