package e2e

import (
	"errors"

	"github.com/latchsec/latch/internal/reason"
)

// Errors returned by this package. Every error matches one of the
// categories below with [errors.Is] (but for a failure inside a
// cryptographic primitive, which the checks before it rule out): a failure
// to unwrap a key or to open a message matches [ErrOpen], except a swapped
// public key ([ErrKeyMismatch]); a key or a wrapped key that cannot be
// parsed or used matches [ErrInvalidKey]; a plaintext over the size cap,
// [ErrTooLarge].
//
// Where the reason for a failure to open is one a caller acts on, the error
// also matches its sentinel: a message replayed or reordered
// ([ErrReplay]), a message over the size cap ([ErrTooLarge]). Other reasons
// (malformed input, an unknown format version or suite, a suite mismatch)
// are in the message only. A failed decryption has no further reason: its
// message names every cause it may have (altered, another key or context)
// without telling which.
var (
	// ErrOpen means that a wrapped key or a message cannot be opened: it
	// was altered, truncated, made under another end-to-end key or
	// context, or is not one at all.
	ErrOpen = errors.New("e2e: cannot open")

	// ErrKeyMismatch means that the public key given to
	// [UnwrapPrivateKey] is not the public key of the wrapped private key:
	// whoever stored the public key swapped it.
	ErrKeyMismatch = errors.New("e2e: public key does not belong to the wrapped private key")

	// ErrReplay means that a message's sequence number is not above the
	// highest one its [Receiver] accepted: it was replayed or reordered.
	// The message was authentic; it is refused all the same.
	ErrReplay = errors.New("e2e: message replayed or out of order")

	// ErrTooLarge means that a plaintext exceeds 1 MiB, or a message is
	// longer than one sealed from a plaintext of that size.
	ErrTooLarge = errors.New("e2e: input too large")

	// ErrInvalidKey means that the text form of an end-to-end key or of a
	// wrapped key cannot be parsed: it is malformed, has a bad checksum,
	// is of another kind (a wrapped key where the end-to-end key is
	// expected or the reverse) or of an unknown version or suite. It also
	// means that a function was given the zero value of a key (or nil), a
	// key of another length to [NewKey], or an invalid sealedbox key.
	ErrInvalidKey = errors.New("e2e: invalid key")
)

// Reasons in messages, matched by this package's tests.
var (
	// errMalformed: the input is not in the format FORMAT.md describes
	// (wrong magic, wrong length).
	errMalformed = errors.New("e2e: malformed input")

	// errUnsupportedVersion: the input carries a format version this
	// package does not know.
	errUnsupportedVersion = errors.New("e2e: unsupported format version")

	// errUnsupportedSuite: a wrapped key names a suite this package does
	// not know.
	errUnsupportedSuite = errors.New("e2e: unsupported suite")

	// errSuiteMismatch: a wrapped key is of another suite than the public
	// key it was checked against. It comes with ErrKeyMismatch.
	errSuiteMismatch = errors.New("e2e: suite mismatch")

	// errKeySize: a key given to NewKey of another length, with
	// ErrInvalidKey.
	errKeySize = errors.New("e2e: end-to-end key must be 32 bytes")
)

// errSeal is the category of a failure to seal a message that a caller
// cannot act on: a channel that used up its sequence numbers.
var errSeal = errors.New("e2e: cannot seal")

// The details of a failed decryption: every cause it may have, without
// telling which.
const (
	wrappedAuthFailed = "the wrapped key was altered, or wrapped under another end-to-end key"
	messageAuthFailed = "the message was altered, or sealed under another end-to-end key or context"
)

// errOpen returns an error matching ErrOpen and, if not nil, reason.
func errOpen(r error) error { return reason.New(ErrOpen, r) }

// errKey returns an error matching ErrInvalidKey, with a short description
// that never contains key material.
func errKey(what string) error { return reason.Newf(ErrInvalidKey, nil, what) }
