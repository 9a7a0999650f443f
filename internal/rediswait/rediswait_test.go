package rediswait_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/internal/interop"
	"github.com/latchsec/latch/internal/rediswait"
)

// setScript sets KEYS[1] to ARGV[1] and returns ARGV[2] as a number.
var setScript = redis.NewScript(`redis.call('SET', KEYS[1], ARGV[1]) return tonumber(ARGV[2])`)

// failScript fails before writing anything.
var failScript = redis.NewScript(`return redis.error_reply('no')`)

func writer(t *testing.T, c redis.UniversalClient, replicas int, timeout time.Duration) *rediswait.Writer {
	t.Helper()
	w, err := rediswait.New(c, replicas, timeout)
	require.NoError(t, err)
	return w
}

// TestWithoutReplicas: the script runs and its reply comes back; a script
// that fails reports its error, which is not a ReplicaError.
func TestWithoutReplicas(t *testing.T) {
	ctx := t.Context()
	c := redis.NewClient(&redis.Options{Addr: interop.StartRedis(t).Addr(), MaxRetries: -1})
	defer c.Close()
	w := writer(t, c, 0, 0)
	reply, err := w.Run(ctx, setScript, []string{"k"}, "v", 7)
	require.NoError(t, err)
	require.Equal(t, int64(7), reply)
	require.Equal(t, "v", c.Get(ctx, "k").Val())

	_, err = w.Run(ctx, failScript, []string{"k"})
	require.ErrorContains(t, err, "no")
	var re *rediswait.ReplicaError
	require.False(t, errors.As(err, &re))
}

// TestNoReplicaAnswers: a server without replicas runs the script, but
// waiting for one replica ends, after the timeout, in a ReplicaError that
// carries the reply; a script that fails is reported as such, not as a
// missing acknowledgement.
func TestNoReplicaAnswers(t *testing.T) {
	ctx := t.Context()
	c := redis.NewClient(&redis.Options{Addr: interop.StartRedis(t).Addr(), MaxRetries: -1})
	defer c.Close()
	w := writer(t, c, 1, 50*time.Millisecond)
	reply, err := w.Run(ctx, setScript, []string{"k"}, "v", 3)
	var re *rediswait.ReplicaError
	require.ErrorAs(t, err, &re)
	require.Equal(t, rediswait.ReplicaError{Acked: 0, Want: 1, Timeout: 50 * time.Millisecond}, *re)
	require.Equal(t, "0 of 1 acknowledged within 50ms", err.Error())
	require.Equal(t, int64(3), reply)
	require.Equal(t, "v", c.Get(ctx, "k").Val(), "the primary holds the write")

	_, err = w.Run(ctx, failScript, []string{"k"})
	require.Error(t, err)
	require.False(t, errors.As(err, &re))
}

// TestSentinelReplica: behind Sentinel the write is acknowledged by the
// replica, which then holds it; while the replica is frozen, the write is
// reported as not replicated.
func TestSentinelReplica(t *testing.T) {
	g := interop.StartSentinelGroup(t, 1)
	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: g.Name, SentinelAddrs: g.SentinelAddrs(), MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	w := writer(t, c, 1, 300*time.Millisecond)
	_, err := w.Run(ctx, setScript, []string{"k"}, "v1", 1)
	require.NoError(t, err)
	replica := redis.NewClient(&redis.Options{Addr: g.Servers[1].Addr()})
	defer replica.Close()
	require.Equal(t, "v1", replica.Get(ctx, "k").Val(), "acknowledged means on the replica")

	g.Servers[1].Pause()
	_, err = w.Run(ctx, setScript, []string{"k"}, "v2", 1)
	var re *rediswait.ReplicaError
	require.ErrorAs(t, err, &re)
	g.Servers[1].Resume()
	_, err = w.Run(ctx, setScript, []string{"k"}, "v3", 1)
	require.NoError(t, err)
}

// TestCluster: keys on each of three primaries are written on the primary
// that owns them (elsewhere the script would get MOVED) and acknowledged
// by its replica. After that primary is killed, the Writer finds the
// replica that replaced it (the client reloads the slots after the error)
// and the script runs there; with no replica left, the write is reported
// as not replicated.
func TestCluster(t *testing.T) {
	cl := interop.StartCluster(t, 3, 1)
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	w := writer(t, c, 1, 300*time.Millisecond)

	keys := map[string]string{} // primary address → key
	for i := 0; len(keys) < 3; i++ {
		require.Less(t, i, 1000)
		key := fmt.Sprintf("k%d", i)
		node, err := c.MasterForKey(ctx, key)
		require.NoError(t, err)
		if _, ok := keys[node.Options().Addr]; !ok {
			keys[node.Options().Addr] = key
		}
	}
	for _, key := range keys {
		reply, err := w.Run(ctx, setScript, []string{key}, "v", 1)
		require.NoError(t, err, key)
		require.Equal(t, int64(1), reply)
	}

	var victim, key string
	for victim, key = range keys {
		break
	}
	cl.Node(victim).Kill()
	require.NoError(t, cl.WaitHealthy(ctx, 3))
	var err error
	require.NoError(t, interop.PollUntil(ctx, func() bool {
		_, err = w.Run(ctx, setScript, []string{key}, "after", 1)
		var re *rediswait.ReplicaError
		return errors.As(err, &re)
	}), "last error: %v", err)
	node, err := c.MasterForKey(ctx, key)
	require.NoError(t, err)
	require.NotEqual(t, victim, node.Options().Addr)
	require.Equal(t, "after", node.Get(ctx, key).Val())
}

// TestTimeoutBelowReadTimeout: go-redis reads the pipelined WAIT under the
// client's ReadTimeout (5 s by default in v9.23), so a wait as long is
// refused; without replicas there is no wait, and nothing to refuse.
func TestTimeoutBelowReadTimeout(t *testing.T) {
	def := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer def.Close()
	fast := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ReadTimeout: 500 * time.Millisecond})
	defer fast.Close()
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, ReadTimeout: time.Second})
	defer cluster.Close()
	for name, tc := range map[string]struct {
		c       redis.UniversalClient
		timeout time.Duration
	}{
		"as long as the default":         {def, 5 * time.Second},
		"default wait longer than reads": {fast, 0},
		"cluster":                        {cluster, time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := rediswait.New(tc.c, 1, tc.timeout)
			require.ErrorIs(t, err, rediswait.ErrTimeout)
			w, err := rediswait.New(tc.c, 0, tc.timeout)
			require.NoError(t, err)
			require.NotNil(t, w)
		})
	}
	w, err := rediswait.New(fast, 1, 499*time.Millisecond)
	require.NoError(t, err)
	require.Equal(t, 499*time.Millisecond, w.Timeout())
	w, err = rediswait.New(def, 1, 0)
	require.NoError(t, err)
	require.Equal(t, rediswait.DefaultTimeout, w.Timeout())
}
