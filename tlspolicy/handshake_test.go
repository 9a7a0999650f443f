package tlspolicy

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/latchsec/latch/internal/testpki"
	"github.com/stretchr/testify/require"
)

func TestHandshakes(t *testing.T) {
	p := newPKI(t)
	expired := testpki.Options{NotBefore: testpki.Now.Add(-48 * time.Hour), NotAfter: testpki.Now.Add(-time.Hour)}

	// A chain under another CA, for a leaf not under the pin.
	otherRoot := testpki.New(t, testpki.Options{CommonName: "Other Root", CA: true}, nil)
	otherLeaf := testpki.New(t, testpki.Options{Hosts: []string{"api.example.test"}}, otherRoot)

	// An expired intermediate with a valid leaf under it.
	expiredInter := testpki.New(t, testpki.Options{CommonName: "Expired Intermediate", CA: true,
		NotBefore: expired.NotBefore, NotAfter: expired.NotAfter}, p.root)
	leafUnderExpired := testpki.New(t, testpki.Options{Hosts: []string{"api.example.test"}}, expiredInter)

	// An expired leaf under a valid intermediate.
	expiredLeaf := testpki.New(t, testpki.Options{Hosts: []string{"api.example.test"},
		NotBefore: expired.NotBefore, NotAfter: expired.NotAfter}, p.inter)

	// A leaf that may only authenticate clients.
	clientAuthLeaf := testpki.New(t, testpki.Options{Hosts: []string{"api.example.test"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, p.inter)
	clientAuthSelf := testpki.New(t, testpki.Options{Hosts: []string{"device.local"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, nil)

	// A "signer" that is not a CA, and a leaf it signed.
	notCA := testpki.New(t, testpki.Options{CommonName: "Not a CA", Hosts: []string{"signer.example.test"}}, p.root)
	leafOfNotCA := testpki.New(t, testpki.Options{Hosts: []string{"api.example.test"}}, notCA)

	// A CA whose key usage does not allow certificate signing.
	noCertSign := testpki.New(t, testpki.Options{CommonName: "No CertSign", CA: true,
		KeyUsage: x509.KeyUsageDigitalSignature}, p.root)
	leafOfNoCertSign := testpki.New(t, testpki.Options{Hosts: []string{"api.example.test"}}, noCertSign)

	// An intermediate with path length 0 and a further intermediate under it.
	pathLen0 := testpki.New(t, testpki.Options{CommonName: "PathLen0", CA: true, MaxPathLenZero: true}, p.root)
	subInter := testpki.New(t, testpki.Options{CommonName: "Sub Intermediate", CA: true}, pathLen0)
	leafOfSub := testpki.New(t, testpki.Options{Hosts: []string{"api.example.test"}}, subInter)

	// An expired pinned leaf.
	expiredSelf := testpki.New(t, testpki.Options{Hosts: []string{"device.local"},
		NotBefore: expired.NotBefore, NotAfter: expired.NotAfter}, nil)

	caCheck := Policy{SecurityLevel: TlsWithCACheck, RootCAs: p.root.Pool(), Time: testpki.Clock}
	pin := func(c *testpki.Cert) Policy {
		return Policy{SecurityLevel: TlsPinnedCertificate, PinnedCertificate: c.PEM(), Time: testpki.Clock}
	}
	selfSigned := Policy{SecurityLevel: TlsAllowSelfSigned, Time: testpki.Clock}
	allowHTTP := Policy{SecurityLevel: AllowHttp, Time: testpki.Clock}

	tests := []struct {
		name       string
		server     tls.Certificate
		policy     Policy
		serverName string
		want       error // nil: the handshake succeeds
	}{
		{"ca chain, right host", p.leaf.TLS(p.inter), caCheck, "api.example.test", nil},
		{"ca chain, wrong host", p.leaf.TLS(p.inter), caCheck, "other.example.test", x509.HostnameError{}},
		{"ca chain, address not named", p.leaf.TLS(p.inter), caCheck, "127.0.0.1", x509.HostnameError{}},
		{"ca chain, unknown root", otherLeaf.TLS(), caCheck, "api.example.test", x509.UnknownAuthorityError{}},
		{"ca chain, expired leaf", expiredLeaf.TLS(p.inter), caCheck, "api.example.test", x509.CertificateInvalidError{}},
		{"self-signed at ca check", p.selfSigned.TLS(), caCheck, "device.local", x509.UnknownAuthorityError{}},
		{"self-signed at allow self-signed", p.selfSigned.TLS(), selfSigned, "device.local", nil},
		{"self-signed by address at allow self-signed", p.selfSigned.TLS(), selfSigned, "127.0.0.1", nil},
		{"self-signed at allow http", p.selfSigned.TLS(), allowHTTP, "device.local", nil},
		{"expired leaf at allow self-signed", expiredLeaf.TLS(), selfSigned, "anything", nil},

		{"pinned leaf, its name", p.selfSigned.TLS(), pin(p.selfSigned), "device.local", nil},
		{"pinned leaf, by an address it does not name", p.selfSigned.TLS(), pin(p.selfSigned), "127.0.0.1", nil},
		{"pinned leaf, another server", p.leaf.TLS(p.inter), pin(p.selfSigned), "127.0.0.1", ErrPinMismatch},
		{"pinned leaf, expired", expiredSelf.TLS(), pin(expiredSelf), "device.local", ErrPinMismatch},
		{"pinned leaf, client-auth only", clientAuthSelf.TLS(), pin(clientAuthSelf), "device.local", ErrPinMismatch},
		{"pinned leaf of a CA chain, by address", p.leaf.TLS(p.inter), pin(p.leaf), "127.0.0.1", nil},

		{"pinned intermediate, root unknown", p.leaf.TLS(p.inter), pin(p.inter), "api.example.test", nil},
		{"pinned intermediate, wrong host", p.leaf.TLS(p.inter), pin(p.inter), "other.example.test", ErrPinMismatch},
		{"pinned intermediate, address not named", p.leaf.TLS(p.inter), pin(p.inter), "127.0.0.2", ErrPinMismatch},
		{"pinned intermediate, server omits it", p.leaf.TLS(), pin(p.inter), "api.example.test", nil},
		{"pinned root, server sends intermediate", p.leaf.TLS(p.inter), pin(p.root), "api.example.test", nil},
		{"pinned root, server omits intermediate", p.leaf.TLS(), pin(p.root), "api.example.test", ErrPinMismatch},
		{"leaf not under the pin, pin sent too", otherLeaf.TLS(p.inter), pin(p.inter), "api.example.test", ErrPinMismatch},
		{"pinned certificate expired", leafUnderExpired.TLS(expiredInter), pin(expiredInter), "api.example.test", ErrPinMismatch},
		{"expired leaf under valid pin", expiredLeaf.TLS(p.inter), pin(p.inter), "api.example.test", ErrPinMismatch},
		{"client-auth leaf under pin", clientAuthLeaf.TLS(p.inter), pin(p.inter), "api.example.test", ErrPinMismatch},
		{"pinned signer not a CA", leafOfNotCA.TLS(notCA), pin(notCA), "api.example.test", ErrPinNotCA},
		{"pinned signer without cert-sign usage", leafOfNoCertSign.TLS(noCertSign), pin(noCertSign), "api.example.test", ErrPinMismatch},
		{"path length exceeded under pin", leafOfSub.TLS(subInter, pathLen0), pin(pathLen0), "api.example.test", ErrPinMismatch},
		{"pinned signer, no server name", p.leaf.TLS(p.inter), pin(p.inter), "", ErrPinMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, tc.server)
			cfg, err := tc.policy.TLSConfig(tc.serverName)
			require.NoError(t, err)
			_, err = dial(srv.addr, cfg)

			// VerifyChain, given the chain the server sends, must judge
			// as the handshake does.
			var chain []*x509.Certificate
			for _, der := range tc.server.Certificate {
				c, perr := x509.ParseCertificate(der)
				require.NoError(t, perr)
				chain = append(chain, c)
			}
			verr := tc.policy.VerifyChain(chain, tc.serverName)
			if tc.want == nil {
				require.NoError(t, err)
				require.NoError(t, verr, "VerifyChain")
				return
			}
			require.Error(t, err)
			requireErrorKind(t, err, tc.want)
			require.Error(t, verr, "VerifyChain")
			requireErrorKind(t, verr, tc.want)
		})
	}
}

func TestVerifyChainRefused(t *testing.T) {
	p := newPKI(t)
	caCheck := Policy{SecurityLevel: TlsWithCACheck, RootCAs: p.root.Pool(), Time: testpki.Clock}
	require.ErrorIs(t, caCheck.VerifyChain(nil, "api.example.test"), ErrNoCertificate)
	require.ErrorIs(t, caCheck.VerifyChain([]*x509.Certificate{p.leaf.Cert}, ""), ErrInvalidHost, "no server name")
	_, err := caCheck.TLSConfig("")
	require.ErrorIs(t, err, ErrInvalidHost, "no server name")
	pinned := Policy{SecurityLevel: TlsPinnedCertificate, PinnedCertificate: p.inter.PEM(), Time: testpki.Clock}
	err = pinned.VerifyChain(nil, "api.example.test")
	require.ErrorIs(t, err, ErrPinMismatch)
	require.ErrorIs(t, err, ErrNoCertificate)
	require.NotErrorIs(t, err, ErrPinNotCA)
	require.ErrorIs(t, Policy{SecurityLevel: TlsPinnedCertificate}.VerifyChain([]*x509.Certificate{p.leaf.Cert}, "x"), ErrInvalidPin)
	require.ErrorIs(t, Policy{SecurityLevel: Level(9)}.VerifyChain([]*x509.Certificate{p.leaf.Cert}, "x"), ErrUnknownLevel)
}

// requireErrorKind checks err against a sentinel with errors.Is, or against
// the type of an x509 error value with errors.As.
func requireErrorKind(t *testing.T, err, want error) {
	t.Helper()
	switch want.(type) {
	case x509.HostnameError:
		var e x509.HostnameError
		require.ErrorAs(t, err, &e)
	case x509.UnknownAuthorityError:
		var e x509.UnknownAuthorityError
		require.ErrorAs(t, err, &e)
	case x509.CertificateInvalidError:
		var e x509.CertificateInvalidError
		require.ErrorAs(t, err, &e)
	default:
		require.ErrorIs(t, err, want)
	}
}

// TestOldTLSRefused: a server that offers only TLS 1.0 or 1.1 is refused at
// every TLS level.
func TestOldTLSRefused(t *testing.T) {
	p := newPKI(t)
	srv := startTLSServer(t, &tls.Config{
		Certificates: []tls.Certificate{p.selfSigned.TLS()},
		MinVersion:   tls.VersionTLS10,
		MaxVersion:   tls.VersionTLS11,
	})
	for _, pol := range []Policy{
		{SecurityLevel: TlsWithCACheck, RootCAs: p.selfSigned.Pool(), Time: testpki.Clock},
		{SecurityLevel: TlsPinnedCertificate, PinnedCertificate: p.selfSigned.PEM(), Time: testpki.Clock},
		{SecurityLevel: TlsAllowSelfSigned},
		{SecurityLevel: AllowHttp},
	} {
		t.Run(pol.SecurityLevel.String(), func(t *testing.T) {
			cfg, err := pol.TLSConfig("device.local")
			require.NoError(t, err)
			require.Equal(t, uint16(tls.VersionTLS12), cfg.MinVersion)
			_, err = dial(srv.addr, cfg)
			require.ErrorContains(t, err, "protocol version")
		})
	}
}

// TestResumedSessionCheckedAgainstPin: a session resumed from a cache that a
// connection under another pin filled is still checked against the current
// pin, because the check runs in VerifyConnection.
func TestResumedSessionCheckedAgainstPin(t *testing.T) {
	p := newPKI(t)
	other := testpki.New(t, testpki.Options{CommonName: "Other CA", CA: true}, nil)
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(version), func(t *testing.T) {
			srv := startTLSServer(t, &tls.Config{Certificates: []tls.Certificate{p.leaf.TLS(p.inter)}, MaxVersion: version})
			cache := tls.NewLRUClientSessionCache(4)
			config := func(pinned *testpki.Cert) *tls.Config {
				cfg, err := Policy{SecurityLevel: TlsPinnedCertificate, PinnedCertificate: pinned.PEM(), Time: testpki.Clock}.TLSConfig("api.example.test")
				require.NoError(t, err)
				cfg.ClientSessionCache = cache
				return cfg
			}

			cs, err := dial(srv.addr, config(p.inter))
			require.NoError(t, err)
			require.False(t, cs.DidResume)

			cs, err = dial(srv.addr, config(p.inter))
			require.NoError(t, err)
			require.True(t, cs.DidResume, "the second connection should resume")

			before := srv.resumed.Load()
			_, err = dial(srv.addr, config(other))
			require.ErrorIs(t, err, ErrPinMismatch)
			require.Greater(t, srv.resumed.Load(), before, "the server should have accepted the ticket, so the refusal came on resumption")
		})
	}
}

func TestErrorsDoNotWrapEachOther(t *testing.T) {
	all := []error{ErrUnknownLevel, ErrInvalidPin, ErrPinMismatch, ErrPinNotCA, ErrNoCertificate, ErrPlainHTTP, ErrRedirectRefused, ErrInvalidHost, ErrInvalidPeriod}
	for _, a := range all {
		for _, b := range all {
			require.Equal(t, a == b, errors.Is(a, b))
		}
	}
}
