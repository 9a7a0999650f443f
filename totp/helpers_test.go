package totp

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/latchsec/latch/internal/testclock"
	"github.com/stretchr/testify/require"
)

// t0 is the tests' "now": the start of a time step, so that tests can move
// a whole step with clock.Add(30 * time.Second).
var t0 = time.Unix(1_767_225_600, 0) // 2026-01-01T00:00:00Z, step 58907520

var testEncryptionKey = EncryptionKey{ID: "k1", Key: bytes.Repeat([]byte{7}, 32)}

type fixture struct {
	a     *Authenticator
	clock *clock
	store *MemoryStore
	ctx   context.Context
}

// newFixture returns an Authenticator on a MemoryStore and a clock at t0;
// edit changes the Config first.
func newFixture(t testing.TB, edit func(*Config)) *fixture {
	t.Helper()
	f := &fixture{clock: testclock.New(t0), store: &MemoryStore{}, ctx: context.Background()}
	c := Config{Issuer: "Acme", Store: f.store, EncryptionKeys: []EncryptionKey{testEncryptionKey}, Now: f.clock.Now}
	if edit != nil {
		edit(&c)
	}
	a, err := New(c)
	require.NoError(t, err)
	f.a = a
	return f
}

// enrolled enrolls and confirms account, returns its key, and moves the
// clock ten steps on, so that the confirmation's step is out of the window.
func (f *fixture) enrolled(t testing.TB, account string) Key {
	t.Helper()
	k, err := f.a.Enroll(f.ctx, account, "")
	require.NoError(t, err)
	require.NoError(t, f.a.Confirm(f.ctx, account, k.Code(f.clock.Now())))
	f.clock.Advance(10 * period * time.Second)
	return k
}

func (f *fixture) record(t testing.TB, account string) *Record {
	t.Helper()
	r, err := f.store.Load(f.ctx, account)
	require.NoError(t, err)
	return r
}

// wrongCode returns a code of k's length that matches no step within
// ±reach steps of at.
func wrongCode(k Key, at time.Time, reach int) string {
	used := map[string]bool{}
	for i := -reach; i <= reach; i++ {
		used[k.Code(at.Add(time.Duration(i)*period*time.Second))] = true
	}
	for v := 0; ; v++ {
		g := generator{digits: k.digits}
		c := g.format(uint32(v))
		if !used[c] {
			return c
		}
	}
}

// requireRefused checks that err is a RefusedError for reason.
func requireRefused(t testing.TB, err, reason error) *RefusedError {
	t.Helper()
	require.ErrorIs(t, err, ErrRefused)
	require.ErrorIs(t, err, reason)
	var re *RefusedError
	require.ErrorAs(t, err, &re)
	return re
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// clock is the injected test clock.
type clock = testclock.Clock
