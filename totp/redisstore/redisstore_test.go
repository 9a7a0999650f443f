package redisstore

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchsec/latch/internal/interop"
	"github.com/latchsec/latch/internal/rediswait"
	"github.com/latchsec/latch/internal/testclock"
	"github.com/latchsec/latch/totp"
	"github.com/latchsec/latch/totp/storetest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

func client(t *testing.T, r *interop.Redis) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: r.Addr(), MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestStoreContract(t *testing.T) {
	r := interop.StartRedis(t)
	storetest.Run(t, New(client(t, r), ""))
	// Another prefix is another, empty, store.
	storetest.Run(t, New(client(t, r), "other:"))
}

// TestLayout: one hash per account; a delete leaves a tombstone with the
// version that expires; a new record makes the key persistent again.
func TestLayout(t *testing.T) {
	ctx := context.Background()
	rdb := client(t, interop.StartRedis(t))
	s := New(rdb, "")
	ok, err := s.CompareAndSwap(ctx, "alice", 0, &totp.Record{Digits: 6, Secret: []byte{1, 2}})
	require.NoError(t, err)
	require.True(t, ok)
	h, err := rdb.HGetAll(ctx, "latch:totp:alice").Result()
	require.NoError(t, err)
	require.Equal(t, "1", h["v"])
	require.JSONEq(t, `{"format":"latch.totp.record.v1","secret":"AQI=","algorithm":0,"digits":6}`, h["r"])

	ok, err = s.CompareAndSwap(ctx, "alice", 1, nil)
	require.NoError(t, err)
	require.True(t, ok)
	h, err = rdb.HGetAll(ctx, "latch:totp:alice").Result()
	require.NoError(t, err)
	require.Equal(t, map[string]string{"v": "1"}, h)
	ttl, err := rdb.PTTL(ctx, "latch:totp:alice").Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 23*time.Hour)

	// A pending enrollment expires a day after its last change; a
	// confirmed one never.
	ok, err = s.CompareAndSwap(ctx, "alice", 0, &totp.Record{Digits: 6})
	require.NoError(t, err)
	require.True(t, ok)
	ttl, err = rdb.PTTL(ctx, "latch:totp:alice").Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 23*time.Hour)
	ok, err = s.CompareAndSwap(ctx, "alice", 2, &totp.Record{Digits: 6, Confirmed: true})
	require.NoError(t, err)
	require.True(t, ok)
	ttl, err = rdb.PTTL(ctx, "latch:totp:alice").Result()
	require.NoError(t, err)
	require.Equal(t, time.Duration(-1), ttl, "no expiry on a confirmed record")
	rec, err := s.Load(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, uint64(3), rec.Version)

	// A damaged entry is an error, not a record.
	require.NoError(t, rdb.HSet(ctx, "latch:totp:bob", "r", "{}").Err())
	_, err = s.Load(ctx, "bob")
	require.Error(t, err)
	require.NotErrorIs(t, err, totp.ErrNotEnrolled)
	for _, r := range []string{"not json", `{"digits":6}`, `{"format":"latch.totp.record.v2","digits":6}`} {
		require.NoError(t, rdb.HSet(ctx, "latch:totp:bob", "v", "1", "r", r).Err())
		_, err = s.Load(ctx, "bob")
		require.Error(t, err, r)
		require.NotErrorIs(t, err, totp.ErrNotEnrolled)
	}
}

// fleet is two servers, each with its own Redis client, sharing one Redis.
func fleet(t *testing.T, r *interop.Redis, clk *clock) [2]*totp.Authenticator {
	var servers [2]*totp.Authenticator
	for i := range servers {
		a, err := totp.New(totp.Config{
			Issuer:         "Acme",
			Store:          New(client(t, r), ""),
			EncryptionKeys: []totp.EncryptionKey{{ID: "k1", Key: bytes.Repeat([]byte{7}, 32)}},
			Now:            clk.Now,
		})
		require.NoError(t, err)
		servers[i] = a
	}
	return servers
}

func enroll(t *testing.T, a *totp.Authenticator, clk *clock, account string) totp.Key {
	ctx := context.Background()
	k, err := a.Enroll(ctx, account, "")
	require.NoError(t, err)
	require.NoError(t, a.Confirm(ctx, account, k.Code(clk.Now())))
	clk.Advance(5 * time.Minute)
	return k
}

// TestFleetSameCode: 100 concurrent verifications of one valid code, spread
// over two servers with their own clients: exactly one succeeds, the others
// are replays.
func TestFleetSameCode(t *testing.T) {
	r := interop.StartRedis(t)
	clk := testclock.New(time.Unix(1_767_225_600, 0))
	servers := fleet(t, r, clk)
	k := enroll(t, servers[0], clk, "alice")
	code := k.Code(clk.Now())

	var ok, replayed atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 100 {
		wg.Go(func() {
			<-start
			err := servers[i%2].Verify(context.Background(), "alice", code)
			switch {
			case err == nil:
				ok.Add(1)
			case errorsIs(err, totp.ErrReplayed):
				replayed.Add(1)
			default:
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	require.Equal(t, int32(1), ok.Load())
	require.Equal(t, int32(99), replayed.Load())
}

// TestFleetLockout: failures counted on either server add up, concurrent
// ones too, and the lockout holds on both.
func TestFleetLockout(t *testing.T) {
	ctx := context.Background()
	r := interop.StartRedis(t)
	clk := testclock.New(time.Unix(1_767_225_600, 0))
	servers := fleet(t, r, clk)
	k := enroll(t, servers[0], clk, "alice")
	wrong := "000000"
	for _, d := range []time.Duration{-30, 0, 30} {
		if k.Code(clk.Now().Add(d*time.Second)) == wrong {
			wrong = "000001"
		}
	}

	var invalid, throttled atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			err := servers[i%2].Verify(ctx, "alice", wrong)
			switch {
			case errorsIs(err, totp.ErrThrottled):
				throttled.Add(1)
			case errorsIs(err, totp.ErrInvalidCode):
				invalid.Add(1)
			default:
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	wg.Wait()
	require.Equal(t, int32(5), invalid.Load(), "exactly MaxFailures codes were checked")
	require.Equal(t, int32(15), throttled.Load())
	for _, a := range servers {
		err := a.Verify(ctx, "alice", k.Code(clk.Now()))
		var re *totp.RefusedError
		require.ErrorAs(t, err, &re)
		require.ErrorIs(t, err, totp.ErrThrottled)
		require.True(t, clk.Now().Add(time.Minute).Equal(re.RetryAfter), "%v", re.RetryAfter)
	}
	clk.Advance(time.Minute)
	require.NoError(t, servers[1].Verify(ctx, "alice", k.Code(clk.Now())))
}

// TestRedisDown: while Redis is down every call fails (and nothing is
// accepted); a Redis that lost its data has no enrollment, so codes are
// refused rather than accepted.
func TestRedisDown(t *testing.T) {
	ctx := context.Background()
	r := interop.StartRedis(t)
	clk := testclock.New(time.Unix(1_767_225_600, 0))
	servers := fleet(t, r, clk)
	k := enroll(t, servers[0], clk, "alice")

	r.Stop()
	err := servers[0].Verify(ctx, "alice", k.Code(clk.Now()))
	require.Error(t, err)
	require.NotErrorIs(t, err, totp.ErrRefused)
	require.Contains(t, err.Error(), "redisstore")

	r.Restart()
	require.ErrorIs(t, servers[1].Verify(ctx, "alice", k.Code(clk.Now())), totp.ErrNotEnrolled)
}

// TestReplicaTimeoutRefused: go-redis reads the pipelined WAIT under the
// client's ReadTimeout, so a wait for replicas as long as it would fail
// every change once no replica answers. Such a Store refuses every change
// before writing anything, and a wait shorter than ReadTimeout is taken.
func TestReplicaTimeoutRefused(t *testing.T) {
	ctx := context.Background()
	r := interop.StartRedis(t)
	fast := redis.NewClient(&redis.Options{Addr: r.Addr(), MaxRetries: -1, ReadTimeout: 500 * time.Millisecond})
	t.Cleanup(func() { fast.Close() })
	for name, s := range map[string]*Store{
		"wait as long as reads (5 s by default)": {rdb: client(t, r), prefix: DefaultPrefix, Replicas: 1, ReplicaTimeout: 5 * time.Second},
		"default wait longer than reads":         {rdb: fast, prefix: DefaultPrefix, Replicas: 1},
	} {
		t.Run(name, func(t *testing.T) {
			ok, err := s.CompareAndSwap(ctx, "alice", 0, &totp.Record{Digits: 6})
			require.ErrorIs(t, err, rediswait.ErrTimeout)
			require.ErrorContains(t, err, "redisstore: invalid ReplicaTimeout: must be shorter")
			require.False(t, ok)
			n, err := fast.Exists(ctx, DefaultPrefix+"alice").Result()
			require.NoError(t, err)
			require.Zero(t, n, "nothing written")
		})
	}
	// Without replicas nothing is waited for, whatever the timeouts.
	s := New(fast, "")
	s.ReplicaTimeout = time.Second
	ok, err := s.CompareAndSwap(ctx, "alice", 0, &totp.Record{Digits: 6})
	require.NoError(t, err)
	require.True(t, ok)
}

// clock is the injected test clock.
type clock = testclock.Clock
