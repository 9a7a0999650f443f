package tlspolicy

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	"github.com/latchsec/latch/internal/reason"
)

// Policy is the transport security of one integrator API: a level and, at
// [TlsPinnedCertificate], the pinned certificate. Its JSON form is
//
//	{"securityLevel": "TlsPinnedCertificate", "pinnedCertificate": "-----BEGIN CERTIFICATE-----\n..."}
//
// The zero Policy is [TlsWithCACheck] with the system roots.
type Policy struct {
	// SecurityLevel is one of the four levels; the zero value is
	// TlsWithCACheck.
	SecurityLevel Level `json:"securityLevel"`

	// PinnedCertificate is exactly one PEM "CERTIFICATE" block: the server's
	// own certificate, or a CA or intermediate certificate above it. It is
	// required at TlsPinnedCertificate and refused at every other level.
	PinnedCertificate string `json:"pinnedCertificate,omitempty"`

	// RootCAs replaces the system roots at TlsWithCACheck. Nil means the
	// system roots.
	RootCAs *x509.CertPool `json:"-"`

	// Time returns the current time for certificate validity checks. Nil
	// means time.Now.
	Time func() time.Time `json:"-"`
}

// Validate reports whether the policy can be built: a known level, and a
// pinned certificate where, and only where, the level wants one. Every
// builder calls it; call it yourself to refuse a bad policy when it is
// stored rather than when it is used.
func (p Policy) Validate() error {
	_, err := p.compile()
	return err
}

// TLSConfig returns a new TLS client configuration for serverName (a host
// name or an IP address, without a port) at the policy's level. TLS 1.2 is
// the floor at every level. Set it on a [crypto/tls.Dialer] or pass it to
// [crypto/tls.Client]; for HTTP use [Policy.Transport] or [Policy.Client],
// which build one configuration per host.
func (p Policy) TLSConfig(serverName string) (*tls.Config, error) {
	c, err := p.compile()
	if err != nil {
		return nil, err
	}
	return c.tlsConfig(serverName)
}

// VerifyChain checks a certificate chain, as a server presents it (its own
// certificate first), against the policy for serverName, without
// connecting: the checks a handshake under [Policy.TLSConfig] makes. At
// TlsWithCACheck it is crypto/x509's verification with the policy's roots
// (or the system's), the host name and server-auth usage, and returns
// crypto/x509's error as it is (a handshake returns it wrapped by
// crypto/tls); at TlsPinnedCertificate it is the pin check, which fails
// with [ErrPinMismatch] wrapping crypto/x509's error or with a reason; at
// TlsAllowSelfSigned and AllowHttp it accepts any chain. Tools use it to
// tell which certificate of a chain can be pinned, and until when.
func (p Policy) VerifyChain(chain []*x509.Certificate, serverName string) error {
	c, err := p.compile()
	if err != nil {
		return err
	}
	switch c.level {
	case TlsWithCACheck:
		if len(chain) == 0 {
			return reason.New(ErrNoCertificate, nil)
		}
		if serverName == "" {
			return errNoServerName
		}
		opts := x509.VerifyOptions{
			Roots:         c.roots,
			CurrentTime:   c.now(),
			DNSName:       serverName,
			Intermediates: x509.NewCertPool(),
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		for _, cert := range chain[1:] {
			opts.Intermediates.AddCert(cert)
		}
		_, err := chain[0].Verify(opts)
		return err
	case TlsPinnedCertificate:
		return c.verifyPinned(chain, serverName)
	}
	return nil
}

// compiled is a validated policy with its pin parsed once.
type compiled struct {
	level Level
	pin   *x509.Certificate // TlsPinnedCertificate only
	pins  *x509.CertPool    // a pool holding pin alone
	roots *x509.CertPool
	now   func() time.Time
}

func (p Policy) compile() (*compiled, error) {
	if !p.SecurityLevel.valid() {
		return nil, reason.Newf(ErrUnknownLevel, nil, fmt.Sprint(int(p.SecurityLevel)))
	}
	c := &compiled{level: p.SecurityLevel, roots: p.RootCAs, now: p.Time}
	if c.now == nil {
		c.now = time.Now
	}
	if p.SecurityLevel != TlsPinnedCertificate {
		if strings.TrimSpace(p.PinnedCertificate) != "" {
			return nil, reason.Newf(ErrInvalidPin, nil, fmt.Sprintf("a pinned certificate is used only at %s, not at %s", TlsPinnedCertificate, p.SecurityLevel))
		}
		return c, nil
	}
	pin, err := parsePin(p.PinnedCertificate)
	if err != nil {
		return nil, err
	}
	c.pin = pin
	c.pins = x509.NewCertPool()
	c.pins.AddCert(pin)
	return c, nil
}

// parsePin parses a pinnedCertificate value: exactly one PEM CERTIFICATE
// block, with nothing but white space around it.
func parsePin(s string) (*x509.Certificate, error) {
	if strings.TrimSpace(s) == "" {
		return nil, reason.Newf(ErrInvalidPin, nil, "missing at "+TlsPinnedCertificate.String())
	}
	if len(s) > maxPinPEM {
		return nil, reason.Newf(ErrInvalidPin, nil, fmt.Sprintf("larger than %d bytes", maxPinPEM))
	}
	block, rest := pem.Decode([]byte(s))
	if block == nil {
		return nil, reason.Newf(ErrInvalidPin, nil, "not PEM")
	}
	if strings.TrimSpace(string(rest)) != "" {
		if next, _ := pem.Decode(rest); next != nil {
			return nil, reason.Newf(ErrInvalidPin, nil, "more than one PEM block; pin exactly one certificate")
		}
		return nil, reason.Newf(ErrInvalidPin, nil, "text after the PEM block")
	}
	if block.Type != "CERTIFICATE" {
		return nil, reason.Newf(ErrInvalidPin, nil, fmt.Sprintf("PEM block is %q, not CERTIFICATE", truncate([]byte(block.Type), 40)))
	}
	if len(block.Headers) != 0 {
		return nil, reason.Newf(ErrInvalidPin, nil, "PEM headers are not allowed")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, reason.Wrap(ErrInvalidPin, nil, err)
	}
	return cert, nil
}

func (c *compiled) tlsConfig(serverName string) (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion: minVersion,
		ServerName: serverName,
		Time:       c.now,
	}
	switch c.level {
	case TlsWithCACheck:
		if serverName == "" {
			return nil, errNoServerName
		}
		cfg.RootCAs = c.roots
	case TlsPinnedCertificate:
		// The standard verification is replaced, not skipped: the pin is
		// checked in VerifyConnection, which also runs on resumed sessions.
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			return c.verifyPinned(cs.PeerCertificates, serverName)
		}
	case TlsAllowSelfSigned, AllowHttp:
		cfg.InsecureSkipVerify = true
	}
	return cfg, nil
}
