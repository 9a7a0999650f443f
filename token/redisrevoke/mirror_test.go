package redisrevoke

import (
	"crypto/rand"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/token"
)

// TestEntryOf: a record holds the ID's 16 bytes and its token's expiry
// rounded up to the second, as token keeps it; none, or one beyond what 32
// bits hold, is kept as never.
func TestEntryOf(t *testing.T) {
	var k id
	rand.Read(k[:])
	s := formatID(k)
	for _, tc := range []struct {
		expires time.Time
		exp     uint32
	}{
		{time.Time{}, 0},
		{time.Unix(1_800_000_000, 0), 1_800_000_000},
		{time.Unix(1_800_000_000, 1), 1_800_000_001},
		{time.Unix(math.MaxUint32, 0), math.MaxUint32},
		{time.Unix(math.MaxUint32+1, 0), 0},
	} {
		e, ok := entryOf(s, tc.expires)
		require.True(t, ok)
		require.Equal(t, entry{k, tc.exp}, e, "%v", tc.expires)
		if tc.exp != 0 {
			require.Equal(t, time.Unix(int64(tc.exp), 0), expiryTime(e.exp))
		}
	}
	require.True(t, expiryTime(0).IsZero())
	_, ok := entryOf("not-an-id", time.Time{})
	require.False(t, ok)
}

// TestRecords: every whole record of every bucket, in order; a header
// alone, an empty value and a truncated record give nothing.
func TestRecords(t *testing.T) {
	var want []entry
	blobs := []string{"", "\x00\x00\x00\x00", "abc"}
	for b := range 3 {
		blob := "\x00\x00\x00\x07"
		for i := range 5 {
			var e entry
			rand.Read(e.id[:])
			e.exp = uint32(b*100 + i)
			want = append(want, e)
			blob += record(e)
		}
		blobs = append(blobs, blob+"truncated")
	}
	var got []entry
	for jti, expires := range records(blobs) {
		e, ok := entryOf(jti, expires)
		require.True(t, ok)
		if e.exp == 0 { // expiryTime(0) is never; the records here hold 0 only as "never"
			require.True(t, expires.IsZero())
		}
		got = append(got, e)
	}
	require.Equal(t, want, got)
	got = nil
	for jti, expires := range records(blobs) {
		e, _ := entryOf(jti, expires)
		got = append(got, e)
		if len(got) == 3 {
			break
		}
	}
	require.Equal(t, want[:3], got, "until the loop stops")
}

// TestStaleErrorMessage: a StaleError is token.ErrRevocationUnavailable,
// says when the mirror was last confirmed, and leaves the category to the
// caller, so token's Verify names it once.
func TestStaleErrorMessage(t *testing.T) {
	never := staleError(time.Time{})
	require.ErrorIs(t, never, token.ErrRevocationUnavailable)
	require.ErrorIs(t, never, errStale)
	require.NotErrorIs(t, never, token.ErrInvalid)
	require.Equal(t, "redisrevoke: revocation mirror not confirmed current: never synchronized with Redis", never.Error())
	at := time.Date(2026, 12, 7, 1, 2, 3, 0, time.FixedZone("x", 3600))
	require.Equal(t, "redisrevoke: revocation mirror not confirmed current: since 2026-12-07T00:02:03Z", staleError(at).Error())
	require.Equal(t, at, staleError(at).LastConfirmed)
}
