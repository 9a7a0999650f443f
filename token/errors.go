package token

import (
	"errors"
	"strconv"

	"github.com/latchsec/latch/internal/reason"
)

// This file holds every error of the package: the category sentinels a
// caller matches first, the reason sentinels under them, and the errors
// built from both (internal/reason's idiom: errors.Is matches the category
// and the reason of every error the package returns).

// ErrInvalid is the error under every refusal of a token by [Verifier.Verify]
// and [Issuer.Narrow]: test for it with errors.Is. The reason is a second
// sentinel under the same error (ErrExpired, ErrRevoked, ...), for the
// server's logs; what a client is told should stay the opaque "invalid token"
// (the [Middleware] says only error="invalid_token").
var ErrInvalid = errors.New("token: invalid token")

// Reasons a token is refused. An error of Verify or Narrow with one of them
// is also [ErrInvalid]: errors.Is(err, ErrExpired) and errors.Is(err,
// ErrInvalid) both hold.
var (
	// ErrMalformed: the token is not in the one form Issuer produces: too
	// large, wrong prefix, wrong number of parts, non-canonical base64url, a
	// header other than exactly alg=dir, enc=A256GCM and kid, claims that are
	// not a JSON object of the documented members and types, duplicate JSON
	// members.
	ErrMalformed = errors.New("token: malformed")
	// ErrUnknownKey: the kid names no key in the keyring (never issued by
	// it, or its key has been retired).
	ErrUnknownKey = errors.New("token: unknown key id")
	// ErrDecrypt: AES-GCM authentication failed: the token was encrypted
	// under another key with the same kid, or a byte of it was changed.
	ErrDecrypt = errors.New("token: decryption failed")
	// ErrExpired: the exp claim has passed (beyond [Leeway]).
	ErrExpired = errors.New("token: expired")
	// ErrNotYetValid: the nbf or iat claim is in the future (beyond [Leeway]).
	ErrNotYetValid = errors.New("token: not yet valid")
	// ErrWrongIssuer: the iss claim is not the Verifier's.
	ErrWrongIssuer = errors.New("token: wrong issuer")
	// ErrWrongAudience: the aud claim is not the Verifier's.
	ErrWrongAudience = errors.New("token: wrong audience")
	// ErrWrongApp: the token is limited to applications that do not
	// include the one asked for (see [Claims.CheckApp]).
	ErrWrongApp = errors.New("token: not valid for this application")
	// ErrRevoked: the token, a token it was narrowed from, or every token of
	// its subject issued before a time is revoked.
	ErrRevoked = errors.New("token: revoked")
	// ErrWidening: Narrow was asked for a scope, an application or an
	// expiry that the parent token does not grant, or for more narrowing
	// steps than a token may have (8).
	ErrWidening = errors.New("token: narrowing cannot widen a token")
)

// The refusals without a detail, made once: a flood of expired or revoked
// tokens costs no allocation for its errors.
var (
	refusedExpired  error = &reason.Fault{Category: ErrInvalid, Reason: ErrExpired}
	refusedEarly    error = &reason.Fault{Category: ErrInvalid, Reason: ErrNotYetValid}
	refusedIssuer   error = &reason.Fault{Category: ErrInvalid, Reason: ErrWrongIssuer}
	refusedAudience error = &reason.Fault{Category: ErrInvalid, Reason: ErrWrongAudience}
	refusedApp      error = &reason.Fault{Category: ErrInvalid, Reason: ErrWrongApp}
	refusedRevoked  error = &reason.Fault{Category: ErrInvalid, Reason: ErrRevoked}
	refusedKey      error = &reason.Fault{Category: ErrInvalid, Reason: ErrUnknownKey, Detail: "no key with this kid in the keyring"}
	refusedDecrypt  error = &reason.Fault{Category: ErrInvalid, Reason: ErrDecrypt, Detail: "AES-GCM authentication failed"}
)

// malformed is a refusal under ErrMalformed, with a detail for logs that
// never quotes the token.
func malformed(detail string) error { return reason.Newf(ErrInvalid, ErrMalformed, detail) }

// widening is a refusal of Narrow under ErrWidening.
func widening(detail string) error { return reason.Newf(ErrInvalid, ErrWidening, detail) }

// ErrRevocationUnavailable is under every error of [Verifier.Verify] and
// [Issuer.Narrow] that comes from the [Revocations] list: the list could not
// tell with certainty whether a token is revoked (a shared list whose local
// mirror is not known to be current). Verification then fails closed. It is
// not [ErrInvalid]: the token may be fine, the server is not; the
// [Middleware] answers 503.
var ErrRevocationUnavailable = errors.New("token: revocation state unavailable")

// revocationFailed is the error of a Revocations list's Revoked, under
// ErrRevocationUnavailable.
func revocationFailed(err error) error { return reason.Wrap(ErrRevocationUnavailable, nil, err) }

// ErrClaims is returned by [Issuer.Issue] and [Issuer.Narrow] for claims
// that cannot be issued (a scope outside the grammar, a missing subject, an
// expiry in the past, an ID or time the caller must not choose). Nothing is
// issued.
var ErrClaims = errors.New("token: invalid claims")

// ErrNoExpiry: [Issuer.Issue] was given claims with neither Expires nor
// NeverExpires. The error is also [ErrClaims].
var ErrNoExpiry = errors.New("token: Expires is required (set NeverExpires for a token that never expires)")

var noExpiry error = &reason.Fault{Category: ErrClaims, Reason: ErrNoExpiry}

// claimsProblem is a reason why claims cannot be issued, under ErrClaims.
func claimsProblem(detail string) error { return reason.Newf(ErrClaims, nil, detail) }

// ErrKeySet is under every error of [ParseKeyring], which is a
// [*KeySetError].
var ErrKeySet = errors.New("token: invalid key set")

// Reasons a JWK Set is refused, under ErrKeySet; the message says which.
var (
	// errNoActiveKey: the set has no usable key marked active, or more
	// than one.
	errNoActiveKey = errors.New("token: no single active key")
	// errDuplicateKeyID: two keys of the set have the same kid.
	errDuplicateKeyID = errors.New("token: duplicate kid")
	// errUnsupportedKey: a key that is not a 256-bit "oct" key for alg
	// "dir" with a kid (RSA, EC and OKP keys, other sizes, keys for
	// signing).
	errUnsupportedKey = errors.New("token: unsupported key")
)

// KeySetError reports what is wrong with a JWK Set, and which key. It is
// [ErrKeySet]; its Reason, when set, says whether the set has no single
// active key, two keys with one kid, or a key that is not a token key, and
// its Detail says what the key lacks. It never holds key material.
type KeySetError struct {
	reason.Fault
	Index int    // position of the key in "keys", or -1 for the whole set
	KeyID string // its kid, when it has a well-formed one
}

// keySetError returns a KeySetError about key index of the set (-1: the
// whole set), whose kid is kid ("" if it has no well-formed one).
func keySetError(index int, kid string, why error, detail string) *KeySetError {
	return &KeySetError{Fault: reason.Fault{Category: ErrKeySet, Reason: why, Detail: detail}, Index: index, KeyID: kid}
}

func (e *KeySetError) Error() string {
	if e.Index < 0 {
		return e.Fault.Error()
	}
	where := "key " + strconv.Itoa(e.Index)
	if e.KeyID != "" {
		where += " (kid " + strconv.Quote(e.KeyID) + ")"
	}
	f := e.Fault
	if f.Detail == "" {
		f.Detail = where
	} else {
		f.Detail = where + ": " + f.Detail
	}
	return f.Error()
}

// Errors of a misconfigured Issuer or Verifier, or of a keyring operation
// that cannot be done. They are neither ErrInvalid nor
// ErrRevocationUnavailable: the server, not the token, is at fault.
var (
	errConfig  = errors.New("token: misconfigured")
	errKeyring = errors.New("token: keyring")
)

func configProblem(detail string) error  { return reason.Newf(errConfig, nil, detail) }
func keyringProblem(detail string) error { return reason.Newf(errKeyring, nil, detail) }

// Errors of a revocation list's input: an ID that is not a token ID, a
// subject outside the claims' grammar, a JSON form that does not read.
var (
	errRevocationList = errors.New("token: revocation list")
	errNotTokenID     = errors.New("token: not a token ID")
	errNotSubject     = errors.New("token: not a subject")
)

var (
	notTokenID error = &reason.Fault{Category: errRevocationList, Reason: errNotTokenID}
	notSubject error = &reason.Fault{Category: errRevocationList, Reason: errNotSubject}
)

// Refusals of a request by the Middleware, given to OnReject. A request
// without a bearer token (401 without an error code) and one without the
// required scopes (403) are categories of their own; the others are
// malformed requests (400).
var (
	errNoBearer       = errors.New("token: no bearer token in the request")
	errScope          = errors.New("token: insufficient scope")
	errRequest        = errors.New("token: invalid request")
	errTwoHeaders     = errors.New("token: more than one Authorization header")
	errBadCredentials = errors.New("token: Authorization header is not a bearer token (RFC 6750 b64token)")
	errQueryToken     = errors.New("token: access_token in the query string is not accepted")
)

var (
	refusedNoBearer    error = &reason.Fault{Category: errNoBearer}
	refusedScope       error = &reason.Fault{Category: errScope}
	refusedTwoHeaders  error = &reason.Fault{Category: errRequest, Reason: errTwoHeaders}
	refusedCredentials error = &reason.Fault{Category: errRequest, Reason: errBadCredentials}
	refusedQueryToken  error = &reason.Fault{Category: errRequest, Reason: errQueryToken}
)
