package tlspolicy

import (
	"errors"

	"github.com/latchsec/latch/internal/reason"
)

// Errors returned by this package; test for them with [errors.Is]. Each
// error of the package matches one of them; [ErrPinMismatch] comes with a
// finer reason where there is one ([ErrPinNotCA], [ErrNoCertificate]), or
// wraps crypto/x509's error. Errors from a handshake or a request reach the
// caller wrapped by crypto/tls or net/http, and errors.Is still finds them.
var (
	// ErrUnknownLevel: a level name or value that is not one of the four.
	ErrUnknownLevel = errors.New("tlspolicy: unknown security level")

	// ErrInvalidPin: the policy's pinnedCertificate is missing at
	// TlsPinnedCertificate, is not exactly one PEM CERTIFICATE block, does
	// not parse as an X.509 certificate, or is given at another level.
	ErrInvalidPin = errors.New("tlspolicy: invalid pinned certificate")

	// ErrPinMismatch: the server's certificate chain does not lead to the
	// pinned certificate, or a certificate on the way fails validation
	// (signature, validity period, CA flag, path length, server-auth usage,
	// host name). The wrapped error or the reason says which.
	ErrPinMismatch = errors.New("tlspolicy: server certificate does not verify against the pinned certificate")

	// ErrPinNotCA: the server's certificate is not the pinned one, and the
	// pinned certificate is no CA that could have issued it (the server
	// has a new or another certificate). It comes with ErrPinMismatch.
	ErrPinNotCA = errors.New("tlspolicy: the pinned certificate is neither the server's certificate nor a CA")

	// ErrNoCertificate: the server sent no certificate (it comes with
	// ErrPinMismatch), or [Policy.VerifyChain] was given none.
	ErrNoCertificate = errors.New("tlspolicy: no certificate to verify")

	// ErrPlainHTTP: an http:// URL at a level other than AllowHttp. It is
	// returned before any connection is made.
	ErrPlainHTTP = errors.New("tlspolicy: plain http is not allowed at this security level")

	// ErrRedirectRefused: a redirect to another host or port, from https to
	// http, or past the redirect limit.
	ErrRedirectRefused = errors.New("tlspolicy: redirect refused")

	// ErrInvalidHost: a host name or address that is empty or not a valid
	// name: one for a self-signed certificate, or the server name that
	// TlsWithCACheck checks, missing.
	ErrInvalidHost = errors.New("tlspolicy: invalid host")

	// ErrInvalidPeriod: a validity period for a self-signed certificate
	// whose end is not after its start.
	ErrInvalidPeriod = errors.New("tlspolicy: invalid validity period")
)

// errNoServerName is the refusal of TlsWithCACheck without a server name.
var errNoServerName = reason.Newf(ErrInvalidHost, nil, "TlsWithCACheck needs the server name to check")
