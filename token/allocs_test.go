package token

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestVerifyAllocations keeps Verify, in-memory revocation check included,
// within the issue's budget of 20 allocations, with the claims of the
// benchmarks (5 scopes, 1 app, standard claims).
func TestVerifyAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are checked in full runs")
	}
	f := newFixture(t, "lt_")
	tok, _, err := f.is.Issue(t.Context(), Claims{
		Subject: "user-42",
		Scopes:  []string{"data:read", "data:write", "devices:read", "devices:manage", "rules:read"},
		Apps:    []string{"app-1"},
		Expires: f.clock.Now().Add(time.Hour),
	})
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := f.v.Verify(t.Context(), tok); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("Verify: %.0f allocations, token of %d bytes", allocs, len(tok))
	require.LessOrEqual(t, allocs, 20.0)
	// Refusing a revoked token costs no more: its error is made once.
	revoked, c, err := f.is.Issue(t.Context(), Claims{Subject: "user-42", Scopes: []string{"data:read"}, Expires: f.clock.Now().Add(time.Hour)})
	require.NoError(t, err)
	require.NoError(t, f.is.Revoke(t.Context(), c))
	refusedAllocs := testing.AllocsPerRun(100, func() {
		if _, err := f.v.Verify(t.Context(), revoked); !errors.Is(err, ErrRevoked) {
			t.Fatal(err)
		}
	})
	t.Logf("Verify of a revoked token: %.0f allocations", refusedAllocs)
	require.LessOrEqual(t, refusedAllocs, allocs)
	issueAllocs := testing.AllocsPerRun(100, func() {
		if _, _, err := f.is.Issue(t.Context(), Claims{Subject: "user-42", Scopes: []string{"data:read"}, NeverExpires: true}); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("Issue: %.0f allocations", issueAllocs)
}
