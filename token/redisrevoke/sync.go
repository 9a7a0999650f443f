package redisrevoke

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// apply merges a message of the channel into the mirror; token refuses
// an ID or a subject that is not one.
func (l *List) apply(payload string) {
	kind, rest, _ := strings.Cut(payload, " ")
	num, arg, _ := strings.Cut(rest, " ")
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil || v < 0 {
		return
	}
	switch kind {
	case "id":
		if v <= math.MaxUint32 {
			_ = l.addID(l.ctx, arg, expiryTime(uint32(v)))
		}
	case "sub":
		_ = l.addSubject(l.ctx, arg, time.Unix(v, 0))
	}
}

// setState records a change of generation or synchronization and wakes
// whoever waits on it. l.mu must be held.
func (l *List) setState(gen uint64, synced bool) {
	l.gen, l.synced = gen, synced
	close(l.changed)
	l.changed = make(chan struct{})
}

// broken records that messages may have been lost: the mirror is no
// longer synchronized until the next resynchronization.
func (l *List) broken() {
	l.mu.Lock()
	l.setState(l.gen+1, false)
	l.mu.Unlock()
	// After a failover a Cluster slot has a new primary: learn it.
	l.writer.Reload(l.ctx)
}

// receive reads the subscription. A (re)subscription starts a full
// resynchronization; a read error means messages may be lost, so the
// mirror is no longer synchronized until the next one.
func (l *List) receive() {
	defer l.wg.Done()
	backoff := newBackoff(l.heartbeat)
	for {
		ps := l.ps.Load()
		msg, err := ps.Receive(l.ctx)
		if l.ctx.Err() != nil {
			return
		}
		if err != nil {
			l.broken()
			if !backoff.wait(l.closed) {
				return
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			switch m.Kind {
			case "ssubscribe":
				if !l.resync(backoff) {
					return
				}
			case "sunsubscribe":
				// The server dropped the subscription (the slot moved
				// to another primary): subscribe again, there.
				l.broken()
				_ = ps.Close()
				l.ps.Store(l.rdb.SSubscribe(l.ctx, l.channel))
			}
		case *redis.Message:
			l.apply(m.Payload)
		case *redis.Pong:
			l.pong(m.Payload)
		}
	}
}

// resync loads the whole list from Redis into the mirror, and writes back
// what the mirror has and Redis lacks (Redis may have restarted empty, or
// failed over to a replica that had not received everything). It retries
// until it succeeds or the List is closed; messages wait in the
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

// mgetBuckets is how many buckets one MGET of a resynchronization reads.
const mgetBuckets = 128

// load rebuilds the mirror from Redis and its own content, replaces it at
// once, then writes back to Redis what only the mirror had. Verification
// goes on meanwhile, from the old mirror, without waiting.
func (l *List) load(ctx context.Context) error {
	l.rebuilding.Lock()
	defer l.rebuilding.Unlock()
	l.freeze()

	// Redis's entries: every bucket, read in a few MGETs (the buckets
	// share a slot), into a new list.
	blobs := make([]string, 0, len(l.bucketKeys))
	for i := 0; i < len(l.bucketKeys); i += mgetBuckets {
		vals, err := l.rdb.MGet(ctx, l.bucketKeys[i:min(i+mgetBuckets, len(l.bucketKeys))]...).Result()
		if err != nil {
			return err
		}
		for _, v := range vals {
			if blob, ok := v.(string); ok {
				blobs = append(blobs, blob)
			}
		}
	}
	subs, err := l.rdb.HGetAll(ctx, l.subjectsKey).Result()
	if err != nil {
		return err
	}
	next := l.newMirror()
	n := 0
	// Every record is a token ID; token drops the entries of expired
	// tokens.
	if err := next.RevokeIDs(ctx, func(yield func(string, time.Time) bool) {
		for id, expires := range records(blobs) {
			n++
			if !yield(id, expires) {
				return
			}
		}
	}); err != nil {
		return err
	}
	for s, v := range subs {
		if b, err := strconv.ParseInt(v, 10, 64); err == nil {
			_ = next.RevokeSubject(ctx, s, time.Unix(b, 0))
		}
	}

	// Merge the mirror in, and write back what Redis lacked. A write-back
	// that reached the primary but not the replicas (a failover left the
	// primary without any) still makes Redis and the mirror agree: the
	// List is current, and Redis keeps it as it keeps every write until a
	// replica is back.
	missingIDs, missingSubjects := l.rebuild(next, n)
	if err := l.writeIDs(ctx, missingIDs); err != nil && !errors.Is(err, ErrNotReplicated) {
		return err
	}
	if err := l.writeSubjects(ctx, missingSubjects); err != nil && !errors.Is(err, ErrNotReplicated) {
		return err
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
			return closedError
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
		err := l.ps.Load().Ping(ctx, strconv.FormatUint(gen, 10)+" "+strconv.FormatUint(seq, 10))
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

// backoff spaces out reconnection attempts: 10 ms, doubling up to a
// ceiling (the heartbeat, at most 1 s), so that a List serves again within
// a heartbeat of Redis coming back.
type backoff struct{ d, ceiling time.Duration }

func newBackoff(ceiling time.Duration) *backoff {
	return &backoff{d: 10 * time.Millisecond, ceiling: min(ceiling, time.Second)}
}

func (b *backoff) reset() { b.d = 10 * time.Millisecond }

// wait waits for the current delay; it returns false if closed first.
func (b *backoff) wait(closed <-chan struct{}) bool {
	t := time.NewTimer(b.d)
	defer t.Stop()
	b.d = min(2*b.d, b.ceiling)
	select {
	case <-closed:
		return false
	case <-t.C:
		return true
	}
}
