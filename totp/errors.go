package totp

import (
	"errors"
	"strings"
	"time"
)

// ErrRefused is the one error to show the person whose code was not
// accepted, whatever the reason: every refusal by [Authenticator.Verify],
// [Authenticator.Confirm] and [Authenticator.VerifyRecoveryCode] matches it
// with [errors.Is], and is a [*RefusedError] whose Reason says why (for the
// server's logs, never for the person).
var ErrRefused = errors.New("totp: code not accepted")

// Reasons of a [*RefusedError]; test for them with [errors.Is].
var (
	// ErrInvalidCode: a well-formed code that matches no step of the
	// window. It counts towards the lockout.
	ErrInvalidCode = errors.New("totp: invalid code")

	// ErrMalformedCode: not the enrollment's number of digits (ASCII
	// spaces removed), or not a recovery code. It does not count towards
	// the lockout: nobody guesses with it.
	ErrMalformedCode = errors.New("totp: malformed code")

	// ErrReplayed: the code is right but its time step is at or before the
	// last step accepted for the account (RFC 6238 §5.2). It does not count
	// towards the lockout.
	ErrReplayed = errors.New("totp: code already used")

	// ErrThrottled: the account is locked after too many failures; the
	// RefusedError's RetryAfter says until when.
	ErrThrottled = errors.New("totp: too many failed attempts")

	// ErrNotEnrolled: the account has no enrollment, or (for Verify and
	// recovery codes) one that is not confirmed yet.
	ErrNotEnrolled = errors.New("totp: not enrolled")

	// ErrAlreadyEnrolled: Enroll or Confirm on an account whose enrollment
	// is already confirmed; Unenroll it first.
	ErrAlreadyEnrolled = errors.New("totp: already enrolled")

	// ErrEnrollmentExpired: Confirm on a pending enrollment started more
	// than Config.EnrollmentTimeout ago; Enroll again. It does not count
	// towards the lockout.
	ErrEnrollmentExpired = errors.New("totp: enrollment expired")
)

// Errors that are not refusals of a code.
var (
	// ErrInvalidConfig: a Config that New refuses.
	ErrInvalidConfig = errors.New("totp: invalid config")

	// ErrInvalidAccount: an account id that is empty, longer than 256
	// bytes or not UTF-8.
	ErrInvalidAccount = errors.New("totp: invalid account id")

	// ErrInvalidKeyURI: a key URI that ParseKeyURI refuses, or an issuer
	// or account name that cannot go into one.
	ErrInvalidKeyURI = errors.New("totp: invalid key URI")

	// ErrSecretUnreadable: the stored secret does not open with any of the
	// sealing keys, for this account: the record was moved from another
	// account, altered, or sealed under a key that is no longer configured.
	ErrSecretUnreadable = errors.New("totp: stored secret does not open")

	// ErrStoreConflict: the account's record kept changing under this
	// operation (another server wrote it each time); nothing was done.
	ErrStoreConflict = errors.New("totp: store conflict")
)

// RefusedError is the error of a code that was not accepted. It matches
// [ErrRefused] and, through Reason, one of ErrInvalidCode, ErrMalformedCode,
// ErrReplayed, ErrThrottled, ErrNotEnrolled, ErrAlreadyEnrolled or
// ErrEnrollmentExpired. Its
// message never contains the code.
type RefusedError struct {
	// Reason is why the code was refused.
	Reason error
	// RetryAfter is, when the account is locked, the time before which
	// every code is refused; zero otherwise.
	RetryAfter time.Time
}

func (e *RefusedError) Error() string {
	msg := ErrRefused.Error() + ": " + strings.TrimPrefix(e.Reason.Error(), "totp: ")
	if !e.RetryAfter.IsZero() {
		msg += "; retry after " + e.RetryAfter.UTC().Format(time.RFC3339)
	}
	return msg
}

// Is reports whether target is ErrRefused.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// Unwrap returns the Reason.
func (e *RefusedError) Unwrap() error { return e.Reason }

func refused(reason error) error { return &RefusedError{Reason: reason} }

func throttled(until time.Time) error {
	return &RefusedError{Reason: ErrThrottled, RetryAfter: until}
}
