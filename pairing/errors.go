package pairing

import (
	"errors"
	"strings"
)

// Errors returned by this package, matched with [errors.Is]. A failed
// pairing matches [ErrPairing] and, where the reason can be told, the
// sentinel for that reason. A wrong setup code and a tampered frame are
// the same failure to the outside: [ErrAuthentication], with no further
// reason.
var (
	// ErrPairing means that a pairing did not complete. Nothing was
	// paired and no key was returned; on the device, the only state kept
	// is the attempt counter.
	ErrPairing = errors.New("pairing: pairing failed")

	// ErrAuthentication means that the other side proved no knowledge of
	// the setup code: a wrong code was used, or a frame was altered on the
	// link. On the device, it costs one attempt.
	ErrAuthentication = errors.New("pairing: authentication failed")

	// ErrMalformed means that a frame, a verification record, a stored
	// state or a provisioning payload is not in this package's format:
	// truncated, with trailing bytes, or with a field out of range.
	ErrMalformed = errors.New("pairing: malformed input")

	// ErrTooLarge means that a frame announces a length above
	// [MaxFrameSize]. Nothing more is read from the link.
	ErrTooLarge = errors.New("pairing: frame too large")

	// ErrUnsupportedVersion means that a frame or a record carries a
	// version this package does not know.
	ErrUnsupportedVersion = errors.New("pairing: unsupported version")

	// ErrUnexpectedFrame means that a frame of another type than the step
	// expects arrived: frames reordered, replayed into the wrong step or
	// reflected back to their sender.
	ErrUnexpectedFrame = errors.New("pairing: unexpected frame")

	// ErrAttemptsExhausted means that the device has counted as many
	// failed attempts as its limit allows and refuses to pair until
	// [Device.ResetAttempts].
	ErrAttemptsExhausted = errors.New("pairing: too many failed attempts")

	// ErrWindowClosed means that the device is not in pairing mode: it was
	// never opened with [Device.OpenWindow], its window has passed, or the
	// device is already paired.
	ErrWindowClosed = errors.New("pairing: pairing window closed")

	// ErrRefused means that the device refused to pair and said so; the
	// error also matches [ErrAttemptsExhausted] or [ErrWindowClosed] when
	// the device gave that reason. A refusal is not authenticated: anyone
	// on the link can forge one.
	ErrRefused = errors.New("pairing: refused by the device")

	// ErrWorkFactor means that password-hashing parameters are outside the
	// bounds this package accepts (see [MaxKDFMemoryKiB]): a device, or
	// someone posing as one, asked the app for too much work, or a record
	// was made with too little.
	ErrWorkFactor = errors.New("pairing: password-hashing work factor out of bounds")

	// ErrInvalidSetupCode means that a setup code is not one this package
	// makes: wrong length, not digits, or a trivial code.
	ErrInvalidSetupCode = errors.New("pairing: invalid setup code")

	// ErrCheckDigit means that a setup code's check digit does not match:
	// it was mistyped. It also matches [ErrInvalidSetupCode]. No attempt
	// is used.
	ErrCheckDigit = errors.New("pairing: setup code check digit mismatch")
)

// reasonError is an error that matches a main sentinel (such as ErrPairing)
// and a reason (such as ErrMalformed) with errors.Is.
type reasonError struct {
	main, reason error
}

func (e *reasonError) Error() string {
	if e.reason == nil {
		return e.main.Error()
	}
	return e.main.Error() + ": " + strings.TrimPrefix(e.reason.Error(), "pairing: ")
}

func (e *reasonError) Unwrap() []error {
	if e.reason == nil {
		return []error{e.main}
	}
	return []error{e.main, e.reason}
}

// errPairing returns an error matching ErrPairing and, if not nil, reason.
// An error that already matches ErrPairing is returned as it is.
func errPairing(reason error) error {
	if errors.Is(reason, ErrPairing) {
		return reason
	}
	return &reasonError{ErrPairing, reason}
}

// errMalformed returns an error matching ErrMalformed with a short
// description of what is wrong, never the input itself.
func errMalformed(what string) error {
	return &reasonError{ErrMalformed, errors.New(what)}
}

// errCode returns an error matching ErrInvalidSetupCode with a short
// description that never contains the code.
func errCode(what string) error {
	return &reasonError{ErrInvalidSetupCode, errors.New(what)}
}
