package redisrevoke

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchsec/latch/internal/rediswait"
	"github.com/latchsec/latch/token"
)

// Defaults of Config.
const (
	DefaultPrefix         = "latch:revoke"
	DefaultMaxStaleness   = 5 * time.Second
	DefaultReplicaTimeout = rediswait.DefaultTimeout
)

// Config configures a List. Client is required; the zero value of every
// other field is its default.
type Config struct {
	// Client is the Redis that every List of the fleet shares: a single
	// server (redis.NewClient), a primary managed by Sentinel
	// (redis.NewFailoverClient) or a Cluster (redis.NewClusterClient).
	// Redis 7 or later (sharded pub/sub). The List does not close it.
	Client redis.UniversalClient
	// Prefix names the List's keys and channel (see the package doc);
	// lists with the same Prefix share their entries. At most 64
	// characters of A-Z a-z 0-9 ":_-". Default "latch:revoke".
	Prefix string
	// MaxStaleness is how long the mirror may go without being confirmed
	// current before Revoked fails closed. Default 5 s. It is the longest a
	// revocation can go unseen by a server cut off from Redis.
	MaxStaleness time.Duration
	// Heartbeat is how often the mirror is confirmed current while all is
	// well, and the longest pause between two attempts to reconnect.
	// Default MaxStaleness/5; it must be below MaxStaleness.
	Heartbeat time.Duration
	// Replicas is how many replicas of the primary must hold a revocation
	// before RevokeID and RevokeSubject return nil (Redis WAIT). With
	// Sentinel or Cluster set it to 1: an acknowledged revocation then
	// survives the loss of the primary. Default 0: the primary's word is
	// enough, and what a failover loses is written back by the mirrors
	// that hold it (see the package doc).
	Replicas int
	// ReplicaTimeout bounds the wait for Replicas. Default 1 s. It must
	// be shorter than the client's ReadTimeout: go-redis reads a pipeline,
	// and so the WAIT sent with each change, under ReadTimeout, not under
	// WAIT's own timeout, so a WAIT as long as ReadTimeout fails every
	// change once no replica answers. New refuses such a Config.
	ReplicaTimeout time.Duration
	// Now returns the current time, which decides staleness and when
	// entries expire. Nil means time.Now.
	Now func() time.Time
}

// StaleError is returned by Revoked when the mirror has not been confirmed
// current within MaxStaleness (Redis down, a partition, a failover, a List
// that has not synchronized yet). It wraps token.ErrRevocationUnavailable,
// so verification fails closed and Middleware answers 503.
type StaleError struct {
	// LastConfirmed is when the mirror was last known to be current; zero
	// if never.
	LastConfirmed time.Time
}

func (e *StaleError) Error() string {
	if e.LastConfirmed.IsZero() {
		return "redisrevoke: revocation mirror not synchronized with Redis yet"
	}
	return "redisrevoke: revocation mirror not confirmed current since " + e.LastConfirmed.UTC().Format(time.RFC3339)
}

func (e *StaleError) Unwrap() error { return token.ErrRevocationUnavailable }

var (
	// ErrClosed is returned by a List's methods after Close.
	ErrClosed = errors.New("redisrevoke: list closed")
	// ErrNotShared is returned, wrapped, by RevokeID and RevokeSubject
	// when the revocation could not be written to Redis. It holds on this
	// server at once all the same, and reaches Redis when the List next
	// synchronizes.
	ErrNotShared = errors.New("redisrevoke: revocation not yet shared through Redis")
	// ErrNotReplicated is returned, wrapped, by RevokeID and RevokeSubject
	// when the primary stored the revocation but fewer than
	// Config.Replicas replicas acknowledged it within ReplicaTimeout. It
	// holds on this server and on the primary; a failover before the
	// replicas catch up loses it from Redis until this List writes it
	// back.
	ErrNotReplicated = errors.New("redisrevoke: revocation not yet on enough replicas")
)

// List is a token.Revocations shared through Redis. Each List keeps a
// mirror of the whole list in memory, which answers Revoked without a
// network round trip. It is safe for concurrent use.
type List struct {
	store
	maxStaleness time.Duration
	heartbeat    time.Duration

	ps     atomic.Pointer[redis.PubSub]
	stop   context.CancelFunc
	ctx    context.Context
	closed chan struct{}
	wg     sync.WaitGroup

	rebuilding sync.Mutex // one rebuild of the mirror at a time
	// testHookRebuilt, if set, runs after a rebuild has built the new
	// mirror and before it replaces the old one.
	testHookRebuilt func()

	mu sync.RWMutex
	// The mirror is base, then frozen, then recent: base is immutable and
	// replaced whole by a rebuild; recent takes what arrives meanwhile;
	// frozen is the recent of before a rebuild, read by it and immutable.
	base       *mirror
	frozen     *delta
	recent     *delta
	sweepAt    int
	compacting bool
	gen        uint64        // incremented when the subscription breaks
	synced     bool          // the mirror holds Redis's state for gen
	confirmed  time.Time     // when the mirror was last known current
	changed    chan struct{} // closed and replaced when gen or synced change
	seq        uint64
	pings      map[uint64]ping
}

type ping struct {
	gen    uint64
	sentAt time.Time
	done   chan struct{}
}

var _ token.Revocations = (*List)(nil)

// New starts a List: it subscribes to the list's channel, loads the list
// from Redis, and keeps the mirror current from then on, reconnecting by
// itself. Until the first synchronization, Revoked fails closed; call Sync
// to wait for it.
func New(cfg Config) (*List, error) {
	if cfg.Client == nil {
		return nil, errors.New("redisrevoke: Config.Client is required")
	}
	if cfg.Replicas < 0 {
		return nil, errors.New("redisrevoke: Config.Replicas must not be negative")
	}
	st, err := newStore(cfg.Client, cfg.Prefix, cfg.Now, cfg.Replicas, cfg.ReplicaTimeout)
	if err != nil {
		return nil, err
	}
	l := &List{
		store:        *st,
		maxStaleness: cfg.MaxStaleness,
		heartbeat:    cfg.Heartbeat,
		closed:       make(chan struct{}),
		base:         &mirror{ids: newTable(nil), subjects: map[string]int64{}},
		recent:       newDelta(),
		changed:      make(chan struct{}),
		pings:        make(map[uint64]ping),
	}
	if l.maxStaleness <= 0 {
		l.maxStaleness = DefaultMaxStaleness
	}
	if l.heartbeat <= 0 {
		l.heartbeat = l.maxStaleness / 5
	}
	if l.heartbeat >= l.maxStaleness {
		return nil, errors.New("redisrevoke: Config.Heartbeat must be below MaxStaleness")
	}
	l.ctx, l.stop = context.WithCancel(context.Background())
	l.ps.Store(l.rdb.SSubscribe(l.ctx, l.channel))
	l.wg.Add(2)
	go l.receive()
	go l.beat()
	return l, nil
}

// Close stops the List. Its Revoked fails closed from then on.
func (l *List) Close() error {
	select {
	case <-l.closed:
		return nil
	default:
	}
	close(l.closed)
	l.stop()
	err := l.ps.Load().Close()
	l.wg.Wait()
	_ = l.ps.Load().Close() // in case the receiver replaced it
	l.mu.Lock()
	l.setState(l.gen+1, false)
	l.confirmed = time.Time{}
	l.mu.Unlock()
	return err
}

// Revoked implements token.Revocations from the mirror, without a network
// round trip. When the mirror has not been confirmed current within
// MaxStaleness it returns a *StaleError.
func (l *List) Revoked(ctx context.Context, c *token.Claims) (bool, error) {
	t := l.now()
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.confirmed.IsZero() || t.Sub(l.confirmed) > l.maxStaleness {
		return false, &StaleError{LastConfirmed: l.confirmed}
	}
	if l.idRevoked(c.ID, t) {
		return true, nil
	}
	for _, id := range c.Lineage {
		if l.idRevoked(id, t) {
			return true, nil
		}
	}
	iat := c.IssuedAt.Unix()
	for _, subjects := range l.subjectMaps() {
		if before, ok := subjects[c.Subject]; ok && iat <= before {
			return true, nil
		}
	}
	return false, nil
}

// idRevoked looks s up in the three parts of the mirror. l.mu must be
// held. An ID that is not canonical base64url of 128 bits cannot be in the
// list (token refuses such a jti).
func (l *List) idRevoked(s string, t time.Time) bool {
	k, ok := parseID(s)
	if !ok {
		return false
	}
	if exp, ok := l.base.ids.lookup(&k); ok && live(exp, t) {
		return true
	}
	if l.frozen != nil {
		if exp, ok := l.frozen.ids[k]; ok && live(exp, t) {
			return true
		}
	}
	exp, ok := l.recent.ids[k]
	return ok && live(exp, t)
}

// subjectMaps returns the parts of the mirror that hold subjects. l.mu
// must be held.
func (l *List) subjectMaps() []map[string]int64 {
	if l.frozen != nil {
		return []map[string]int64{l.base.subjects, l.frozen.subjects, l.recent.subjects}
	}
	return []map[string]int64{l.base.subjects, l.recent.subjects}
}

// RevokeID implements token.Revocations: it writes the entry to Redis,
// where it stays until Leeway after expires, and publishes it to every
// List. The entry holds on this server at once, even if Redis cannot be
// reached; it then reaches Redis when this List next synchronizes, and the
// error (ErrNotShared, or ErrNotReplicated) says it has not yet.
func (l *List) RevokeID(ctx context.Context, id string, expires time.Time) error {
	k, ok := parseID(id)
	if !ok {
		return errors.New("redisrevoke: not a token ID")
	}
	var exp uint32
	if !expires.IsZero() {
		if expires.Unix() <= 0 {
			return nil // the token is already refused as expired
		}
		if exp = expiry(expires.Unix()); !live(exp, l.now()) {
			return nil
		}
	}
	l.mu.Lock()
	l.addID(k, exp)
	l.mu.Unlock()
	return l.writeIDs(ctx, []entry{{k, exp}})
}

// RevokeSubject implements token.Revocations. Like RevokeID, it holds on
// this server at once and reaches Redis at the next synchronization if
// Redis cannot be reached now.
func (l *List) RevokeSubject(ctx context.Context, subject string, before time.Time) error {
	if !validSubject(subject) {
		return errors.New("redisrevoke: not a subject")
	}
	// Tokens carry whole seconds: those issued in before's second are
	// revoked too (see token.Revocations).
	b := before.Unix()
	l.mu.Lock()
	l.recent.addSubject(subject, b)
	l.mu.Unlock()
	return l.writeSubjects(ctx, []subjectEntry{{subject, b}})
}

// addID merges an entry into the mirror. l.mu must be held.
func (l *List) addID(k id, exp uint32) {
	if !l.recent.addID(k, exp) {
		return
	}
	if len(l.recent.ids) < l.sweepAt {
		return
	}
	t := l.now()
	for k, exp := range l.recent.ids {
		if !live(exp, t) {
			delete(l.recent.ids, k)
		}
	}
	l.sweepAt = 2*len(l.recent.ids) + 64
	// Fold a grown recent part into the table, in the background.
	if len(l.recent.ids) >= 4096+l.base.ids.len()/4 && !l.compacting {
		l.compacting = true
		go l.compact()
	}
}

// freeze starts a rebuild: what arrives from now on goes to a new recent
// part, and the rebuild reads the frozen one. l.rebuilding must be held.
func (l *List) freeze() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.frozen == nil {
		l.frozen = l.recent
	} else { // an earlier rebuild failed
		for k, exp := range l.recent.ids {
			l.frozen.addID(k, exp)
		}
		for s, b := range l.recent.subjects {
			l.frozen.addSubject(s, b)
		}
	}
	l.recent = newDelta()
	l.sweepAt = 0
}

// local returns the mirror's IDs, sorted, and its subjects, as of the
// freeze. l.rebuilding must be held.
func (l *List) local(t time.Time) ([]entry, map[string]int64) {
	l.mu.RLock()
	base, frozen := l.base, l.frozen
	l.mu.RUnlock()
	ids := merge(frozen.sorted(t), base.ids.ents, t, nil)
	subjects := make(map[string]int64, len(base.subjects)+len(frozen.subjects))
	for _, m := range []map[string]int64{base.subjects, frozen.subjects} {
		for s, b := range m {
			if old, ok := subjects[s]; !ok || b > old {
				subjects[s] = b
			}
		}
	}
	return ids, subjects
}

// replace puts a rebuilt mirror in place of the base and frozen parts, at
// once: Revoked sees either the old parts or the new one. l.rebuilding
// must be held.
func (l *List) replace(m *mirror) {
	if l.testHookRebuilt != nil {
		l.testHookRebuilt()
	}
	l.mu.Lock()
	l.base, l.frozen = m, nil
	l.mu.Unlock()
}

// compact folds the recent part into the table.
func (l *List) compact() {
	l.rebuilding.Lock()
	defer l.rebuilding.Unlock()
	l.freeze()
	ids, subjects := l.local(l.now())
	l.replace(&mirror{ids: newTable(ids), subjects: subjects})
	l.mu.Lock()
	l.compacting = false
	l.mu.Unlock()
}

// validSubject accepts what a token's sub can hold: 1 to 256 bytes without
// control characters.
func validSubject(s string) bool {
	if len(s) == 0 || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}
