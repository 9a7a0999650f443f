package token

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Revocations is a revocation list. It stores token IDs and times, never
// tokens.
//
// Revoked is called on every verification and must answer from local
// memory, without a network round trip. When it cannot answer with
// certainty (a shared list whose local copy may be stale) it must return an
// error, which should wrap [ErrRevocationUnavailable]: verification then
// fails closed.
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
type MemoryRevocations struct {
	// Now returns the current time, which decides when entries are
	// forgotten. Nil means time.Now.
	Now func() time.Time

	mu       sync.RWMutex
	ids      map[string]time.Time // token ID → its expiry (zero: never)
	subjects map[string]time.Time // subject → tokens issued before this are revoked
	sweepAt  int                  // sweep expired IDs when ids reaches this size
}

var _ Revocations = (*MemoryRevocations)(nil)

// Revoked implements Revocations. It never fails.
func (m *MemoryRevocations) Revoked(ctx context.Context, c *Claims) (bool, error) {
	t := now(m.Now)
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
	return ok && c.IssuedAt.Before(before), nil
}

func (m *MemoryRevocations) idRevoked(id string, t time.Time) bool {
	exp, ok := m.ids[id]
	return ok && live(exp, t)
}

// live reports whether an entry for a token expiring at exp is still
// needed at t: the token could still verify.
func live(exp, t time.Time) bool {
	return exp.IsZero() || t.Before(exp.Add(Leeway))
}

// RevokeID implements Revocations.
func (m *MemoryRevocations) RevokeID(ctx context.Context, id string, expires time.Time) error {
	if !checkTokenID(id) {
		return errors.New("token: not a token ID")
	}
	t := now(m.Now)
	if !live(expires, t) {
		return nil // the token is already refused as expired
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ids == nil {
		m.ids = make(map[string]time.Time)
	}
	if old, ok := m.ids[id]; ok && (old.IsZero() || (!expires.IsZero() && old.After(expires))) {
		expires = old
	}
	m.ids[id] = expires
	if len(m.ids) >= m.sweepAt {
		// Forget tokens that have expired. Sweeping when the map has
		// doubled keeps the cost constant per call on average.
		for id, exp := range m.ids {
			if !live(exp, t) {
				delete(m.ids, id)
			}
		}
		m.sweepAt = 2*len(m.ids) + 64
	}
	return nil
}

// RevokeSubject implements Revocations.
func (m *MemoryRevocations) RevokeSubject(ctx context.Context, subject string, before time.Time) error {
	if !checkText(subject) {
		return errors.New("token: not a subject")
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
