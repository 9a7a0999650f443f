package integrator

import (
	"errors"
	"fmt"
	"strings"
)

// Errors returned by this package; test for them with [errors.Is]. No error
// message contains a token, a client secret, a header value, a request body
// or a URL's query.
var (
	// ErrInvalidRequest: a request definition that does not parse or
	// validate. The error is a *[ValidationError] listing every problem.
	ErrInvalidRequest = errors.New("integrator: invalid request definition")

	// ErrReauthorize: the authorization server refused the refresh token or
	// the client (invalid_grant, invalid_client, unauthorized_client,
	// invalid_scope). Retrying will not help: the person must link the
	// integration again to give the device a new refresh token.
	ErrReauthorize = errors.New("integrator: the integration must be authorized again")

	// ErrTokenEndpoint: the token endpoint could not be reached or gave an
	// answer that is not a token (a 5xx, malformed JSON, an oversized body, a
	// refused redirect). It may pass; the stored refresh token is still the
	// one to use.
	ErrTokenEndpoint = errors.New("integrator: token endpoint failed")

	// ErrPersist: the callback that saves a rotated refresh token failed. The
	// request was not sent with the new access token; the rotated refresh
	// token is kept in memory and saving it is tried again first on the
	// next call.
	ErrPersist = errors.New("integrator: saving the rotated refresh token failed")

	// ErrResponseTooLarge: the API's response body is larger than the
	// caller's cap.
	ErrResponseTooLarge = errors.New("integrator: response body too large")

	// ErrRequestFailed: the API request could not be sent or its response
	// could not be read. The wrapped error says why (a tlspolicy error, a
	// timeout, a refused connection).
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

// BindingError is the refusal of a definition whose binding differs from
// the one the stored credentials were delivered for. Changed lists the
// differing fields as JSON paths of the definition ("securityLevel",
// "authorization.tokenUrl.host", ...), never their values. It matches
// [ErrBindingChanged] with errors.Is.
type BindingError struct {
	Changed []string
}

func (e *BindingError) Error() string {
	return ErrBindingChanged.Error() + ": changed " + strings.Join(e.Changed, ", ")
}

// Is reports whether target is ErrBindingChanged.
func (e *BindingError) Is(target error) bool { return target == ErrBindingChanged }

// Errors of signed requests and key sets (signed.go, keyset.go).
var (
	// ErrSignedRequest: a signed request was refused. Every refusal of
	// [StatementVerifier.Open] matches it, along with the reason: a
	// sealedbox error ([sealedbox.ErrUnsigned], [sealedbox.ErrUnknownSigner],
	// [sealedbox.ErrBadSignature], [sealedbox.ErrOpen], ...),
	// [ErrInvalidRequest], [ErrMoved], [ErrRollback] or [ErrVersionStore].
	ErrSignedRequest = errors.New("integrator: signed request refused")

	// ErrMoved: a signed statement names another integration or request
	// than the one it was stored for.
	ErrMoved = errors.New("integrator: signed request made for another request or integration")

	// ErrRollback: a signed statement's version is lower than the highest
	// accepted for its request, or equal to it with other contents.
	ErrRollback = errors.New("integrator: signed request older than one accepted before")

	// ErrVersionStore: the VersionStore failed to load or save; the
	// statement was not accepted.
	ErrVersionStore = errors.New("integrator: version store failed")

	// ErrKeySet: an integrator key set could not be fetched, or its
	// document is not a valid key set.
	ErrKeySet = errors.New("integrator: key set refused")
)

// refusalError matches a main sentinel (ErrSignedRequest, ErrKeySet), a
// reason (a sentinel or a description) and the cause, if any, with
// errors.Is and errors.As.
type refusalError struct {
	main, reason, cause error
}

func (e *refusalError) Error() string {
	var b strings.Builder
	b.WriteString(e.main.Error())
	for _, err := range []error{e.reason, e.cause} {
		if err != nil {
			b.WriteString(": ")
			b.WriteString(strings.TrimPrefix(err.Error(), "integrator: "))
		}
	}
	return b.String()
}

func (e *refusalError) Unwrap() []error {
	errs := []error{e.main}
	for _, err := range []error{e.reason, e.cause} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// refused returns a refusal of a signed request for reason, caused by cause.
func refused(reason, cause error) error { return &refusalError{ErrSignedRequest, reason, cause} }

// keySetError returns a refusal of a key set with a short description that
// contains no key material.
func keySetError(what string) error { return &refusalError{ErrKeySet, errors.New(what), nil} }

// FieldError is one problem with one field of a request definition. Field is
// the JSON path of the field (for example "authorization.tokenUrl" or
// "headers[2].name"); Reason never contains the field's value.
type FieldError struct {
	Field  string
	Reason string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Reason }

// ValidationError lists every problem found in a request definition. It
// matches [ErrInvalidRequest] with errors.Is.
type ValidationError struct {
	Problems []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Error()
	}
	return fmt.Sprintf("%v: %s", ErrInvalidRequest, strings.Join(parts, "; "))
}

// Is reports whether target is ErrInvalidRequest.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidRequest }

// Field returns the problem with the named field, if there is one.
func (e *ValidationError) Field(name string) (FieldError, bool) {
	for _, p := range e.Problems {
		if p.Field == name {
			return p, true
		}
	}
	return FieldError{}, false
}

// TokenError is a refusal or failure of the token endpoint. It matches
// [ErrReauthorize] or [ErrTokenEndpoint] with errors.Is. It carries the
// HTTP status and the RFC 6749 error code, never the response body.
type TokenError struct {
	StatusCode int    // 0 when no response arrived
	Code       string // RFC 6749 "error", e.g. "invalid_grant"; may be empty
	reauth     bool
	cause      error // a network error, or nil
}

func (e *TokenError) Error() string {
	var b strings.Builder
	if e.reauth {
		b.WriteString(ErrReauthorize.Error())
	} else {
		b.WriteString(ErrTokenEndpoint.Error())
	}
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": status %d", e.StatusCode)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, ": %s", e.Code)
	}
	if e.cause != nil {
		fmt.Fprintf(&b, ": %v", e.cause)
	}
	return b.String()
}

// Unwrap returns the sentinel and the network cause, if any.
func (e *TokenError) Unwrap() []error {
	sentinel := ErrTokenEndpoint
	if e.reauth {
		sentinel = ErrReauthorize
	}
	if e.cause != nil {
		return []error{sentinel, e.cause}
	}
	return []error{sentinel}
}
