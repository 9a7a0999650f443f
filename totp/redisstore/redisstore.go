package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/latchsec/latch/internal/reason"
	"github.com/latchsec/latch/internal/rediswait"
	"github.com/latchsec/latch/totp"
	"github.com/redis/go-redis/v9"
)

// DefaultPrefix is the prefix of the keys when New gets none.
const DefaultPrefix = "latch:totp:"

// format labels every stored record, so that a later layout can be told
// apart.
const format = "latch.totp.record.v1"

// stored is a record as JSON in Redis.
type stored struct {
	Format string `json:"format"`
	*totp.Record
}

// tombstoneMillis is how long a deleted record's version is kept;
// pendingMillis how long a record whose enrollment was never confirmed is
// kept after its last change (totp refuses to confirm it long before).
const (
	tombstoneMillis = 24 * 60 * 60 * 1000
	pendingMillis   = 24 * 60 * 60 * 1000
)

// DefaultReplicaTimeout is how long a change waits for Store.Replicas
// when ReplicaTimeout is zero.
const DefaultReplicaTimeout = rediswait.DefaultTimeout

// Store is a totp.Store on Redis. It is safe for concurrent use; set its
// fields before its first use.
type Store struct {
	// Replicas is how many replicas of the primary must hold a change
	// (an accepted code, a failure counted, a lockout) before
	// CompareAndSwap reports it made (Redis WAIT). With Sentinel or
	// Cluster set it to 1: a code accepted just before a failover is then
	// refused after it. Default 0: the primary's word is enough.
	Replicas int
	// ReplicaTimeout bounds the wait for Replicas. Default 1 s. It must
	// be shorter than the client's ReadTimeout: go-redis reads the
	// pipeline that carries WAIT under ReadTimeout, not under WAIT's own
	// timeout, so a wait as long would fail every accepted code once no
	// replica answers. CompareAndSwap refuses such a Store: it returns an
	// error, and so totp accepts no code, until the Store is fixed.
	ReplicaTimeout time.Duration

	rdb    redis.UniversalClient
	prefix string
	once   sync.Once
	w      *rediswait.Writer
	werr   error
}

// New returns a Store that keeps its records in rdb under keys starting
// with prefix (DefaultPrefix if empty). rdb is a single server
// (redis.NewClient), a primary managed by Sentinel
// (redis.NewFailoverClient) or a Cluster (redis.NewClusterClient).
func New(rdb redis.UniversalClient, prefix string) *Store {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Store{rdb: rdb, prefix: prefix}
}

func (s *Store) key(account string) string { return s.prefix + account }

// Load implements totp.Store.
func (s *Store) Load(ctx context.Context, account string) (*totp.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, reason.Wrap(errLoad, nil, err)
	}
	vals, err := s.rdb.HMGet(ctx, s.key(account), "v", "r").Result()
	if err != nil {
		s.reload(ctx)
		return nil, reason.Wrap(errLoad, nil, err)
	}
	v, vok := vals[0].(string)
	r, rok := vals[1].(string)
	if !rok {
		return nil, reason.New(totp.ErrNotEnrolled, nil)
	}
	version, err := strconv.ParseUint(v, 10, 64)
	if !vok || err != nil || version == 0 {
		return nil, reason.Newf(errLoad, nil, "record without a valid version")
	}
	rec := stored{Record: &totp.Record{}}
	if err := json.Unmarshal([]byte(r), &rec); err != nil {
		return nil, reason.Wrap(errLoad, nil, err)
	}
	if rec.Format != format {
		return nil, reason.Newf(errLoad, nil, "unknown record format "+strconv.Quote(rec.Format))
	}
	rec.Version = version
	return rec.Record, nil
}

// casScript compares the version and writes or deletes.
// KEYS[1]: the account's key. ARGV[1]: the expected version (0: no record).
// ARGV[2]: the new record's JSON, or "" to delete. ARGV[3]: tombstone TTL
// in milliseconds. ARGV[4]: the new record's TTL in milliseconds, 0 for
// none. It returns 1 if it wrote, 0 if the version differed.
var casScript = redis.NewScript(`
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
local cur = 0
if redis.call('HEXISTS', KEYS[1], 'r') == 1 then cur = v end
if cur ~= tonumber(ARGV[1]) then return 0 end
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], 'r')
  if v > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
else
  redis.call('HSET', KEYS[1], 'v', string.format('%d', v + 1), 'r', ARGV[2])
  if tonumber(ARGV[4]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[4]) else redis.call('PERSIST', KEYS[1]) end
end
return 1
`)

// CompareAndSwap implements totp.Store.
func (s *Store) CompareAndSwap(ctx context.Context, account string, old uint64, next *totp.Record) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, reason.Wrap(errSwap, nil, err)
	}
	var body []byte
	ttl := 0
	if next != nil && !next.Confirmed {
		ttl = pendingMillis
	}
	if next != nil {
		var err error
		if body, err = json.Marshal(stored{Format: format, Record: next}); err != nil {
			return false, reason.Wrap(errSwap, nil, err)
		}
	}
	w, err := s.writer()
	if err != nil {
		return false, err
	}
	reply, err := w.Run(ctx, casScript, []string{s.key(account)}, strconv.FormatUint(old, 10), body, tombstoneMillis, ttl)
	var notReplicated *rediswait.ReplicaError
	if err != nil && !errors.As(err, &notReplicated) {
		return false, reason.Wrap(errSwap, nil, err)
	}
	if n, _ := reply.(int64); n != 1 {
		return false, nil // nothing written, nothing to wait for
	}
	if err != nil {
		return false, reason.Wrap(ErrNotReplicated, nil, err)
	}
	return true, nil
}

// writer returns the Writer of the Store's Replicas and ReplicaTimeout,
// made at the first change; it refuses a ReplicaTimeout that is not
// shorter than the client's ReadTimeout.
func (s *Store) writer() (*rediswait.Writer, error) {
	s.once.Do(func() {
		s.w, s.werr = rediswait.New(s.rdb, s.Replicas, s.ReplicaTimeout)
		if s.werr != nil {
			s.werr = reason.Wrap(errReplicaTimeout, nil, s.werr)
		}
	})
	return s.w, s.werr
}

// reload has a Cluster client learn the slots again after an error: the
// key's primary may have failed over.
func (s *Store) reload(ctx context.Context) {
	if cluster, ok := s.rdb.(*redis.ClusterClient); ok {
		cluster.ReloadState(ctx)
	}
}
