package totp

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// FuzzParseCode: any input either is refused as malformed or is exactly
// the right number of ASCII digits once ASCII spaces are removed, and
// parses to their value.
func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"123456", "123 456", "12345678", "1234 5678", "000000", "", " ", "12345a", "١٢٣٤٥٦", "123\u00a0456", "+12345", "99999999999"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, code string, eight bool) {
		digits := 6
		if eight {
			digits = 8
		}
		v, err := parseCode(code, digits)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformedCode)
			return
		}
		bare := strings.ReplaceAll(code, " ", "")
		require.Len(t, bare, digits)
		require.LessOrEqual(t, len(code), maxCodeInput)
		n, err := strconv.ParseUint(bare, 10, 32)
		require.NoError(t, err)
		require.Equal(t, uint32(n), v)
		require.Equal(t, bare, (&generator{digits: digits}).format(v))
	})
}

// FuzzVerify: whatever code is submitted, Verify never panics, and it is
// accepted only if it is the right code.
func FuzzVerify(f *testing.F) {
	fx := newFixture(f, func(c *Config) { c.MaxFailures = 20 })
	k := fx.enrolled(f, "u")
	right := k.Code(fx.clock.Now())
	for _, s := range []string{right, right[:3] + " " + right[3:], "000000", "", "abcdef", strings.Repeat("9", 70)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		// A fresh step each time, and no lockout.
		fx.clock.Advance(10 * period * time.Second)
		r := fx.record(t, "u")
		r.Failures, r.LockedUntil = 0, time.Time{}
		ok, err := fx.store.CompareAndSwap(fx.ctx, "u", r.Version, r)
		require.NoError(t, err)
		require.True(t, ok)

		now := fx.clock.Now()
		err = fx.a.Verify(fx.ctx, "u", code)
		if err == nil {
			bare := strings.ReplaceAll(code, " ", "")
			ahead, behind := k.Code(now.Add(period*time.Second)), k.Code(now.Add(-period*time.Second))
			require.Contains(t, []string{k.Code(now), ahead, behind}, bare)
			return
		}
		require.ErrorIs(t, err, ErrRefused)
		// No lockout here, so the message has no digits, and a code that
		// has some cannot be in it.
		if strings.ContainsAny(code, "0123456789") {
			require.NotContains(t, err.Error(), code)
		}
	})
}

// FuzzParseKeyURI: any input is refused with ErrInvalidKeyURI or parses
// to a key whose URI parses back to the same key and is written the same
// way again (parse-then-marshal is a fixed point).
func FuzzParseKeyURI(f *testing.F) {
	const sec = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	for _, s := range []string{
		"otpauth://totp/Acme:alice@example.com?secret=" + sec + "&issuer=Acme",
		"otpauth://totp/Acme%20Co:alice%2B2fa%40example.com?secret=" + sec + "&issuer=Acme%20Co&algorithm=SHA1&digits=6&period=30",
		"otpauth://totp/x?secret=" + sec + "&algorithm=sha512&digits=8",
		"otpauth://totp/B%C3%BCcher%3A%20bob?issuer=B%C3%BCcher&secret=" + strings.ToLower(sec),
		"otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGE======",
		"otpauth://hotp/x?secret=" + sec + "&counter=1",
		"otpauth://totp/x?secret=" + sec + "&period=60",
		"otpauth://totp/a:b:c?secret=" + sec,
		"otpauth://totp/%zz?secret=" + sec,
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		k, err := ParseKeyURI(uri)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidKeyURI)
			require.Equal(t, Key{}, k)
			return
		}
		require.GreaterOrEqual(t, len(k.secret), minSecretBytes)
		out := k.URI()
		again, err := ParseKeyURI(out)
		require.NoError(t, err, out)
		require.Equal(t, k, again)
		require.Equal(t, out, again.URI())
	})
}

// FuzzRecoveryCode: a recovery code is accepted by the normalizer only as
// 16 characters of the alphabet, and normalizing is idempotent.
func FuzzRecoveryCode(f *testing.F) {
	for _, s := range []string{"abcd-efgh-jkmn-pqrs", "ABCD EFGH JKMN PQRS", "0oO0-1iIl-LLLL-tvwx", "", "u", "abcd-efgh-jkmn-pqr"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		norm, ok := normalizeRecoveryCode(code)
		if !ok {
			return
		}
		require.Len(t, norm, recoveryCodeChars)
		for _, c := range norm {
			require.Contains(t, crockford, string(c))
		}
		again, ok := normalizeRecoveryCode(string(norm))
		require.True(t, ok)
		require.Equal(t, norm, again)
	})
}

// FuzzStoredRecord: a store is outside the Authenticator's control (Redis,
// a database), so whatever record it returns, no operation panics, each
// returns nil or one of the package's errors, and nothing writes a record
// that the next load cannot read.
func FuzzStoredRecord(f *testing.F) {
	fx := newFixture(f, nil)
	k := fx.enrolled(f, "u")
	if _, err := fx.a.RecoveryCodes(fx.ctx, "u"); err != nil {
		f.Fatal(err)
	}
	if _, err := fx.a.Reenroll(fx.ctx, "u", ""); err != nil {
		f.Fatal(err)
	}
	seed, err := json.Marshal(fx.record(f, "u"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed, k.Code(fx.clock.Now()))
	f.Add([]byte(`{"secret":"","algorithm":0,"digits":6,"confirmed":true,"failures":9223372036854775807}`), "123456")
	f.Add([]byte(`{"digits":8,"confirmed":true,"drift":-99999,"lastStep":-5,"next":{"secret":"AAAA","algorithm":9,"digits":7}}`), "12345678")
	f.Add([]byte(`{"confirmed":false,"enrolled":"2026-01-01T00:00:00Z","recovery":["", "AAAA"]}`), "0000-0000-0000-0000")
	known := []error{ErrRefused, ErrSecretUnreadable, ErrNotEnrolled, ErrAlreadyEnrolled, ErrInvalidKeyURI}
	f.Fuzz(func(t *testing.T, data []byte, code string) {
		var r Record
		if json.Unmarshal(data, &r) != nil {
			return
		}
		store := &MemoryStore{}
		a, err := New(Config{Issuer: "Acme", Store: store, EncryptionKeys: []EncryptionKey{testEncryptionKey}, Now: fx.clock.Now})
		require.NoError(t, err)
		ok, err := store.CompareAndSwap(fx.ctx, "u", 0, &r)
		require.NoError(t, err)
		require.True(t, ok)
		ops := []func() error{
			func() error { return a.Verify(fx.ctx, "u", code) },
			func() error { return a.Confirm(fx.ctx, "u", code) },
			func() error { return a.ConfirmReenroll(fx.ctx, "u", code) },
			func() error { return a.VerifyRecoveryCode(fx.ctx, "u", code) },
			func() error { _, err := a.RecoveryCodes(fx.ctx, "u"); return err },
			func() error { _, err := a.Reenroll(fx.ctx, "u", ""); return err },
			func() error { _, err := a.Enroll(fx.ctx, "u", ""); return err },
		}
		for i, op := range ops {
			if err := op(); err != nil {
				require.True(t, slices.ContainsFunc(known, func(k error) bool { return errors.Is(err, k) }), "op %d: %v", i, err)
			}
			got, err := store.Load(fx.ctx, "u")
			require.NoError(t, err)
			b, err := json.Marshal(got)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(b, new(Record)))
		}
	})
}
