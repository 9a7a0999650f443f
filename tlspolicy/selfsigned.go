package tlspolicy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/netip"
	"strings"
	"time"

	"github.com/latchsec/latch/internal/reason"
)

// GenerateSelfSigned makes an ECDSA P-256 key and a self-signed certificate
// for a local API server, valid from notBefore to notAfter, naming each of
// hosts (DNS names or IP addresses) as a subject alternative name. It
// returns both in PEM: the certificate as "CERTIFICATE", the key as PKCS #8
// "PRIVATE KEY". Load them with [crypto/tls.X509KeyPair] on the server; give
// certPEM to devices as the pinnedCertificate of a [TlsPinnedCertificate]
// policy.
//
// The certificate is not a CA: it can only identify this server. Keep
// keyPEM secret; whoever has it can impersonate the server to every device
// that pins the certificate.
func GenerateSelfSigned(hosts []string, notBefore, notAfter time.Time) (certPEM, keyPEM []byte, err error) {
	if len(hosts) == 0 {
		return nil, nil, reason.Newf(ErrInvalidHost, nil, "no host to name")
	}
	if !notAfter.After(notBefore) {
		return nil, nil, reason.Newf(ErrInvalidPeriod, nil, "notAfter must be after notBefore")
	}
	tmpl := &x509.Certificate{
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if ip, err := netip.ParseAddr(h); err == nil && ip.Zone() == "" {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip.AsSlice())
			continue
		}
		if !validDNSName(h) {
			return nil, nil, reason.Newf(ErrInvalidHost, nil, fmt.Sprintf("%q is neither an IP address nor a DNS name", truncate([]byte(h), 64)))
		}
		tmpl.DNSNames = append(tmpl.DNSNames, strings.ToLower(h))
	}
	tmpl.Subject = pkix.Name{CommonName: hosts[0]}
	tmpl.SerialNumber, err = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	return certPEM, keyPEM, nil
}

// validDNSName accepts a host name of letters, digits and hyphens in labels
// of 1 to 63 characters, optionally starting with a "*." wildcard label.
func validDNSName(h string) bool {
	h = strings.TrimPrefix(h, "*.")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}
