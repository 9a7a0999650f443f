package redisrevoke_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/token"
	"github.com/latchsec/latch/token/redisrevoke"
)

// TestMigrateOldLayout: entries written in the layout of earlier versions
// (a key per ID, the hash latch:revoke:subjects) are not read by a List,
// and Migrate copies them into the current layout, where running Lists
// and new ones see them, and removes the old keys.
func TestMigrateOldLayout(t *testing.T) {
	f := newFleet(t)
	l, client := f.server(t)
	ctx := t.Context()
	tok, forever, dead := claims(f, "u"), claims(f, "u"), claims(f, "u")
	exat := tok.Expires.Add(token.Leeway).Unix()
	require.NoError(t, client.Set(ctx, "latch:revoke:id:"+tok.ID, strconv.FormatInt(tok.Expires.Unix(), 10), 0).Err())
	require.NoError(t, client.ExpireAt(ctx, "latch:revoke:id:"+tok.ID, time.Unix(exat, 0)).Err())
	require.NoError(t, client.Set(ctx, "latch:revoke:id:"+forever.ID, "0", 0).Err())
	require.NoError(t, client.Set(ctx, "latch:revoke:id:"+dead.ID, strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10), 0).Err())
	require.NoError(t, client.Set(ctx, "latch:revoke:id:not-an-id", "0", 0).Err())
	cut := f.clock.Now()
	require.NoError(t, client.HSet(ctx, "latch:revoke:subjects", "user-9", cut.Unix()).Err())
	old := claims(f, "user-9")
	old.IssuedAt = cut.Add(-time.Minute)

	waitCurrent(t, l)
	require.False(t, revoked(t, l, tok), "the old layout is not read")

	n, err := redisrevoke.Migrate(ctx, client, "")
	require.NoError(t, err)
	require.Equal(t, 3, n, "two live IDs and a subject")
	waitCurrent(t, l)
	fresh, _ := f.server(t)
	for _, list := range []*redisrevoke.List{l, fresh} {
		require.True(t, revoked(t, list, tok))
		require.True(t, revoked(t, list, forever))
		require.True(t, revoked(t, list, old))
	}
	keys, err := client.Keys(ctx, "latch:revoke:*").Result()
	require.NoError(t, err)
	require.Empty(t, keys, "old keys removed")

	n, err = redisrevoke.Migrate(ctx, client, "")
	require.NoError(t, err)
	require.Zero(t, n)
}
