package tlspolicy

import (
	"bytes"
	"crypto/x509"

	"github.com/latchsec/latch/internal/reason"
)

// verifyPinned checks the certificates a server presented against the pin.
//
// The chain is built from the leaf to the pinned certificate, which is the
// only root; the other presented certificates serve only as intermediates.
// Every certificate on the chain, the pinned one included, is checked:
// signature, validity period, CA flag, path length and certificate-signing
// key usage of signers, server-auth usage. The pin is
// never matched against the presented list as such, so a server that sends
// the pinned certificate next to an unrelated leaf is refused.
func (c *compiled) verifyPinned(presented []*x509.Certificate, serverName string) error {
	if len(presented) == 0 {
		return reason.New(ErrPinMismatch, ErrNoCertificate)
	}
	leaf := presented[0]
	opts := x509.VerifyOptions{
		Roots:       c.pins,
		CurrentTime: c.now(),
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if !bytes.Equal(leaf.Raw, c.pin.Raw) {
		// The pin is a signer above the leaf: it must be a CA, and the leaf
		// must name the host. crypto/x509 refuses a signer whose basic
		// constraints say it is no CA, but accepts a root without them
		// (version 1); a pinned signer must state that it is a CA.
		if !c.pin.BasicConstraintsValid || !c.pin.IsCA {
			return reason.New(ErrPinMismatch, ErrPinNotCA)
		}
		if serverName == "" {
			return reason.Newf(ErrPinMismatch, nil, "no server name to check against a pinned signer")
		}
		opts.DNSName = serverName
		// The pin is the root; sent again as an intermediate it would only
		// make Verify check the same signature twice.
		opts.Intermediates = x509.NewCertPool()
		for _, cert := range presented[1:] {
			if !bytes.Equal(cert.Raw, c.pin.Raw) {
				opts.Intermediates.AddCert(cert)
			}
		}
	}
	// A pinned leaf is its own root: Verify checks its validity period and
	// usage and, with no DNSName, not the host.
	if _, err := leaf.Verify(opts); err != nil {
		return reason.Wrap(ErrPinMismatch, nil, err)
	}
	return nil
}
