// Package storetest checks that a totp.Store keeps its contract. Every
// Store implementation's tests run it.
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

// Run checks the Store contract on s, which must be empty.
func Run(t *testing.T, s totp.Store) {
	t.Run("CompareAndSwap", func(t *testing.T) { compareAndSwap(t, s) })
	t.Run("RoundTrip", func(t *testing.T) { roundTrip(t, s) })
	t.Run("Concurrent", func(t *testing.T) { concurrent(t, s) })
	t.Run("Canceled", func(t *testing.T) { canceled(t, s) })
}

func load(t *testing.T, s totp.Store, account string) (*totp.Record, uint64) {
	t.Helper()
	r, err := s.Load(context.Background(), account)
	if err != nil {
		require.ErrorIs(t, err, totp.ErrNotEnrolled)
		return nil, 0
	}
	require.NotZero(t, r.Version)
	return r, r.Version
}

func swap(t *testing.T, s totp.Store, account string, old uint64, next *totp.Record) bool {
	t.Helper()
	ok, err := s.CompareAndSwap(context.Background(), account, old, next)
	require.NoError(t, err)
	return ok
}

func compareAndSwap(t *testing.T, s totp.Store) {
	const a = "cas"
	r, v0 := load(t, s, a)
	require.Nil(t, r)
	require.False(t, swap(t, s, a, 1, &totp.Record{Digits: 6}), "no record: only version 0 matches")
	require.True(t, swap(t, s, a, 0, &totp.Record{Digits: 6, Secret: []byte{1}}))
	require.Zero(t, v0)
	r, v1 := load(t, s, a)
	require.Equal(t, []byte{1}, r.Secret)

	// Loaded records are copies.
	r.Secret[0], r.Digits = 9, 8
	again, _ := load(t, s, a)
	require.Equal(t, []byte{1}, again.Secret)
	require.Equal(t, 6, again.Digits)

	require.False(t, swap(t, s, a, 0, &totp.Record{}), "exists: version 0 loses")
	require.True(t, swap(t, s, a, v1, &totp.Record{Digits: 8}))
	require.False(t, swap(t, s, a, v1, &totp.Record{Digits: 6}), "stale version loses")
	r, v2 := load(t, s, a)
	require.Equal(t, 8, r.Digits)
	require.NotEqual(t, v1, v2)

	// Delete, then create again: versions are never reused, so a server
	// still holding v1 or v2 cannot overwrite the new record.
	require.True(t, swap(t, s, a, v2, nil))
	r, v := load(t, s, a)
	require.Nil(t, r)
	require.Zero(t, v)
	require.False(t, swap(t, s, a, v2, &totp.Record{}), "a deleted record's version loses")
	for range 3 {
		_, v := load(t, s, a)
		require.True(t, swap(t, s, a, v, &totp.Record{Digits: 6}))
	}
	_, v5 := load(t, s, a)
	require.NotContains(t, []uint64{v1, v2}, v5)
	require.False(t, swap(t, s, a, v1, nil))
	require.False(t, swap(t, s, a, v2, nil))
	require.True(t, swap(t, s, a, v5, nil))

	// Accounts are separate.
	require.True(t, swap(t, s, "cas-a", 0, &totp.Record{Digits: 6}))
	r, _ = load(t, s, "cas-b")
	require.Nil(t, r)
}

func roundTrip(t *testing.T, s totp.Store) {
	const a = "round trip: ü@example.com"
	in := &totp.Record{
		Secret: []byte{1, 2, 3, 0, 255}, Algorithm: totp.SHA512, Digits: 8, Confirmed: true,
		LastStep: 58907520, Drift: -2, Failures: 3,
		LockedUntil: time.Date(2026, 1, 1, 0, 1, 2, 345_000_000, time.UTC),
		Enrolled:    time.Date(2025, 12, 31, 23, 59, 0, 0, time.UTC),
		Recovery:    [][]byte{{1}, {2, 3}},
		Next:        &totp.NextKey{Secret: []byte{9, 0, 8}, Algorithm: totp.SHA256, Digits: 6, Enrolled: time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)},
	}
	require.True(t, swap(t, s, a, 0, in))
	out, _ := load(t, s, a)
	require.True(t, in.LockedUntil.Equal(out.LockedUntil))
	require.True(t, in.Enrolled.Equal(out.Enrolled))
	require.True(t, in.Next.Enrolled.Equal(out.Next.Enrolled))
	out.LockedUntil, out.Enrolled, out.Next.Enrolled, out.Version = in.LockedUntil, in.Enrolled, in.Next.Enrolled, 0
	require.Equal(t, in, out)
}

// concurrent: of N swaps from the same version, exactly one wins.
func concurrent(t *testing.T, s totp.Store) {
	const a = "concurrent"
	require.True(t, swap(t, s, a, 0, &totp.Record{Digits: 6}))
	_, v := load(t, s, a)
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			ok, err := s.CompareAndSwap(context.Background(), a, v, &totp.Record{Digits: 6, Failures: i})
			if err == nil && ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	require.Equal(t, int32(1), wins.Load())
}

func canceled(t *testing.T, s totp.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Load(ctx, "x")
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.CompareAndSwap(ctx, "x", 0, &totp.Record{})
	require.ErrorIs(t, err, context.Canceled)
}
