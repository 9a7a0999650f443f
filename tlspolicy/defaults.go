package tlspolicy

import (
	"crypto/tls"
	"time"
)

// All defaults in one place.
const (
	// minVersion is the floor at every TLS level.
	minVersion = tls.VersionTLS12

	// Timeouts of the clients and transports built here.
	dialTimeout           = 10 * time.Second
	tlsHandshakeTimeout   = 10 * time.Second
	responseHeaderTimeout = 30 * time.Second
	idleConnTimeout       = 90 * time.Second
	expectContinueTimeout = 1 * time.Second
	clientTimeout         = 60 * time.Second

	// maxRedirects is how many same-host redirects a Client follows.
	maxRedirects = 5

	// maxPinPEM caps the size of a pinnedCertificate value.
	maxPinPEM = 64 << 10

	// sessionCacheSize is the size of each Transport's TLS session cache.
	sessionCacheSize = 64
)
