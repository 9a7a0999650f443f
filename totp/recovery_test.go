package totp

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRecoveryCodes(t *testing.T) {
	f := newFixture(t, nil)
	k := f.enrolled(t, "u")
	codes, err := f.a.RecoveryCodes(f.ctx, "u")
	require.NoError(t, err)
	require.Len(t, codes, 10)
	format := regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$`)
	seen := map[string]bool{}
	r := f.record(t, "u")
	require.Len(t, r.Recovery, 10)
	for _, c := range codes {
		require.Regexp(t, format, c)
		require.False(t, seen[c])
		seen[c] = true
		// Only hashes are stored.
		for _, h := range r.Recovery {
			require.False(t, bytes.Contains(h, []byte(strings.ReplaceAll(c, "-", ""))))
		}
	}

	// Each code works once, whatever its spelling.
	require.NoError(t, f.a.VerifyRecoveryCode(f.ctx, "u", codes[0]))
	requireRefused(t, f.a.VerifyRecoveryCode(f.ctx, "u", codes[0]), ErrInvalidCode)
	require.NoError(t, f.a.VerifyRecoveryCode(f.ctx, "u", " "+strings.ToUpper(strings.ReplaceAll(codes[1], "-", " "))+" "))
	c2 := strings.NewReplacer("1", "l", "0", "O").Replace(codes[2])
	require.NoError(t, f.a.VerifyRecoveryCode(f.ctx, "u", c2))
	require.Len(t, f.record(t, "u").Recovery, 7)

	// Codes are bound to their account.
	f.enrolled(t, "v")
	_, err = f.a.RecoveryCodes(f.ctx, "v")
	require.NoError(t, err)
	requireRefused(t, f.a.VerifyRecoveryCode(f.ctx, "v", codes[3]), ErrInvalidCode)

	// Regenerating replaces the whole set.
	fresh, err := f.a.RecoveryCodes(f.ctx, "u")
	require.NoError(t, err)
	requireRefused(t, f.a.VerifyRecoveryCode(f.ctx, "u", codes[4]), ErrInvalidCode)
	require.NoError(t, f.a.VerifyRecoveryCode(f.ctx, "u", fresh[9]))

	// TOTP codes go on working.
	require.NoError(t, f.a.Verify(f.ctx, "u", k.Code(f.clock.Now())))
}

func TestRecoveryCodesMalformed(t *testing.T) {
	f := newFixture(t, nil)
	f.enrolled(t, "u")
	codes, err := f.a.RecoveryCodes(f.ctx, "u")
	require.NoError(t, err)
	c := codes[0]
	for _, bad := range []string{"", c[:18], c + "0", c[:18] + "u", c[:18] + "!", c[:18] + "é", strings.ReplaceAll(c, "-", "_"), c + strings.Repeat(" ", 60)} {
		requireRefused(t, f.a.VerifyRecoveryCode(f.ctx, "u", bad), ErrMalformedCode)
	}
	require.Zero(t, f.record(t, "u").Failures)
	require.NoError(t, f.a.VerifyRecoveryCode(f.ctx, "u", c))
}

func TestRecoveryCodesThrottled(t *testing.T) {
	f := newFixture(t, nil)
	k := f.enrolled(t, "u")
	codes, err := f.a.RecoveryCodes(f.ctx, "u")
	require.NoError(t, err)
	const wrong = "0000-0000-0000-0000"
	for range defaultMaxFailures - 1 {
		requireRefused(t, f.a.VerifyRecoveryCode(f.ctx, "u", wrong), ErrInvalidCode)
	}
	// Wrong TOTP codes and wrong recovery codes share the count.
	re := requireRefused(t, f.a.Verify(f.ctx, "u", wrongCode(k, f.clock.Now(), 2)), ErrInvalidCode)
	require.False(t, re.RetryAfter.IsZero())
	requireRefused(t, f.a.VerifyRecoveryCode(f.ctx, "u", codes[0]), ErrThrottled)
	f.clock.Advance(time.Minute)
	require.NoError(t, f.a.VerifyRecoveryCode(f.ctx, "u", codes[0]))
	require.Zero(t, f.record(t, "u").Failures)

	// Not for unknown or pending accounts.
	requireRefused(t, f.a.VerifyRecoveryCode(f.ctx, "nobody", codes[1]), ErrNotEnrolled)
	_, err = f.a.Enroll(f.ctx, "pending", "")
	require.NoError(t, err)
	requireRefused(t, f.a.VerifyRecoveryCode(f.ctx, "pending", codes[1]), ErrNotEnrolled)
	_, err = f.a.RecoveryCodes(f.ctx, "nobody")
	require.ErrorIs(t, err, ErrNotEnrolled)
}

func TestNormalizeRecoveryCode(t *testing.T) {
	for in, want := range map[string]string{
		"abcd-efgh-jkmn-pqrs":      "abcdefghjkmnpqrs",
		"ABCD EFGH JKMN PQRS":      "abcdefghjkmnpqrs",
		"0oO0-1iIl-LLLL-tvwx":      "000011111111tvwx",
		"tvwxyz0123456789":         "tvwxyz0123456789",
		"--tvwx--yz01--2345--6789": "tvwxyz0123456789",
	} {
		got, ok := normalizeRecoveryCode(in)
		require.True(t, ok, in)
		require.Equal(t, want, string(got), in)
	}
}
