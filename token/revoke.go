package token

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"iter"
	"sync"
	"time"

	"github.com/latchsec/latch/internal/idset"
	"github.com/latchsec/latch/internal/reason"
	"github.com/latchsec/latch/internal/strictjson"
	"github.com/latchsec/latch/token/internal/lexical"
)

// Revocations is a revocation list. It stores token IDs and times, never
// tokens.
//
// Revoked is called on every verification and must answer from local
// memory, without a network round trip. When it cannot answer with
// certainty (a shared list whose local copy may be stale) it must return an
// error: verification then fails closed, with an error under
// [ErrRevocationUnavailable] that wraps the list's.
type Revocations interface {
	// Revoked reports whether c is revoked: its ID or an ID of its Lineage
	// is revoked, or its Subject's tokens issued before a time after c's
	// IssuedAt are.
	Revoked(ctx context.Context, c *Claims) (bool, error)
	// RevokeID revokes the token whose ID is id, and every token narrowed
	// from it, until expires: the token's own Expires, after which (plus
	// Leeway) the entry can be forgotten. A zero expires keeps the entry
	// for ever, as a token that never expires needs.
	RevokeID(ctx context.Context, id string, expires time.Time) error
	// RevokeSubject revokes every token of subject issued before the time
	// before ("sign out everywhere"). Tokens carry whole seconds, so a
	// token issued in the same second as before, even just after it, is
	// revoked too. Entries are kept for ever; a later call with an earlier
	// time changes nothing.
	RevokeSubject(ctx context.Context, subject string, before time.Time) error
}

// MemoryRevocations is a Revocations in the memory of one process. The zero
// value is an empty list; it is safe for concurrent use. For a fleet of
// servers, use a shared list such as token/redisrevoke's.
//
// A revoked ID costs 29 to 44 bytes of memory (its 16 bytes and its
// token's expiry in a flat hash table, and a Bloom filter of one byte per
// slot beside it), and entries of expired tokens are dropped as the table
// grows, so the list stays as large as the set of revoked tokens that
// could still verify. Lookups cost the same with a million entries as with
// none: a token that is not revoked is nearly always turned away by the
// filter (about 1.6 MB for a million entries, small enough to stay in the
// CPU's cache) without reading the table; the filter never turns away a
// revoked ID.
type MemoryRevocations struct {
	// Now returns the current time, which decides when entries are
	// forgotten. Nil means time.Now.
	Now func() time.Time

	mu       sync.RWMutex
	ids      idset.Set            // token ID → its expiry in seconds since 1970, rounded up (0: never)
	subjects map[string]time.Time // subject → tokens issued before this are revoked
}

var _ Revocations = (*MemoryRevocations)(nil)

// now returns the time of m.Now, or time.Now when it is nil.
func (m *MemoryRevocations) now() time.Time {
	if m.Now == nil {
		return time.Now()
	}
	return m.Now()
}

// Revoked implements Revocations. It never fails.
func (m *MemoryRevocations) Revoked(ctx context.Context, c *Claims) (bool, error) {
	t := m.now()
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.idRevoked(c.ID, t) {
		return true, nil
	}
	for _, id := range c.Lineage {
		if m.idRevoked(id, t) {
			return true, nil
		}
	}
	before, ok := m.subjects[c.Subject]
	return ok && c.IssuedAt.Unix() <= before.Unix(), nil
}

func (m *MemoryRevocations) idRevoked(id string, t time.Time) bool {
	key, ok := lexical.TokenID(id)
	if !ok {
		return false // RevokeID stores nothing else
	}
	exp, ok := m.ids.Get(key)
	return ok && live(exp, t)
}

// live reports whether an entry for a token expiring at exp (in seconds
// since 1970; 0: never) is still needed at t: the token could still
// verify.
func live(exp int64, t time.Time) bool {
	return exp == 0 || t.Before(time.Unix(exp, 0).Add(Leeway))
}

// RevokeID implements Revocations.
func (m *MemoryRevocations) RevokeID(ctx context.Context, id string, expires time.Time) error {
	key, ok := lexical.TokenID(id)
	if !ok {
		return notTokenID
	}
	t := m.now()
	if !expires.IsZero() && !t.Before(expires.Add(Leeway)) {
		return nil // the token is already refused as expired
	}
	exp := entryExpiry(expires)
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.ids.Get(key); ok && !laterExpiry(old, exp) {
		exp = old
	}
	// Entries of expired tokens go when the table grows, which keeps the
	// cost constant per call on average.
	m.ids.Put(key, exp, func(exp int64) bool { return live(exp, t) })
	return nil
}

// RevokeSubject implements Revocations.
func (m *MemoryRevocations) RevokeSubject(ctx context.Context, subject string, before time.Time) error {
	if !lexical.Text(subject, maxText) {
		return notSubject
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.subjects == nil {
		m.subjects = make(map[string]time.Time)
	}
	if old, ok := m.subjects[subject]; !ok || before.After(old) {
		m.subjects[subject] = before
	}
	return nil
}

// RevokeIDs revokes each ID of ids until its expiry, as RevokeID would
// one after the other, and much faster for many (a whole list loaded from
// a shared store: a million IDs in a fraction of a second). If an ID is not
// a token ID it returns an error and revokes none.
func (m *MemoryRevocations) RevokeIDs(ctx context.Context, ids iter.Seq2[string, time.Time]) error {
	t := m.now()
	var batch idset.Batch
	for id, expires := range ids {
		key, ok := lexical.TokenID(id)
		if !ok {
			return notTokenID
		}
		if !expires.IsZero() && !t.Before(expires.Add(Leeway)) {
			continue // the token is already refused as expired
		}
		batch.Add(idset.Entry{ID: key, Value: entryExpiry(expires)})
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ids.PutAll(&batch, func(exp int64) bool { return live(exp, t) }, laterExpiry, nil)
	return nil
}

// entryExpiry is the expiry an entry keeps for a token expiring at
// expires: in seconds rounded up, 0 (never) for none or beyond any
// NumericDate.
func entryExpiry(expires time.Time) int64 {
	exp := ceilUnix(expires)
	if exp > maxNumericDate {
		exp = 0 // no token expires after the year 9999: keep the entry for ever
	}
	return exp
}

// laterExpiry reports whether an entry expiring at next outlives one
// expiring at old (0 is never).
func laterExpiry(old, next int64) bool { return old != 0 && (next == 0 || next > old) }

// Merge adds the entries of src to m: each revoked ID with the later of
// the two expiries, each subject with the later of the two times, entries
// whose tokens have expired left out. For each entry of src that changed m
// it calls id or subject (either may be nil) with the arguments that
// RevokeID or RevokeSubject would take to make the same change elsewhere.
//
// It is for a list shared through a store, kept in memory beside it (as
// token/redisrevoke does): load the store into a new list with RevokeID
// and RevokeSubject, merge the local list into it, and write back what
// the callbacks name, which the store lacked. Merge reads src before it
// locks m, so m's Revoked is not kept waiting by a large src and two
// lists may merge into each other at once; id and subject run while m is
// locked and must not call m.
func (m *MemoryRevocations) Merge(src *MemoryRevocations, id func(id string, expires time.Time), subject func(subject string, before time.Time)) {
	if src == m {
		return
	}
	t := m.now()
	src.mu.RLock()
	var ids idset.Batch
	for key, exp := range src.ids.All() {
		if live(exp, t) {
			ids.Add(idset.Entry{ID: key, Value: exp})
		}
	}
	subjects := make(map[string]time.Time, len(src.subjects))
	for sub, before := range src.subjects {
		subjects[sub] = before
	}
	src.mu.RUnlock()

	m.mu.Lock()
	defer m.mu.Unlock()
	var changed func(idset.Entry)
	if id != nil {
		changed = func(e idset.Entry) {
			expires := time.Time{}
			if e.Value != 0 {
				expires = time.Unix(e.Value, 0)
			}
			id(base64.RawURLEncoding.EncodeToString(e.ID[:]), expires)
		}
	}
	m.ids.PutAll(&ids, func(exp int64) bool { return live(exp, t) }, laterExpiry, changed)
	if len(subjects) > 0 && m.subjects == nil {
		m.subjects = make(map[string]time.Time, len(subjects))
	}
	for sub, before := range subjects {
		// Tokens carry whole seconds: a time later within the same
		// second revokes no more tokens, and is no change.
		if old, ok := m.subjects[sub]; ok && before.Unix() <= old.Unix() {
			continue
		}
		m.subjects[sub] = before
		if subject != nil {
			subject(sub, before)
		}
	}
}

// revocationsJSON is the JSON form of a MemoryRevocations.
type revocationsJSON struct {
	IDs      map[string]int64 `json:"ids"`
	Subjects map[string]int64 `json:"subjects"`
}

// MarshalJSON returns the list as JSON, so that a tool can keep it in a
// file between runs (latch token revoke does):
//
//	{"ids":{"JTI":EXP,...},"subjects":{"SUBJECT":BEFORE,...}}
//
// EXP is the revoked token's expiry, in seconds since 1970 rounded up so
// that the list revokes exactly the same tokens once read back; EXP 0 means
// a token that never expires. BEFORE is the second up to which (that
// second included) the subject's tokens are revoked. IDs whose tokens have
// expired are left out.
func (m *MemoryRevocations) MarshalJSON() ([]byte, error) {
	t := m.now()
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := revocationsJSON{IDs: make(map[string]int64, m.ids.Len()), Subjects: map[string]int64{}}
	for id, exp := range m.ids.All() {
		if live(exp, t) {
			out.IDs[base64.RawURLEncoding.EncodeToString(id[:])] = exp
		}
	}
	for sub, before := range m.subjects {
		out.Subjects[sub] = before.Unix()
	}
	return json.Marshal(out)
}

// UnmarshalJSON replaces the list with the one in b, as MarshalJSON writes
// it. It refuses unknown members and entries that RevokeID and
// RevokeSubject would refuse, and then leaves the list as it was.
func (m *MemoryRevocations) UnmarshalJSON(b []byte) error {
	var in revocationsJSON
	if err := strictjson.Decode(b, &in); err != nil {
		return reason.Wrap(errRevocationList, nil, err)
	}
	var ids idset.Set
	ids.Grow(len(in.IDs))
	for id, exp := range in.IDs {
		key, ok := lexical.TokenID(id)
		if !ok {
			return reason.Newf(errRevocationList, errNotTokenID, "an entry of ids")
		}
		if exp < 0 || exp > maxNumericDate {
			return reason.Newf(errRevocationList, nil, "an expiry is out of range")
		}
		ids.Put(key, exp, nil)
	}
	subjects := make(map[string]time.Time, len(in.Subjects))
	for sub, before := range in.Subjects {
		if !lexical.Text(sub, maxText) {
			return reason.Newf(errRevocationList, errNotSubject, "an entry of subjects")
		}
		if before < 0 || before > maxNumericDate {
			return reason.Newf(errRevocationList, nil, "a time is out of range")
		}
		subjects[sub] = time.Unix(before, 0).UTC()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ids, m.subjects = ids, subjects
	return nil
}

// ceilUnix is t in whole seconds since 1970, rounded up; 0 for the zero
// time.
func ceilUnix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}
