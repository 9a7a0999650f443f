package redisrevoke_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchsec/latch/internal/testclock"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/internal/interop"
	"github.com/latchsec/latch/token"
	"github.com/latchsec/latch/token/redisrevoke"
)

const maxStaleness = 5 * time.Second

type fleet struct {
	redis *interop.Redis
	clock *clock
}

func newFleet(t *testing.T) *fleet {
	return &fleet{
		redis: interop.StartRedis(t),
		clock: testclock.New(time.Date(2099, 1, 1, 12, 0, 0, 0, time.UTC)),
	}
}

// server starts a List on its own Redis client, as one API server would.
func (f *fleet) server(t *testing.T) (*redisrevoke.List, *redis.Client) {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: f.redis.Addr(), MaxRetries: -1})
	t.Cleanup(func() { client.Close() })
	l, err := redisrevoke.New(redisrevoke.Config{
		Client: client, MaxStaleness: maxStaleness, Heartbeat: time.Second, Now: f.clock.Now,
	})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	waitCurrent(t, l)
	return l, client
}

// waitCurrent waits until l is confirmed current (an event, not a delay).
func waitCurrent(t *testing.T, l *redisrevoke.List) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	require.NoError(t, l.Sync(ctx))
}

func claims(f *fleet, subject string) *token.Claims {
	var b [16]byte
	rand.Read(b[:])
	now := f.clock.Now()
	return &token.Claims{
		Subject: subject, ID: base64.RawURLEncoding.EncodeToString(b[:]),
		IssuedAt: now, NotBefore: now, Expires: now.Add(time.Hour),
	}
}

func revoked(t *testing.T, l *redisrevoke.List, c *token.Claims) bool {
	t.Helper()
	r, err := l.Revoked(t.Context(), c)
	require.NoError(t, err)
	return r
}

func TestRevocationReachesTheFleet(t *testing.T) {
	f := newFleet(t)
	a, _ := f.server(t)
	b, _ := f.server(t)
	admin, _ := f.server(t)

	tok, other := claims(f, "user-42"), claims(f, "user-43")
	require.False(t, revoked(t, a, tok))
	require.NoError(t, admin.RevokeID(t.Context(), tok.ID, tok.Expires))
	require.True(t, revoked(t, admin, tok), "at once on the server that revoked")
	for _, l := range []*redisrevoke.List{a, b} {
		waitCurrent(t, l) // every message published before the sync has arrived
		require.True(t, revoked(t, l, tok))
		require.False(t, revoked(t, l, other))
	}

	// Children, through their lineage.
	child := claims(f, "user-42")
	child.Lineage = []string{tok.ID}
	require.True(t, revoked(t, a, child))

	// Per subject.
	f.clock.Advance(time.Second)
	require.NoError(t, admin.RevokeSubject(t.Context(), "user-43", f.clock.Now()))
	later := claims(f, "user-43")
	later.IssuedAt = f.clock.Now().Add(time.Second)
	for _, l := range []*redisrevoke.List{a, b} {
		waitCurrent(t, l)
		require.True(t, revoked(t, l, other))
		require.False(t, revoked(t, l, later))
	}
}

// stored reads the records Redis holds for id, in the layout of the
// package doc: the bucket of the ID's first two bytes, after a 4-byte
// header, 16 bytes of ID and 4 of expiry each.
func stored(t *testing.T, client *redis.Client, id string) []uint32 {
	t.Helper()
	k, err := base64.RawURLEncoding.DecodeString(id)
	require.NoError(t, err)
	bucket := int(binary.BigEndian.Uint16(k[:2])) % 1024
	blob, err := client.Get(t.Context(), "{latch:revoke}:ids:"+strconv.Itoa(bucket)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	require.NoError(t, err)
	require.Zero(t, (len(blob)-4)%20)
	var exps []uint32
	for p := 4; p < len(blob); p += 20 {
		if string(blob[p:p+16]) == string(k) {
			exps = append(exps, binary.BigEndian.Uint32(blob[p+16:]))
		}
	}
	return exps
}

func TestEntriesInRedis(t *testing.T) {
	f := newFleet(t)
	l, client := f.server(t)
	tok := claims(f, "u")
	require.NoError(t, l.RevokeID(t.Context(), tok.ID, tok.Expires))
	require.Equal(t, []uint32{uint32(tok.Expires.Unix())}, stored(t, client, tok.ID), "the entry holds the token's expiry")

	forever := claims(f, "u")
	require.NoError(t, l.RevokeID(t.Context(), forever.ID, time.Time{}))
	require.Equal(t, []uint32{0}, stored(t, client, forever.ID), "a token without exp is revoked for ever")

	// A later revocation with an earlier expiry changes nothing; one with
	// a later expiry is added.
	require.NoError(t, l.RevokeID(t.Context(), forever.ID, f.clock.Now().Add(time.Minute)))
	require.Equal(t, []uint32{0}, stored(t, client, forever.ID))
	require.NoError(t, l.RevokeID(t.Context(), tok.ID, tok.Expires.Add(-time.Minute)))
	require.NoError(t, l.RevokeID(t.Context(), tok.ID, tok.Expires.Add(time.Minute)))
	require.Equal(t, []uint32{uint32(tok.Expires.Unix()), uint32(tok.Expires.Add(time.Minute).Unix())}, stored(t, client, tok.ID))

	// Locally, the entry is dropped with its token.
	f.clock.Advance(2*time.Hour + token.Leeway)
	waitCurrent(t, l)
	require.False(t, revoked(t, l, tok))
	require.True(t, revoked(t, l, forever))

	// In Redis, when its bucket is rewritten: once it has doubled. Fill
	// tok's bucket with IDs that share its first two bytes.
	k, _ := base64.RawURLEncoding.DecodeString(tok.ID)
	var last string
	for range 64 {
		var b [16]byte
		rand.Read(b[:])
		copy(b[:2], k[:2])
		last = base64.RawURLEncoding.EncodeToString(b[:])
		require.NoError(t, l.RevokeID(t.Context(), last, f.clock.Now().Add(time.Hour)))
	}
	require.Empty(t, stored(t, client, tok.ID), "dropped once dead")
	require.Len(t, stored(t, client, last), 1)
	c := claims(f, "u")
	c.ID = last
	require.True(t, revoked(t, l, c))
}

func TestFailsClosedAndRecovers(t *testing.T) {
	f := newFleet(t)
	a, _ := f.server(t)
	admin, _ := f.server(t)
	before := claims(f, "user-42")
	require.NoError(t, admin.RevokeID(t.Context(), before.ID, before.Expires))
	waitCurrent(t, a)
	require.True(t, revoked(t, a, before))

	f.redis.Stop()
	// Within the bound the mirror still answers...
	f.clock.Advance(maxStaleness)
	require.True(t, revoked(t, a, before))
	// ...past it, verification fails closed.
	f.clock.Advance(time.Second)
	_, err := a.Revoked(t.Context(), claims(f, "user-42"))
	var stale *redisrevoke.StaleError
	require.True(t, errors.As(err, &stale), "got %v", err)
	require.ErrorIs(t, err, token.ErrRevocationUnavailable)
	require.NotErrorIs(t, err, token.ErrInvalid)

	// Through a Verifier: refused, and not as the token's fault.
	keys := token.NewKeyring()
	is := &token.Issuer{Config: token.Config{Keys: keys, Issuer: "iss", Audience: "api", Now: f.clock.Now}}
	v := &token.Verifier{Config: token.Config{Keys: keys, Issuer: "iss", Audience: "api", Revocations: a, Now: f.clock.Now}}
	tok, _, err := is.Issue(t.Context(), token.Claims{Subject: "user-42", Scopes: []string{"data:read"}, NeverExpires: true})
	require.NoError(t, err)
	_, err = v.Verify(t.Context(), tok)
	require.ErrorIs(t, err, token.ErrRevocationUnavailable)
	require.True(t, errors.As(err, &stale), "the List's error stays under Verify's")
	require.Equal(t, 1, strings.Count(err.Error(), "revocation state unavailable"), err.Error())

	// A revocation while Redis is down holds locally and says it is not
	// shared yet.
	during := claims(f, "user-42")
	require.Error(t, admin.RevokeID(t.Context(), during.ID, during.Expires))

	// Redis comes back empty (no persistence): the mirrors recover by
	// themselves and write back what Redis lost.
	f.redis.Restart()
	waitCurrent(t, a)
	waitCurrent(t, admin)
	_, err = v.Verify(t.Context(), tok)
	require.NoError(t, err)
	require.True(t, revoked(t, a, before))
	fresh, _ := f.server(t) // a server that never saw the revocations
	require.True(t, revoked(t, fresh, before), "nothing lost")
	require.True(t, revoked(t, fresh, during), "the revocation made during the outage arrived")
	waitCurrent(t, a)
	require.True(t, revoked(t, a, during))
}

func TestNotCurrentUntilSynchronized(t *testing.T) {
	f := newFleet(t)
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1}) // nothing listens there
	defer client.Close()
	l, err := redisrevoke.New(redisrevoke.Config{Client: client, Now: f.clock.Now})
	require.NoError(t, err)
	defer l.Close()
	_, err = l.Revoked(t.Context(), claims(f, "u"))
	var stale *redisrevoke.StaleError
	require.True(t, errors.As(err, &stale))
	require.True(t, stale.LastConfirmed.IsZero())

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, l.Sync(ctx), context.Canceled)

	require.NoError(t, l.Close())
	require.ErrorIs(t, l.Sync(t.Context()), redisrevoke.ErrClosed)
}

func TestStartsWhileRedisIsDown(t *testing.T) {
	f := newFleet(t)
	f.redis.Stop()
	client := redis.NewClient(&redis.Options{Addr: f.redis.Addr(), MaxRetries: -1})
	defer client.Close()
	l, err := redisrevoke.New(redisrevoke.Config{Client: client, Now: f.clock.Now})
	require.NoError(t, err)
	defer l.Close()
	c := claims(f, "u")
	_, err = l.Revoked(t.Context(), c)
	require.ErrorIs(t, err, token.ErrRevocationUnavailable)

	f.redis.Restart()
	waitCurrent(t, l)
	require.False(t, revoked(t, l, c))
}

func TestConfig(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer client.Close()
	fast := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ReadTimeout: 500 * time.Millisecond})
	defer fast.Close()
	for name, cfg := range map[string]redisrevoke.Config{
		"no client":          {},
		"bad prefix":         {Client: client, Prefix: "a*b"},
		"heartbeat too slow": {Client: client, MaxStaleness: time.Second, Heartbeat: time.Second},
		// go-redis reads the pipelined WAIT under ReadTimeout (5 s by
		// default in v9.23): a wait as long would fail every change.
		"wait as long as reads":          {Client: client, Replicas: 1, ReplicaTimeout: 5 * time.Second},
		"default wait longer than reads": {Client: fast, Replicas: 1},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := redisrevoke.New(cfg)
			require.Error(t, err)
		})
	}
}

// clock is the injected clock: staleness is driven by advancing it, never
// by waiting. It starts far in the future so that the absolute expiry
// times written to Redis (EXAT) are ahead of the real one.
type clock = testclock.Clock

// TestRefusesWhatTokenRefuses: a List accepts exactly the IDs and subjects
// that token.MemoryRevocations accepts (it is made of them), and writes
// nothing to Redis for the others.
func TestRefusesWhatTokenRefuses(t *testing.T) {
	f := newFleet(t)
	l, client := f.server(t)
	ctx := t.Context()
	mem := &token.MemoryRevocations{Now: f.clock.Now}
	good := claims(f, "u").ID
	for _, id := range []string{
		good, "", good[:21], good + "A", good[:21] + "=", "AAAAAAAAAAAAAAAAAAAAAB", // padding bits set
		"AAAAAAAAAAAAAAAAAAAA\nA", "AAAAAAAAAAAAAAAAAAAA+A",
	} {
		want := mem.RevokeID(ctx, id, f.clock.Now().Add(time.Hour))
		got := l.RevokeID(ctx, id, f.clock.Now().Add(time.Hour))
		require.Equal(t, want == nil, got == nil, "%q: token says %v, the List %v", id, want, got)
	}
	for _, subject := range []string{
		"user-1", "", "a\nb", "a\u2028b", "a\x7fb", "a\u0085b", string(make([]byte, 257)), strings.Repeat("é", 128), strings.Repeat("x", 256),
	} {
		want := mem.RevokeSubject(ctx, subject, f.clock.Now())
		got := l.RevokeSubject(ctx, subject, f.clock.Now())
		require.Equal(t, want == nil, got == nil, "%q: token says %v, the List %v", subject, want, got)
	}
	n, err := client.HLen(ctx, "{"+redisrevoke.DefaultPrefix+"}:subjects").Result()
	require.NoError(t, err)
	require.EqualValues(t, 3, n, "only the subjects token accepts")
	require.Empty(t, stored(t, client, "AAAAAAAAAAAAAAAAAAAAAB"), "nothing stored for a refused ID")
}
