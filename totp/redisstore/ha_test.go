package redisstore

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/latchsec/latch/internal/interop"
	"github.com/latchsec/latch/internal/testclock"
	"github.com/latchsec/latch/totp"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// haServer is an Authenticator of the fleet on its own client, waiting
// for one replica.
func haServer(t *testing.T, rdb redis.UniversalClient, clk *clock, replicaTimeout time.Duration) *totp.Authenticator {
	t.Cleanup(func() { rdb.Close() })
	s := New(rdb, "")
	s.Replicas, s.ReplicaTimeout = 1, replicaTimeout
	a, err := totp.New(totp.Config{
		Issuer:         "Acme",
		Store:          s,
		EncryptionKeys: []totp.EncryptionKey{{ID: "k1", Key: bytes.Repeat([]byte{7}, 32)}},
		Now:            clk.Now,
	})
	require.NoError(t, err)
	return a
}

func sentinelClient(g *interop.SentinelGroup) redis.UniversalClient {
	return redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName: g.Name, SentinelAddrs: g.SentinelAddrs(), MaxRetries: -1,
		DialTimeout: 200 * time.Millisecond,
	})
}

// TestSentinelFailoverNoReplay: a code accepted by one server just before
// the primary dies is refused as a replay by another after the replica
// has taken over.
func TestSentinelFailoverNoReplay(t *testing.T) {
	g := interop.StartSentinelGroup(t, 1)
	clk := testclock.New(time.Unix(1_767_225_600, 0))
	a, b := haServer(t, sentinelClient(g), clk, 0), haServer(t, sentinelClient(g), clk, 0)
	k := enroll(t, a, clk, "alice")
	code := k.Code(clk.Now())

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	require.NoError(t, a.Verify(ctx, "alice", code))
	primary, err := g.Primary(ctx)
	require.NoError(t, err)
	primary.Kill()
	_, err = g.WaitFailover(ctx, primary)
	require.NoError(t, err)

	// The new primary has no replica left: waiting for one fails, and so
	// nothing is accepted, but a replay is still recognised as one.
	var replayErr error
	require.NoError(t, interop.PollUntil(ctx, func() bool {
		replayErr = b.Verify(ctx, "alice", code)
		return replayErr != nil && errorsIs(replayErr, totp.ErrRefused)
	}))
	require.ErrorIs(t, replayErr, totp.ErrReplayed)
}

// TestReplicaMustAcknowledge: while the replica is frozen no code is
// accepted (the answer is an error, not "accepted"), and the code tried is
// spent.
func TestReplicaMustAcknowledge(t *testing.T) {
	g := interop.StartSentinelGroup(t, 1)
	clk := testclock.New(time.Unix(1_767_225_600, 0))
	a := haServer(t, sentinelClient(g), clk, 300*time.Millisecond)
	k := enroll(t, a, clk, "alice")
	ctx := t.Context()

	g.Servers[1].Pause()
	code := k.Code(clk.Now())
	err := a.Verify(ctx, "alice", code)
	require.ErrorIs(t, err, ErrNotReplicated)
	require.NotErrorIs(t, err, totp.ErrRefused)
	g.Servers[1].Resume()
	require.ErrorIs(t, a.Verify(ctx, "alice", code), totp.ErrReplayed)
	clk.Advance(30 * time.Second)
	require.NoError(t, a.Verify(ctx, "alice", k.Code(clk.Now())))
}

// TestCluster: accounts on each of three primaries; a code accepted on one
// server is refused by another whatever the slot, and still after the
// primary that holds it was killed and replaced by its replica.
func TestCluster(t *testing.T) {
	c := interop.StartCluster(t, 3, 1)
	client := func() *redis.ClusterClient {
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	}
	clk := testclock.New(time.Unix(1_767_225_600, 0))
	a, b := haServer(t, client(), clk, 0), haServer(t, client(), clk, 0)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	probe := client()
	defer probe.Close()
	accounts := map[string]string{} // primary address → account
	for i := 0; len(accounts) < 3; i++ {
		require.Less(t, i, 1000)
		account := fmt.Sprintf("user-%d", i)
		node, err := probe.MasterForKey(ctx, DefaultPrefix+account)
		require.NoError(t, err)
		if _, ok := accounts[node.Options().Addr]; !ok {
			accounts[node.Options().Addr] = account
		}
	}
	keys := map[string]totp.Key{}
	for _, account := range accounts {
		keys[account] = enroll(t, a, clk, account)
	}
	for _, account := range accounts {
		code := keys[account].Code(clk.Now())
		require.NoError(t, a.Verify(ctx, account, code))
		require.ErrorIs(t, b.Verify(ctx, account, code), totp.ErrReplayed, account)
	}

	// Accept a code, then kill the primary that holds it.
	clk.Advance(30 * time.Second)
	var victim, account string
	for victim, account = range accounts {
		break
	}
	code := keys[account].Code(clk.Now())
	require.NoError(t, a.Verify(ctx, account, code))
	c.Node(victim).Kill()
	require.NoError(t, c.WaitHealthy(ctx, 3))
	var replayErr error
	require.NoError(t, interop.PollUntil(ctx, func() bool {
		replayErr = b.Verify(ctx, account, code)
		return replayErr != nil && errorsIs(replayErr, totp.ErrRefused)
	}))
	require.ErrorIs(t, replayErr, totp.ErrReplayed)
}
