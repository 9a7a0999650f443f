package totp

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"slices"
	"time"

	"github.com/latchsec/latch/internal/reason"
)

// Recovery codes are 16 characters of Crockford's base32 (80 random bits),
// written in lower case in groups of four: "7k2q-9xbn-4hm0-vd3e". Reading
// one, case, hyphens and spaces do not matter, and i, l and o are read as 1,
// 1 and 0, as Crockford's alphabet says.
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// recoveryLabel separates recovery code hashes from any other SHA-256 use.
const recoveryLabel = "latch.totp.recovery.v1"

// RecoveryCodes makes a new set of ten single-use recovery codes for a
// confirmed enrollment, replacing the previous set, and returns them. Show
// them to the person once: only their hashes are stored, and nobody can
// show them again. Each code signs in once through
// [Authenticator.VerifyRecoveryCode], when the person has lost the device
// with the authenticator app.
func (a *Authenticator) RecoveryCodes(ctx context.Context, account string) ([]string, error) {
	codes := make([]string, recoveryCodes)
	hashes := make([][]byte, recoveryCodes)
	for i := range codes {
		var raw [recoveryCodeChars]byte
		var b [recoveryCodeChars]byte
		rand.Read(b[:]) // never fails (crypto/rand)
		for j := range raw {
			raw[j] = crockford[b[j]&31] // 32 divides 256: no bias
		}
		hashes[i] = recoveryHash(account, raw[:])
		s := string(raw[:])
		codes[i] = s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
	}
	err := a.mutate(ctx, account, func(r *Record, now time.Time) (*Record, bool, error) {
		if r == nil || !r.Confirmed {
			return nil, false, reason.New(ErrNotEnrolled, nil)
		}
		r.Recovery = hashes
		return r, true, nil
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// VerifyRecoveryCode accepts one of the account's recovery codes, once. A
// wrong code counts towards the same lockout as a wrong TOTP code, and a
// right one resets it. Errors are as for [Authenticator.Verify]; a code
// that is not 16 characters of the recovery alphabet is ErrMalformedCode.
func (a *Authenticator) VerifyRecoveryCode(ctx context.Context, account, code string) error {
	norm, ok := normalizeRecoveryCode(code)
	if !ok {
		return refused(ErrMalformedCode)
	}
	h := recoveryHash(account, norm)
	return a.mutate(ctx, account, func(r *Record, now time.Time) (*Record, bool, error) {
		switch {
		case r == nil || !r.Confirmed:
			return nil, false, refused(ErrNotEnrolled)
		case now.Before(r.LockedUntil):
			return nil, false, lockedOut(ErrThrottled, r.LockedUntil)
		}
		// Compare with every stored hash, without stopping at a match.
		found := -1
		for i, stored := range r.Recovery {
			if subtle.ConstantTimeCompare(stored, h) == 1 {
				found = i
			}
		}
		if found < 0 {
			return a.fail(r, now)
		}
		r.Recovery = slices.Delete(r.Recovery, found, found+1)
		r.Failures, r.LockedUntil = 0, time.Time{}
		return r, true, nil
	})
}

// normalizeRecoveryCode returns the 16 characters of a recovery code as
// they were generated, or false.
func normalizeRecoveryCode(code string) ([]byte, bool) {
	if len(code) > maxCodeInput {
		return nil, false
	}
	out := make([]byte, 0, recoveryCodeChars)
	for i := 0; i < len(code); i++ {
		c := code[i]
		if c == '-' || c == ' ' {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		switch c {
		case 'i', 'l':
			c = '1'
		case 'o':
			c = '0'
		}
		if len(out) == recoveryCodeChars || !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' && c != 'u') {
			return nil, false
		}
		out = append(out, c)
	}
	return out, len(out) == recoveryCodeChars
}

func recoveryHash(account string, code []byte) []byte {
	h := sha256.New()
	h.Write([]byte(recoveryLabel))
	h.Write([]byte{0})
	h.Write(binary.BigEndian.AppendUint16(nil, uint16(len(account))))
	h.Write([]byte(account))
	h.Write(code)
	return h.Sum(nil)
}
