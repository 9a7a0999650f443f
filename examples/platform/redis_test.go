package platform_test

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/examples/app"
	"github.com/latchsec/latch/examples/platform"
	"github.com/latchsec/latch/internal/interop"
	"github.com/latchsec/latch/internal/testclock"
	"github.com/latchsec/latch/token"
	"github.com/latchsec/latch/token/redisrevoke"
	"github.com/latchsec/latch/totp/redisstore"
)

// With Config.Redis, revocations and TOTP records live on Redis, where
// another server of the fleet sees them, and not in the database.
func TestRedis(t *testing.T) {
	ctx := context.Background()
	r := interop.StartRedis(t)
	e := &env{t: t, dir: t.TempDir(), master: platform.NewMasterKey(),
		clock: testclock.New(time.Now().Truncate(time.Second)), audit: &syncBuffer{}}
	opts, err := platform.ParseRedisAddress(r.Addr())
	require.NoError(t, err)
	p, err := platform.Start(ctx, platform.Config{StateDir: e.dir, MasterKey: e.master, Now: e.clock.Now,
		Audit: slog.New(slog.NewJSONHandler(e.audit, nil)), Redis: opts})
	require.NoError(t, err)
	defer p.Close()
	e.p = p

	phone, _ := e.person("max@example.com")
	tok, err := phone.CreateToken(ctx, "ci", []string{api.ScopeDevicesRead}, time.Hour)
	require.NoError(t, err)
	require.NoError(t, phone.RevokeToken(ctx, tok.TokenID))
	require.Equal(t, 401, status(phone.Do(ctx, "GET", "/v1/devices", tok.Token, nil, nil)))

	// Another server's view of the same Redis.
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
	defer rdb.Close()
	other, err := redisrevoke.New(redisrevoke.Config{Client: rdb})
	require.NoError(t, err)
	defer other.Close()
	require.NoError(t, other.Sync(ctx))
	revoked, err := other.Revoked(ctx, &token.Claims{ID: tok.TokenID, Subject: "x", IssuedAt: e.clock.Now()})
	require.NoError(t, err)
	require.True(t, revoked)

	db, err := sql.Open("sqlite", "file:"+filepath.Join(e.dir, "platform.db"))
	require.NoError(t, err)
	defer db.Close()
	var user string
	require.NoError(t, db.QueryRow(`SELECT id FROM users`).Scan(&user))
	var n int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM totp_records`).Scan(&n))
	require.Zero(t, n, "TOTP records belong on Redis")
	rec, err := redisstore.New(rdb, "").Load(ctx, user)
	require.NoError(t, err)
	require.True(t, rec.Confirmed)
}

// A TOTP record that is gone from Redis (redisstore lets a pending one
// expire after a day; a store can lose data): a person who never
// confirmed gets a new key with the password, as at sign-up; one who has
// signed in before is refused, not downgraded to the password alone.
func TestMissingTOTPRecord(t *testing.T) {
	ctx := context.Background()
	r := interop.StartRedis(t)
	e := &env{t: t, dir: t.TempDir(), master: platform.NewMasterKey(),
		clock: testclock.New(time.Now().Truncate(time.Second)), audit: &syncBuffer{}}
	p, err := platform.Start(ctx, platform.Config{StateDir: e.dir, MasterKey: e.master, Now: e.clock.Now,
		Audit: slog.New(slog.NewJSONHandler(e.audit, nil)), Redis: &redis.UniversalOptions{Addrs: []string{r.Addr()}}})
	require.NoError(t, err)
	defer p.Close()
	e.p = p
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
	defer rdb.Close()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(e.dir, "platform.db"))
	require.NoError(t, err)
	defer db.Close()
	forget := func(email string) {
		var user string
		require.NoError(t, db.QueryRow(`SELECT id FROM users WHERE email = ?`, email).Scan(&user))
		require.Equal(t, int64(1), rdb.Del(ctx, redisstore.DefaultPrefix+user).Val())
	}
	const password = "a long enough password"

	phone := app.New(p.URL, p.Roots())
	_, err = phone.SignUp(ctx, "new@example.com", password)
	require.NoError(t, err)
	forget("new@example.com")
	_, err = phone.SignIn(ctx, "new@example.com", password, func() string { return "000000" })
	var nk *app.NewKeyError
	require.ErrorAs(t, err, &nk)
	_, err = phone.SignIn(ctx, "new@example.com", password, func() string { return nk.Key.Code(e.clock.Now()) })
	require.NoError(t, err)

	e.person("old@example.com")
	forget("old@example.com")
	_, err = app.New(p.URL, p.Roots()).SignIn(ctx, "old@example.com", password, func() string { return "000000" })
	var apiErr *app.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusForbidden, apiErr.Status)
	require.Equal(t, "second_factor_missing", apiErr.Code)
	require.Contains(t, e.audit.String(), `"msg":"second factor missing"`)
}

// The platform on a Sentinel-managed primary and on a Cluster, from the
// addresses that examples/stack -redis takes: a revoked token is refused,
// and another server on the same Redis sees the revocation.
func TestRedisSentinelAndCluster(t *testing.T) {
	g := interop.StartSentinelGroup(t, 1)
	c := interop.StartCluster(t, 3, 1)
	for name, addr := range map[string]string{
		"sentinel": "sentinel://" + strings.Join(g.SentinelAddrs(), ",") + "/" + g.Name,
		"cluster":  "cluster://" + strings.Join(c.Addrs(), ","),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			opts, err := platform.ParseRedisAddress(addr)
			require.NoError(t, err)
			e := &env{t: t, dir: t.TempDir(), master: platform.NewMasterKey(),
				clock: testclock.New(time.Now().Truncate(time.Second)), audit: &syncBuffer{}}
			p, err := platform.Start(ctx, platform.Config{StateDir: e.dir, MasterKey: e.master, Now: e.clock.Now,
				Audit: slog.New(slog.NewJSONHandler(e.audit, nil)), Redis: opts})
			require.NoError(t, err)
			defer p.Close()
			e.p = p
			phone, _ := e.person("max@example.com")
			tok, err := phone.CreateToken(ctx, "ci", []string{api.ScopeDevicesRead}, time.Hour)
			require.NoError(t, err)
			require.NoError(t, phone.RevokeToken(ctx, tok.TokenID))
			require.Equal(t, 401, status(phone.Do(ctx, "GET", "/v1/devices", tok.Token, nil, nil)))

			rdb := redis.NewUniversalClient(opts)
			defer rdb.Close()
			other, err := redisrevoke.New(redisrevoke.Config{Client: rdb})
			require.NoError(t, err)
			defer other.Close()
			require.NoError(t, other.Sync(ctx))
			revoked, err := other.Revoked(ctx, &token.Claims{ID: tok.TokenID, Subject: "x", IssuedAt: e.clock.Now()})
			require.NoError(t, err)
			require.True(t, revoked)
		})
	}
}

func TestParseRedisAddress(t *testing.T) {
	for in, want := range map[string]redis.UniversalOptions{
		"127.0.0.1:6379": {Addrs: []string{"127.0.0.1:6379"}},
		"sentinel://10.0.0.1:26379,10.0.0.2:26379/latch": {Addrs: []string{"10.0.0.1:26379", "10.0.0.2:26379"}, MasterName: "latch"},
		"cluster://10.0.0.1:6379":                        {Addrs: []string{"10.0.0.1:6379"}, IsClusterMode: true},
		"cluster://[::1]:7000,[::1]:7001":                {Addrs: []string{"[::1]:7000", "[::1]:7001"}, IsClusterMode: true},
	} {
		got, err := platform.ParseRedisAddress(in)
		require.NoError(t, err, in)
		require.Equal(t, want, *got, in)
	}
	for _, bad := range []string{"", "redis", ":6379", "a:1,b:2", "redis://a:1", "sentinel://a:1", "sentinel://a:1/", "sentinel://a:1/x/y",
		"cluster://", "cluster://a:1,", "sentinel://user:pw@a:1/x", "a:1?db=2"} {
		_, err := platform.ParseRedisAddress(bad)
		require.Error(t, err, bad)
	}
}

func FuzzParseRedisAddress(f *testing.F) {
	for _, s := range []string{"127.0.0.1:6379", "sentinel://a:1,b:2/m", "cluster://a:1,b:2", "x://", "a:1,b:2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := platform.ParseRedisAddress(s)
		if err != nil {
			return
		}
		require.NotEmpty(t, o.Addrs)
		require.False(t, o.MasterName != "" && o.IsClusterMode)
	})
}
