package totp

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/stretchr/testify/require"
)

func TestEnrollConfirmVerify(t *testing.T) {
	f := newFixture(t, nil)
	k, err := f.a.Enroll(f.ctx, "u1", "alice@example.com")
	require.NoError(t, err)
	require.Equal(t, "Acme", k.Issuer())
	require.Equal(t, "alice@example.com", k.Account())
	require.Equal(t, SHA1, k.Algorithm())
	require.Equal(t, 6, k.Digits())
	require.Len(t, k.secret, 20)

	// Pending: Verify refuses even the right code; recovery codes too.
	requireRefused(t, f.a.Verify(f.ctx, "u1", k.Code(f.clock.Now())), ErrNotEnrolled)
	_, err = f.a.RecoveryCodes(f.ctx, "u1")
	require.ErrorIs(t, err, ErrNotEnrolled)

	// A wrong confirmation code leaves it pending.
	requireRefused(t, f.a.Confirm(f.ctx, "u1", wrongCode(k, f.clock.Now(), 2)), ErrInvalidCode)
	require.False(t, f.record(t, "u1").Confirmed)

	require.NoError(t, f.a.Confirm(f.ctx, "u1", k.Code(f.clock.Now())))
	r := f.record(t, "u1")
	require.True(t, r.Confirmed)
	require.Equal(t, step(t0), r.LastStep)
	require.Zero(t, r.Failures)
	requireRefused(t, f.a.Confirm(f.ctx, "u1", k.Code(f.clock.Now())), ErrAlreadyEnrolled)

	// The confirmation code cannot be used again.
	requireRefused(t, f.a.Verify(f.ctx, "u1", k.Code(f.clock.Now())), ErrReplayed)

	f.clock.Advance(30 * time.Second)
	code := k.Code(f.clock.Now())
	require.NoError(t, f.a.Verify(f.ctx, "u1", code[:3]+" "+code[3:]))
	requireRefused(t, f.a.Verify(f.ctx, "u1", code), ErrReplayed)

	// The secret is stored encrypted, not in the clear nor in base32.
	r = f.record(t, "u1")
	require.False(t, bytes.Contains(r.Secret, k.secret))
	require.NotContains(t, string(r.Secret), strings.ReplaceAll(k.SecretBase32(), " ", ""))

	// Enrolling again needs Unenroll first.
	_, err = f.a.Enroll(f.ctx, "u1", "")
	require.ErrorIs(t, err, ErrAlreadyEnrolled)
	require.NoError(t, f.a.Unenroll(f.ctx, "u1"))
	require.ErrorIs(t, f.a.Unenroll(f.ctx, "u1"), ErrNotEnrolled)
	requireRefused(t, f.a.Verify(f.ctx, "u1", code), ErrNotEnrolled)
}

func TestEnrollOptions(t *testing.T) {
	for _, c := range []struct {
		alg    Algorithm
		digits int
		secret int
	}{{SHA1, 6, 20}, {SHA1, 8, 20}, {SHA256, 6, 32}, {SHA512, 8, 64}} {
		f := newFixture(t, func(cfg *Config) { cfg.Algorithm, cfg.Digits = c.alg, c.digits })
		k, err := f.a.Enroll(f.ctx, "u", "")
		require.NoError(t, err)
		require.Equal(t, c.alg, k.Algorithm())
		require.Equal(t, c.digits, k.Digits())
		require.Len(t, k.secret, c.secret)
		require.Equal(t, "u", k.Account(), "the account id is the default name")
		require.NoError(t, f.a.Confirm(f.ctx, "u", k.Code(f.clock.Now())))
		f.clock.Advance(30 * time.Second)
		require.NoError(t, f.a.Verify(f.ctx, "u", k.Code(f.clock.Now())))
	}
}

func TestEnrollFreshSecrets(t *testing.T) {
	f := newFixture(t, nil)
	seen := map[string]bool{}
	for range 50 {
		k, err := f.a.Enroll(f.ctx, "u", "")
		require.NoError(t, err)
		require.False(t, seen[string(k.secret)])
		seen[string(k.secret)] = true
	}
}

func TestEnrollReplacesPending(t *testing.T) {
	f := newFixture(t, nil)
	k1, err := f.a.Enroll(f.ctx, "u", "")
	require.NoError(t, err)
	k2, err := f.a.Enroll(f.ctx, "u", "")
	require.NoError(t, err)
	if k1.Code(t0) != k2.Code(t0) {
		requireRefused(t, f.a.Confirm(f.ctx, "u", k1.Code(t0)), ErrInvalidCode)
	}
	require.NoError(t, f.a.Confirm(f.ctx, "u", k2.Code(t0)))
}

func TestEnrollBadNames(t *testing.T) {
	f := newFixture(t, nil)
	for _, name := range []string{"a:b", "a\nb", "a\x00b", "\xff", strings.Repeat("a", 257)} {
		_, err := f.a.Enroll(f.ctx, "u", name)
		require.ErrorIs(t, err, ErrInvalidKeyURI, "%q", name)
	}
	for _, account := range []string{"", "\xff", strings.Repeat("a", 257)} {
		_, err := f.a.Enroll(f.ctx, account, "name")
		require.ErrorIs(t, err, ErrInvalidAccount, "%q", account)
		require.ErrorIs(t, f.a.Verify(f.ctx, account, "123456"), ErrInvalidAccount)
		require.ErrorIs(t, f.a.Confirm(f.ctx, account, "123456"), ErrInvalidAccount)
		require.ErrorIs(t, f.a.VerifyRecoveryCode(f.ctx, account, "0000-0000-0000-0000"), ErrInvalidAccount)
		_, err = f.a.RecoveryCodes(f.ctx, account)
		require.ErrorIs(t, err, ErrInvalidAccount)
		require.ErrorIs(t, f.a.Unenroll(f.ctx, account), ErrInvalidAccount)
	}
	_, err := f.store.Load(f.ctx, "u")
	require.ErrorIs(t, err, ErrNotEnrolled, "nothing half-done")
}

// Names within their own caps can still escape to a key URI longer than
// ParseKeyURI reads or a QR code holds: Enroll refuses them.
func TestEnrollURITooLong(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Issuer, c.Algorithm = strings.Repeat("&", 256), SHA512 })
	_, err := f.a.Enroll(f.ctx, "u", strings.Repeat("é", 128))
	require.ErrorIs(t, err, ErrInvalidKeyURI)
	_, err = f.store.Load(f.ctx, "u")
	require.ErrorIs(t, err, ErrNotEnrolled, "nothing stored")
	k, err := f.a.Enroll(f.ctx, "u", strings.Repeat("é", 16))
	require.NoError(t, err)
	_, err = ParseKeyURI(k.URI())
	require.NoError(t, err)
	_, err = k.QRCode(2048)
	require.NoError(t, err)
}

func TestEnrollKey(t *testing.T) {
	f := newFixture(t, nil)
	k, err := ParseKeyURI("otpauth://totp/Other:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA256&digits=8")
	require.NoError(t, err)
	require.NoError(t, f.a.EnrollKey(f.ctx, "bob", k))
	require.NoError(t, f.a.Confirm(f.ctx, "bob", k.Code(t0)))
	f.clock.Advance(30 * time.Second)
	require.NoError(t, f.a.Verify(f.ctx, "bob", k.Code(f.clock.Now())))
	require.ErrorIs(t, f.a.EnrollKey(f.ctx, "carol", Key{}), ErrInvalidKeyURI)
}

// TestVerifyBadInput: every malformed code is refused as such, is not
// counted as a failure, and never changes the record.
func TestVerifyBadInput(t *testing.T) {
	f := newFixture(t, nil)
	k := f.enrolled(t, "u")
	good := k.Code(f.clock.Now())
	before := f.record(t, "u")
	for _, code := range []string{
		"", " ", good[:5], good + "0", good + "\n", "\t" + good, "-" + good[1:], good[:5] + "a",
		"+" + good[1:], good[:3] + "-" + good[3:], good[:3] + "\u00a0" + good[3:], "１２３４５６",
		good + strings.Repeat(" ", 100), "12345678",
	} {
		requireRefused(t, f.a.Verify(f.ctx, "u", code), ErrMalformedCode)
	}
	require.Equal(t, before, f.record(t, "u"))
	require.NoError(t, f.a.Verify(f.ctx, "u", " "+good+" "))
}

// TestWindowAndReplay: ±1 step is accepted; once a step is accepted, it and
// every earlier step are refused, and later steps are not.
func TestWindowAndReplay(t *testing.T) {
	f := newFixture(t, nil)
	k := f.enrolled(t, "u")
	now := f.clock.Now()
	at := func(steps int) string { return k.Code(now.Add(time.Duration(steps) * period * time.Second)) }

	// Two steps away: outside the window.
	requireRefused(t, f.a.Verify(f.ctx, "u", at(2)), ErrInvalidCode)
	requireRefused(t, f.a.Verify(f.ctx, "u", at(-2)), ErrInvalidCode)

	// The previous step is accepted (a slow typist), then the current one.
	require.NoError(t, f.a.Verify(f.ctx, "u", at(-1)))
	require.NoError(t, f.a.Verify(f.ctx, "u", at(0)))
	requireRefused(t, f.a.Verify(f.ctx, "u", at(-1)), ErrReplayed)
	requireRefused(t, f.a.Verify(f.ctx, "u", at(0)), ErrReplayed)

	// The next step (a fast clock) is accepted; after it, the current step
	// is refused although it is inside the window.
	require.NoError(t, f.a.Verify(f.ctx, "u", at(1)))
	requireRefused(t, f.a.Verify(f.ctx, "u", at(0)), ErrReplayed)
	requireRefused(t, f.a.Verify(f.ctx, "u", at(1)), ErrReplayed)
	require.Equal(t, step(now)+1, f.record(t, "u").LastStep)
	require.Zero(t, f.record(t, "u").Failures, "replays are not failures")

	f.clock.Advance(2 * period * time.Second)
	require.NoError(t, f.a.Verify(f.ctx, "u", at(2)))
}

func TestWindowConfigured(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Window = 3 })
	ahead := f.enrolled(t, "ahead")
	behind := f.enrolled(t, "behind")
	now := f.clock.Now()
	requireRefused(t, f.a.Verify(f.ctx, "behind", behind.Code(now.Add(-4*period*time.Second))), ErrInvalidCode)
	require.NoError(t, f.a.Verify(f.ctx, "behind", behind.Code(now.Add(-3*period*time.Second))))
	requireRefused(t, f.a.Verify(f.ctx, "ahead", ahead.Code(now.Add(4*period*time.Second))), ErrInvalidCode)
	require.NoError(t, f.a.Verify(f.ctx, "ahead", ahead.Code(now.Add(3*period*time.Second))))
}

// TestDrift: a device whose clock runs ahead is accepted within the window,
// the drift is recorded, and the next window is centred on it, up to
// MaxDrift.
func TestDrift(t *testing.T) {
	f := newFixture(t, nil)
	k := f.enrolled(t, "u")
	device := func(ahead int) string {
		return k.Code(f.clock.Now().Add(time.Duration(ahead) * period * time.Second))
	}

	// The device is one step ahead: accepted, drift +1.
	require.NoError(t, f.a.Verify(f.ctx, "u", device(1)))
	require.Equal(t, 1, f.record(t, "u").Drift)

	// The device drifts to two steps ahead; the window is now [0, +2].
	f.clock.Advance(5 * period * time.Second)
	require.NoError(t, f.a.Verify(f.ctx, "u", device(2)))
	require.Equal(t, 2, f.record(t, "u").Drift)

	// Three ahead: inside [+1, +3], accepted, but the drift stays at the
	// cap of 2.
	f.clock.Advance(5 * period * time.Second)
	require.NoError(t, f.a.Verify(f.ctx, "u", device(3)))
	require.Equal(t, 2, f.record(t, "u").Drift)

	// The window is [+1, +3] now: a code of the current step is refused.
	f.clock.Advance(5 * period * time.Second)
	requireRefused(t, f.a.Verify(f.ctx, "u", device(0)), ErrInvalidCode)
	requireRefused(t, f.a.Verify(f.ctx, "u", device(4)), ErrInvalidCode)
	// The device's clock is corrected: one step ahead is accepted, and the
	// drift follows it back.
	require.NoError(t, f.a.Verify(f.ctx, "u", device(1)))
	require.Equal(t, 1, f.record(t, "u").Drift)
	// (Two steps on, so that the device's current step is after the one
	// accepted last.)
	f.clock.Advance(2 * period * time.Second)
	require.NoError(t, f.a.Verify(f.ctx, "u", device(0)))
	require.Equal(t, 0, f.record(t, "u").Drift)

	// A device behind works the same way.
	f.clock.Advance(2 * period * time.Second)
	require.NoError(t, f.a.Verify(f.ctx, "u", device(-1)))
	require.Equal(t, -1, f.record(t, "u").Drift)
	f.clock.Advance(2 * period * time.Second)
	require.NoError(t, f.a.Verify(f.ctx, "u", device(-2)))
	require.Equal(t, -2, f.record(t, "u").Drift)

	// A stored drift beyond the configured cap (the cap was lowered, or
	// the record was altered) is clamped when read.
	f2 := newFixture(t, func(c *Config) { c.MaxDrift = 1 })
	f2.store = f.store
	f2.a.store = f.store
	f2.clock.Set(f.clock.Now().Add(period * time.Second))
	r := f.record(t, "u")
	r.Drift = 9
	ok, err := f.store.CompareAndSwap(f.ctx, "u", r.Version, r)
	require.NoError(t, err)
	require.True(t, ok)
	requireRefused(t, f2.a.Verify(f.ctx, "u", k.Code(f2.clock.Now().Add(3*period*time.Second))), ErrInvalidCode)
	require.NoError(t, f2.a.Verify(f.ctx, "u", k.Code(f2.clock.Now().Add(2*period*time.Second))))
	require.Equal(t, 1, f.record(t, "u").Drift)
}

// TestThrottling: MaxFailures wrong codes lock the account; every code,
// even the right one, is refused until RetryAfter; each further failure
// doubles the lockout, up to MaxLockout; a success resets everything; the
// lock lives in the store, so another server sharing it sees it.
func TestThrottling(t *testing.T) {
	f := newFixture(t, nil)
	k := f.enrolled(t, "u")
	wrong := func() string { return wrongCode(k, f.clock.Now(), 3) }

	for i := 1; i < defaultMaxFailures; i++ {
		re := requireRefused(t, f.a.Verify(f.ctx, "u", wrong()), ErrInvalidCode)
		require.True(t, re.RetryAfter.IsZero())
		require.Equal(t, i, f.record(t, "u").Failures)
	}
	// The failure that reaches the limit locks for a minute.
	re := requireRefused(t, f.a.Verify(f.ctx, "u", wrong()), ErrInvalidCode)
	require.Equal(t, f.clock.Now().Add(time.Minute), re.RetryAfter)

	// A second server sharing the store refuses the right code.
	other, err := New(Config{Issuer: "Acme", Store: f.store, EncryptionKeys: []EncryptionKey{testEncryptionKey}, Now: f.clock.Now})
	require.NoError(t, err)
	for _, a := range []*Authenticator{f.a, other} {
		re = requireRefused(t, a.Verify(f.ctx, "u", k.Code(f.clock.Now())), ErrThrottled)
		require.Equal(t, f.clock.Now().Add(time.Minute), re.RetryAfter)
		require.Contains(t, re.Error(), "retry after")
	}
	// Attempts during a lockout are not counted and do not extend it.
	require.Equal(t, defaultMaxFailures, f.record(t, "u").Failures)

	// The lockout grows: 2, 4, ... 32 minutes, then stays at the hour.
	want := []time.Duration{2, 4, 8, 16, 32, 60, 60}
	for _, minutes := range want {
		f.clock.Advance(time.Hour)
		re = requireRefused(t, other.Verify(f.ctx, "u", wrong()), ErrInvalidCode)
		require.Equal(t, f.clock.Now().Add(minutes*time.Minute), re.RetryAfter)
		f.clock.Advance(minutes*time.Minute - time.Second)
		requireRefused(t, f.a.Verify(f.ctx, "u", k.Code(f.clock.Now())), ErrThrottled)
	}

	// When the lock ends, the right code is accepted and resets the count.
	f.clock.Advance(time.Second)
	require.NoError(t, f.a.Verify(f.ctx, "u", k.Code(f.clock.Now())))
	r := f.record(t, "u")
	require.Zero(t, r.Failures)
	require.True(t, r.LockedUntil.IsZero())
	f.clock.Advance(period * time.Second)
	for range defaultMaxFailures - 1 {
		requireRefused(t, f.a.Verify(f.ctx, "u", wrong()), ErrInvalidCode)
	}
	require.NoError(t, f.a.Verify(f.ctx, "u", k.Code(f.clock.Now())), "the count started again from zero")
}

func TestThrottlingConfigured(t *testing.T) {
	for _, c := range []struct {
		max                 int
		lockout, maxLockout time.Duration
		want                []time.Duration
	}{
		{1, time.Second, 5 * time.Second, []time.Duration{1, 2, 4, 5, 5}},
		{3, 10 * time.Second, 0, []time.Duration{10, 20, 40, 80}},
		{2, time.Hour, time.Hour, []time.Duration{3600, 3600}},
		{20, time.Second, 1 << 62, []time.Duration{1, 2, 4}},
	} {
		f := newFixture(t, func(cfg *Config) { cfg.MaxFailures, cfg.Lockout, cfg.MaxLockout = c.max, c.lockout, c.maxLockout })
		k := f.enrolled(t, "u")
		for i := 1; i < c.max; i++ {
			re := requireRefused(t, f.a.Verify(f.ctx, "u", wrongCode(k, f.clock.Now(), 2)), ErrInvalidCode)
			require.True(t, re.RetryAfter.IsZero())
		}
		for _, d := range c.want {
			re := requireRefused(t, f.a.Verify(f.ctx, "u", wrongCode(k, f.clock.Now(), 2)), ErrInvalidCode)
			require.Equal(t, f.clock.Now().Add(d*time.Second), re.RetryAfter, "max %d", c.max)
			f.clock.Advance(d * time.Second)
		}
	}
	// No overflow however many failures.
	a := &Authenticator{maxFailures: 1, lockout: time.Second, maxLockout: 1<<63 - 1}
	require.Equal(t, time.Duration(1<<63-1), a.lockoutAfter(1000))
	require.Equal(t, 1<<20*time.Second, a.lockoutAfter(21))
}

// TestConcurrentSameCode: of 100 concurrent Verify calls with the same
// valid code, exactly one succeeds; the others are replays.
func TestConcurrentSameCode(t *testing.T) {
	f := newFixture(t, nil)
	k := f.enrolled(t, "u")
	code := k.Code(f.clock.Now())
	var ok, replayed atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 100 {
		wg.Go(func() {
			<-start
			err := f.a.Verify(f.ctx, "u", code)
			switch {
			case err == nil:
				ok.Add(1)
			case requireRefused(t, err, ErrReplayed) != nil:
				replayed.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	require.Equal(t, int32(1), ok.Load())
	require.Equal(t, int32(99), replayed.Load())
}

// TestConcurrentFailuresAllCount: concurrent wrong codes are each counted;
// none is lost to a race, and the lock starts exactly at the limit.
func TestConcurrentFailuresAllCount(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxFailures = 20 })
	k := f.enrolled(t, "u")
	wrong := wrongCode(k, f.clock.Now(), 2)
	var invalid, locked atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			err := f.a.Verify(f.ctx, "u", wrong)
			if errorsIs(err, ErrThrottled) {
				locked.Add(1)
			} else if errorsIs(err, ErrInvalidCode) {
				invalid.Add(1)
			}
		})
	}
	wg.Wait()
	require.Equal(t, int32(20), invalid.Load(), "exactly MaxFailures codes were checked")
	require.Equal(t, int32(30), locked.Load())
	require.Equal(t, 20, f.record(t, "u").Failures)
}

// A pending enrollment can be confirmed within EnrollmentTimeout of
// Enroll, not after: the key shown then is worth nothing, the refusal does
// not count towards the lockout, and enrolling again starts a new period.
func TestEnrollmentExpires(t *testing.T) {
	for _, tt := range []struct {
		name    string
		timeout time.Duration // Config.EnrollmentTimeout
		expires time.Duration // the one it should have
	}{
		{"default", 0, 15 * time.Minute},
		{"configured", 2 * time.Hour, 2 * time.Hour},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.EnrollmentTimeout = tt.timeout })
			k, err := f.a.Enroll(f.ctx, "u", "")
			require.NoError(t, err)
			f.clock.Advance(tt.expires)
			requireRefused(t, f.a.Confirm(f.ctx, "u", k.Code(f.clock.Now())), ErrEnrollmentExpired)
			require.Zero(t, f.record(t, "u").Failures)
			requireRefused(t, f.a.Verify(f.ctx, "u", k.Code(f.clock.Now())), ErrNotEnrolled)

			// Enrolling again replaces the key and restarts the period.
			k2, err := f.a.Enroll(f.ctx, "u", "")
			require.NoError(t, err)
			f.clock.Advance(tt.expires - period*time.Second)
			require.NoError(t, f.a.Confirm(f.ctx, "u", k2.Code(f.clock.Now())))
			require.True(t, f.record(t, "u").Confirmed)

			// A confirmed enrollment does not expire.
			f.clock.Advance(24 * time.Hour)
			require.NoError(t, f.a.Verify(f.ctx, "u", k2.Code(f.clock.Now())))
		})
	}
	t.Run("pending record without a time", func(t *testing.T) {
		f := newFixture(t, nil)
		k, err := f.a.Enroll(f.ctx, "u", "")
		require.NoError(t, err)
		r := f.record(t, "u")
		r.Enrolled = time.Time{}
		ok, err := f.store.CompareAndSwap(f.ctx, "u", r.Version, r)
		require.NoError(t, err)
		require.True(t, ok)
		requireRefused(t, f.a.Confirm(f.ctx, "u", k.Code(f.clock.Now())), ErrEnrollmentExpired)
	})
}

func TestConfigValidation(t *testing.T) {
	base := func() Config {
		return Config{Issuer: "Acme", Store: &MemoryStore{}, EncryptionKeys: []EncryptionKey{testEncryptionKey}}
	}
	for name, edit := range map[string]func(*Config){
		"no issuer":       func(c *Config) { c.Issuer = "" },
		"colon in issuer": func(c *Config) { c.Issuer = "A:B" },
		"no store":        func(c *Config) { c.Store = nil },
		"no keys":         func(c *Config) { c.EncryptionKeys = nil },
		"short key":       func(c *Config) { c.EncryptionKeys = []EncryptionKey{{ID: "k", Key: make([]byte, 16)}} },
		"empty key id":    func(c *Config) { c.EncryptionKeys = []EncryptionKey{{Key: make([]byte, 32)}} },
		"space in key id": func(c *Config) { c.EncryptionKeys = []EncryptionKey{{ID: "a b", Key: make([]byte, 32)}} },
		"long key id": func(c *Config) {
			c.EncryptionKeys = []EncryptionKey{{ID: strings.Repeat("k", 65), Key: make([]byte, 32)}}
		},
		"duplicate key id": func(c *Config) {
			c.EncryptionKeys = []EncryptionKey{testEncryptionKey, {ID: "k1", Key: make([]byte, 32)}}
		},
		"algorithm":           func(c *Config) { c.Algorithm = 3 },
		"7 digits":            func(c *Config) { c.Digits = 7 },
		"window too large":    func(c *Config) { c.Window = 5 },
		"negative window":     func(c *Config) { c.Window = -1 },
		"drift too large":     func(c *Config) { c.MaxDrift = 11 },
		"failures too many":   func(c *Config) { c.MaxFailures = 21 },
		"negative failures":   func(c *Config) { c.MaxFailures = -1 },
		"short lockout":       func(c *Config) { c.Lockout = time.Millisecond },
		"max below lockout":   func(c *Config) { c.Lockout, c.MaxLockout = time.Hour, time.Minute },
		"short enrollment":    func(c *Config) { c.EnrollmentTimeout = 30 * time.Second },
		"negative enrollment": func(c *Config) { c.EnrollmentTimeout = -time.Minute },
	} {
		c := base()
		edit(&c)
		_, err := New(c)
		require.ErrorIs(t, err, ErrInvalidConfig, name)
		require.NotContains(t, err.Error(), "\x07", name)
	}
	_, err := New(base())
	require.NoError(t, err)
}

// TestStoreErrors: a failing store fails the call; nothing is accepted.
func TestStoreErrors(t *testing.T) {
	f := newFixture(t, nil)
	k := f.enrolled(t, "u")
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	err := f.a.Verify(ctx, "u", k.Code(f.clock.Now()))
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, ErrRefused)

	// A store where every swap loses the race: the call gives up.
	f.a.store = racingStore{f.store}
	require.ErrorIs(t, f.a.Verify(f.ctx, "u", k.Code(f.clock.Now())), ErrStoreConflict)
	f.a.store = f.store
	require.NoError(t, f.a.Verify(f.ctx, "u", k.Code(f.clock.Now())), "nothing was consumed")
}

type racingStore struct{ *MemoryStore }

func (racingStore) CompareAndSwap(context.Context, string, uint64, *Record) (bool, error) {
	return false, nil
}

// TestErrorsHoldNoCode: refusal messages never contain the code.
func TestErrorsHoldNoCode(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxFailures = 1 })
	k := f.enrolled(t, "u")
	codes := []string{"987654", k.Code(f.clock.Now().Add(-period * time.Second)), "98765x"}
	for _, c := range codes {
		err := f.a.Verify(f.ctx, "u", c)
		require.Error(t, err)
		require.NotContains(t, err.Error(), c)
		require.True(t, strings.HasPrefix(err.Error(), "totp: "), err.Error())
	}
	require.Equal(t, "totp: code not accepted", ErrRefused.Error())
}

// TestRandomnessFromCryptoRand: secrets, recovery codes and nonces come from
// crypto/rand and nothing else: with its global source fixed, they repeat.
func TestRandomnessFromCryptoRand(t *testing.T) {
	run := func(seed uint64) (secret []byte, codes []string, encrypted []byte) {
		cryptotest.SetGlobalRandom(t, seed)
		f := newFixture(t, nil)
		k, err := f.a.Enroll(f.ctx, "u", "")
		require.NoError(t, err)
		encrypted = f.record(t, "u").Secret
		require.NoError(t, f.a.Confirm(f.ctx, "u", k.Code(f.clock.Now())))
		codes, err = f.a.RecoveryCodes(f.ctx, "u")
		require.NoError(t, err)
		return k.secret, codes, encrypted
	}
	s1, c1, n1 := run(1)
	s2, c2, n2 := run(1)
	s3, c3, n3 := run(2)
	require.Equal(t, s1, s2)
	require.Equal(t, c1, c2)
	require.Equal(t, n1, n2)
	require.NotEqual(t, s1, s3)
	require.NotEqual(t, c1, c3)
	require.NotEqual(t, n1, n3)
}
