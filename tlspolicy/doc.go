// Package tlspolicy builds the TLS configurations and HTTP clients with which
// a device calls an integrator's API, at one of four security levels. Most
// devices should use [TlsWithCACheck]; a device that calls an API on its own
// local network should pin that API's certificate with
// [TlsPinnedCertificate]. Describe the level as a [Policy] (it comes as JSON
// inside a request definition) and call [Policy.Client]:
//
//	p := tlspolicy.Policy{SecurityLevel: tlspolicy.TlsPinnedCertificate, PinnedCertificate: certPEM}
//	client, err := p.Client()
//
// [Policy.Transport] gives the same as an [net/http.Transport], and
// [Policy.TLSConfig] gives a [crypto/tls.Config] for one server name, for
// protocols other than HTTP. [Policy.VerifyChain] judges a certificate chain
// as a handshake would, without connecting: tools use it to find which
// certificate of a server's chain can be pinned.
//
// # The four levels and what each one protects against
//
//   - TlsWithCACheck: the server's certificate must chain to a trusted root
//     (the system's, or Policy.RootCAs) and name the host. Protects against
//     anyone on the network path, as long as no trusted CA misissues a
//     certificate for the host.
//
//   - TlsPinnedCertificate: the pinned certificate is the only trust anchor;
//     the system roots play no part, so a misissuing public CA cannot
//     impersonate the server. Everything from the server's certificate up to
//     and including the pinned one is validated: signatures, validity
//     periods (the pinned certificate's too), CA flag, path length and
//     certificate-signing usage of every signer, and server-auth usage of
//     the leaf. Who signed the pinned certificate does not matter. Pinning a
//     CA or an intermediate, the host name is checked as usual. Pinning the
//     server's own certificate, that exact certificate identifies the
//     server and the host name is not checked, so a device may reach a local
//     API by a LAN address its certificate does not name; anyone holding that
//     server's private key can impersonate it.
//
//   - TlsAllowSelfSigned: TLS with any certificate. The traffic is encrypted
//     against passive eavesdroppers, but the server is not authenticated:
//     anyone who can intercept the connection (the Wi-Fi, a compromised
//     router, ARP or DNS spoofing) can impersonate the server and read or
//     change everything, credentials included.
//
//   - AllowHttp: TlsAllowSelfSigned for https:// URLs, and plain http://
//     too, which anyone on the path can read and change.
//
// At every TLS level TLS 1.2 is the floor. At every level but AllowHttp, a
// request to an http:// URL fails with [ErrPlainHTTP] before any connection
// is made.
//
// # How pins are checked
//
// The pin is checked in [crypto/tls.Config.VerifyConnection], which also runs
// when a session is resumed, so a resumed session is held to the current pin.
// The chain is built from the server's certificate to the pinned certificate
// using the other certificates the server sent only as intermediates; the
// pin is never looked for in the list the server sent, so a server cannot
// pass by sending the pinned certificate next to an unrelated one (the
// mistake of OkHttp's CVE-2016-2402). A failed check is [ErrPinMismatch]
// wrapping the crypto/x509 error that says why, or with a reason of its
// own: [ErrPinNotCA] (the server's certificate is not the pinned one, and
// the pin is no CA) or [ErrNoCertificate] (the server sent none).
//
// # Errors
//
// Every error of the package matches one of its sentinels with
// [errors.Is] (see errors.go); each is built with Latch's one error idiom,
// a category and, where there is one, a reason, as in every Latch package.
// Messages quote no pinned certificate and no more than a short prefix of
// bad input.
//
// A Policy is refused when it is built ([Policy.Validate], and every builder)
// if its level is unknown ([ErrUnknownLevel]), or if pinnedCertificate is
// missing at TlsPinnedCertificate, given at another level, or is not exactly
// one PEM CERTIFICATE block holding an X.509 certificate ([ErrInvalidPin]).
//
// # Clients
//
// Clients and transports built here use no proxy, keep a TLS session cache of
// their own, negotiate HTTP/2 where the server offers it, and time out: 10 s
// to connect, 10 s for the handshake, 30 s for response headers, 60 s for a
// whole request. A client follows at most 5 redirects, and only those that
// stay on the same host and port and do not go from https to http (http to
// https on the default ports is allowed); any other redirect fails with
// [ErrRedirectRefused], so an Authorization header never follows a redirect
// to another server.
//
// # Local APIs
//
// [GenerateSelfSigned] makes an ECDSA P-256 key and a self-signed certificate
// for an API on a local network; devices pin the certificate. The key stays
// on the server.
//
// # The caller's duties
//
// Choose the strictest level the API allows; TlsAllowSelfSigned and AllowHttp
// exist for local devices that cannot do better, and their use should be the
// integrator's explicit choice. Take pins from a trusted source (the
// integrator's configuration, sealed end to end), never from the server
// itself at connection time. Keep the device's clock roughly right: validity
// periods are checked against it (or against Policy.Time).
//
// # Compatibility
//
// The level names (TlsWithCACheck, TlsPinnedCertificate, TlsAllowSelfSigned,
// AllowHttp) and the JSON field names (securityLevel, pinnedCertificate) are
// fixed: other Latch components and apps in other languages write them.
//
// The package uses only the standard library (and Latch's internal error
// idiom) and builds for small devices (linux/arm, linux/arm64,
// linux/mipsle).
package tlspolicy
