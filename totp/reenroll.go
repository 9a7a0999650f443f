package totp

import (
	"context"
	"time"

	"github.com/latchsec/latch/internal/reason"
)

// Reenroll starts replacing the key of account's confirmed enrollment, for
// a person who has a new phone or wants a new key: it returns a new key to
// show as Enroll does, and keeps it beside the enrollment's own key. The
// old key keeps signing in (Verify) until [Authenticator.ConfirmReenroll]
// gets a code of the new one, within Config.EnrollmentTimeout; so a
// replacement abandoned half-way locks nobody out and opens nothing.
// Reenrolling again replaces a new key not confirmed yet. An account with
// no confirmed enrollment gets [ErrNotEnrolled]: use Enroll. Call it only
// for a person who is signed in, with the password asked again.
func (a *Authenticator) Reenroll(ctx context.Context, account, name string) (Key, error) {
	if err := checkAccount(account); err != nil {
		return Key{}, err
	}
	k, err := a.newKey(account, name)
	if err != nil {
		return Key{}, err
	}
	encrypted := a.enc.encrypt(account, k.alg, k.digits, k.secret)
	err = a.mutate(ctx, account, func(r *Record, now time.Time) (*Record, bool, error) {
		if r == nil || !r.Confirmed {
			return nil, false, reason.New(ErrNotEnrolled, nil)
		}
		r.Next = &NextKey{Secret: encrypted, Algorithm: k.alg, Digits: k.digits, Enrolled: now}
		return r, true, nil
	})
	if err != nil {
		return Key{}, err
	}
	return k, nil
}

// ConfirmReenroll completes [Authenticator.Reenroll] with a code of the new
// key: from then on the new key signs in and the old one does not.
// Recovery codes stay as they were. A wrong code counts towards the
// account's lockout like any other. Errors are as for
// [Authenticator.Confirm]: ErrNotEnrolled if there is no new key waiting,
// ErrEnrollmentExpired if it waited longer than Config.EnrollmentTimeout
// (reenroll again).
func (a *Authenticator) ConfirmReenroll(ctx context.Context, account, code string) error {
	if len(code) > maxCodeInput {
		return refused(ErrMalformedCode)
	}
	return a.mutate(ctx, account, func(r *Record, now time.Time) (*Record, bool, error) {
		switch {
		case r == nil || !r.Confirmed || r.Next == nil:
			return nil, false, refused(ErrNotEnrolled)
		case !now.Before(r.Next.Enrolled.Add(a.enrollment)):
			return nil, false, refused(ErrEnrollmentExpired)
		case now.Before(r.LockedUntil):
			return nil, false, lockedOut(ErrThrottled, r.LockedUntil)
		}
		n := r.Next
		// The new key has never been used: none of its codes is a replay.
		match, _, keyID, err := a.match(account, n.Secret, n.Algorithm, n.Digits, code, 0, 0, now)
		if err != nil {
			return nil, false, err
		}
		if match == 0 {
			return a.fail(r, now)
		}
		r.Secret, r.Algorithm, r.Digits, r.Enrolled, r.Next = n.Secret, n.Algorithm, n.Digits, n.Enrolled, nil
		return a.accept(account, r, match, keyID, now)
	})
}
