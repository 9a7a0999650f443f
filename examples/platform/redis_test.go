package platform_test

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

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
	p, err := platform.Start(ctx, platform.Config{StateDir: e.dir, MasterKey: e.master, Now: e.clock.Now,
		Audit: slog.New(slog.NewJSONHandler(e.audit, nil)), Redis: &redis.Options{Addr: r.Addr()}})
	require.NoError(t, err)
	defer p.Close()
	e.p = p

	phone, _ := e.person("max@example.com")
	tok, err := phone.CreateToken(ctx, "ci", []string{platform.ScopeDevicesRead}, time.Hour)
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
		Audit: slog.New(slog.NewJSONHandler(e.audit, nil)), Redis: &redis.Options{Addr: r.Addr()}})
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
