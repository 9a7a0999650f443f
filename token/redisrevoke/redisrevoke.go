package redisrevoke

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchsec/latch/token"
)

// DefaultPrefix is the default of Config.Prefix, which names the List's
// keys and channel in Redis (see the package doc).
const DefaultPrefix = "latch:revoke"

// defaultMaxStaleness is the default of Config.MaxStaleness.
const defaultMaxStaleness = 5 * time.Second

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
	// The mirror is base, then frozen, then recent, each a
	// token.MemoryRevocations: base is replaced whole by a rebuild and
	// never written otherwise; recent takes what arrives meanwhile;
	// frozen is the recent of before a rebuild, which the rebuild reads.
	// A write to recent holds mu for reading, so that none lands after a
	// freeze; freeze and replace hold it for writing.
	base, frozen, recent *token.MemoryRevocations
	baseIDs              int          // IDs written to base and frozen, about
	recentIDs            atomic.Int64 // IDs written to recent
	compacting           atomic.Bool
	gen                  uint64        // incremented when the subscription breaks
	synced               bool          // the mirror holds Redis's state for gen
	confirmed            time.Time     // when the mirror was last known current
	changed              chan struct{} // closed and replaced when gen or synced change
	seq                  uint64
	pings                map[uint64]ping
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
		return nil, configProblem("Config.Client is required")
	}
	if cfg.Replicas < 0 {
		return nil, configProblem("Config.Replicas must not be negative")
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
		changed:      make(chan struct{}),
		pings:        make(map[uint64]ping),
	}
	l.base, l.recent = l.newMirror(), l.newMirror()
	if l.maxStaleness <= 0 {
		l.maxStaleness = defaultMaxStaleness
	}
	if l.heartbeat <= 0 {
		l.heartbeat = l.maxStaleness / 5
	}
	if l.heartbeat >= l.maxStaleness {
		return nil, configProblem("Config.Heartbeat must be below MaxStaleness")
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
		return false, staleError(l.confirmed)
	}
	if r, err := l.base.Revoked(ctx, c); r || err != nil {
		return r, err
	}
	if l.frozen != nil {
		if r, err := l.frozen.Revoked(ctx, c); r || err != nil {
			return r, err
		}
	}
	return l.recent.Revoked(ctx, c)
}

// RevokeID implements token.Revocations: it writes the entry to Redis,
// where it stays until Leeway after expires, and publishes it to every
// List. The entry holds on this server at once, even if Redis cannot be
// reached; it then reaches Redis when this List next synchronizes, and the
// error (ErrNotShared, or ErrNotReplicated) says it has not yet.
func (l *List) RevokeID(ctx context.Context, id string, expires time.Time) error {
	if err := l.addID(ctx, id, expires); err != nil {
		return err
	}
	e, ok := entryOf(id, expires)
	if !ok || expired(expires, l.now()) {
		return nil // the token is already refused as expired
	}
	return l.writeIDs(ctx, []entry{e})
}

// RevokeSubject implements token.Revocations. Like RevokeID, it holds on
// this server at once and reaches Redis at the next synchronization if
// Redis cannot be reached now.
func (l *List) RevokeSubject(ctx context.Context, subject string, before time.Time) error {
	if err := l.addSubject(ctx, subject, before); err != nil {
		return err
	}
	// Tokens carry whole seconds: those issued in before's second are
	// revoked too (see token.Revocations).
	return l.writeSubjects(ctx, []subjectEntry{{subject, before.Unix()}})
}

// addID revokes id in the mirror; token refuses what is not a token ID.
// Once many IDs have arrived since the last rebuild, it starts one in the
// background, which drops the entries of expired tokens from base.
func (l *List) addID(ctx context.Context, id string, expires time.Time) error {
	l.mu.RLock()
	err := l.recent.RevokeID(ctx, id, expires)
	grown := l.recentIDs.Add(1) >= int64(4096+l.baseIDs/4)
	l.mu.RUnlock()
	if grown && l.compacting.CompareAndSwap(false, true) {
		go l.compact()
	}
	return err
}

// addSubject revokes subject's tokens in the mirror; token refuses what is
// not a subject.
func (l *List) addSubject(ctx context.Context, subject string, before time.Time) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.recent.RevokeSubject(ctx, subject, before)
}

func (l *List) newMirror() *token.MemoryRevocations { return &token.MemoryRevocations{Now: l.now} }

// freeze starts a rebuild: what arrives from now on goes to a new recent
// part, and the rebuild reads the frozen one. l.rebuilding must be held.
func (l *List) freeze() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.frozen == nil {
		l.frozen = l.recent
	} else { // an earlier rebuild failed
		l.frozen.Merge(l.recent, nil, nil)
	}
	l.baseIDs += int(l.recentIDs.Swap(0))
	l.recent = l.newMirror()
}

// rebuild merges the base and frozen parts into next, which holds what
// Redis holds (or nothing, to compact), and puts it in their place at
// once: Revoked sees either the old parts or the new one. It returns the
// entries that next lacked, when it came from Redis. l.rebuilding must be
// held.
func (l *List) rebuild(next *token.MemoryRevocations, fromRedis int) (ids []entry, subjects []subjectEntry) {
	l.mu.RLock()
	base, frozen, count := l.base, l.frozen, l.baseIDs
	l.mu.RUnlock()
	onID := func(id string, expires time.Time) {
		if e, ok := entryOf(id, expires); ok {
			ids = append(ids, e)
		}
	}
	onSubject := func(s string, before time.Time) { subjects = append(subjects, subjectEntry{s, before.Unix()}) }
	if fromRedis < 0 { // compacting: nothing to write back
		onID, onSubject = nil, nil
	} else {
		count = fromRedis
	}
	next.Merge(base, onID, onSubject)
	next.Merge(frozen, onID, onSubject)
	if l.testHookRebuilt != nil {
		l.testHookRebuilt()
	}
	l.mu.Lock()
	l.base, l.frozen, l.baseIDs = next, nil, count+len(ids)
	l.mu.Unlock()
	return ids, subjects
}

// compact rebuilds the mirror without Redis: base and recent become one,
// without the entries of expired tokens.
func (l *List) compact() {
	defer l.compacting.Store(false)
	l.rebuilding.Lock()
	defer l.rebuilding.Unlock()
	l.freeze()
	l.rebuild(l.newMirror(), -1)
}
