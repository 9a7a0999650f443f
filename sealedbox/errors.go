package sealedbox

import (
	"errors"
	"strings"
)

// Errors returned by this package. Every failure to open an envelope, a
// wrapped key or a message matches [ErrOpen] with [errors.Is], except a wrong
// key ([ErrWrongKey]) and a swapped public key ([ErrKeyMismatch]). Where the
// reason is not secret (the input is malformed, of an unknown version, too
// large, replayed, unsigned, signed by an unknown key or with a signature
// that does not verify), the error also matches the sentinel for that
// reason. A failed decryption has no further reason.
var (
	// ErrOpen means that an envelope, a wrapped key or a message cannot be
	// opened: it was altered, truncated, sealed under another context or
	// another end-to-end key, or is not one at all.
	ErrOpen = errors.New("sealedbox: cannot open")

	// ErrWrongKey means that an envelope was sealed to another public key:
	// its key id is not the one of the private key given to [Open]. It is
	// reported before any KEM work.
	ErrWrongKey = errors.New("sealedbox: envelope sealed to another key")

	// ErrSuiteMismatch means that an envelope or a wrapped key is of another
	// suite than the key it was checked against. It comes with
	// [ErrWrongKey] from [Open] and with [ErrKeyMismatch] from
	// [UnwrapPrivateKey].
	ErrSuiteMismatch = errors.New("sealedbox: suite mismatch")

	// ErrKeyMismatch means that the public key given to [UnwrapPrivateKey]
	// is not the public key of the wrapped private key: whoever stored the
	// public key swapped it.
	ErrKeyMismatch = errors.New("sealedbox: public key does not belong to the wrapped private key")

	// ErrReplay means that a message's sequence number is not above the
	// highest one its [MessageReceiver] accepted: it was replayed or
	// reordered. The message was authentic; it is refused all the same.
	ErrReplay = errors.New("sealedbox: message replayed or out of order")

	// ErrUnsupportedVersion means that the input carries a format version
	// this package does not know.
	ErrUnsupportedVersion = errors.New("sealedbox: unsupported format version")

	// ErrUnsupportedSuite means that the input names a suite or a
	// signature scheme this package does not know.
	ErrUnsupportedSuite = errors.New("sealedbox: unsupported suite")

	// ErrMalformed means that the input is not in the format FORMAT.md
	// describes (wrong magic, wrong length).
	ErrMalformed = errors.New("sealedbox: malformed input")

	// ErrTooLarge means that a plaintext, envelope or message exceeds
	// [MaxPlaintextSize] or the matching size cap.
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

	// ErrInvalidKey means that a key's binary or text encoding (or the
	// text form of an end-to-end key or a wrapped key) cannot be parsed: it
	// is malformed, has a bad checksum, is of another kind (a private key
	// where a public key is expected or the reverse), or is not a valid key
	// of its suite.
	ErrInvalidKey = errors.New("sealedbox: invalid key")
)

// reasonError is an error that matches a main sentinel (such as ErrOpen) and
// a reason (such as ErrMalformed) with errors.Is.
type reasonError struct {
	main, reason error
}

func (e *reasonError) Error() string {
	if e.reason == nil {
		return e.main.Error()
	}
	return e.main.Error() + ": " + strings.TrimPrefix(e.reason.Error(), "sealedbox: ")
}

func (e *reasonError) Unwrap() []error {
	if e.reason == nil {
		return []error{e.main}
	}
	return []error{e.main, e.reason}
}

// errOpen returns an error matching ErrOpen and, if not nil, reason.
func errOpen(reason error) error { return &reasonError{ErrOpen, reason} }

// errKey returns an error matching ErrInvalidKey, with a short description
// that never contains key material.
func errKey(what string) error {
	return &reasonError{ErrInvalidKey, errors.New(what)}
}
