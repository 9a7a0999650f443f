package totp

import (
	"errors"
	"fmt"
	"time"

	"github.com/latchsec/latch/internal/reason"
)

// ErrRefused is the one error to show the person whose code was not
// accepted, whatever the reason: every refusal by [Authenticator.Verify],
// [Authenticator.Confirm] and [Authenticator.VerifyRecoveryCode] matches it
// with [errors.Is], and is a [*RefusedError] that also matches the reason
// (for the server's logs, never for the person).
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

	// ErrSecretUnreadable: the stored secret cannot be decrypted with any
	// of Config.EncryptionKeys, for this account: the record was moved
	// from another account, altered, or encrypted under a key that is no
	// longer configured.
	ErrSecretUnreadable = errors.New("totp: stored secret cannot be decrypted")

	// ErrStoreConflict: the account's record kept changing under this
	// operation (another server wrote it each time); nothing was done.
	ErrStoreConflict = errors.New("totp: store conflict")
)

// errQRSize is the category of a QR code size that [Key.QRCode] cannot
// draw: a caller's mistake, with the size in the detail.
var errQRSize = errors.New("totp: QR code size out of range")

// errQRTooLong is the error of a key URI that no QR code holds. It says
// nothing of the URI, which holds the secret.
var errQRTooLong error = &reason.Fault{Category: ErrInvalidKeyURI, Detail: "too long for a QR code"}

// errSecretEncoding is the error of a key URI's secret that is not
// canonical base32 of 160 to 1024 bits. It says nothing of the secret.
var errSecretEncoding error = &reason.Fault{Category: ErrInvalidKeyURI, Detail: "secret not canonical base32 of 160 to 1024 bits"}

// RefusedError is the error of a code that was not accepted. It matches
// [ErrRefused] and its Reason, one of ErrInvalidCode, ErrMalformedCode,
// ErrReplayed, ErrThrottled, ErrNotEnrolled, ErrAlreadyEnrolled or
// ErrEnrollmentExpired. Its message never contains the code.
type RefusedError struct {
	// Fault is Latch's one error shape: its Category is ErrRefused and its
	// Reason (read as err.Reason) why the code was refused.
	reason.Fault
	// RetryAfter is, when the account is locked, the time before which
	// every code is refused; zero otherwise.
	RetryAfter time.Time
}

func refused(why error) error {
	return &RefusedError{Fault: reason.Fault{Category: ErrRefused, Reason: why}}
}

// lockedOut returns the refusal for why of an account locked until until.
func lockedOut(why error, until time.Time) error {
	return &RefusedError{
		Fault:      reason.Fault{Category: ErrRefused, Reason: why, Detail: "retry after " + until.UTC().Format(time.RFC3339)},
		RetryAfter: until,
	}
}

// invalidConfig returns an error matching ErrInvalidConfig that says which
// field is wrong and why.
func invalidConfig(format string, args ...any) error {
	return reason.Newf(ErrInvalidConfig, nil, fmt.Sprintf(format, args...))
}

// invalidKeyURI returns an error matching ErrInvalidKeyURI; detail (never
// the URI or a name, which may hold the secret) says why, or is "".
func invalidKeyURI(detail string) error {
	return reason.Newf(ErrInvalidKeyURI, nil, detail)
}

// unreadable returns an error matching ErrSecretUnreadable; detail (never
// the secret) says why.
func unreadable(detail string) error {
	return reason.Newf(ErrSecretUnreadable, nil, detail)
}
