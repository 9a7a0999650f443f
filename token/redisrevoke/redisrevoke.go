package redisrevoke

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchsec/latch/token"
)

// Defaults of Config.
const (
	DefaultPrefix       = "latch:revoke"
	DefaultMaxStaleness = 5 * time.Second
)

// Config configures a List. Client is required; the zero value of every
// other field is its default.
type Config struct {
	// Client is the Redis server (or proxy) that every List of the fleet
	// shares. The List does not close it.
	Client *redis.Client
	// Prefix starts the names of the List's keys and channel (see the
	// package doc); lists with the same Prefix share their entries. At
	// most 64 characters of A-Z a-z 0-9 ":_-". Default "latch:revoke".
	Prefix string
	// MaxStaleness is how long the mirror may go without being confirmed
	// current before Revoked fails closed. Default 5 s. It is the longest a
	// revocation can go unseen by a server cut off from Redis.
	MaxStaleness time.Duration
	// Heartbeat is how often the mirror is confirmed current while all is
	// well. Default MaxStaleness/5; it must be below MaxStaleness.
	Heartbeat time.Duration
	// Now returns the current time, which decides staleness and when
	// entries expire. Nil means time.Now.
	Now func() time.Time
}

// StaleError is returned by Revoked when the mirror has not been confirmed
// current within MaxStaleness (Redis down, a partition, a List that has
// not synchronized yet). It wraps token.ErrRevocationUnavailable, so
// verification fails closed and Middleware answers 503.
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

// ErrClosed is returned by a List's methods after Close.
var ErrClosed = errors.New("redisrevoke: list closed")

// List is a token.Revocations shared through Redis. Each List keeps a
// mirror of the whole list in memory, which answers Revoked without a
// network round trip. It is safe for concurrent use.
type List struct {
	rdb          *redis.Client
	idPrefix     string // prefix + ":id:"
	subjectsKey  string // prefix + ":subjects"
	channel      string // prefix + ":events"
	maxStaleness time.Duration
	heartbeat    time.Duration
	now          func() time.Time

	ps     *redis.PubSub
	stop   context.CancelFunc
	ctx    context.Context
	closed chan struct{}
	wg     sync.WaitGroup

	mu        sync.RWMutex
	ids       map[string]int64 // token ID → expiry, Unix seconds; 0 = never
	subjects  map[string]int64 // subject → tokens issued in or before this Unix second are revoked
	sweepAt   int
	gen       uint64        // incremented when the subscription breaks
	synced    bool          // the mirror holds Redis's state for gen
	confirmed time.Time     // when the mirror was last known current
	changed   chan struct{} // closed and replaced when gen or synced change
	seq       uint64
	pings     map[uint64]ping
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
	prefix := cfg.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if !validPrefix(prefix) {
		return nil, errors.New(`redisrevoke: Config.Prefix must be 1 to 64 characters of A-Z a-z 0-9 ":_-"`)
	}
	l := &List{
		rdb:          cfg.Client,
		idPrefix:     prefix + ":id:",
		subjectsKey:  prefix + ":subjects",
		channel:      prefix + ":events",
		maxStaleness: cfg.MaxStaleness,
		heartbeat:    cfg.Heartbeat,
		now:          cfg.Now,
		closed:       make(chan struct{}),
		ids:          make(map[string]int64),
		subjects:     make(map[string]int64),
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
	if l.now == nil {
		l.now = time.Now
	}
	l.ctx, l.stop = context.WithCancel(context.Background())
	l.ps = l.rdb.Subscribe(l.ctx, l.channel)
	l.wg.Add(2)
	go l.receive()
	go l.beat()
	return l, nil
}

func validPrefix(p string) bool {
	if len(p) == 0 || len(p) > 64 {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ':' || c == '_' || c == '-') {
			return false
		}
	}
	return true
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
	err := l.ps.Close()
	l.wg.Wait()
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
	before, ok := l.subjects[c.Subject]
	return ok && c.IssuedAt.Unix() <= before, nil
}

func (l *List) idRevoked(id string, t time.Time) bool {
	exp, ok := l.ids[id]
	return ok && live(exp, t)
}

// live reports whether an entry for a token expiring at exp (Unix seconds,
// 0 for never) is still needed at t.
func live(exp int64, t time.Time) bool {
	return exp == 0 || t.Before(time.Unix(exp, 0).Add(token.Leeway))
}

// RevokeID implements token.Revocations: it writes the entry to Redis,
// with a TTL that ends Leeway after expires, and publishes it to every
// List. The entry holds on this server at once, even if Redis cannot be
// reached; it then reaches Redis when this List next synchronizes, and the
// error says it has not yet.
func (l *List) RevokeID(ctx context.Context, id string, expires time.Time) error {
	if !validID(id) {
		return errors.New("redisrevoke: not a token ID")
	}
	exp := int64(0)
	if !expires.IsZero() {
		exp = expires.Unix()
		if !live(exp, l.now()) {
			return nil // the token is already refused as expired
		}
	}
	l.mu.Lock()
	l.applyID(id, exp)
	l.mu.Unlock()
	return l.writeID(ctx, id, exp)
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
	l.applySubject(subject, b)
	l.mu.Unlock()
	return l.writeSubject(ctx, subject, b)
}

// Entries only grow: a later write never shortens an ID's expiry or moves a
// subject's time back, so Lists can merge in any order.
var (
	revokeIDScript = redis.NewScript(`
local old = redis.call('GET', KEYS[1])
local exp = tonumber(ARGV[1])
local o = tonumber(old)
if o and (o == 0 or (exp ~= 0 and o >= exp)) then return 0 end
if exp == 0 then
  redis.call('SET', KEYS[1], ARGV[1])
else
  redis.call('SET', KEYS[1], ARGV[1], 'EXAT', ARGV[2])
end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1`)
	revokeSubjectScript = redis.NewScript(`
local old = tonumber(redis.call('HGET', KEYS[1], ARGV[1]))
if old and old >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1`)
)

func (l *List) writeID(ctx context.Context, id string, exp int64) error {
	exat := int64(0)
	if exp != 0 {
		exat = exp + int64(token.Leeway/time.Second)
	}
	err := revokeIDScript.Run(ctx, l.rdb, []string{l.idPrefix + id},
		exp, exat, l.channel, "id "+strconv.FormatInt(exp, 10)+" "+id).Err()
	if err != nil {
		return fmt.Errorf("redisrevoke: revocation not yet shared through Redis: %w", err)
	}
	return nil
}

func (l *List) writeSubject(ctx context.Context, subject string, before int64) error {
	err := revokeSubjectScript.Run(ctx, l.rdb, []string{l.subjectsKey},
		subject, before, l.channel, "sub "+strconv.FormatInt(before, 10)+" "+subject).Err()
	if err != nil {
		return fmt.Errorf("redisrevoke: revocation not yet shared through Redis: %w", err)
	}
	return nil
}

// applyID merges an entry into the mirror. l.mu must be held.
func (l *List) applyID(id string, exp int64) {
	if old, ok := l.ids[id]; ok && (old == 0 || (exp != 0 && old >= exp)) {
		return
	}
	l.ids[id] = exp
	if len(l.ids) >= l.sweepAt {
		t := l.now()
		for id, exp := range l.ids {
			if !live(exp, t) {
				delete(l.ids, id)
			}
		}
		l.sweepAt = 2*len(l.ids) + 64
	}
}

func (l *List) applySubject(subject string, before int64) {
	if old, ok := l.subjects[subject]; !ok || before > old {
		l.subjects[subject] = before
	}
}

// apply merges a message of the channel into the mirror.
func (l *List) apply(payload string) {
	kind, rest, _ := strings.Cut(payload, " ")
	num, arg, _ := strings.Cut(rest, " ")
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case kind == "id" && validID(arg):
		l.applyID(arg, v)
	case kind == "sub" && validSubject(arg):
		l.applySubject(arg, v)
	}
}

// setState records a change of generation or synchronization and wakes
// whoever waits on it. l.mu must be held.
func (l *List) setState(gen uint64, synced bool) {
	l.gen, l.synced = gen, synced
	close(l.changed)
	l.changed = make(chan struct{})
}

// receive reads the subscription. A (re)subscription starts a full
// resynchronization; a read error means messages may be lost, so the
// mirror is no longer synchronized until the next one.
func (l *List) receive() {
	defer l.wg.Done()
	backoff := newBackoff()
	for {
		msg, err := l.ps.Receive(l.ctx)
		if l.ctx.Err() != nil {
			return
		}
		if err != nil {
			l.mu.Lock()
			l.setState(l.gen+1, false)
			l.mu.Unlock()
			if !backoff.wait(l.closed) {
				return
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" && !l.resync(backoff) {
				return
			}
		case *redis.Message:
			l.apply(m.Payload)
		case *redis.Pong:
			l.pong(m.Payload)
		}
	}
}

// resync loads the whole list from Redis into the mirror, and writes back
// what the mirror has and Redis lacks (Redis may have restarted empty).
// It retries until it succeeds or the List is closed; messages wait in the
// subscription meanwhile and are applied after.
func (l *List) resync(backoff *backoff) bool {
	for {
		if err := l.load(l.ctx); err == nil {
			backoff.reset()
			l.mu.Lock()
			l.setState(l.gen, true)
			l.mu.Unlock()
			// Confirm at once rather than at the next heartbeat.
			l.wg.Go(func() { _ = l.Sync(l.ctx) })
			return true
		}
		if !backoff.wait(l.closed) {
			return false
		}
	}
}

func (l *List) load(ctx context.Context) error {
	ids := make(map[string]int64)
	var cursor uint64
	for {
		keys, next, err := l.rdb.Scan(ctx, cursor, l.idPrefix+"*", 1000).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			vals, err := l.rdb.MGet(ctx, keys...).Result()
			if err != nil {
				return err
			}
			for i, v := range vals {
				s, ok := v.(string)
				if !ok {
					continue // expired between SCAN and MGET
				}
				exp, err := strconv.ParseInt(s, 10, 64)
				id := strings.TrimPrefix(keys[i], l.idPrefix)
				if err == nil && validID(id) {
					ids[id] = exp
				}
			}
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	subs, err := l.rdb.HGetAll(ctx, l.subjectsKey).Result()
	if err != nil {
		return err
	}

	// Merge both ways.
	type entry struct {
		key string
		v   int64
	}
	var missingIDs, missingSubjects []entry
	l.mu.Lock()
	for id, exp := range ids {
		l.applyID(id, exp)
	}
	for s, v := range subs {
		if b, err := strconv.ParseInt(v, 10, 64); err == nil && validSubject(s) {
			l.applySubject(s, b)
		}
	}
	t := l.now()
	for id, exp := range l.ids {
		if redisExp, ok := ids[id]; live(exp, t) && (!ok || (redisExp != 0 && (exp == 0 || exp > redisExp))) {
			missingIDs = append(missingIDs, entry{id, exp})
		}
	}
	for s, b := range l.subjects {
		if v, ok := subs[s]; !ok || v != strconv.FormatInt(b, 10) {
			missingSubjects = append(missingSubjects, entry{s, b})
		}
	}
	l.mu.Unlock()
	for _, e := range missingIDs {
		if err := l.writeID(ctx, e.key, e.v); err != nil {
			return err
		}
	}
	for _, e := range missingSubjects {
		if err := l.writeSubject(ctx, e.key, e.v); err != nil {
			return err
		}
	}
	return nil
}

// Sync confirms that the mirror is current: it waits until the List is
// subscribed and synchronized, then sends a PING through the subscription
// and waits for its answer, which comes after every message published
// before it. It returns nil once confirmed, or ctx's error. Call it after
// New to wait until the List can answer.
func (l *List) Sync(ctx context.Context) error {
	for {
		l.mu.Lock()
		select {
		case <-l.closed:
			l.mu.Unlock()
			return ErrClosed
		default:
		}
		changed, gen, synced := l.changed, l.gen, l.synced
		var p ping
		var seq uint64
		if synced {
			l.seq++
			seq = l.seq
			p = ping{gen: gen, sentAt: l.now(), done: make(chan struct{})}
			l.pings[seq] = p
		}
		l.mu.Unlock()
		if !synced {
			select {
			case <-changed:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		err := l.ps.Ping(ctx, strconv.FormatUint(gen, 10)+" "+strconv.FormatUint(seq, 10))
		if err == nil {
			select {
			case <-p.done:
				return nil
			case <-changed:
			case <-ctx.Done():
				err = ctx.Err()
			}
		}
		l.mu.Lock()
		delete(l.pings, seq)
		l.mu.Unlock()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			// The connection broke; the receiver will notice. Wait for
			// the state to change rather than spin.
			select {
			case <-changed:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

// pong confirms the mirror current as of the ping's sending, if the ping
// belongs to the current synchronized generation.
func (l *List) pong(payload string) {
	g, s, _ := strings.Cut(payload, " ")
	gen, err1 := strconv.ParseUint(g, 10, 64)
	seq, err2 := strconv.ParseUint(s, 10, 64)
	if err1 != nil || err2 != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.pings[seq]
	if !ok || p.gen != gen {
		return
	}
	delete(l.pings, seq)
	if gen == l.gen && l.synced {
		if p.sentAt.After(l.confirmed) {
			l.confirmed = p.sentAt
		}
		close(p.done)
	}
}

// beat confirms the mirror every Heartbeat.
func (l *List) beat() {
	defer l.wg.Done()
	tick := time.NewTicker(l.heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-l.closed:
			return
		case <-tick.C:
			ctx, cancel := context.WithTimeout(l.ctx, l.heartbeat)
			_ = l.Sync(ctx)
			cancel()
		}
	}
}

// backoff spaces out reconnection attempts: 10 ms, doubling to 1 s.
type backoff struct{ d time.Duration }

func newBackoff() *backoff { return &backoff{d: 10 * time.Millisecond} }

func (b *backoff) reset() { b.d = 10 * time.Millisecond }

// wait waits for the current delay; it returns false if closed first.
func (b *backoff) wait(closed <-chan struct{}) bool {
	t := time.NewTimer(b.d)
	defer t.Stop()
	b.d = min(2*b.d, time.Second)
	select {
	case <-closed:
		return false
	case <-t.C:
		return true
	}
}

// validID accepts token IDs: 22 characters of base64url.
func validID(s string) bool {
	if len(s) != 22 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
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
