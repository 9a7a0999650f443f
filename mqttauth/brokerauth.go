package mqttauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"fmt"
	"net/http"
	"strings"

	"github.com/latchsec/latch/internal/reason"
)

// minBrokerSecret is the shortest shared secret or Basic password a
// [BrokerAuth] takes, in bytes (128 bits if random).
const minBrokerSecret = 16

// BrokerAuth is how a broker proves to a [Webhook] that a request comes
// from it. An outsider who can reach the webhook could otherwise erase a
// device's session (VerneMQ's on_client_gone), learn which clients are
// connected (EMQX's authz answers), or use it as an oracle for guessing
// secrets. Every credential set here is required of every request, and at
// least one must be set: a shared secret in a header, HTTP Basic, or a TLS
// client certificate. A HeaderSecret or BasicPassword is at least 16 bytes
// (128 bits if random; make one with `openssl rand -base64 32`).
//
// Secrets are compared in constant time (of their SHA-256 digests, so that
// not even their length shows). A request without the credentials gets 401
// before its body is read, and changes nothing.
type BrokerAuth struct {
	// HeaderName and HeaderSecret: the broker sends HeaderSecret, exactly,
	// as the only value of the header HeaderName (for example
	// "X-Latch-Webhook-Secret"). EMQX 5 does, from the headers of its HTTP
	// authenticator and authorizer. Both or neither.
	HeaderName, HeaderSecret string

	// BasicUser and BasicPassword: the broker sends them as HTTP Basic
	// authentication (RFC 7617). VerneMQ does when the webhook endpoint's URL
	// carries them: https://user:password@auth.example/vernemq. Both or
	// neither.
	BasicUser, BasicPassword string

	// ClientCAs: the broker presents a TLS client certificate that chains
	// to one of these, with the client-authentication usage (or none), valid
	// at the Webhook's Now; to pin one self-signed broker certificate, make
	// a pool of just that certificate. The Webhook checks the chain itself,
	// from the certificates the broker presented, so the server's
	// tls.Config needs only to ask for them (ClientAuth RequestClientCert or
	// stricter). Without TLS, or with no certificate, the request is
	// refused.
	ClientCAs *x509.CertPool
}

// brokerCheck is a BrokerAuth ready to check requests.
type brokerCheck struct {
	header     string
	headerHash [32]byte
	basic      bool
	userHash   [32]byte
	passHash   [32]byte
	roots      *x509.CertPool
}

func (a BrokerAuth) check() (*brokerCheck, error) {
	c := new(brokerCheck)
	if (a.HeaderName == "") != (a.HeaderSecret == "") {
		return nil, reason.Newf(ErrConfig, nil, "BrokerAuth: HeaderName and HeaderSecret go together")
	}
	if a.HeaderName != "" {
		if !validHeaderName(a.HeaderName) {
			return nil, reason.Newf(ErrConfig, nil, "BrokerAuth: HeaderName is not an HTTP header name")
		}
		if len(a.HeaderSecret) < minBrokerSecret {
			return nil, reason.Newf(ErrConfig, nil, fmt.Sprintf("BrokerAuth: HeaderSecret shorter than %d bytes", minBrokerSecret))
		}
		c.header = http.CanonicalHeaderKey(a.HeaderName)
		c.headerHash = sha256.Sum256([]byte(a.HeaderSecret))
	}
	if (a.BasicUser == "") != (a.BasicPassword == "") {
		return nil, reason.Newf(ErrConfig, nil, "BrokerAuth: BasicUser and BasicPassword go together")
	}
	if a.BasicUser != "" {
		if strings.Contains(a.BasicUser, ":") {
			return nil, reason.Newf(ErrConfig, nil, "BrokerAuth: BasicUser contains a colon")
		}
		if len(a.BasicPassword) < minBrokerSecret {
			return nil, reason.Newf(ErrConfig, nil, fmt.Sprintf("BrokerAuth: BasicPassword shorter than %d bytes", minBrokerSecret))
		}
		if c.header == "Authorization" {
			return nil, reason.Newf(ErrConfig, nil, "BrokerAuth: HeaderName Authorization and HTTP Basic cannot both be required")
		}
		c.basic = true
		c.userHash = sha256.Sum256([]byte(a.BasicUser))
		c.passHash = sha256.Sum256([]byte(a.BasicPassword))
	}
	c.roots = a.ClientCAs
	if c.header == "" && !c.basic && c.roots == nil {
		return nil, reason.Newf(ErrConfig, nil, "BrokerAuth: no broker credential (a header secret, HTTP Basic or client CAs): the webhook would answer anyone")
	}
	return c, nil
}

func validHeaderName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return s != ""
}

// allows reports whether r carries every credential c requires.
func (c *brokerCheck) allows(r *http.Request, w *Webhook) bool {
	ok := 1
	if c.header != "" {
		vs := r.Header.Values(c.header)
		got := sha256.Sum256([]byte(strings.Join(vs, "\n")))
		ok &= subtle.ConstantTimeCompare(got[:], c.headerHash[:])
		if len(vs) != 1 {
			ok = 0
		}
	}
	if c.basic {
		user, pass, found := r.BasicAuth()
		u, p := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
		ok &= subtle.ConstantTimeCompare(u[:], c.userHash[:]) & subtle.ConstantTimeCompare(p[:], c.passHash[:])
		if !found {
			ok = 0
		}
	}
	if c.roots != nil && !c.verifiedPeer(r, w) {
		ok = 0
	}
	return ok == 1
}

// verifiedPeer checks the client certificate chain the broker presented.
func (c *brokerCheck) verifiedPeer(r *http.Request, w *Webhook) bool {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return false
	}
	inter := x509.NewCertPool()
	for _, cert := range r.TLS.PeerCertificates[1:] {
		inter.AddCert(cert)
	}
	_, err := r.TLS.PeerCertificates[0].Verify(x509.VerifyOptions{
		Roots:         c.roots,
		Intermediates: inter,
		CurrentTime:   w.now(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	return err == nil
}
