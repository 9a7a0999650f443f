package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchsec/latch/totp"
	"github.com/stretchr/testify/require"
)

// Prefix begins the name of every account the checks use.
const Prefix = "storetest/"

// Run checks that s keeps the [totp.Store] contract, each guarantee in a
// subtest of t named after it. s must hold no record for an account whose
// name begins with [Prefix]: give it a fresh database, table or key prefix.
func Run(t *testing.T, s totp.Store) {
	t.Helper()
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { c.run(t, s) })
	}
}

// tb is what the checks need of a *testing.T; storetest's own tests pass
// a recorder, to show that each check fails for a Store that breaks it.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	FailNow()
}

type check struct {
	name string
	run  func(t tb, s totp.Store)
}

// checks are the guarantees, in the order Run checks them.
var checks = []check{
	{"NotEnrolled", notEnrolled},
	{"Create", create},
	{"CompareAndSwap", compareAndSwap},
	{"Delete", deleteRecord},
	{"VersionsNeverReused", versionsNeverReused},
	{"CallerVersionIgnored", callerVersionIgnored},
	{"Copies", copies},
	{"AccountsSeparate", accountsSeparate},
	{"RoundTrip", roundTrip},
	{"Concurrent", concurrent},
	{"Canceled", canceled},
}

// load returns the account's record and version, or nil and 0 if it has
// none (which Load must report as ErrNotEnrolled).
func load(t tb, s totp.Store, account string) (*totp.Record, uint64) {
	t.Helper()
	r, err := s.Load(context.Background(), account)
	if err != nil {
		require.ErrorIs(t, err, totp.ErrNotEnrolled, "Load of %q", account)
		return nil, 0
	}
	require.NotNil(t, r, "Load of %q returned neither a record nor an error", account)
	require.NotZero(t, r.Version, "Load of %q: a stored record's version is never 0", account)
	return r, r.Version
}

func swap(t tb, s totp.Store, account string, old uint64, next *totp.Record) bool {
	t.Helper()
	ok, err := s.CompareAndSwap(context.Background(), account, old, next)
	require.NoError(t, err, "CompareAndSwap of %q", account)
	return ok
}

// mustLoad loads a record that must exist.
func mustLoad(t tb, s totp.Store, account string) (*totp.Record, uint64) {
	t.Helper()
	r, v := load(t, s, account)
	require.NotNil(t, r, "Load of %q: the record written is missing", account)
	return r, v
}

// notEnrolled: an account never written has no record, and Load says so
// with an error that matches totp.ErrNotEnrolled.
func notEnrolled(t tb, s totp.Store) {
	t.Helper()
	_, err := s.Load(context.Background(), Prefix+"never-enrolled")
	require.ErrorIs(t, err, totp.ErrNotEnrolled)
}

// create: version 0 creates a record only where there is none, and a
// non-zero version creates nothing.
func create(t tb, s totp.Store) {
	t.Helper()
	a := Prefix + "create"
	require.False(t, swap(t, s, a, 1, &totp.Record{Digits: 6}), "no record: only version 0 may match")
	r, _ := load(t, s, a)
	require.Nil(t, r, "a failed swap must change nothing")
	require.True(t, swap(t, s, a, 0, &totp.Record{Digits: 6, Secret: []byte{1}}), "no record: version 0 creates")
	r, _ = mustLoad(t, s, a)
	require.Equal(t, []byte{1}, r.Secret)
	require.False(t, swap(t, s, a, 0, &totp.Record{Digits: 8}), "a record exists: version 0 must lose")
	r, _ = mustLoad(t, s, a)
	require.Equal(t, 6, r.Digits, "a failed swap must change nothing")
}

// compareAndSwap: the current version wins and gives a new one; a stale
// version loses and changes nothing.
func compareAndSwap(t tb, s totp.Store) {
	t.Helper()
	a := Prefix + "cas"
	require.True(t, swap(t, s, a, 0, &totp.Record{Digits: 6}))
	_, v1 := mustLoad(t, s, a)
	require.False(t, swap(t, s, a, v1+1, &totp.Record{Digits: 8}), "a version never given must lose")
	require.True(t, swap(t, s, a, v1, &totp.Record{Digits: 8}), "the current version must win")
	r, v2 := mustLoad(t, s, a)
	require.Equal(t, 8, r.Digits)
	require.NotEqual(t, v1, v2, "each swap gives a new version")
	require.False(t, swap(t, s, a, v1, &totp.Record{Digits: 6}), "a stale version must lose")
	r, v := mustLoad(t, s, a)
	require.Equal(t, 8, r.Digits, "a failed swap must change nothing")
	require.Equal(t, v2, v, "a failed swap must change nothing")
}

// deleteRecord: a nil record deletes, under the same compare.
func deleteRecord(t tb, s totp.Store) {
	t.Helper()
	a := Prefix + "delete"
	require.True(t, swap(t, s, a, 0, &totp.Record{Digits: 6}))
	_, v1 := mustLoad(t, s, a)
	require.True(t, swap(t, s, a, v1, &totp.Record{Digits: 8}))
	require.False(t, swap(t, s, a, v1, nil), "a stale version must not delete")
	_, v2 := mustLoad(t, s, a)
	require.True(t, swap(t, s, a, v2, nil), "the current version deletes")
	_, err := s.Load(context.Background(), a)
	require.ErrorIs(t, err, totp.ErrNotEnrolled, "a deleted record is gone")
	require.False(t, swap(t, s, a, v2, nil), "a deleted record's version must lose")
	require.True(t, swap(t, s, a, 0, &totp.Record{Digits: 6}), "after a delete, version 0 creates")
}

// versionsNeverReused: a version is never given twice to an account, even
// across a delete, so a server still holding an old record cannot
// overwrite a new enrollment.
func versionsNeverReused(t tb, s totp.Store) {
	t.Helper()
	a := Prefix + "versions"
	seen := map[uint64]bool{}
	for range 3 {
		require.True(t, swap(t, s, a, 0, &totp.Record{Digits: 6}))
		_, v := mustLoad(t, s, a)
		require.False(t, seen[v], "version %d given twice", v)
		seen[v] = true
		require.True(t, swap(t, s, a, v, &totp.Record{Digits: 8}))
		_, v = mustLoad(t, s, a)
		require.False(t, seen[v], "version %d given twice", v)
		seen[v] = true
		require.True(t, swap(t, s, a, v, nil))
	}
	require.True(t, swap(t, s, a, 0, &totp.Record{Digits: 6}))
	for v := range seen {
		require.False(t, swap(t, s, a, v, nil), "an old version (%d) must not delete the new record", v)
	}
}

// callerVersionIgnored: the Version in the record passed to CompareAndSwap
// is not the one stored; the Store chooses it.
func callerVersionIgnored(t tb, s totp.Store) {
	t.Helper()
	a := Prefix + "caller-version"
	require.True(t, swap(t, s, a, 0, &totp.Record{Digits: 6}))
	_, v1 := mustLoad(t, s, a)
	require.True(t, swap(t, s, a, v1, &totp.Record{Version: v1, Digits: 8}))
	_, v2 := mustLoad(t, s, a)
	require.NotEqual(t, v1, v2, "the record's own Version must not be stored")
	require.False(t, swap(t, s, a, v1, &totp.Record{Digits: 6}), "the record's own Version must not be stored")
}

// copies: the caller may change a record it loaded, and the record it
// passed to CompareAndSwap, without changing what is stored.
func copies(t tb, s totp.Store) {
	t.Helper()
	a := Prefix + "copies"
	next := &totp.Record{
		Digits: 6, Secret: []byte{1}, Recovery: [][]byte{{2}},
		Next: &totp.NextKey{Secret: []byte{3}, Digits: 6},
	}
	require.True(t, swap(t, s, a, 0, next))
	next.Secret[0], next.Recovery[0][0], next.Next.Secret[0], next.Digits, next.Next.Digits = 9, 9, 9, 8, 8
	r, _ := mustLoad(t, s, a)
	unchanged(t, r, "the Store must keep a copy of the record it was given")

	r.Secret[0], r.Recovery[0][0], r.Next.Secret[0], r.Digits, r.Next.Digits = 9, 9, 9, 8, 8
	again, _ := mustLoad(t, s, a)
	unchanged(t, again, "Load must return a copy")
}

// unchanged checks that r is the record that copies stored.
func unchanged(t tb, r *totp.Record, why string) {
	t.Helper()
	require.Equal(t, 6, r.Digits, why)
	require.Equal(t, []byte{1}, r.Secret, why)
	require.Equal(t, [][]byte{{2}}, r.Recovery, why)
	require.NotNil(t, r.Next, why)
	require.Equal(t, []byte{3}, r.Next.Secret, why)
	require.Equal(t, 6, r.Next.Digits, why)
}

// accountsSeparate: a write to one account changes no other.
func accountsSeparate(t tb, s totp.Store) {
	t.Helper()
	a, b := Prefix+"separate-a", Prefix+"separate-b"
	require.True(t, swap(t, s, a, 0, &totp.Record{Digits: 6}))
	r, _ := load(t, s, b)
	require.Nil(t, r, "a record written for %q appears under %q", a, b)
	require.True(t, swap(t, s, b, 0, &totp.Record{Digits: 8}), "%q has no record yet", b)
	r, _ = mustLoad(t, s, a)
	require.Equal(t, 6, r.Digits, "a write to %q changed %q", b, a)
	r, vb := mustLoad(t, s, b)
	require.Equal(t, 8, r.Digits)
	require.True(t, swap(t, s, b, vb, nil))
	_, _ = mustLoad(t, s, a)
}

// roundTrip: every field comes back as it was written, times to the
// millisecond at least, and account names may hold any UTF-8.
func roundTrip(t tb, s totp.Store) {
	t.Helper()
	a := Prefix + "round trip: ü@example.com"
	in := &totp.Record{
		Secret: []byte{1, 2, 3, 0, 255}, Algorithm: totp.SHA512, Digits: 8, Confirmed: true,
		LastStep: 58907520, Drift: -2, Failures: 3,
		LockedUntil: time.Date(2026, 1, 1, 0, 1, 2, 345_000_000, time.UTC),
		Enrolled:    time.Date(2025, 12, 31, 23, 59, 0, 0, time.UTC),
		Recovery:    [][]byte{{1}, {2, 3}},
		Next:        &totp.NextKey{Secret: []byte{9, 0, 8}, Algorithm: totp.SHA256, Digits: 6, Enrolled: time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)},
	}
	want := *in
	wantNext := *in.Next
	require.True(t, swap(t, s, a, 0, in))
	out, _ := mustLoad(t, s, a)
	require.NotNil(t, out.Next, "Next is lost")
	require.True(t, want.LockedUntil.Equal(out.LockedUntil), "LockedUntil: got %v, want %v", out.LockedUntil, want.LockedUntil)
	require.True(t, want.Enrolled.Equal(out.Enrolled), "Enrolled: got %v, want %v", out.Enrolled, want.Enrolled)
	require.True(t, wantNext.Enrolled.Equal(out.Next.Enrolled), "Next.Enrolled: got %v, want %v", out.Next.Enrolled, wantNext.Enrolled)
	out.LockedUntil, out.Enrolled, out.Next.Enrolled, out.Version = want.LockedUntil, want.Enrolled, wantNext.Enrolled, 0
	want.Next = &wantNext
	require.Equal(t, &want, out)
}

// concurrent: of many swaps from the same version at once, exactly one
// wins. This is what makes a TOTP code usable once across servers.
func concurrent(t tb, s totp.Store) {
	t.Helper()
	a := Prefix + "concurrent"
	require.True(t, swap(t, s, a, 0, &totp.Record{Digits: 6}))
	_, v := mustLoad(t, s, a)
	const n = 50
	var wins atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			ok, err := s.CompareAndSwap(context.Background(), a, v, &totp.Record{Digits: 6, Failures: i + 1})
			if err == nil && ok {
				wins.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	require.Equal(t, int32(1), wins.Load(), "of %d swaps from one version, exactly one must win", n)
	r, _ := mustLoad(t, s, a)
	require.NotZero(t, r.Failures, "the winner's record is stored")
}

// canceled: a Store honours its context; a canceled call reports an error
// that matches context.Canceled, and changes nothing.
func canceled(t tb, s totp.Store) {
	t.Helper()
	a := Prefix + "canceled"
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Load(ctx, a)
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.CompareAndSwap(ctx, a, 0, &totp.Record{Digits: 6})
	require.ErrorIs(t, err, context.Canceled)
	r, _ := load(t, s, a)
	require.Nil(t, r, "a canceled swap must change nothing")
}
