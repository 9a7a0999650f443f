package idset

import (
	"math/bits"
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

// TestFilterNoFalseNegative keeps a Set and a Go map side by side through
// growth, overwrites and rebuilds that drop entries (as expiry does), and
// after every step requires every ID of the map to be found with its value
// — the filter must never turn away an ID the set holds — and every
// dropped ID to be absent.
func TestFilterNoFalseNegative(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	var s Set
	want := map[ID]int64{}
	var ids []ID
	now := int64(100)
	keep := func(v int64) bool { return v == 0 || v > now }
	check := func() {
		t.Helper()
		for id, v := range want {
			got, ok := s.Get(id)
			require.True(t, ok, "an ID the set holds is not found")
			require.Equal(t, v, got)
		}
	}
	rebuilds := 0
	for step := range 30000 {
		if step%3000 == 2999 {
			now += 50 // time passes: entries up to now may be dropped
			check()
		}
		var id ID
		if step%6 == 5 && len(ids) > 0 {
			id = ids[r.IntN(len(ids))]
		} else {
			id = randomID(r)
			ids = append(ids, id)
		}
		v := now + 1 + r.Int64N(400)
		if step%11 == 0 {
			v = 0
		}
		before := len(s.slots)
		s.Put(id, v, keep)
		want[id] = v
		if len(s.slots) != before {
			rebuilds++
			// A rebuild drops what keep refuses; the map does likewise.
			for k, kv := range want {
				if !keep(kv) {
					delete(want, k)
				}
			}
			check()
		}
		require.Equal(t, len(want), s.Len())
	}
	check()
	require.Greater(t, rebuilds, 10)
	for _, id := range ids {
		if _, ok := want[id]; !ok {
			_, found := s.Get(id)
			require.False(t, found, "a dropped ID is still found")
		}
	}
}

// FuzzFilter inserts the IDs cut from the input into a Set, one in three
// at once after a Grow, and requires each to be found, then requires a Go
// map's answers for every ID.
func FuzzFilter(f *testing.F) {
	f.Add([]byte("0123456789abcdef0123456789abcdeX"))
	f.Add(make([]byte, 16*40))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Set
		want := map[ID]int64{}
		for i := 0; i+16 <= len(b); i += 16 {
			id := ID(b[i : i+16])
			if i%48 == 0 {
				s.Grow(3)
			}
			s.Put(id, int64(i), nil)
			want[id] = int64(i)
			if v, ok := s.Get(id); !ok || v != int64(i) {
				t.Fatalf("ID %d not found after Put", i/16)
			}
		}
		for id, v := range want {
			if got, ok := s.Get(id); !ok || got != v {
				t.Fatal("an ID the set holds is not found")
			}
		}
		// Flipping a byte of an ID gives one the set holds or an absent
		// one: the answer must match the map's.
		for id := range want {
			id[0] ^= 0x80
			_, ok := s.Get(id)
			_, in := want[id]
			if ok != in {
				t.Fatal("the set and the map disagree")
			}
		}
	})
}

// TestFilterFilters: the filter turns away nearly all absent IDs at every
// fill of the array, so that a lookup that finds nothing rarely reaches
// the array.
func TestFilterFilters(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	var s Set
	for n := range 200_000 {
		s.Put(randomID(r), 1, nil)
		if n%25_000 != 24_999 {
			continue
		}
		passed := 0
		const probes = 20_000
		for range probes {
			id := randomID(r)
			if s.mayHold(s.hash(&id)) {
				passed++
			}
		}
		fill := float64(s.Len()) / float64(len(s.slots))
		t.Logf("%d entries, array %.2f full: %.2f%% of absent IDs pass the filter", s.Len(), fill, 100*float64(passed)/probes)
		require.Less(t, passed, probes*3/100, "more than 3%% of absent IDs pass")
	}
}

// TestFilterSeeded: two sets of the same IDs place them in different
// filter blocks, so IDs chosen against one set's layout do not crowd one
// block of another's.
func TestFilterSeeded(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	var a, b Set
	var ids []ID
	for range 1000 {
		id := randomID(r)
		ids = append(ids, id)
		a.Put(id, 1, nil)
		b.Put(id, 1, nil)
	}
	require.Equal(t, len(a.filter), len(b.filter))
	same := 0
	for _, id := range ids {
		ia, _ := bits.Mul64(a.hash(&id), uint64(len(a.filter)))
		ib, _ := bits.Mul64(b.hash(&id), uint64(len(b.filter)))
		if ia == ib {
			same++
		}
	}
	require.Less(t, same, len(ids)/4, "the blocks do not depend on the seed")

	// An attacker who knows one set's layout and sends IDs that all land
	// in one of its blocks spreads them over the other set's blocks.
	var target []ID
	for len(target) < 200 {
		id := randomID(r)
		if i, _ := bits.Mul64(a.hash(&id), uint64(len(a.filter))); i == 0 {
			target = append(target, id)
		}
	}
	hit := map[uint64]int{}
	for _, id := range target {
		i, _ := bits.Mul64(b.hash(&id), uint64(len(b.filter)))
		hit[i]++
	}
	most := 0
	for _, c := range hit {
		most = max(most, c)
	}
	require.Less(t, most, 20, "IDs aimed at one block of one set crowd a block of another")
}

func BenchmarkGetHit(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	var s Set
	probe := make([]ID, 1<<12)
	for i := range 1 << 20 {
		id := randomID(r)
		s.Put(id, 1, nil)
		if i%256 == 0 {
			probe[i/256] = id
		}
	}
	i := 0
	for b.Loop() {
		if _, ok := s.Get(probe[i&(len(probe)-1)]); !ok {
			b.Fatal("not found")
		}
		i++
	}
}

// TestPutAll: PutAll leaves the set as Puts one after the other with the
// same rule would (here: the larger value wins), reports exactly the
// entries that changed it, drops what keep refuses when it grows, and
// refuses an out-of-range value before changing anything.
func TestPutAll(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	larger := func(old, new int64) bool { return new > old }
	for _, n := range []int{0, 1, 15, 16, 1000, 200000} { // 200000: several chunks
		var s Set
		want := map[ID]int64{}
		var held []ID
		for range n / 2 {
			id := randomID(r)
			v := r.Int64N(1000)
			s.Put(id, v, nil)
			want[id] = v
			held = append(held, id)
		}
		ents := make([]Entry, 0, n)
		var batch Batch
		for i := range n {
			var id ID
			switch {
			case i%3 == 0 && len(held) > 0:
				id = held[r.IntN(len(held))] // held already
			case i%7 == 0 && len(ents) > 0:
				id = ents[r.IntN(len(ents))].ID // twice in ents
			default:
				id = randomID(r)
			}
			ents = append(ents, Entry{id, r.Int64N(1000)})
			batch.Add(ents[len(ents)-1])
		}
		require.Equal(t, n, batch.Len())
		wantChanged := 0
		for _, e := range ents {
			if old, ok := want[e.ID]; !ok || e.Value > old {
				want[e.ID] = e.Value
				wantChanged++
			}
		}
		changed := 0
		s.PutAll(&batch, nil, larger, func(e Entry) {
			changed++
			require.GreaterOrEqual(t, want[e.ID], e.Value)
		})
		// Duplicates within ents are reported once or twice depending on
		// their order, so count only those that must change the set.
		require.GreaterOrEqual(t, changed, wantChanged-n/7-1, "n=%d", n)
		require.Equal(t, len(want), s.Len(), "n=%d", n)
		for id, v := range want {
			got, ok := s.Get(id)
			require.True(t, ok)
			require.Equal(t, v, got)
		}
		require.LessOrEqual(t, 4*s.Len(), 3*len(s.slots))
	}

	// Exactly the changes, when ents has no duplicates.
	var s Set
	a, b, c := randomID(r), randomID(r), randomID(r)
	s.Put(a, 5, nil)
	s.Put(b, 5, nil)
	var got []Entry
	s.PutAll(batchOf(Entry{a, 4}, Entry{b, 6}, Entry{c, 1}), nil, larger, func(e Entry) { got = append(got, e) })
	require.ElementsMatch(t, []Entry{{b, 6}, {c, 1}}, got)

	// keep drops entries when PutAll grows the array.
	var d Set
	for range 12 {
		d.Put(randomID(r), 1, nil) // dead
	}
	d.PutAll(batchOf(Entry{randomID(r), 2}, Entry{randomID(r), 2}, Entry{randomID(r), 2}, Entry{randomID(r), 2}, Entry{randomID(r), 2}), func(v int64) bool { return v != 1 }, larger, nil)
	require.Equal(t, 5, d.Len())

	// An out-of-range value: a panic, and nothing changed.
	require.Panics(t, func() { s.PutAll(batchOf(Entry{randomID(r), 1}, Entry{randomID(r), MaxValue + 1}), nil, larger, nil) })
	require.Equal(t, 3, s.Len())
}

func batchOf(ents ...Entry) *Batch {
	var b Batch
	for _, e := range ents {
		b.Add(e)
	}
	return &b
}
