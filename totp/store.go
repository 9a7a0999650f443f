package totp

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/latchsec/latch/internal/reason"
)

// Record is what a [Store] keeps per account. The Authenticator reads and
// writes it; a Store only keeps it. It holds no secret in the clear: the
// TOTP secret is encrypted (AES-256-GCM under Config.EncryptionKeys, bound
// to the account) and recovery codes are hashed.
type Record struct {
	// Version is the record's version, set by the Store at each swap to a
	// non-zero value it never gave that account before, even across a
	// delete (otherwise a server holding a deleted record's version could
	// overwrite a new enrollment). Its value in the record passed to
	// CompareAndSwap is ignored.
	Version uint64 `json:"-"`

	// Secret is the encrypted TOTP secret.
	Secret    []byte    `json:"secret"`
	Algorithm Algorithm `json:"algorithm"`
	Digits    int       `json:"digits"`

	// Confirmed is set once the person has entered a valid code after
	// enrolling; until then Verify refuses every code.
	Confirmed bool `json:"confirmed,omitempty"`

	// Enrolled is when the enrollment was started (or last replaced, while
	// pending). A pending enrollment can be confirmed until
	// Config.EnrollmentTimeout after it; one with no time is expired.
	Enrolled time.Time `json:"enrolled,omitzero"`

	// LastStep is the highest time step accepted (0: none); codes for it
	// and earlier steps are refused as replays.
	LastStep int64 `json:"lastStep,omitempty"`

	// Drift is the offset, in steps, of the person's device clock observed
	// at the last success; the window is centred on it.
	Drift int `json:"drift,omitempty"`

	// Failures counts failed codes since the last success; LockedUntil is
	// when the lockout they caused ends.
	Failures    int       `json:"failures,omitempty"`
	LockedUntil time.Time `json:"lockedUntil,omitzero"`

	// Recovery holds the hashes of the unused recovery codes.
	Recovery [][]byte `json:"recovery,omitempty"`

	// Next is a new key waiting to replace the confirmed one
	// ([Authenticator.Reenroll]); nil if there is none.
	Next *NextKey `json:"next,omitempty"`
}

// NextKey is a key that will replace a confirmed enrollment's once the
// person confirms it with a code ([Authenticator.ConfirmReenroll]). Until
// then the enrollment's own key keeps working.
type NextKey struct {
	// Secret is the encrypted TOTP secret, as Record.Secret.
	Secret    []byte    `json:"secret"`
	Algorithm Algorithm `json:"algorithm"`
	Digits    int       `json:"digits"`
	// Enrolled is when Reenroll made it; it can be confirmed until
	// Config.EnrollmentTimeout after.
	Enrolled time.Time `json:"enrolled"`
}

func (r *Record) clone() *Record {
	c := *r
	c.Secret = slices.Clone(r.Secret)
	c.Recovery = cloneHashes(r.Recovery)
	if r.Next != nil {
		n := *r.Next
		n.Secret = slices.Clone(r.Next.Secret)
		c.Next = &n
	}
	return &c
}

// cloneHashes deep-copies hashes into one buffer: two allocations, however
// many hashes, since every Verify copies the record twice.
func cloneHashes(hashes [][]byte) [][]byte {
	if hashes == nil {
		return nil
	}
	n := 0
	for _, h := range hashes {
		n += len(h)
	}
	buf := make([]byte, 0, n)
	out := make([][]byte, len(hashes))
	for i, h := range hashes {
		start := len(buf)
		buf = append(buf, h...)
		out[i] = buf[start:len(buf):len(buf)] // capped: an append cannot reach the next hash
	}
	return out
}

// Store keeps one Record per account. Every change is a compare-and-swap on
// the record's version, so servers sharing a Store never lose each other's
// writes: of two servers that read version v, only one can write v+1. This
// is what makes a code usable once and a lockout count every failure.
//
// A Store must be safe for concurrent use. [MemoryStore] is one for a single
// server; totp/redisstore is one for a fleet. A Store for another database
// checks its contract by calling totp/storetest's Run from its tests.
type Store interface {
	// Load returns the account's record, or an error that matches
	// ErrNotEnrolled if there is none. The caller may modify the record it
	// gets.
	Load(ctx context.Context, account string) (*Record, error)

	// CompareAndSwap replaces the account's record by next if the stored
	// record's version is old, where 0 means that there must be no record;
	// next == nil deletes the record. The new record gets a new version
	// (see Record.Version). It returns false, and changes nothing, if the
	// stored version differs.
	CompareAndSwap(ctx context.Context, account string, old uint64, next *Record) (bool, error)
}

// MemoryStore is a [Store] in the memory of one process. Its state is lost
// when the process ends, and it is not shared between servers: use it for a
// single server and for tests. The zero value is ready to use.
type MemoryStore struct {
	mu      sync.Mutex
	records map[string]*Record
	seq     uint64 // the last version given
}

// Load implements [Store].
func (m *MemoryStore) Load(ctx context.Context, account string) (*Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.records[account]
	if !ok {
		return nil, reason.New(ErrNotEnrolled, nil)
	}
	return r.clone(), nil
}

// CompareAndSwap implements [Store].
func (m *MemoryStore) CompareAndSwap(ctx context.Context, account string, old uint64, next *Record) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var cur uint64
	if r, ok := m.records[account]; ok {
		cur = r.Version
	}
	if cur != old {
		return false, nil
	}
	if next == nil {
		delete(m.records, account)
		return true, nil
	}
	if m.records == nil {
		m.records = make(map[string]*Record)
	}
	c := next.clone()
	m.seq++
	c.Version = m.seq
	m.records[account] = c
	return true, nil
}
