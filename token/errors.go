package token

import (
	"errors"
	"strconv"
)

// ErrInvalid is the error under every refusal of a token by [Verifier.Verify]
// and [Issuer.Narrow]: test for it with errors.Is. The reason is a second
// sentinel under the same error (ErrExpired, ErrRevoked, ...), for the
// server's logs; what a client is told should stay the opaque "invalid token"
// (the [Middleware] says only error="invalid_token").
var ErrInvalid = errors.New("token: invalid token")

// Reasons a token is refused. Each one is also [ErrInvalid]:
// errors.Is(err, ErrExpired) and errors.Is(err, ErrInvalid) both hold.
var (
	// ErrMalformed: the token is not in the one form Issuer produces: too
	// large, wrong prefix, wrong number of parts, non-canonical base64url, a
	// header other than exactly alg=dir, enc=A256GCM and kid, claims that are
	// not a JSON object of the documented members and types, duplicate JSON
	// members.
	ErrMalformed error = &reason{"token: malformed token"}
	// ErrUnknownKey: the kid names no key in the keyring (never issued by
	// it, or its key has been retired).
	ErrUnknownKey error = &reason{"token: unknown key id"}
	// ErrDecrypt: AES-GCM authentication failed: the token was encrypted
	// under another key with the same kid, or a byte of it was changed.
	ErrDecrypt error = &reason{"token: decryption failed"}
	// ErrExpired: the exp claim has passed (beyond [Leeway]).
	ErrExpired error = &reason{"token: expired"}
	// ErrNotYetValid: the nbf or iat claim is in the future (beyond [Leeway]).
	ErrNotYetValid error = &reason{"token: not yet valid"}
	// ErrWrongIssuer: the iss claim is not the Verifier's.
	ErrWrongIssuer error = &reason{"token: wrong issuer"}
	// ErrWrongAudience: the aud claim is not the Verifier's.
	ErrWrongAudience error = &reason{"token: wrong audience"}
	// ErrWrongApp: the token is limited to applications that do not
	// include the one asked for (see [Claims.CheckApp]).
	ErrWrongApp error = &reason{"token: not valid for this application"}
	// ErrRevoked: the token, a token it was narrowed from, or every token of
	// its subject issued before a time is revoked.
	ErrRevoked error = &reason{"token: revoked"}
	// ErrWidening: Narrow was asked for a scope, an application or an
	// expiry that the parent token does not grant, or for more narrowing
	// steps than [MaxLineage].
	ErrWidening error = &reason{"token: narrowing cannot widen a token"}
)

// ErrRevocationUnavailable is returned, wrapped, by a [Revocations] that
// cannot tell with certainty whether a token is revoked (a shared list whose
// local mirror is not known to be current). Verification then fails closed.
// It is not [ErrInvalid]: the token may be fine, the server is not; the
// [Middleware] answers 503.
var ErrRevocationUnavailable = errors.New("token: revocation state unavailable")

// ErrClaims is returned by [Issuer.Issue] and [Issuer.Narrow] for claims
// that cannot be issued (a scope outside the grammar, a missing subject, an
// expiry in the past, an ID or time the caller must not choose). Nothing is
// issued.
var ErrClaims = errors.New("token: invalid claims")

// ErrNoExpiry is returned by [Issuer.Issue] for claims with neither
// Expires nor NeverExpires. It is also [ErrClaims].
var ErrNoExpiry error = claimsError("Expires is required (set NeverExpires for a token that never expires)")

// reason is a sentinel under ErrInvalid.
type reason struct{ msg string }

func (r *reason) Error() string { return r.msg }

func (r *reason) Is(target error) bool { return target == ErrInvalid }

// invalidError is a refusal with its reason (a sentinel under ErrInvalid)
// and a detail for logs. The detail never quotes the token.
type invalidError struct {
	reason error
	detail string
}

func (e *invalidError) Error() string { return e.reason.Error() + ": " + e.detail }
func (e *invalidError) Unwrap() error { return e.reason }

func malformed(detail string) error { return &invalidError{ErrMalformed, detail} }

// claimsError is a reason why claims cannot be issued, under ErrClaims.
type claimsError string

func (e claimsError) Error() string        { return "token: invalid claims: " + string(e) }
func (e claimsError) Is(target error) bool { return target == ErrClaims }

// revocationError is a revocation list's failure, prefixed so that logs say
// where it came from.
type revocationError struct{ err error }

func (e *revocationError) Error() string { return "token: revocation check: " + e.err.Error() }
func (e *revocationError) Unwrap() error { return e.err }

// JWK Set errors.
var (
	// ErrKeySet is under every error of ParseKeyring.
	ErrKeySet = errors.New("token: invalid key set")
	// ErrNoActiveKey: the set has no usable key marked active, or more
	// than one.
	ErrNoActiveKey error = &keySetReason{"no single active key"}
	// ErrDuplicateKeyID: two keys of the set have the same kid.
	ErrDuplicateKeyID error = &keySetReason{"duplicate kid"}
	// ErrUnsupportedKey: a key that is not a 256-bit "oct" key for
	// alg "dir" with a kid (RSA, EC and OKP keys, other sizes, keys for
	// signing).
	ErrUnsupportedKey error = &keySetReason{"unsupported key"}
)

type keySetReason struct{ msg string }

func (r *keySetReason) Error() string        { return "token: key set: " + r.msg }
func (r *keySetReason) Is(target error) bool { return target == ErrKeySet }

// KeySetError reports what is wrong with a JWK Set, and which key.
type KeySetError struct {
	Index  int    // position of the key in "keys", or -1 for the whole set
	KeyID  string // its kid, when it has a well-formed one
	Reason error  // ErrNoActiveKey, ErrDuplicateKeyID, ErrUnsupportedKey or ErrKeySet
	Detail string
}

func (e *KeySetError) Error() string {
	msg := "token: key set"
	if e.Index >= 0 {
		msg += ": key " + strconv.Itoa(e.Index)
		if e.KeyID != "" {
			msg += " (kid " + strconv.Quote(e.KeyID) + ")"
		}
	}
	return msg + ": " + e.Detail
}

func (e *KeySetError) Unwrap() error { return e.Reason }
