// Package rediswait runs a Lua script on the Redis primary that owns its
// first key and, when asked, waits until replicas of that primary hold
// what the script wrote (WAIT): the write path shared by
// token/redisrevoke and totp/redisstore.
//
// WAIT counts the replicas that have acknowledged every write made on the
// connection it is sent on, so it follows the script in one pipeline, on
// the node that ran it: the client's primary (a single server, or the
// primary Sentinel names), or for a Cluster the primary that owns the
// key's slot (ClusterClient.MasterForKey). When the script cannot run (the
// primary is unreachable, the slot has moved), a Cluster client is told
// to learn the slots again (ReloadState), so that the next call finds the
// primary that replaced it.
//
// go-redis v9.23 reads a pipeline's replies under the client's
// ReadTimeout, not under WAIT's own timeout; a wait as long as ReadTimeout
// would end as a read timeout (and the connection be dropped) every time
// no replica answers. New refuses such a wait.
package rediswait

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultTimeout bounds the wait for replicas when New is given none.
const DefaultTimeout = time.Second

// ErrTimeout is returned, wrapped, by New when the wait for replicas is not
// shorter than the client's ReadTimeout.
var ErrTimeout = errors.New("must be shorter than the client's ReadTimeout (go-redis reads WAIT's reply under it)")

// ReplicaError is returned by Run when the script ran on the primary but
// fewer replicas than asked acknowledged it within the timeout (or the
// connection broke before WAIT answered: then Err says how).
type ReplicaError struct {
	Acked, Want int
	Timeout     time.Duration
	Err         error
}

func (e *ReplicaError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return fmt.Sprintf("%d of %d acknowledged within %v", e.Acked, e.Want, e.Timeout)
}

func (e *ReplicaError) Unwrap() error { return e.Err }

// Writer runs scripts on a client's primaries. It is safe for concurrent
// use.
type Writer struct {
	client   redis.UniversalClient
	cluster  *redis.ClusterClient // client, when it is a Cluster
	replicas int
	timeout  time.Duration
}

// New returns a Writer on c that waits for replicas replicas (none if
// replicas ≤ 0) for at most timeout (DefaultTimeout if ≤ 0). It returns an
// error wrapping ErrTimeout if the wait is not shorter than c's
// ReadTimeout, when c is one of go-redis's clients.
func New(c redis.UniversalClient, replicas int, timeout time.Duration) (*Writer, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	w := &Writer{client: c, replicas: max(replicas, 0), timeout: timeout}
	w.cluster, _ = c.(*redis.ClusterClient)
	if rt, ok := readTimeout(c); ok && w.replicas > 0 && rt > 0 && timeout >= rt {
		return nil, fmt.Errorf("%w: %v is not below %v", ErrTimeout, timeout, rt)
	}
	return w, nil
}

// Timeout returns the bound of the wait for replicas.
func (w *Writer) Timeout() time.Duration { return w.timeout }

// Run runs script with keys and args on the primary that owns keys[0] and,
// if the Writer waits for replicas, sends WAIT after it on the same
// connection. It returns the script's reply. If the script did not run, it
// returns the error that kept it from running, and a Cluster client
// reloads its slots. If the script ran but the replicas did not all
// acknowledge it, Run returns the reply and a *ReplicaError.
func (w *Writer) Run(ctx context.Context, script *redis.Script, keys []string, args ...any) (any, error) {
	if w.replicas == 0 {
		reply, err := script.Run(ctx, w.client, keys, args...).Result()
		if err != nil {
			w.Reload(ctx)
			return nil, err
		}
		return reply, nil
	}
	var c redis.Cmdable = w.client
	if w.cluster != nil {
		node, err := w.cluster.MasterForKey(ctx, keys[0])
		if err != nil {
			w.Reload(ctx)
			return nil, err
		}
		c = node
	}
	var eval *redis.Cmd
	var wait *redis.IntCmd
	_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		eval = script.Eval(ctx, p, keys, args...)
		wait = p.(waiter).Wait(ctx, w.replicas, w.timeout)
		return nil
	})
	reply, evalErr := eval.Result()
	switch {
	case evalErr != nil:
		w.Reload(ctx) // a MOVED, or a primary gone: learn the slots again
		return nil, evalErr
	case err != nil:
		return reply, &ReplicaError{Want: w.replicas, Timeout: w.timeout, Err: err}
	case wait.Val() < int64(w.replicas):
		return reply, &ReplicaError{Acked: int(wait.Val()), Want: w.replicas, Timeout: w.timeout}
	}
	return reply, nil
}

// Reload has a Cluster client learn the slots again, after an error that
// may come from a failover; it does nothing for other clients.
func (w *Writer) Reload(ctx context.Context) {
	if w.cluster != nil {
		w.cluster.ReloadState(ctx)
	}
}

// waiter is what a go-redis pipeline has beyond Pipeliner: WAIT.
type waiter interface {
	Wait(ctx context.Context, numReplicas int, timeout time.Duration) *redis.IntCmd
}

// readTimeout returns the read timeout of c's connections, when c is one of
// go-redis's clients (a FailoverClient is a *redis.Client).
func readTimeout(c redis.UniversalClient) (time.Duration, bool) {
	switch c := c.(type) {
	case *redis.Client:
		return c.Options().ReadTimeout, true
	case *redis.ClusterClient:
		return c.Options().ReadTimeout, true
	}
	return 0, false
}
