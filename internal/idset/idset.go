// Package idset is a compact hash map from 128-bit token IDs (jti) to the
// expiry of their token: the memory behind a revocation list that holds
// millions of IDs.
//
// A slot is 21 bytes (the ID and a 40-bit value), in one flat array with
// linear probing. The array is rebuilt when it is three quarters full, and
// the rebuild drops the entries the caller no longer needs (expired
// tokens) and leaves it half full, so an entry costs 28 to 42 bytes and a
// list that has shrunk gives its memory back. Go's map[[16]byte]int64 costs
// 35 to 57 bytes an entry and never shrinks.
//
// Positions come from a hash with a random per-set seed (hash/maphash), so
// whoever chooses the IDs cannot make them collide. A Set is not safe for
// concurrent use; its owner locks.
package idset

import (
	"hash/maphash"
	"iter"
	"math/bits"
)

// ID is a token ID: the 16 bytes its jti encodes.
type ID = [16]byte

// MaxValue is the largest value a Set holds: 2^40 − 2, beyond any
// NumericDate up to the year 9999 (253402300799).
const MaxValue = 1<<40 - 2

// minSlots is the smallest array a Set allocates.
const minSlots = 16

// slot holds an ID and its value plus one, little-endian; a value field of
// zero marks an empty slot. Both fields are byte arrays, so a slot has no
// padding.
type slot struct {
	id ID
	v  [5]byte
}

func (s *slot) empty() bool { return s.v == [5]byte{} }

func (s *slot) value() int64 {
	return int64(s.v[0]) | int64(s.v[1])<<8 | int64(s.v[2])<<16 | int64(s.v[3])<<24 | int64(s.v[4])<<32 - 1
}

func (s *slot) set(id ID, v int64) {
	v++
	s.id = id
	s.v = [5]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24), byte(v >> 32)}
}

// Set maps IDs to values in 0..MaxValue. The zero value is empty and ready
// to use.
type Set struct {
	seed  maphash.Seed
	slots []slot
	n     int
}

// Len returns the number of entries.
func (s *Set) Len() int { return s.n }

// home is the slot where id's probe sequence starts.
func (s *Set) home(id *ID) int {
	hi, _ := bits.Mul64(maphash.Comparable(s.seed, *id), uint64(len(s.slots)))
	return int(hi)
}

// Get returns id's value and whether the set holds id.
func (s *Set) Get(id ID) (int64, bool) {
	if s.n == 0 {
		return 0, false
	}
	for i := s.home(&id); ; i++ {
		if i == len(s.slots) {
			i = 0
		}
		sl := &s.slots[i]
		if sl.empty() {
			return 0, false
		}
		if sl.id == id {
			return sl.value(), true
		}
	}
}

// Put sets id's value to v. When the array must grow, Put first drops every
// entry whose value keep refuses (keep nil keeps all). It panics if v is
// outside 0..MaxValue.
func (s *Set) Put(id ID, v int64, keep func(v int64) bool) {
	if v < 0 || v > MaxValue {
		panic("idset: value out of range")
	}
	if sl := s.find(id); sl != nil {
		sl.set(id, v)
		return
	}
	if 4*(s.n+1) > 3*len(s.slots) {
		s.rebuild(keep, 1)
	}
	s.insert(id, v)
}

// find returns id's slot, or nil.
func (s *Set) find(id ID) *slot {
	if s.n == 0 {
		return nil
	}
	for i := s.home(&id); ; i++ {
		if i == len(s.slots) {
			i = 0
		}
		sl := &s.slots[i]
		if sl.empty() {
			return nil
		}
		if sl.id == id {
			return sl
		}
	}
}

// insert adds id, which the set does not hold, to an array with room.
func (s *Set) insert(id ID, v int64) {
	for i := s.home(&id); ; i++ {
		if i == len(s.slots) {
			i = 0
		}
		if sl := &s.slots[i]; sl.empty() {
			sl.set(id, v)
			s.n++
			return
		}
	}
}

// Grow makes room for n more entries without a rebuild.
func (s *Set) Grow(n int) {
	if 4*(s.n+n) > 3*len(s.slots) {
		s.rebuild(nil, n)
	}
}

// rebuild moves the entries that keep accepts to a new array, half full
// once extra more entries are added.
func (s *Set) rebuild(keep func(int64) bool, extra int) {
	old := s.slots
	live := 0
	for i := range old {
		if !old[i].empty() && (keep == nil || keep(old[i].value())) {
			live++
		}
	}
	if s.slots == nil {
		s.seed = maphash.MakeSeed()
	}
	s.slots, s.n = make([]slot, max(minSlots, 2*(live+extra))), 0
	for i := range old {
		if sl := &old[i]; !sl.empty() {
			if v := sl.value(); keep == nil || keep(v) {
				s.insert(sl.id, v)
			}
		}
	}
}

// All yields every entry, in no particular order. The set must not change
// during the iteration.
func (s *Set) All() iter.Seq2[ID, int64] {
	return func(yield func(ID, int64) bool) {
		for i := range s.slots {
			if sl := &s.slots[i]; !sl.empty() && !yield(sl.id, sl.value()) {
				return
			}
		}
	}
}
