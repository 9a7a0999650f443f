// Package idset is a compact hash map from 128-bit token IDs (jti) to the
// expiry of their token: the memory behind a revocation list that holds
// millions of IDs.
//
// A slot is 21 bytes (the ID and a 40-bit value), in one flat array with
// linear probing. The array is rebuilt when it is three quarters full, and
// the rebuild drops the entries the caller no longer needs (expired
// tokens) and leaves it half full, so the array costs 28 to 42 bytes an
// entry and a list that has shrunk gives its memory back. Go's
// map[[16]byte]int64 costs 35 to 57 bytes an entry and never shrinks.
//
// Beside the array, a blocked Bloom filter answers most lookups of an
// absent ID without touching the array: an ID has eight bits set, all in
// one 64-byte block chosen by its hash (a cache line: a large filter is
// page-aligned), one byte of filter per slot, so 11 to 16 bits per entry
// and about one absent ID in a hundred or fewer passes the filter and is
// looked up in the array. The filter of a million entries is about 1.6 MB
// and stays in the CPU's cache where the array (about 34 MB) does not: a
// lookup that finds nothing costs one near memory read instead of a far
// one. The filter has no false negatives: every entry's bits are set when
// it is inserted and the filter is rebuilt with the array, so a Get of an
// ID the set holds always reaches the array. An entry costs 1.3 to 2 bytes
// more, 29 to 44 bytes in all.
//
// PutAll puts a Batch of entries at once (a list loaded whole from a
// shared store, or another set merged in): it sizes the array once and
// inserts in the order of the hashes, so that it walks the array and the
// filter from one end to the other instead of missing the cache on every
// entry.
//
// Positions in the array and in the filter come from a hash with a random
// per-set seed (hash/maphash), so whoever chooses the IDs cannot make them
// collide in the array or aim them at one block of the filter. A Set is
// not safe for concurrent use; its owner locks.
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
	seed   maphash.Seed
	slots  []slot
	filter []block // one bit in eight set per slot; its length is blocks(len(slots))
	n      int
}

// block is one block of the Bloom filter: 512 bits, a cache line.
type block [8]uint64

// blocks is the number of filter blocks for an array of n slots: one byte
// of filter per slot.
func blocks(n int) int { return (n + 63) / 64 }

// bloomSalt holds odd constants that spread the low 32 bits of an ID's
// hash over one bit in each word of a block (the split block Bloom
// filter of Apache Parquet, with 64-bit words).
var bloomSalt = [8]uint32{
	0x47b6137b, 0x44974d91, 0x8824ad5b, 0xa2b7289d,
	0x705495c7, 0x2df1424b, 0x9efc4947, 0x5c6bfb31,
}

// mask is the pattern of bits hash h sets in its block: one bit in each
// word, chosen by the low 32 bits of h (the block is chosen by the high
// bits).
func mask(h uint64) block {
	var m block
	x := uint32(h)
	for i := range m {
		m[i] = 1 << ((x * bloomSalt[i]) >> 26)
	}
	return m
}

// blockOf returns the filter block of hash h.
func (s *Set) blockOf(h uint64) *block {
	i, _ := bits.Mul64(h, uint64(len(s.filter)))
	return &s.filter[i]
}

// mayHold reports whether the filter lets hash h through: false means the
// set certainly does not hold the ID.
func (s *Set) mayHold(h uint64) bool {
	b, m := s.blockOf(h), mask(h)
	return b[0]&m[0] != 0 && b[1]&m[1] != 0 && b[2]&m[2] != 0 && b[3]&m[3] != 0 &&
		b[4]&m[4] != 0 && b[5]&m[5] != 0 && b[6]&m[6] != 0 && b[7]&m[7] != 0
}

// addFilter sets hash h's bits in the filter.
func (s *Set) addFilter(h uint64) {
	b, m := s.blockOf(h), mask(h)
	for i := range b {
		b[i] |= m[i]
	}
}

// Len returns the number of entries.
func (s *Set) Len() int { return s.n }

// hash is id's hash under the set's seed.
func (s *Set) hash(id *ID) uint64 { return maphash.Comparable(s.seed, *id) }

// home is the slot where the probe sequence of the ID with hash h starts.
func (s *Set) home(h uint64) int {
	hi, _ := bits.Mul64(h, uint64(len(s.slots)))
	return int(hi)
}

// Get returns id's value and whether the set holds id.
func (s *Set) Get(id ID) (int64, bool) {
	if s.n == 0 {
		return 0, false
	}
	h := s.hash(&id)
	if !s.mayHold(h) {
		return 0, false
	}
	for i := s.home(h); ; i++ {
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

// Entry is an ID and its value.
type Entry struct {
	ID    ID
	Value int64
}

// chunkLen is the most entries a chunk of a Batch holds.
const chunkLen = 1 << 16

// Batch gathers entries for PutAll. It keeps them in chunks rather than
// one slice, so that gathering a million (24 MB) copies none of them. The
// zero value is empty and ready to use.
type Batch struct {
	chunks [][]Entry
	n      int
}

// Add appends e to the batch.
func (b *Batch) Add(e Entry) {
	if k := len(b.chunks); k == 0 || len(b.chunks[k-1]) == cap(b.chunks[k-1]) {
		size := 1024
		if k > 0 {
			size = min(2*cap(b.chunks[k-1]), chunkLen)
		}
		b.chunks = append(b.chunks, make([]Entry, 0, size))
	}
	c := &b.chunks[len(b.chunks)-1]
	*c = append(*c, e)
	b.n++
}

// Len returns the number of entries in the batch.
func (b *Batch) Len() int { return b.n }

// PutAll puts every entry of b, as Put would one after the other, except
// that an ID already held keeps its value unless replace(old, new) reports
// true. It calls changed (if not nil) for each entry that was added or
// replaced a value. It panics, before changing anything, if a value is
// outside 0..MaxValue.
//
// It makes room for all of b at once and visits the entries in the order
// of their hashes, so that it walks the array and the filter from one end
// to the other rather than jumping about them: for a million entries, far
// fewer cache and TLB misses than as many Puts. The calls to changed come
// in that order too.
func (s *Set) PutAll(b *Batch, keep func(int64) bool, replace func(old, new int64) bool, changed func(Entry)) {
	for _, c := range b.chunks {
		for _, e := range c {
			if e.Value < 0 || e.Value > MaxValue {
				panic("idset: value out of range")
			}
		}
	}
	if b.n == 0 {
		return
	}
	if 4*(s.n+b.n) > 3*len(s.slots) {
		s.rebuild(keep, b.n)
	}
	// Sort by the top 16 bits of the hash (a counting sort): the array
	// and the filter are laid out in the order of the hashes. An entry is
	// named by its chunk and its place in it, 16 bits each.
	var start [1<<16 + 1]uint32
	for _, c := range b.chunks {
		for i := range c {
			start[s.hash(&c[i].ID)>>48+1]++
		}
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	order := make([]uint32, b.n)
	for k, c := range b.chunks {
		for i := range c {
			p := s.hash(&c[i].ID) >> 48
			order[start[p]] = uint32(k)<<16 | uint32(i)
			start[p]++
		}
	}
	for _, o := range order {
		e := b.chunks[o>>16][o&0xffff]
		h := s.hash(&e.ID)
		if sl := s.findHashed(e.ID, h); sl != nil {
			if !replace(sl.value(), e.Value) {
				continue
			}
			sl.set(e.ID, e.Value)
		} else {
			s.insertHashed(e.ID, h, e.Value)
		}
		if changed != nil {
			changed(e)
		}
	}
}

// find returns id's slot, or nil.
func (s *Set) find(id ID) *slot {
	if s.n == 0 {
		return nil
	}
	return s.findHashed(id, s.hash(&id))
}

// findHashed returns the slot of id, whose hash is h, or nil.
func (s *Set) findHashed(id ID, h uint64) *slot {
	if s.n == 0 || !s.mayHold(h) {
		return nil
	}
	for i := s.home(h); ; i++ {
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
func (s *Set) insert(id ID, v int64) { s.insertHashed(id, s.hash(&id), v) }

// insertHashed adds id, whose hash is h and which the set does not hold,
// to an array with room.
func (s *Set) insertHashed(id ID, h uint64, v int64) {
	s.addFilter(h)
	for i := s.home(h); ; i++ {
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
// once extra more entries are added, and builds a new filter of them: the
// dropped entries leave the filter too.
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
	s.filter = make([]block, blocks(len(s.slots)))
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
