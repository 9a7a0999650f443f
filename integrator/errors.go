package integrator

import (
	"errors"
	"fmt"
	"strings"

	"github.com/latchsec/latch/internal/reason"
)

// Errors returned by this package; test for them with [errors.Is]. Every
// error of the package matches one of these categories, and some a finer
// reason too (a sealedbox reason, [ErrRollback]). No error message contains
// a token, a client secret, a header value, a request body or a URL's
// query.
var (
	// ErrInvalidRequest: a request definition that does not parse or
	// validate. The error is a *[ValidationError] listing every problem.
	ErrInvalidRequest = errors.New("integrator: invalid request definition")

	// ErrReauthorize: the authorization server refused the refresh token or
	// the client (invalid_grant, invalid_client, unauthorized_client,
	// invalid_scope). Retrying will not help: the person must link the
	// integration again to give the device a new refresh token. The message
	// names the HTTP status and the RFC 6749 error code, never the
	// response body.
	ErrReauthorize = errors.New("integrator: the integration must be authorized again")

	// ErrTokenEndpoint: the token endpoint could not be reached or gave an
	// answer that is not a token (a 5xx, malformed JSON, an oversized body, a
	// refused redirect). It may pass; the stored refresh token is still the
	// one to use. The message names the HTTP status and the RFC 6749 error
	// code, if any; a network error is wrapped.
	ErrTokenEndpoint = errors.New("integrator: token endpoint failed")

	// ErrPersist: the callback that saves a rotated refresh token failed
	// (its error is wrapped), or there is none (Options.SaveRefreshToken is
	// nil for an OAuthRefreshToken definition). The request was not sent
	// with the new access token; the rotated refresh token is kept in
	// memory and saving it is tried again first on the next call.
	ErrPersist = errors.New("integrator: saving the rotated refresh token failed")

	// ErrRequestFailed: the API request could not be sent or its response
	// could not be read, or the response body is larger than
	// Options.MaxResponseBody. The wrapped error says why (a tlspolicy
	// error, a timeout, a refused connection).
	ErrRequestFailed = errors.New("integrator: request failed")

	// ErrBindingChanged: the definition sends credentials somewhere other
	// than where the device's stored credentials for the request were
	// delivered for (another token endpoint, client id or auth style,
	// another API origin, security level or pinned certificate), and it
	// carries no refresh token of its own. Nothing was sent. The error is a
	// *[BindingError] naming the changed fields.
	ErrBindingChanged = errors.New("integrator: the request's binding changed; its stored credentials are withheld")

	// ErrStoredState: Options.RefreshToken is neither the stored form this
	// release writes nor a bare refresh token. Nothing of it was used.
	ErrStoredState = errors.New("integrator: invalid stored state")
)

// Errors of signed requests and key sets (signed.go, keyset.go).
var (
	// ErrSignedRequest: a signed request was refused. Every error of
	// [StatementVerifier.Open] matches it, along with the reason where it
	// is not secret: a sealedbox error ([sealedbox.ErrUnsigned],
	// [sealedbox.ErrUnknownSigner], [sealedbox.ErrBadSignature],
	// [sealedbox.ErrOpen], ...), [ErrInvalidRequest] or [ErrRollback]. A
	// statement that names another integration or request than the one it
	// was stored for, and a [VersionStore] that fails (its error is
	// wrapped), are refused with this category alone.
	ErrSignedRequest = errors.New("integrator: signed request refused")

	// ErrRollback: a signed statement's version is lower than the highest
	// accepted for its request, or equal to it with other contents. It
	// comes with [ErrSignedRequest].
	ErrRollback = errors.New("integrator: signed request older than one accepted before")

	// ErrKeySet: an integrator key set could not be fetched, or its
	// document is not a valid key set.
	ErrKeySet = errors.New("integrator: key set refused")
)

// Reasons that only the message shows: a caller acts on the category.
var (
	errResponseTooLarge = errors.New("integrator: response body too large")
	errMoved            = errors.New("integrator: signed request made for another request or integration")
	errVersionStore     = errors.New("integrator: version store failed")
	errRedirect         = errors.New("integrator: the key set URL redirects; it must answer itself")
)

// BindingError is the refusal of a definition whose binding differs from
// the one the stored credentials were delivered for. Changed lists the
// differing fields as JSON paths of the definition ("securityLevel",
// "authorization.tokenUrl.host", ...), never their values. It matches
// [ErrBindingChanged] with errors.Is.
type BindingError struct {
	reason.Fault
	Changed []string
}

func bindingError(changed []string) *BindingError {
	return &BindingError{
		Fault:   reason.Fault{Category: ErrBindingChanged, Detail: "changed " + strings.Join(changed, ", ")},
		Changed: changed,
	}
}

// ValidationError lists every problem found in a request definition. It
// matches [ErrInvalidRequest] with errors.Is.
type ValidationError struct {
	reason.Fault
	Problems []FieldError
}

// FieldError is one problem with one field of a request definition. Field is
// the JSON path of the field (for example "authorization.tokenUrl" or
// "headers[2].name"); Reason never contains the field's value.
type FieldError struct {
	Field  string
	Reason string
}

// String returns "field: reason".
func (e FieldError) String() string { return e.Field + ": " + e.Reason }

// invalid returns the *ValidationError of problems.
func invalid(problems ...FieldError) *ValidationError {
	parts := make([]string, len(problems))
	for i, p := range problems {
		parts[i] = p.String()
	}
	return &ValidationError{
		Fault:    reason.Fault{Category: ErrInvalidRequest, Detail: strings.Join(parts, "; ")},
		Problems: problems,
	}
}

// Field returns the problem with the named field, if there is one.
func (e *ValidationError) Field(name string) (FieldError, bool) {
	for _, p := range e.Problems {
		if p.Field == name {
			return p, true
		}
	}
	return FieldError{}, false
}

// tokenFailure is a refusal (ErrReauthorize) or failure (ErrTokenEndpoint)
// of the token endpoint with the HTTP status (0 when no response arrived)
// and the RFC 6749 error code, never the response body, and the network
// cause, if any.
func tokenFailure(reauth bool, status int, code string, cause error) error {
	f := &reason.Fault{Category: ErrTokenEndpoint, Cause: cause}
	if reauth {
		f.Category = ErrReauthorize
	}
	var d []string
	if status != 0 {
		d = append(d, fmt.Sprintf("status %d", status))
	}
	if code != "" {
		d = append(d, code)
	}
	f.Detail = strings.Join(d, ": ")
	return f
}

// refused returns a refusal of a signed request for reason (nil for none),
// caused by cause (nil for none).
func refused(why, cause error) error { return reason.Wrap(ErrSignedRequest, why, cause) }

// keySetError returns a refusal of a key set with a short description that
// contains no key material.
func keySetError(what string) error { return reason.Newf(ErrKeySet, nil, what) }

// storedError returns an ErrStoredState naming the field at fault, never
// its value.
func storedError(what string) error { return reason.Newf(ErrStoredState, nil, what) }
