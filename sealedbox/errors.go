package sealedbox

import (
	"errors"

	"github.com/latchsec/latch/internal/reason"
)

// Errors returned by this package. Every error matches one of the
// categories below with [errors.Is] (but for a failure inside a
// cryptographic primitive, which the checks before it rule out): a failure
// to open an envelope matches [ErrOpen], except a wrong key
// ([ErrWrongKey]); a key that cannot be parsed or used matches
// [ErrInvalidKey]; a plaintext over the size cap, [ErrTooLarge]. (The
// end-to-end key, wrapped keys and messages have their own errors, in
// sealedbox/e2e.)
//
// Where the reason for a failure to open is one a caller acts on, the error
// also matches its sentinel: an input over the size cap ([ErrTooLarge]), and for [OpenSigned] an envelope that
// is not signed ([ErrUnsigned]), signed by a key the caller does not trust
// ([ErrUnknownSigner]) or with a signature that does not verify
// ([ErrBadSignature]). Other reasons (malformed input, an unknown format
// version or suite, a suite mismatch) are in the message only. A failed
// decryption has no further reason: its message names every cause it may
// have (altered, truncated, another context) without telling which.
var (
	// ErrOpen means that an envelope cannot be opened: it was altered,
	// truncated, sealed under another context, or is not one at all.
	ErrOpen = errors.New("sealedbox: cannot open")

	// ErrWrongKey means that an envelope was sealed to another public key:
	// its key id (or its suite) is not the one of the private key given to
	// [Open]. It is reported before any KEM work.
	ErrWrongKey = errors.New("sealedbox: envelope sealed to another key")

	// ErrTooLarge means that a plaintext exceeds 1 MiB, or an envelope is
	// longer than one sealed from a plaintext of that size.
	ErrTooLarge = errors.New("sealedbox: input too large")

	// ErrUnsigned means that [OpenSigned] was given an envelope made by
	// [Seal]: whoever stored it may have swapped a signed envelope for one
	// they sealed themselves.
	ErrUnsigned = errors.New("sealedbox: envelope is not signed")

	// ErrUnknownSigner means that a signed envelope was signed by a key
	// that is not among the verifying keys given to [OpenSigned].
	ErrUnknownSigner = errors.New("sealedbox: signed by an unknown key")

	// ErrBadSignature means that the signature in a signed envelope does
	// not verify with the verifying key it names: it was made for another
	// recipient or context, or one of the two signatures of a hybrid
	// scheme is missing or wrong.
	ErrBadSignature = errors.New("sealedbox: signature does not verify")

	// ErrInvalidKey means that a key's binary or text encoding cannot be
	// parsed: it is malformed, has a bad checksum, is of another kind (a
	// private key where a public key is expected or the reverse), or is
	// not a valid key of its suite. It also means that a function was
	// given the zero value of a key.
	ErrInvalidKey = errors.New("sealedbox: invalid key")
)

// Reasons in messages, matched by this package's tests.
var (
	// errMalformed: the input is not in the format FORMAT.md describes
	// (wrong magic, wrong length).
	errMalformed = errors.New("sealedbox: malformed input")

	// errUnsupportedVersion: the input carries a format version this
	// package does not know.
	errUnsupportedVersion = errors.New("sealedbox: unsupported format version")

	// errUnsupportedSuite: the input names a suite or a signature scheme
	// this package does not know.
	errUnsupportedSuite = errors.New("sealedbox: unsupported suite")

	// errSuiteMismatch: an envelope is of another suite than the key it
	// was checked against. It comes with ErrWrongKey from Open.
	errSuiteMismatch = errors.New("sealedbox: suite mismatch")
)

// Categories of failures a caller cannot act on, which crypto/rand and the
// checks before them make unreachable in practice.
var (
	errSeal     = errors.New("sealedbox: cannot seal")
	errGenerate = errors.New("sealedbox: cannot generate a key")
)

// The detail of a failed decryption: every cause it may have, without
// telling which.
const envelopeAuthFailed = "the envelope was altered or truncated, or sealed under another context"

// errOpen returns an error matching ErrOpen and, if not nil, reason.
func errOpen(r error) error { return reason.New(ErrOpen, r) }

// errKey returns an error matching ErrInvalidKey, with a short description
// that never contains key material.
func errKey(what string) error { return reason.Newf(ErrInvalidKey, nil, what) }
