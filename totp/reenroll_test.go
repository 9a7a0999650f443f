package totp

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// step30 moves the clock one time step on, so that the next code is not a
// replay of the last one.
func (f *fixture) step30() { f.clock.Advance(period * time.Second) }

// The old key signs in until the new one is confirmed; then only the new
// one does, and the recovery codes are still the same.
func TestReenroll(t *testing.T) {
	f := newFixture(t, nil)
	old := f.enrolled(t, "u")
	codes, err := f.a.RecoveryCodes(f.ctx, "u")
	require.NoError(t, err)

	next, err := f.a.Reenroll(f.ctx, "u", "u@example.com")
	require.NoError(t, err)
	require.NotEqual(t, old.SecretBase32(), next.SecretBase32())
	require.Equal(t, "u@example.com", next.Account())
	require.NotNil(t, f.record(t, "u").Next)

	require.NoError(t, f.a.Verify(f.ctx, "u", old.Code(f.clock.Now())))
	f.step30()
	if c := next.Code(f.clock.Now()); c != old.Code(f.clock.Now()) {
		requireRefused(t, f.a.Verify(f.ctx, "u", c), ErrInvalidCode)
	}
	// A code of the old key does not confirm the new one.
	if c := old.Code(f.clock.Now()); c != next.Code(f.clock.Now()) {
		requireRefused(t, f.a.ConfirmReenroll(f.ctx, "u", c), ErrInvalidCode)
	}
	require.NoError(t, f.a.ConfirmReenroll(f.ctx, "u", next.Code(f.clock.Now())))
	r := f.record(t, "u")
	require.Nil(t, r.Next)
	require.Zero(t, r.Failures, "a success resets the count")
	requireRefused(t, f.a.ConfirmReenroll(f.ctx, "u", next.Code(f.clock.Now())), ErrNotEnrolled)

	f.step30()
	if c := old.Code(f.clock.Now()); c != next.Code(f.clock.Now()) {
		requireRefused(t, f.a.Verify(f.ctx, "u", c), ErrInvalidCode)
	}
	require.NoError(t, f.a.Verify(f.ctx, "u", next.Code(f.clock.Now())))
	// The recovery codes made before still work.
	require.NoError(t, f.a.VerifyRecoveryCode(f.ctx, "u", codes[0]))
}

func TestReenrollRefusals(t *testing.T) {
	f := newFixture(t, nil)
	_, err := f.a.Reenroll(f.ctx, "nobody", "")
	require.ErrorIs(t, err, ErrNotEnrolled)
	_, err = f.a.Enroll(f.ctx, "pending", "")
	require.NoError(t, err)
	_, err = f.a.Reenroll(f.ctx, "pending", "")
	require.ErrorIs(t, err, ErrNotEnrolled, "a pending enrollment is confirmed, not reenrolled")
	_, err = f.a.Reenroll(f.ctx, "", "")
	require.ErrorIs(t, err, ErrInvalidAccount)

	old := f.enrolled(t, "u")
	requireRefused(t, f.a.ConfirmReenroll(f.ctx, "u", old.Code(f.clock.Now())), ErrNotEnrolled)
	_, err = f.a.Reenroll(f.ctx, "u", "a:b")
	require.ErrorIs(t, err, ErrInvalidKeyURI)

	// Reenrolling again replaces the new key waiting.
	k2, err := f.a.Reenroll(f.ctx, "u", "")
	require.NoError(t, err)
	k3, err := f.a.Reenroll(f.ctx, "u", "")
	require.NoError(t, err)
	if c := k2.Code(f.clock.Now()); c != k3.Code(f.clock.Now()) {
		requireRefused(t, f.a.ConfirmReenroll(f.ctx, "u", c), ErrInvalidCode)
	}
	failures := f.record(t, "u").Failures
	requireRefused(t, f.a.ConfirmReenroll(f.ctx, "u", "12345"), ErrMalformedCode)
	require.Equal(t, failures, f.record(t, "u").Failures, "a malformed code is not counted")

	// It expires; the old key still works; reenrolling starts again.
	f.clock.Advance(15 * time.Minute)
	requireRefused(t, f.a.ConfirmReenroll(f.ctx, "u", k3.Code(f.clock.Now())), ErrEnrollmentExpired)
	require.NoError(t, f.a.Verify(f.ctx, "u", old.Code(f.clock.Now())))
	k4, err := f.a.Reenroll(f.ctx, "u", "")
	require.NoError(t, err)
	f.step30()
	require.NoError(t, f.a.ConfirmReenroll(f.ctx, "u", k4.Code(f.clock.Now())))

	// Unenroll removes a key waiting too.
	_, err = f.a.Reenroll(f.ctx, "u", "")
	require.NoError(t, err)
	require.NoError(t, f.a.Unenroll(f.ctx, "u"))
	requireRefused(t, f.a.ConfirmReenroll(f.ctx, "u", k4.Code(f.clock.Now())), ErrNotEnrolled)
}

// Wrong codes for the new key count towards the account's one lockout,
// which then holds for the old key too.
func TestReenrollThrottled(t *testing.T) {
	f := newFixture(t, nil)
	old := f.enrolled(t, "u")
	next, err := f.a.Reenroll(f.ctx, "u", "")
	require.NoError(t, err)
	wrong := wrongCode(next, f.clock.Now(), 2)
	for range 4 {
		requireRefused(t, f.a.ConfirmReenroll(f.ctx, "u", wrong), ErrInvalidCode)
	}
	e := requireRefused(t, f.a.ConfirmReenroll(f.ctx, "u", wrong), ErrInvalidCode)
	require.Equal(t, f.clock.Now().Add(time.Minute), e.RetryAfter)
	requireRefused(t, f.a.ConfirmReenroll(f.ctx, "u", next.Code(f.clock.Now())), ErrThrottled)
	requireRefused(t, f.a.Verify(f.ctx, "u", old.Code(f.clock.Now())), ErrThrottled)
	f.clock.Advance(time.Minute)
	require.NoError(t, f.a.ConfirmReenroll(f.ctx, "u", next.Code(f.clock.Now())))
}

// Of many concurrent confirmations with the right code, one succeeds.
func TestConcurrentConfirmReenroll(t *testing.T) {
	f := newFixture(t, nil)
	f.enrolled(t, "u")
	next, err := f.a.Reenroll(f.ctx, "u", "")
	require.NoError(t, err)
	code := next.Code(f.clock.Now())
	var ok, gone atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 50 {
		wg.Go(func() {
			<-start
			err := f.a.ConfirmReenroll(f.ctx, "u", code)
			switch {
			case err == nil:
				ok.Add(1)
			case requireRefused(t, err, ErrNotEnrolled) != nil:
				gone.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	require.Equal(t, int32(1), ok.Load())
	require.Equal(t, int32(49), gone.Load())
}

// A new key encrypted under an encryption key that has since been rotated
// out of first place is re-encrypted under the new first key when
// confirmed.
func TestReenrollReencrypts(t *testing.T) {
	store := &MemoryStore{}
	f := newFixture(t, func(c *Config) { c.Store = store })
	f.store = store
	f.enrolled(t, "u")
	next, err := f.a.Reenroll(f.ctx, "u", "")
	require.NoError(t, err)
	newKey := EncryptionKey{ID: "k2", Key: make([]byte, 32)}
	g := newFixture(t, func(c *Config) {
		c.Store, c.Now = store, f.clock.Now
		c.EncryptionKeys = []EncryptionKey{newKey, testEncryptionKey}
	})
	require.NoError(t, g.a.ConfirmReenroll(g.ctx, "u", next.Code(f.clock.Now())))
	only := newFixture(t, func(c *Config) {
		c.Store, c.Now = store, f.clock.Now
		c.EncryptionKeys = []EncryptionKey{newKey}
	})
	f.step30()
	require.NoError(t, only.a.Verify(only.ctx, "u", next.Code(f.clock.Now())))
}
