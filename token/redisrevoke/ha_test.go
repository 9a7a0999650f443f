package redisrevoke_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/internal/interop"
	"github.com/latchsec/latch/token"
	"github.com/latchsec/latch/token/redisrevoke"
)

// The failover tests run on the real clock: Redis and Sentinel decide when
// a failover happens, and staleness is measured against it.
const (
	haStaleness = time.Second
	haHeartbeat = 200 * time.Millisecond
)

func haList(t *testing.T, client redis.UniversalClient, prefix string) *redisrevoke.List {
	t.Helper()
	l, err := redisrevoke.New(redisrevoke.Config{
		Client: client, Prefix: prefix, MaxStaleness: haStaleness, Heartbeat: haHeartbeat, Replicas: 1,
		ReplicaTimeout: 300 * time.Millisecond, // below the clients' ReadTimeout of 1 s
	})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	require.NoError(t, l.Sync(ctx))
	return l
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// realClaims are claims for a token issued now on the real clock.
func realClaims(id string) *token.Claims {
	now := time.Now()
	return &token.Claims{Subject: "u", ID: id, IssuedAt: now, NotBefore: now, Expires: now.Add(time.Hour)}
}

// stream revokes fresh IDs through l until stop is closed, and returns
// those whose RevokeID returned nil: acknowledged. It counts in stored the
// revocations that reached a primary (acknowledged or not yet
// replicated).
func stream(l *redisrevoke.List, stop <-chan struct{}, acked chan<- string, stored *atomic.Int64) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		id := newID()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := l.RevokeID(ctx, id, time.Now().Add(time.Hour))
		if err == nil {
			acked <- id
		}
		if err == nil || errors.Is(err, redisrevoke.ErrNotReplicated) {
			stored.Add(1)
		}
		cancel()
	}
}

type answer struct {
	at     time.Time
	status int
}

// probe asks srv with a valid, unrevoked token every 20 ms until stop is
// closed, and records when each request was sent and its status.
func probe(t *testing.T, srv *httptest.Server, tok string, stop <-chan struct{}) func() []answer {
	var mu sync.Mutex
	var answers []answer
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			req, _ := http.NewRequest("GET", srv.URL, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			at := time.Now()
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Errorf("probe: %v", err)
				return
			}
			resp.Body.Close()
			mu.Lock()
			answers = append(answers, answer{at, resp.StatusCode})
			mu.Unlock()
		}
	}()
	return func() []answer {
		<-done
		mu.Lock()
		defer mu.Unlock()
		return answers
	}
}

// protected is an API server whose verifier uses l: 200 for a valid
// token, 503 while l cannot answer.
func protected(t *testing.T, l *redisrevoke.List) (*httptest.Server, string) {
	keys := token.NewKeyring()
	is := &token.Issuer{Config: token.Config{Keys: keys, Issuer: "iss", Audience: "api"}}
	v := &token.Verifier{Config: token.Config{Keys: keys, Issuer: "iss", Audience: "api", Revocations: l}}
	tok, _, err := is.Issue(t.Context(), token.Claims{Subject: "user-1", Scopes: []string{"data:read"}, NeverExpires: true})
	require.NoError(t, err)
	mw := &token.Middleware{Verifier: v, Scopes: []string{"data:read"}}
	srv := httptest.NewServer(mw.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	t.Cleanup(srv.Close)
	return srv, tok
}

// TestSentinelFailover: one primary, one replica, three Sentinels. Two
// Lists revoke without pause while the primary is killed. After the
// failover every acknowledged revocation holds on every server and in
// Redis, though one of the two Lists died with the primary; meanwhile an
// API server failed closed (503) once its mirror went unconfirmed for
// MaxStaleness, never served on an older mirror, and served again by
// itself soon after the failover.
func TestSentinelFailover(t *testing.T) {
	g := interop.StartSentinelGroup(t, 1)
	client := func() redis.UniversalClient {
		c := redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: g.Name, SentinelAddrs: g.SentinelAddrs(), MaxRetries: -1,
			DialTimeout: 200 * time.Millisecond, ReadTimeout: time.Second, WriteTimeout: time.Second,
		})
		t.Cleanup(func() { c.Close() })
		return c
	}
	a, b, api := haList(t, client(), ""), haList(t, client(), ""), haList(t, client(), "")
	srv, tok := protected(t, api)

	stop, stopA := make(chan struct{}), make(chan struct{})
	ackedA, ackedB := make(chan string, 1<<16), make(chan string, 1<<16)
	var storedA, storedB atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() { stream(a, stopA, ackedA, &storedA) })
	wg.Go(func() { stream(b, stop, ackedB, &storedB) })
	answers := probe(t, srv, tok, stop)

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	for len(ackedA) < 50 || len(ackedB) < 50 {
		select {
		case <-ctx.Done():
			t.Fatal("no revocations acknowledged")
		case <-time.After(10 * time.Millisecond): // waiting for the writers, not for time
		}
	}
	primary, err := g.Primary(ctx)
	require.NoError(t, err)
	switched := watchSentinels(t, g, primary.Addr())
	primary.Kill()
	killed := time.Now()
	// List a dies with the primary: what it acknowledged must survive
	// without it, through the replica.
	close(stopA)
	a.Close()

	next, err := g.WaitFailover(ctx, primary)
	require.NoError(t, err)
	promoted := switched()
	t.Logf("failover took %v", promoted.Sub(killed))
	// B keeps revoking until it writes to the new primary (which has no
	// replica left, so nothing is acknowledged from now on).
	n := storedB.Load()
	for storedB.Load() == n {
		select {
		case <-ctx.Done():
			t.Fatal("no revocation stored after the failover")
		case <-time.After(10 * time.Millisecond):
		}
	}
	require.NoError(t, b.Sync(ctx))
	require.NoError(t, api.Sync(ctx))
	close(stop)
	wg.Wait()

	// The API server's answers.
	var served503 bool
	var recovered time.Time
	for _, ans := range answers() {
		switch {
		case ans.status == http.StatusOK && ans.at.After(killed.Add(haStaleness)) && ans.at.Before(promoted):
			t.Fatalf("served %v after the primary died, on a mirror unconfirmed for more than MaxStaleness", ans.at.Sub(killed))
		case ans.status == http.StatusServiceUnavailable:
			require.True(t, ans.at.After(killed), "503 before the failure")
			served503, recovered = true, time.Time{}
		case ans.status == http.StatusOK:
			if served503 && recovered.IsZero() {
				recovered = ans.at
			}
		default:
			t.Fatalf("status %d", ans.status)
		}
	}
	if promoted.Sub(killed) > haStaleness+haHeartbeat {
		require.True(t, served503, "the gap outlasted MaxStaleness: the server must have failed closed")
	}
	if served503 {
		require.False(t, recovered.IsZero(), "serves again")
		t.Logf("503 until %v after the failure, %v after the new primary was named", recovered.Sub(killed), recovered.Sub(promoted))
		require.Less(t, recovered.Sub(promoted), haStaleness, "serves again within MaxStaleness of the new primary")
	}

	// Every acknowledged revocation, on every server and in Redis.
	close(ackedA)
	close(ackedB)
	var acked []string
	for id := range ackedA {
		acked = append(acked, id)
	}
	for id := range ackedB {
		acked = append(acked, id)
	}
	fresh := haList(t, client(), "")
	direct := redis.NewClient(&redis.Options{Addr: next.Addr()})
	defer direct.Close()
	for _, id := range acked {
		for _, l := range []*redisrevoke.List{b, api, fresh} {
			r, err := l.Revoked(ctx, realClaims(id))
			require.NoError(t, err)
			require.True(t, r, "acknowledged revocation lost")
		}
		require.NotEmpty(t, stored(t, direct, id), "in Redis")
	}
	t.Logf("%d revocations acknowledged, all in force after the failover", len(acked))
}

// watchSentinels asks every Sentinel for the primary's address every 10 ms
// and returns a function that returns when one first named another
// server than old: no client can reach the new primary before that (they
// learn its address from the Sentinels), give or take the 10 ms and a
// round trip, which the caller allows for.
func watchSentinels(t *testing.T, g *interop.SentinelGroup, old string) func() time.Time {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	done := make(chan time.Time, 1)
	go func() {
		defer cancel()
		var sentinels []*redis.SentinelClient
		for _, a := range g.SentinelAddrs() {
			s := redis.NewSentinelClient(&redis.Options{Addr: a, MaxRetries: -1})
			defer s.Close()
			sentinels = append(sentinels, s)
		}
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, s := range sentinels {
				if addr, err := s.GetMasterAddrByName(ctx, g.Name).Result(); err == nil && len(addr) == 2 && addr[0]+":"+addr[1] != old {
					done <- time.Now().Add(-50 * time.Millisecond)
					return
				}
			}
			select {
			case <-ctx.Done():
				done <- time.Time{}
				return
			case <-tick.C:
			}
		}
	}()
	return func() time.Time {
		at := <-done
		require.False(t, at.IsZero(), "no sentinel named a new primary")
		return at
	}
}

// TestReplicaMustAcknowledge: with Replicas set, RevokeID reports success
// only once a replica holds the revocation. While the replica is frozen it
// reports ErrNotReplicated, and the revocation holds on the server all the
// same.
func TestReplicaMustAcknowledge(t *testing.T) {
	g := interop.StartSentinelGroup(t, 1)
	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: g.Name, SentinelAddrs: g.SentinelAddrs()})
	defer c.Close()
	l, err := redisrevoke.New(redisrevoke.Config{Client: c, Replicas: 1, ReplicaTimeout: 300 * time.Millisecond})
	require.NoError(t, err)
	defer l.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	require.NoError(t, l.Sync(ctx))

	require.NoError(t, l.RevokeID(ctx, newID(), time.Now().Add(time.Hour)))
	g.Servers[1].Pause()
	id := newID()
	err = l.RevokeID(ctx, id, time.Now().Add(time.Hour))
	require.ErrorIs(t, err, redisrevoke.ErrNotReplicated)
	require.NotErrorIs(t, err, redisrevoke.ErrNotShared)
	r, err := l.Revoked(ctx, realClaims(id))
	require.NoError(t, err)
	require.True(t, r)
	require.ErrorIs(t, l.RevokeSubject(ctx, "user-1", time.Now()), redisrevoke.ErrNotReplicated)
	g.Servers[1].Resume()
	require.NoError(t, l.RevokeID(ctx, newID(), time.Now().Add(time.Hour)))
}

// TestCluster: three primaries with a replica each. Lists whose slot is on
// each of the three primaries carry revocations and subject cut-offs to
// every mirror; the primary of one is killed during a stream of
// revocations, its replica takes over, and nothing acknowledged is lost.
func TestCluster(t *testing.T) {
	c := interop.StartCluster(t, 3, 1)
	client := func() *redis.ClusterClient {
		cc := redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: c.Addrs(), MaxRetries: -1,
			DialTimeout: 200 * time.Millisecond, ReadTimeout: time.Second, WriteTimeout: time.Second,
		})
		t.Cleanup(func() { cc.Close() })
		return cc
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	// One prefix per primary: a List keeps its keys in one slot.
	probeClient := client()
	prefixes := map[string]string{} // primary address → prefix
	for i := 0; len(prefixes) < 3; i++ {
		require.Less(t, i, 1000)
		p := "latch:revoke:" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		node, err := probeClient.MasterForKey(ctx, "{"+p+"}:ids")
		require.NoError(t, err)
		if _, ok := prefixes[node.Options().Addr]; !ok {
			prefixes[node.Options().Addr] = p
		}
	}
	type pair struct{ a, b *redisrevoke.List }
	lists := map[string]pair{}
	for addr, p := range prefixes {
		lists[addr] = pair{haList(t, client(), p), haList(t, client(), p)}
	}
	for _, pr := range lists {
		for _, from := range []*redisrevoke.List{pr.a, pr.b} {
			to := pr.a
			if from == pr.a {
				to = pr.b
			}
			id := newID()
			require.NoError(t, from.RevokeID(ctx, id, time.Now().Add(time.Hour)))
			subject := "user-" + newID()
			require.NoError(t, from.RevokeSubject(ctx, subject, time.Now()))
			require.NoError(t, to.Sync(ctx))
			r, err := to.Revoked(ctx, realClaims(id))
			require.NoError(t, err)
			require.True(t, r)
			old := realClaims(newID())
			old.Subject, old.IssuedAt = subject, time.Now().Add(-time.Minute)
			r, err = to.Revoked(ctx, old)
			require.NoError(t, err)
			require.True(t, r, "subject cut-off")
		}
	}

	// Kill the primary of one list's slot during a stream from both of
	// its Lists.
	var victim string
	for addr := range lists {
		victim = addr
		break
	}
	pr := lists[victim]
	stop := make(chan struct{})
	acked := make(chan string, 1<<16)
	var stored atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() { stream(pr.a, stop, acked, &stored) })
	wg.Go(func() { stream(pr.b, stop, acked, &stored) })
	for len(acked) < 100 {
		select {
		case <-ctx.Done():
			t.Fatal("no revocations acknowledged")
		case <-time.After(10 * time.Millisecond):
		}
	}
	c.Node(victim).Kill()
	require.NoError(t, c.WaitHealthy(ctx, 3))
	n := stored.Load()
	for stored.Load() == n {
		select {
		case <-ctx.Done():
			t.Fatal("no revocation stored after the failover")
		case <-time.After(10 * time.Millisecond):
		}
	}
	close(stop)
	wg.Wait()
	close(acked)
	fresh := haList(t, client(), prefixes[victim])
	require.NoError(t, pr.a.Sync(ctx))
	require.NoError(t, pr.b.Sync(ctx))
	count := 0
	for id := range acked {
		for _, l := range []*redisrevoke.List{pr.a, pr.b, fresh} {
			r, err := l.Revoked(ctx, realClaims(id))
			require.NoError(t, err)
			require.True(t, r, "acknowledged revocation lost")
		}
		count++
	}
	t.Logf("%d revocations acknowledged, all in force after the failover", count)
}
