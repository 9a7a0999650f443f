package redisrevoke

import (
	"crypto/rand"
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/token"
)

// TestTable: the sorted table answers as a map would, for every size
// around the thresholds, with duplicates, and with IDs at both ends of
// the index (0x0000… and 0xffff…).
func TestTable(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for _, n := range []int{0, 1, 7, 9, 100, 1023, 1024, 5000, 70000} {
		want := map[id]uint32{}
		var ents []entry
		for i := range n {
			var k id
			rand.Read(k[:])
			switch i % 5 {
			case 0:
				k[0], k[1] = 0xff, 0xff
			case 1:
				k[0], k[1] = 0, 0
			}
			exp := uint32(1_800_000_000 + mrand.IntN(1000))
			if i%7 == 0 {
				exp = 0
			}
			ents = append(ents, entry{k, exp})
			if i%3 == 0 { // a duplicate with another expiry
				ents = append(ents, entry{k, exp + 5})
				if exp != 0 {
					exp += 5
				}
			}
			want[k] = exp
		}
		tb := newTable(sortEntries(ents))
		require.Equal(t, len(want), tb.len())
		for k, exp := range want {
			got, ok := tb.lookup(&k)
			require.True(t, ok)
			require.Equal(t, exp, got)
		}
		for range 100 {
			var k id
			rand.Read(k[:])
			_, ok := tb.lookup(&k)
			require.False(t, ok)
		}

		// Merging with itself changes nothing and reports nothing missing.
		merged := merge(tb.ents, tb.ents, now, func(entry) { t.Fatal("nothing is missing") })
		require.Len(t, merged, len(tb.ents))
		if n > 0 {
			require.Equal(t, tb.ents, merged)
		}
	}
}

// TestMerge: the later expiry wins, dead entries go, and what only the
// first side has (or has later) is reported.
func TestMerge(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	k := func(b byte) id { return id{b} }
	a := []entry{{k(1), 0}, {k(2), 1_800_000_100}, {k(3), 1_800_000_050}, {k(5), 1_700_000_000}}
	b := []entry{{k(2), 1_800_000_050}, {k(3), 1_800_000_100}, {k(4), 0}}
	var missing []entry
	got := merge(a, b, now, func(e entry) { missing = append(missing, e) })
	require.Equal(t, []entry{{k(1), 0}, {k(2), 1_800_000_100}, {k(3), 1_800_000_100}, {k(4), 0}}, got)
	require.Equal(t, []entry{{k(1), 0}, {k(2), 1_800_000_100}}, missing)
}

func TestParseID(t *testing.T) {
	var k id
	rand.Read(k[:])
	s := formatID(k)
	got, ok := parseID(s)
	require.True(t, ok)
	require.Equal(t, k, got)
	for _, bad := range []string{"", s[:21], s + "A", s[:21] + "=", s[:21] + "B", "AAAAAAAAAAAAAAAAAAAA\nA"} {
		// "…B" sets padding bits: not canonical.
		if bad == s {
			continue
		}
		_, ok := parseID(bad)
		require.False(t, ok, "%q", bad)
	}
}

// TestParseBuckets: parsing buckets gives what sorting their live records
// gives, dead records dropped and duplicates merged.
func TestParseBuckets(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	blobs := make([]string, 7)
	var live []entry
	for i := range 5000 {
		var e entry
		rand.Read(e.id[:])
		e.exp = uint32(1_800_000_000 + mrand.IntN(1000) - 600) // some dead
		if i%11 == 0 {
			e.exp = 0
		}
		b := i % len(blobs)
		if blobs[b] == "" {
			blobs[b] = "\x00\x00\x00\x00"
		}
		blobs[b] += record(e)
		if i%4 == 0 { // the same ID again, later, in the same bucket
			e2 := e
			if e2.exp != 0 {
				e2.exp += 100
			}
			blobs[b] += record(e2)
			e = e2
		}
		if e.exp == 0 || now.Before(time.Unix(int64(e.exp), 0).Add(token.Leeway)) {
			live = append(live, e)
		}
	}
	blobs = append(blobs, "", "abc") // missing and truncated buckets
	require.Equal(t, sortEntries(live), parseBuckets(blobs, now))
}
