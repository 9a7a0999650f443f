package redisrevoke

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchsec/latch/token"
)

// store writes the list's entries to Redis.
type store struct {
	rdb            redis.UniversalClient
	cluster        *redis.ClusterClient // rdb, when it is a Cluster
	prefix         string
	idsKey         string // {prefix}:ids
	subjectsKey    string // {prefix}:subjects
	channel        string // {prefix}:events
	replicas       int
	replicaTimeout time.Duration
	now            func() time.Time
}

func newStore(rdb redis.UniversalClient, prefix string, now func() time.Time) (*store, error) {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if !validPrefix(prefix) {
		return nil, errors.New(`redisrevoke: Config.Prefix must be 1 to 64 characters of A-Z a-z 0-9 ":_-"`)
	}
	if now == nil {
		now = time.Now
	}
	// The hash tag puts every key and the channel in one slot of a
	// Cluster: each script touches one slot, and the channel lives on the
	// primary that runs the scripts.
	tag := "{" + prefix + "}"
	s := &store{rdb: rdb, prefix: prefix, idsKey: tag + ":ids", subjectsKey: tag + ":subjects", channel: tag + ":events", now: now}
	s.cluster, _ = rdb.(*redis.ClusterClient)
	return s, nil
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

// Entries only grow: a later write never shortens an ID's expiry or moves a
// subject's time back, so Lists can merge in any order. Each script writes
// a batch and publishes every entry that changed; revokeIDsScript also
// drops the entries that have expired (score at or below ARGV[2]).
var (
	revokeIDsScript = redis.NewScript(`
local n = 0
for i = 3, #ARGV, 2 do
  if redis.call('ZADD', KEYS[1], 'GT', 'CH', ARGV[i], ARGV[i+1]) == 1 then
    n = n + 1
    local exp = ARGV[i]
    if exp == '+inf' then exp = '0' end
    redis.call('SPUBLISH', ARGV[1], 'id ' .. exp .. ' ' .. ARGV[i+1])
  end
end
if tonumber(ARGV[2]) > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2]) end
return n`)
	revokeSubjectsScript = redis.NewScript(`
local n = 0
for i = 2, #ARGV, 2 do
  local old = tonumber(redis.call('HGET', KEYS[1], ARGV[i]))
  if not old or old < tonumber(ARGV[i+1]) then
    n = n + 1
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i+1])
    redis.call('SPUBLISH', ARGV[1], 'sub ' .. ARGV[i+1] .. ' ' .. ARGV[i])
  end
end
return n`)
)

// batch is how many entries one script call writes.
const batch = 512

type subjectEntry struct {
	subject string
	before  int64
}

func (s *store) writeIDs(ctx context.Context, ents []entry) error {
	cutoff := s.now().Add(-token.Leeway).Unix()
	for len(ents) > 0 {
		n := min(len(ents), batch)
		args := make([]any, 2, 2+2*n)
		args[0], args[1] = s.channel, max(cutoff, 0)
		for _, e := range ents[:n] {
			score := "+inf"
			if e.exp != 0 {
				score = strconv.FormatUint(uint64(e.exp), 10)
			}
			args = append(args, score, formatID(e.id))
		}
		if err := s.run(ctx, revokeIDsScript, s.idsKey, args); err != nil {
			return err
		}
		ents = ents[n:]
	}
	return nil
}

func (s *store) writeSubjects(ctx context.Context, subs []subjectEntry) error {
	for len(subs) > 0 {
		n := min(len(subs), batch)
		args := make([]any, 1, 1+2*n)
		args[0] = s.channel
		for _, e := range subs[:n] {
			args = append(args, e.subject, e.before)
		}
		if err := s.run(ctx, revokeSubjectsScript, s.subjectsKey, args); err != nil {
			return err
		}
		subs = subs[n:]
	}
	return nil
}

// waiter is what a go-redis pipeline has beyond Pipeliner: WAIT, with the
// read timeout extended to the wait.
type waiter interface {
	Wait(ctx context.Context, numReplicas int, timeout time.Duration) *redis.IntCmd
}

// run runs a script on key and, with Replicas, waits for the replicas to
// acknowledge it (WAIT on the connection that ran it, on the primary that
// owns key).
func (s *store) run(ctx context.Context, script *redis.Script, key string, args []any) error {
	if s.replicas == 0 {
		if err := script.Run(ctx, s.rdb, []string{key}, args...).Err(); err != nil {
			return fmt.Errorf("%w: %w", ErrNotShared, err)
		}
		return nil
	}
	var c redis.Cmdable = s.rdb
	if s.cluster != nil {
		node, err := s.cluster.MasterForKey(ctx, key)
		if err != nil {
			s.cluster.ReloadState(ctx)
			return fmt.Errorf("%w: %w", ErrNotShared, err)
		}
		c = node
	}
	var eval *redis.Cmd
	var wait *redis.IntCmd
	_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		eval = script.Eval(ctx, p, []string{key}, args...)
		wait = p.(waiter).Wait(ctx, s.replicas, s.replicaTimeout)
		return nil
	})
	if eval != nil && eval.Err() != nil {
		if s.cluster != nil {
			s.cluster.ReloadState(ctx)
		}
		return fmt.Errorf("%w: %w", ErrNotShared, eval.Err())
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotReplicated, err)
	}
	if n := wait.Val(); n < int64(s.replicas) {
		return fmt.Errorf("%w: %d of %d acknowledged within %v", ErrNotReplicated, n, s.replicas, s.replicaTimeout)
	}
	return nil
}
