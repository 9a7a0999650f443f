package platform

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/internal/testclock"
	"github.com/latchsec/latch/totp/storetest"
)

func TestPassword(t *testing.T) {
	h := hashPassword("correct horse battery staple")
	require.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$"), h)
	ok, err := checkPassword(h, "correct horse battery staple")
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = checkPassword(h, "correct horse battery stapl")
	require.NoError(t, err)
	require.False(t, ok)
	require.NotEqual(t, h, hashPassword("correct horse battery staple"), "salted")

	// A tampered row cannot make a check cost more than the caps, nor
	// pass with another algorithm.
	for _, bad := range []string{
		strings.Replace(h, "m=19456", "m=4194304", 1),
		strings.Replace(h, "t=2", "t=1000", 1),
		strings.Replace(h, "argon2id", "argon2i", 1),
		strings.Replace(h, "v=19", "v=16", 1),
		h[:len(h)-10],
		"",
	} {
		_, err := checkPassword(bad, "correct horse battery staple")
		require.ErrorIs(t, err, errPasswordFormat, bad)
	}
}

// The SQLite TOTP store keeps the totp.Store contract: compare-and-swap on
// versions, and a version never given twice, even across a delete.
func TestTOTPStore(t *testing.T) {
	db, err := openDB(context.Background(), t.TempDir())
	require.NoError(t, err)
	defer db.Close()
	storetest.Run(t, totpStore{db})
}

// Secrets at rest open only under their own name and master key.
func TestAtRest(t *testing.T) {
	a, err := newAtRest(NewMasterKey())
	require.NoError(t, err)
	ct := a.seal("token-keyring", []byte("keys"))
	pt, err := a.open("token-keyring", ct)
	require.NoError(t, err)
	require.Equal(t, "keys", string(pt))
	_, err = a.open("other", ct)
	require.Error(t, err)
	b, err := newAtRest(NewMasterKey())
	require.NoError(t, err)
	_, err = b.open("token-keyring", ct)
	require.Error(t, err)
	_, err = newAtRest(make([]byte, 16))
	require.Error(t, err)
}

// One account cannot fill the pool of pending sign-ins that everyone
// shares: its challenges past maxPendingPerAccount replace its oldest,
// which stop working, and another person still gets one.
func TestPendingSignInsPerAccount(t *testing.T) {
	clock := testclock.New(time.Now())
	ac := &accounts{base: base{now: clock.Now}, challenges: map[string]challenge{}}
	first, err := ac.newChallenge("u_mallory")
	require.NoError(t, err)
	for range maxPendingSignIn {
		clock.Advance(time.Millisecond)
		_, err := ac.newChallenge("u_mallory")
		require.NoError(t, err)
	}
	_, err = ac.newChallenge("u_alice")
	require.NoError(t, err, "one account exhausted the pool")
	require.Len(t, ac.challenges, maxPendingPerAccount+1)
	_, err = ac.checkCodeStep(context.Background(), first, "123456", false)
	require.ErrorIs(t, err, errChallenge, "the oldest challenge was replaced")
}

// A database made before tokens.second_factor existed gets the column, and
// its tokens count as older sessions (0).
func TestMigrateSecondFactor(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "platform.db"))
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, `CREATE TABLE tokens (id TEXT PRIMARY KEY, subject TEXT NOT NULL, name TEXT NOT NULL,
		scopes TEXT NOT NULL, apps TEXT NOT NULL, created INTEGER NOT NULL, expires INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
		INSERT INTO tokens (id, subject, name, scopes, apps, created, expires) VALUES ('t1', 'u1', 'session', 'tokens:manage', '', 1, 2)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	db, err = openDB(ctx, dir)
	require.NoError(t, err)
	defer db.Close()
	var at int64
	require.NoError(t, db.QueryRowContext(ctx, `SELECT second_factor FROM tokens WHERE id = 't1'`).Scan(&at))
	require.Zero(t, at)
	require.NoError(t, migrate(ctx, db), "twice is harmless")
}
