package redisrevoke

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"math/bits"
	"slices"
	"time"

	"github.com/latchsec/latch/token"
)

// A token ID is 128 random bits; the mirror keeps it as its 16 bytes, with
// the token's expiry packed beside it in 32 bits, so that a revoked ID
// costs about 20 bytes of memory.
type id = [16]byte

// entry is one revoked token ID in a table.
type entry struct {
	id  id
	exp uint32 // Unix seconds; 0: never
}

// expiry packs a Unix second for an entry. An expiry beyond 2106 is kept
// as never: longer, never shorter, than asked.
func expiry(unix int64) uint32 {
	if unix <= 0 || unix > math.MaxUint32 {
		return 0
	}
	return uint32(unix)
}

// later reports whether expiry a outlives b (0 is never).
func later(a, b uint32) bool { return b != 0 && (a == 0 || a > b) }

// live reports whether an entry for a token expiring at exp is still
// needed at t: the token could still verify.
func live(exp uint32, t time.Time) bool {
	return exp == 0 || t.Before(time.Unix(int64(exp), 0).Add(token.Leeway))
}

var idEncoding = base64.RawURLEncoding.Strict()

// parseID decodes a token ID: 22 characters of canonical base64url, as
// token accepts in jti.
func parseID(s string) (id, bool) {
	var b id
	if len(s) != 22 {
		return b, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return b, false
		}
	}
	n, err := idEncoding.Decode(b[:], []byte(s))
	return b, err == nil && n == len(b)
}

func formatID(b id) string { return idEncoding.EncodeToString(b[:]) }

func cmpID(a, b *id) int {
	if x, y := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8]); x != y {
		if x < y {
			return -1
		}
		return 1
	}
	x, y := binary.BigEndian.Uint64(a[8:]), binary.BigEndian.Uint64(b[8:])
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// table is an immutable set of revoked IDs: entries sorted by ID, and an
// index of where each run of IDs sharing their first bits starts. IDs are
// random, so each run holds a few entries and a lookup is one index read
// and a short binary search.
type table struct {
	ents  []entry
	shift uint     // 64 - index bits
	index []uint32 // ents[index[p]:index[p+1]] start with the bits p
}

// newTable indexes ents, which must be sorted by ID without duplicates.
func newTable(ents []entry) *table {
	b := 0
	if len(ents) > 8 {
		b = min(bits.Len(uint(len(ents)))-3, 16)
	}
	t := &table{ents: ents, shift: uint(64 - b), index: make([]uint32, 1<<b+1)}
	if b == 0 {
		t.shift = 0
	}
	p := 0
	for i := range ents {
		q := t.prefix(&ents[i].id)
		for p <= q {
			t.index[p] = uint32(i)
			p++
		}
	}
	for ; p < len(t.index); p++ {
		t.index[p] = uint32(len(ents))
	}
	return t
}

func (t *table) prefix(k *id) int {
	if t.shift == 0 {
		return 0
	}
	return int(binary.BigEndian.Uint64(k[:8]) >> t.shift)
}

// lookup returns the expiry of k and whether it is in the table.
func (t *table) lookup(k *id) (uint32, bool) {
	if t == nil || len(t.ents) == 0 {
		return 0, false
	}
	p := t.prefix(k)
	run := t.ents[t.index[p]:t.index[p+1]]
	i, ok := slices.BinarySearchFunc(run, k, func(e entry, k *id) int { return cmpID(&e.id, k) })
	if !ok {
		return 0, false
	}
	return run[i].exp, true
}

func (t *table) len() int {
	if t == nil {
		return 0
	}
	return len(t.ents)
}

// sortEntries sorts ents by ID and merges duplicates, keeping the later
// expiry, in place; it returns the shortened slice. It sorts by the
// first 16 bits first (IDs are random, so the runs are short), then each
// run.
func sortEntries(ents []entry) []entry {
	if len(ents) < 2 {
		return ents
	}
	if len(ents) < 1024 {
		slices.SortFunc(ents, byID)
		return dedupe(ents)
	}
	var start [1<<16 + 1]uint32
	for i := range ents {
		start[int(binary.BigEndian.Uint16(ents[i].id[:2]))+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	sorted := make([]entry, len(ents))
	next := start
	for _, e := range ents {
		p := binary.BigEndian.Uint16(e.id[:2])
		sorted[next[p]] = e
		next[p]++
	}
	copy(ents, sorted)
	return sortRuns(ents, &start)
}

func byID(a, b entry) int { return cmpID(&a.id, &b.id) }

// sortRuns sorts ents, already grouped by their first 16 bits (the group
// p is ents[start[p]:start[p+1]]), and merges duplicates.
func sortRuns(ents []entry, start *[1<<16 + 1]uint32) []entry {
	for p := range 1 << 16 {
		if run := ents[start[p]:start[p+1]]; len(run) > 1 {
			slices.SortFunc(run, byID)
		}
	}
	return dedupe(ents)
}

// dedupe merges adjacent entries of the same ID, keeping the later
// expiry, in place.
func dedupe(ents []entry) []entry {
	if len(ents) == 0 {
		return ents
	}
	out := ents[:1]
	for _, e := range ents[1:] {
		last := &out[len(out)-1]
		if last.id != e.id {
			out = append(out, e)
		} else if later(e.exp, last.exp) {
			last.exp = e.exp
		}
	}
	return out
}

// merge merges two sorted tables' entries, keeping the later expiry of an
// ID found in both and dropping entries no longer live at t. For every ID
// where a's expiry is later than b's (or b lacks it), it calls onlyA.
func merge(a, b []entry, t time.Time, onlyA func(entry)) []entry {
	if len(a) == 0 && all(b, t) {
		return b // a first synchronization: nothing to merge
	}
	out := make([]entry, 0, len(a)+len(b))
	keep := func(e entry) {
		if live(e.exp, t) {
			out = append(out, e)
		}
	}
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch c := cmpID(&a[i].id, &b[j].id); {
		case c < 0:
			if onlyA != nil && live(a[i].exp, t) {
				onlyA(a[i])
			}
			keep(a[i])
			i++
		case c > 0:
			keep(b[j])
			j++
		default:
			e := b[j]
			if later(a[i].exp, e.exp) {
				e.exp = a[i].exp
				if onlyA != nil && live(e.exp, t) {
					onlyA(a[i])
				}
			}
			keep(e)
			i, j = i+1, j+1
		}
	}
	for ; i < len(a); i++ {
		if onlyA != nil && live(a[i].exp, t) {
			onlyA(a[i])
		}
		keep(a[i])
	}
	for ; j < len(b); j++ {
		keep(b[j])
	}
	return slices.Clip(out)
}

// all reports whether every entry of ents is live at t.
func all(ents []entry, t time.Time) bool {
	for _, e := range ents {
		if !live(e.exp, t) {
			return false
		}
	}
	return true
}

// delta holds what reached the mirror since its table was built: IDs in a
// map, subjects as everywhere.
type delta struct {
	ids      map[id]uint32
	subjects map[string]int64
}

func newDelta() *delta {
	return &delta{ids: make(map[id]uint32), subjects: make(map[string]int64)}
}

func (d *delta) addID(k id, exp uint32) bool {
	if old, ok := d.ids[k]; ok && !later(exp, old) {
		return false
	}
	d.ids[k] = exp
	return true
}

func (d *delta) addSubject(s string, before int64) {
	if old, ok := d.subjects[s]; !ok || before > old {
		d.subjects[s] = before
	}
}

// sorted returns the delta's live IDs as sorted entries.
func (d *delta) sorted(t time.Time) []entry {
	ents := make([]entry, 0, len(d.ids))
	for k, exp := range d.ids {
		if live(exp, t) {
			ents = append(ents, entry{k, exp})
		}
	}
	return sortEntries(ents)
}

// mirror is the immutable part of the mirror: the table of IDs and the
// subjects, as of the last rebuild.
type mirror struct {
	ids      *table
	subjects map[string]int64
}
