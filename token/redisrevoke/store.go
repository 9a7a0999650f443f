package redisrevoke

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchsec/latch/internal/reason"
	"github.com/latchsec/latch/internal/rediswait"
	"github.com/latchsec/latch/token"
)

// store writes the list's entries to Redis.
type store struct {
	rdb         redis.UniversalClient
	prefix      string
	bucketKeys  []string // {prefix}:ids:0 … {prefix}:ids:1023
	subjectsKey string   // {prefix}:subjects
	channel     string   // {prefix}:events
	writer      *rediswait.Writer
	now         func() time.Time
}

func newStore(rdb redis.UniversalClient, prefix string, now func() time.Time, replicas int, replicaTimeout time.Duration) (*store, error) {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if !validPrefix(prefix) {
		return nil, configProblem(`Config.Prefix must be 1 to 64 characters of A-Z a-z 0-9 ":_-"`)
	}
	if now == nil {
		now = time.Now
	}
	w, err := rediswait.New(rdb, replicas, replicaTimeout)
	if err != nil {
		return nil, &reason.Fault{Category: errConfig, Detail: "Config.ReplicaTimeout", Cause: err}
	}
	// The hash tag puts every key and the channel in one slot of a
	// Cluster: each script touches one slot, and the channel lives on the
	// primary that runs the scripts.
	tag := "{" + prefix + "}"
	s := &store{rdb: rdb, writer: w, prefix: prefix, subjectsKey: tag + ":subjects", channel: tag + ":events", now: now}
	for b := range buckets {
		s.bucketKeys = append(s.bucketKeys, tag+":ids:"+strconv.Itoa(b))
	}
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
// a batch and publishes every entry that changed.
//
// revokeIDsScript: KEYS[i] is the bucket of entry i; ARGV[1] the channel,
// ARGV[2] the cutoff (entries expiring at or before it are dead; 0: none),
// ARGV[1+2i] entry i's 20-byte record and ARGV[2+2i] its message. A
// record is appended unless its bucket already holds the ID with an
// expiry as late; a bucket that has doubled since its last rewrite is
// rewritten without dead entries and duplicates.
var (
	revokeIDsScript = redis.NewScript(`
local cutoff = tonumber(ARGV[2])
local n = 0
for i = 1, #KEYS do
  local rec = ARGV[1 + 2*i]
  local id = string.sub(rec, 1, 16)
  local exp = struct.unpack('>I4', rec, 17)
  local blob = redis.call('GET', KEYS[i])
  if not blob then blob = '' end
  local newer = true
  local pos = 5
  while true do
    local at = string.find(blob, id, pos, true)
    if not at then break end
    if (at - 5) % 20 == 0 then
      local old = struct.unpack('>I4', blob, at + 16)
      if old == 0 or (exp ~= 0 and old >= exp) then newer = false break end
      pos = at + 20
    else
      pos = at + 1
    end
  end
  if newer then
    n = n + 1
    if blob == '' then
      blob = struct.pack('>I4', 0) .. rec
      redis.call('SET', KEYS[i], blob)
    else
      blob = blob .. rec
      redis.call('APPEND', KEYS[i], rec)
    end
    local kept = struct.unpack('>I4', blob, 1)
    if (#blob - 4) / 20 >= 2 * kept + 64 then
      local latest, order = {}, {}
      for p = 5, #blob, 20 do
        local k = string.sub(blob, p, p + 15)
        local e = struct.unpack('>I4', blob, p + 16)
        if e == 0 or e > cutoff then
          local o = latest[k]
          if o == nil then
            order[#order + 1] = k
            latest[k] = e
          elseif o ~= 0 and (e == 0 or e > o) then
            latest[k] = e
          end
        end
      end
      local parts = {struct.pack('>I4', #order)}
      for _, k in ipairs(order) do parts[#parts + 1] = k .. struct.pack('>I4', latest[k]) end
      redis.call('SET', KEYS[i], table.concat(parts))
    end
    redis.call('SPUBLISH', ARGV[1], ARGV[2 + 2*i])
  end
end
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

// buckets is how many keys hold the IDs: an ID's bucket is its first two
// bytes, big-endian, modulo buckets.
const buckets = 1024

func bucketOf(k *id) int { return int(binary.BigEndian.Uint16(k[:2])) % buckets }

// record is an entry as a bucket holds it: the ID's 16 bytes, then its
// expiry as 4 bytes big-endian.
func record(e entry) string {
	var r [20]byte
	copy(r[:], e.id[:])
	binary.BigEndian.PutUint32(r[16:], e.exp)
	return string(r[:])
}

// records yields every record of the buckets' values as RevokeID takes
// it: the token ID and its expiry. A truncated record at a value's end is
// passed over. The IDs of a bucket are encoded into one string, of which
// each ID is a part: a million IDs are a thousand allocations, not a
// million.
func records(blobs []string) iter.Seq2[string, time.Time] {
	return func(yield func(string, time.Time) bool) {
		for _, blob := range blobs {
			n := max(len(blob)-4, 0) / 20
			var b strings.Builder
			b.Grow(idLen * n)
			var enc [idLen]byte
			for r := range n {
				p := 4 + 20*r
				base64.RawURLEncoding.Encode(enc[:], []byte(blob[p:p+16]))
				b.Write(enc[:])
			}
			ids := b.String()
			for r := range n {
				p := 4 + 20*r
				exp := uint32(blob[p+16])<<24 | uint32(blob[p+17])<<16 | uint32(blob[p+18])<<8 | uint32(blob[p+19])
				if !yield(ids[idLen*r:idLen*(r+1)], expiryTime(exp)) {
					return
				}
			}
		}
	}
}

// idLen is the length of a token ID: 16 bytes in base64url.
const idLen = 22

// batch is how many entries one script call writes.
const batch = 512

type subjectEntry struct {
	subject string
	before  int64
}

// writeIDs writes revoked IDs, a batch of them per script call (see
// writeBatches).
func (s *store) writeIDs(ctx context.Context, ents []entry) error {
	cutoff := max(s.now().Add(-token.Leeway).Unix(), 0)
	return writeBatches(ctx, s, revokeIDsScript, ents, func(part []entry) ([]string, []any) {
		keys := make([]string, len(part))
		args := make([]any, 2, 2+2*len(part))
		args[0], args[1] = s.channel, cutoff
		for i, e := range part {
			keys[i] = s.bucketKeys[bucketOf(&e.id)]
			args = append(args, record(e), "id "+strconv.FormatUint(uint64(e.exp), 10)+" "+formatID(e.id))
		}
		return keys, args
	})
}

// writeSubjects writes revoked subjects, a batch of them per script call
// (see writeBatches).
func (s *store) writeSubjects(ctx context.Context, subs []subjectEntry) error {
	return writeBatches(ctx, s, revokeSubjectsScript, subs, func(part []subjectEntry) ([]string, []any) {
		args := make([]any, 1, 1+2*len(part))
		args[0] = s.channel
		for _, e := range part {
			args = append(args, e.subject, e.before)
		}
		return []string{s.subjectsKey}, args
	})
}

// writeBatches runs script once for each batch of up to batch items, with
// the keys and arguments that build makes of it. A batch that reached the
// primary but not enough replicas (ErrNotReplicated) does not stop the
// others, and its error is returned at the end; any other error stops the
// writing at once.
func writeBatches[T any](ctx context.Context, s *store, script *redis.Script, items []T, build func(part []T) (keys []string, args []any)) error {
	var notReplicated error
	for len(items) > 0 {
		n := min(len(items), batch)
		keys, args := build(items[:n])
		if err := s.run(ctx, script, keys, args); err != nil {
			if !errors.Is(err, ErrNotReplicated) {
				return err
			}
			notReplicated = err // on the primary: write the rest too
		}
		items = items[n:]
	}
	return notReplicated
}

// run runs a script on the primary that owns keys[0] and, with Replicas,
// waits for the replicas to acknowledge it.
func (s *store) run(ctx context.Context, script *redis.Script, keys []string, args []any) error {
	_, err := s.writer.Run(ctx, script, keys, args...)
	if err != nil {
		var notReplicated *rediswait.ReplicaError
		return writeFailed(err, errors.As(err, &notReplicated))
	}
	return nil
}
