package pairing

import (
	"errors"

	"github.com/latchsec/latch/internal/reason"
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

	// ErrMalformed means that the other side does not follow this
	// package's format and protocol, or a verification record, a stored
	// state or a provisioning payload is not in its format: truncated,
	// with trailing bytes, with a field out of range, a frame that
	// announces more than 4096 bytes (nothing more is read from the link),
	// or a frame of another type than the step expects (frames reordered,
	// replayed into the wrong step or reflected back to their sender).
	ErrMalformed = errors.New("pairing: malformed input")

	// ErrUnsupportedVersion means that a frame, a record or a stored state
	// carries a version this package does not know.
	ErrUnsupportedVersion = errors.New("pairing: unsupported version")

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
	// bounds this package accepts (8 to 256 MiB, 1 to 10 passes, 1 to 4
	// lanes): a device, or someone posing as one, asked the app for too
	// much work, or a record was made with too little.
	ErrWorkFactor = errors.New("pairing: password-hashing work factor out of bounds")

	// ErrInvalidSetupCode means that a setup code is not one this package
	// makes: wrong length, not digits, or a trivial code.
	ErrInvalidSetupCode = errors.New("pairing: invalid setup code")

	// ErrCheckDigit means that a setup code's check digit does not match:
	// it was mistyped. It also matches [ErrInvalidSetupCode]. No attempt
	// is used.
	ErrCheckDigit = errors.New("pairing: setup code check digit mismatch")
)

// Reasons of an ErrMalformed that tests tell apart; callers act on
// ErrMalformed alone.
var (
	// errTooLarge: a frame announces a length above maxFrameSize.
	errTooLarge = errors.New("pairing: frame too large")

	// errUnexpectedFrame: a frame of another type than the step expects.
	errUnexpectedFrame = errors.New("pairing: unexpected frame")
)

// errStore is the category of FileStore's errors: the device's state
// could not be read or written (the cause says why).
var errStore = errors.New("pairing: device state store failed")

// errPairing returns an error matching ErrPairing and err. An error that
// already matches ErrPairing is returned as it is; one of the package's
// reason sentinels becomes the reason; any other error (one of this
// package's errors, or the link's, the store's or the context's) the cause.
func errPairing(err error) error {
	switch {
	case errors.Is(err, ErrPairing):
		return err
	case err == ErrAuthentication || err == ErrAttemptsExhausted || err == ErrWindowClosed ||
		err == ErrRefused || err == ErrWorkFactor || err == ErrMalformed || err == ErrUnsupportedVersion:
		return reason.New(ErrPairing, err)
	}
	return reason.Wrap(ErrPairing, nil, err)
}

// errMalformed returns an error matching ErrMalformed with a short
// description of what is wrong, never the input itself.
func errMalformed(what string) error {
	return reason.Newf(ErrMalformed, nil, what)
}

// errCode returns an error matching ErrInvalidSetupCode with a short
// description that never contains the code.
func errCode(what string) error {
	return reason.Newf(ErrInvalidSetupCode, nil, what)
}

// errRefused returns the error of a device that refused for why
// (ErrWindowClosed, ErrAttemptsExhausted or nil, for no reason given).
func errRefused(why error) error {
	if why == nil {
		return reason.New(ErrPairing, ErrRefused)
	}
	return reason.Wrap(ErrPairing, ErrRefused, why)
}
