package totp

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMemoryStore(t *testing.T) {
	ctx := context.Background()
	var s MemoryStore
	_, err := s.Load(ctx, "a")
	require.ErrorIs(t, err, ErrNotEnrolled)

	// Create only when absent.
	ok, err := s.CompareAndSwap(ctx, "a", 1, &Record{Digits: 6})
	require.NoError(t, err)
	require.False(t, ok)
	ok, err = s.CompareAndSwap(ctx, "a", 0, &Record{Digits: 6, Secret: []byte{1}, Recovery: [][]byte{{2}}})
	require.NoError(t, err)
	require.True(t, ok)
	r, err := s.Load(ctx, "a")
	require.NoError(t, err)
	require.NotZero(t, r.Version)
	v1 := r.Version

	// Loaded records are copies.
	r.Secret[0], r.Recovery[0][0], r.Digits = 9, 9, 8
	again, err := s.Load(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, []byte{1}, again.Secret)
	require.Equal(t, []byte{2}, again.Recovery[0])
	require.Equal(t, 6, again.Digits)

	// A stale version loses.
	ok, err = s.CompareAndSwap(ctx, "a", 0, &Record{})
	require.NoError(t, err)
	require.False(t, ok)
	ok, err = s.CompareAndSwap(ctx, "a", v1, &Record{Digits: 8})
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = s.CompareAndSwap(ctx, "a", v1, &Record{Digits: 6})
	require.NoError(t, err)
	require.False(t, ok)
	r, err = s.Load(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, 8, r.Digits)
	v2 := r.Version

	// Delete, then create again: versions are never reused, so a server
	// holding v2 cannot overwrite the new record.
	ok, err = s.CompareAndSwap(ctx, "a", v2, nil)
	require.NoError(t, err)
	require.True(t, ok)
	_, err = s.Load(ctx, "a")
	require.ErrorIs(t, err, ErrNotEnrolled)
	for range 3 {
		r, err := s.Load(ctx, "a")
		var v uint64
		if err == nil {
			v = r.Version
		}
		ok, err = s.CompareAndSwap(ctx, "a", v, &Record{Digits: 6})
		require.NoError(t, err)
		require.True(t, ok)
	}
	r, err = s.Load(ctx, "a")
	require.NoError(t, err)
	require.NotEqual(t, v1, r.Version)
	require.NotEqual(t, v2, r.Version)
	ok, err = s.CompareAndSwap(ctx, "a", v2, nil)
	require.NoError(t, err)
	require.False(t, ok)

	// A cancelled context fails.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = s.Load(cctx, "a")
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.CompareAndSwap(cctx, "a", r.Version, nil)
	require.ErrorIs(t, err, context.Canceled)
}
