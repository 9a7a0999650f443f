package idset

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func randomID(r *rand.Rand) ID {
	var id ID
	for i := range id {
		id[i] = byte(r.Uint32())
	}
	return id
}

// TestAgainstMap puts, overwrites and looks up IDs in a Set and in a Go map
// side by side, through many rebuilds, and requires the same answers.
func TestAgainstMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var s Set
	want := map[ID]int64{}
	var ids []ID
	for i := range 20000 {
		var id ID
		if i%5 == 4 && len(ids) > 0 {
			id = ids[r.IntN(len(ids))] // overwrite
		} else {
			id = randomID(r)
			ids = append(ids, id)
		}
		v := r.Int64N(MaxValue + 1)
		if i%7 == 0 {
			v = 0
		}
		s.Put(id, v, nil)
		want[id] = v
		require.Equal(t, len(want), s.Len())
	}
	for id, v := range want {
		got, ok := s.Get(id)
		require.True(t, ok)
		require.Equal(t, v, got)
	}
	for range 1000 {
		_, ok := s.Get(randomID(r))
		require.False(t, ok)
	}
	got := map[ID]int64{}
	for id, v := range s.All() {
		got[id] = v
	}
	require.Equal(t, want, got)
	require.LessOrEqual(t, 4*s.Len(), 3*len(s.slots), "never more than three quarters full")
}

// TestRebuildDrops: entries keep refuses are dropped when the array grows,
// and the array shrinks to fit what is left.
func TestRebuildDrops(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var s Set
	var old []ID
	for range 1000 {
		id := randomID(r)
		old = append(old, id)
		s.Put(id, 10, nil)
	}
	permanent := randomID(r)
	s.Put(permanent, 0, nil)
	keep := func(v int64) bool { return v == 0 || v > 10 }
	for range 1100 {
		s.Put(randomID(r), 20, keep)
	}
	require.Equal(t, 1101, s.Len(), "the 1000 entries of value 10 are gone")
	for _, id := range old {
		_, ok := s.Get(id)
		require.False(t, ok)
	}
	v, ok := s.Get(permanent)
	require.True(t, ok)
	require.Equal(t, int64(0), v)

	// Everything dropped: the array shrinks.
	big := len(s.slots)
	none := func(int64) bool { return false }
	for range 3 * big {
		s.Put(randomID(r), 30, none)
	}
	require.Less(t, len(s.slots), big)
}

func TestValues(t *testing.T) {
	var s Set
	ids := []ID{{1}, {2}, {3}}
	for i, v := range []int64{0, 1, MaxValue} {
		s.Put(ids[i], v, nil)
		got, ok := s.Get(ids[i])
		require.True(t, ok)
		require.Equal(t, v, got)
	}
	_, ok := s.Get(ID{})
	require.False(t, ok, "the zero ID is an ID like any other, and absent")
	s.Put(ID{}, 5, nil)
	v, ok := s.Get(ID{})
	require.True(t, ok)
	require.Equal(t, int64(5), v)
	require.Panics(t, func() { s.Put(ID{9}, -1, nil) })
	require.Panics(t, func() { s.Put(ID{9}, MaxValue+1, nil) })

	var empty Set
	_, ok = empty.Get(ID{1})
	require.False(t, ok)
	for range empty.All() {
		t.Fatal("an empty set yields nothing")
	}
}

func TestGrow(t *testing.T) {
	var s Set
	s.Grow(1000)
	n := len(s.slots)
	r := rand.New(rand.NewPCG(5, 6))
	for range 1000 {
		s.Put(randomID(r), 1, nil)
	}
	require.Equal(t, n, len(s.slots), "no rebuild after Grow")
}

func BenchmarkGetMiss(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	var s Set
	for range 1 << 20 {
		s.Put(randomID(r), 1, nil)
	}
	probe := make([]ID, 1<<12)
	for i := range probe {
		probe[i] = randomID(r)
	}
	i := 0
	for b.Loop() {
		s.Get(probe[i&(len(probe)-1)])
		i++
	}
}
