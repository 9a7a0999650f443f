// Package testpki makes certificate chains for tests: roots, intermediates
// and leaves with whatever flaws a test needs (expired, wrong usage, not a
// CA, wrong names). Keys are ECDSA P-256. It is for tests only.
package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http/httptest"
	"testing"
	"time"
)

// Now is the time the certificates are made valid around, and the time
// tests should inject into the code under test.
var Now = time.Date(2026, time.June, 1, 12, 0, 0, 0, time.UTC)

// Clock returns Now; pass it where a func() time.Time is wanted.
func Clock() time.Time { return Now }

// Options describe one certificate. The zero value is a leaf for
// "localhost" and 127.0.0.1, with server-auth usage, valid for a year around
// Now.
type Options struct {
	CommonName string
	// Hosts are DNS names or IP addresses; nil means localhost and
	// 127.0.0.1 for a leaf and none for a CA.
	Hosts []string
	// NotBefore and NotAfter default to Now minus a day and Now plus a year.
	NotBefore, NotAfter time.Time
	// CA makes a certificate that may sign others.
	CA bool
	// MaxPathLen applies to a CA; -1 (or 0 with MaxPathLenZero) as in
	// crypto/x509.
	MaxPathLen     int
	MaxPathLenZero bool
	// KeyUsage and ExtKeyUsage override the defaults (digital signature and
	// server auth for a leaf; cert sign for a CA, with no EKU).
	KeyUsage    x509.KeyUsage
	ExtKeyUsage []x509.ExtKeyUsage
}

// Cert is a certificate and its key.
type Cert struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// New makes a certificate signed by parent, or self-signed when parent is nil.
func New(t testing.TB, o Options, parent *Cert) *Cert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: o.CommonName},
		NotBefore:             o.NotBefore,
		NotAfter:              o.NotAfter,
		BasicConstraintsValid: true,
		IsCA:                  o.CA,
		MaxPathLen:            o.MaxPathLen,
		MaxPathLenZero:        o.MaxPathLenZero,
		KeyUsage:              o.KeyUsage,
		ExtKeyUsage:           o.ExtKeyUsage,
	}
	if tmpl.Subject.CommonName == "" {
		tmpl.Subject.CommonName = "test certificate"
	}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = Now.Add(-24 * time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = Now.Add(365 * 24 * time.Hour)
	}
	if o.CA {
		if tmpl.KeyUsage == 0 {
			tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		}
		if o.MaxPathLen == 0 && !o.MaxPathLenZero {
			tmpl.MaxPathLen = -1
		}
	} else {
		if tmpl.KeyUsage == 0 {
			tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		}
		if tmpl.ExtKeyUsage == nil {
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		}
	}
	hosts := o.Hosts
	if hosts == nil && !o.CA {
		hosts = []string{"localhost", "127.0.0.1"}
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	signer, issuer := crypto.Signer(key), tmpl
	if parent != nil {
		signer, issuer = parent.Key, parent.Cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &Cert{Cert: cert, Key: key}
}

// PEM is the certificate as one PEM CERTIFICATE block.
func (c *Cert) PEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw}))
}

// Pool is a certificate pool holding c alone.
func (c *Cert) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.Cert)
	return p
}

// TLS is c as a server certificate that also sends chain (intermediates,
// or anything else a test wants the server to present).
func (c *Cert) TLS(chain ...*Cert) tls.Certificate {
	tc := tls.Certificate{Certificate: [][]byte{c.Cert.Raw}, PrivateKey: c.Key, Leaf: c.Cert}
	for _, x := range chain {
		tc.Certificate = append(tc.Certificate, x.Cert.Raw)
	}
	return tc
}

// PeerValidity is a validity period that covers both Now and the real
// time, for certificates that a peer program (mosquitto, node, openssl as a
// client) checks against the machine's clock, which a test cannot inject.
func PeerValidity() (notBefore, notAfter time.Time) {
	from, until := Now, time.Now()
	if until.Before(from) {
		from, until = until, from
	}
	return from.Add(-24 * time.Hour), until.Add(365 * 24 * time.Hour)
}

// Start starts s, over TLS with cert as its certificate when cert is not
// nil and in plain HTTP otherwise, and closes it when the test ends.
func Start(t testing.TB, s *httptest.Server, cert *tls.Certificate) {
	if cert != nil {
		s.TLS = &tls.Config{Certificates: []tls.Certificate{*cert}}
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
}
