package redisrevoke_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/token"
	"github.com/latchsec/latch/token/redisrevoke"
)

// TestResyncDoesNotBlockVerification: a List that was current loses its
// subscription and resynchronizes. While the rebuilt mirror waits to
// replace the old one (held there by a test hook), verification answers
// at once, without an error, from the old mirror; a revocation made on
// this server meanwhile holds at once and survives the swap; one made
// elsewhere arrives after it.
func TestResyncDoesNotBlockVerification(t *testing.T) {
	f := newFleet(t)
	l, client := f.server(t)
	admin, _ := f.server(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	var before []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 500 {
				c := claims(f, "u")
				require.NoError(t, admin.RevokeID(ctx, c.ID, c.Expires))
				mu.Lock()
				before = append(before, c.ID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	waitCurrent(t, l)
	ok := claims(f, "u")

	paused, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	redisrevoke.SetRebuildHook(l, func() {
		once.Do(func() {
			close(paused)
			<-release
		})
	})
	// Break l's subscription (and admin's): the servers resynchronize.
	require.NoError(t, client.ClientKillByFilter(ctx, "TYPE", "pubsub").Err())
	select {
	case <-paused:
	case <-ctx.Done():
		t.Fatal("no resynchronization")
	}

	during, elsewhere := claims(f, "u"), claims(f, "u")
	checked := make(chan struct{})
	go func() {
		defer close(checked)
		for _, id := range before {
			c := claims(f, "u")
			c.ID = id
			require.True(t, revoked(t, l, c))
		}
		require.False(t, revoked(t, l, ok))
		require.NoError(t, l.RevokeID(ctx, during.ID, during.Expires))
		require.True(t, revoked(t, l, during), "at once, during the rebuild")
		require.NoError(t, admin.RevokeID(ctx, elsewhere.ID, elsewhere.Expires))
	}()
	select {
	case <-checked:
	case <-ctx.Done():
		t.Fatal("verification blocked while the mirror was rebuilt")
	}
	close(release)
	waitCurrent(t, l)
	require.True(t, revoked(t, l, during), "kept across the swap")
	require.True(t, revoked(t, l, elsewhere))
	require.False(t, revoked(t, l, ok))
	c := claims(f, "u")
	c.ID = before[len(before)-1]
	require.True(t, revoked(t, l, c))
}

// TestCompaction: once many revocations have arrived since the last
// rebuild, the List folds them into its table in the background, and
// every one still holds.
func TestCompaction(t *testing.T) {
	f := newFleet(t)
	l, _ := f.server(t)
	admin, _ := f.server(t)
	var ids []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 700 {
				c := claims(f, "u")
				require.NoError(t, admin.RevokeID(t.Context(), c.ID, c.Expires))
				mu.Lock()
				ids = append(ids, c.ID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	waitCurrent(t, l)
	for _, list := range []*redisrevoke.List{l, admin} {
		for _, id := range ids {
			c := claims(f, "u")
			c.ID = id
			require.True(t, revoked(t, list, c))
		}
	}
}

// TestResyncWritesBackOnlyWhatRedisLacks: a resynchronization writes
// nothing when Redis holds all the mirror holds (a sign-out time within
// the same second as Redis's is no change: with Replicas, a needless write
// would fail on a primary left without replicas and keep the List stale),
// and writes back what Redis lost.
func TestResyncWritesBackOnlyWhatRedisLacks(t *testing.T) {
	f := newFleet(t)
	l, client := f.server(t)
	ctx := t.Context()
	f.clock.Advance(500 * time.Millisecond) // sign-out times with a fraction of a second
	c := claims(f, "u")
	require.NoError(t, l.RevokeID(ctx, c.ID, c.Expires))
	require.NoError(t, l.RevokeSubject(ctx, "alice", f.clock.Now()))
	scripts := func() string {
		info, err := client.Info(ctx, "commandstats").Result()
		require.NoError(t, err)
		var calls []string
		for _, line := range strings.Split(info, "\n") {
			if strings.HasPrefix(line, "cmdstat_eval") {
				calls = append(calls, strings.TrimSpace(line[:strings.Index(line, ",usec=")]))
			}
		}
		return strings.Join(calls, " ")
	}
	resync := func() {
		require.NoError(t, client.ClientKillByFilter(ctx, "TYPE", "pubsub").Err())
		waitCurrent(t, l)
	}
	before := scripts()
	resync()
	require.Equal(t, before, scripts(), "nothing written back")

	// Redis loses everything: the List writes it back.
	require.NoError(t, client.FlushAll(ctx).Err())
	resync()
	require.NotEmpty(t, stored(t, client, c.ID))
	subs, err := client.HGetAll(ctx, "{"+redisrevoke.DefaultPrefix+"}:subjects").Result()
	require.NoError(t, err)
	require.Equal(t, map[string]string{"alice": strconv.FormatInt(f.clock.Now().Unix(), 10)}, subs)
}

// TestResyncWithoutReplicas: after a failover that leaves the primary
// without replicas, a List whose mirror holds revocations Redis lost writes
// them back and serves again; its write-back is not acknowledged by a
// replica (there is none), which must not keep it stale and failing
// closed until one returns.
func TestResyncWithoutReplicas(t *testing.T) {
	f := newFleet(t)
	client := redis.NewClient(&redis.Options{Addr: f.redis.Addr(), MaxRetries: -1})
	t.Cleanup(func() { client.Close() })
	l, err := redisrevoke.New(redisrevoke.Config{
		Client: client, MaxStaleness: maxStaleness, Heartbeat: time.Second, Now: f.clock.Now,
		Replicas: 1, ReplicaTimeout: 50 * time.Millisecond,
	})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	waitCurrent(t, l)
	ctx := t.Context()
	var ids []*token.Claims
	for range 3 {
		c := claims(f, "u")
		require.ErrorIs(t, l.RevokeID(ctx, c.ID, c.Expires), redisrevoke.ErrNotReplicated)
		ids = append(ids, c)
	}
	require.ErrorIs(t, l.RevokeSubject(ctx, "alice", f.clock.Now()), redisrevoke.ErrNotReplicated)

	// The primary loses everything (its replica never had it) and the
	// List resynchronizes, in one pass: a write-back that no replica
	// acknowledged is not a failed resynchronization, to be retried after
	// a pause while the List fails closed. Each pass reads the subjects
	// with one HGETALL.
	loads := func() int {
		info, err := client.Info(ctx, "commandstats").Result()
		require.NoError(t, err)
		for _, line := range strings.Split(info, "\n") {
			if rest, ok := strings.CutPrefix(line, "cmdstat_hgetall:calls="); ok {
				n, err := strconv.Atoi(rest[:strings.Index(rest, ",")])
				require.NoError(t, err)
				return n
			}
		}
		return 0
	}
	require.NoError(t, client.FlushAll(ctx).Err())
	require.NoError(t, client.ConfigResetStat(ctx).Err())
	require.NoError(t, client.ClientKillByFilter(ctx, "TYPE", "pubsub").Err())
	waitCurrent(t, l)
	require.Equal(t, 1, loads(), "resynchronized in one pass")
	for _, c := range ids {
		require.NotEmpty(t, stored(t, client, c.ID), "written back")
		revoked, err := l.Revoked(ctx, c)
		require.NoError(t, err)
		require.True(t, revoked)
	}
	subs, err := client.HGetAll(ctx, "{"+redisrevoke.DefaultPrefix+"}:subjects").Result()
	require.NoError(t, err)
	require.Contains(t, subs, "alice")
}
