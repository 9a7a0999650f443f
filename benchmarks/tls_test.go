package benchmarks

import (
	"crypto/tls"
	"net"
	"sync"
	"testing"

	"github.com/latchsec/latch/internal/testpki"
	"github.com/latchsec/latch/tlspolicy"
)

// BenchmarkTLSHandshake measures full TLS handshakes (no resumption) from a
// client built by tlspolicy to one local server presenting a leaf and an
// intermediate under a root, at each way of trusting that server. The key
// exchange is fixed to X25519 on both sides so every case does the same
// handshake work and differs only in certificate verification.
func BenchmarkTLSHandshake(b *testing.B) {
	root := testpki.New(b, testpki.Options{CommonName: "Bench Root", CA: true}, nil)
	inter := testpki.New(b, testpki.Options{CommonName: "Bench Intermediate", CA: true}, root)
	leaf := testpki.New(b, testpki.Options{Hosts: []string{"localhost", "127.0.0.1"}}, inter)
	addr := startHandshakeServer(b, leaf.TLS(inter))

	cases := []struct {
		name   string
		policy tlspolicy.Policy
	}{
		{"cacheck", tlspolicy.Policy{SecurityLevel: tlspolicy.TlsWithCACheck, RootCAs: root.Pool(), Time: testpki.Clock}},
		{"pinleaf", tlspolicy.Policy{SecurityLevel: tlspolicy.TlsPinnedCertificate, PinnedCertificate: leaf.PEM(), Time: testpki.Clock}},
		{"pinintermediate", tlspolicy.Policy{SecurityLevel: tlspolicy.TlsPinnedCertificate, PinnedCertificate: inter.PEM(), Time: testpki.Clock}},
		{"selfsigned", tlspolicy.Policy{SecurityLevel: tlspolicy.TlsAllowSelfSigned}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			cfg, err := c.policy.TLSConfig("localhost")
			if err != nil {
				b.Fatal(err)
			}
			cfg.CurvePreferences = []tls.CurveID{tls.X25519}
			b.ReportAllocs()
			for b.Loop() {
				conn, err := tls.Dial("tcp", addr, cfg)
				if err != nil {
					b.Fatal(err)
				}
				if err := conn.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// startHandshakeServer accepts connections on 127.0.0.1 and completes each
// handshake, with session tickets off so that no client resumes.
func startHandshakeServer(b *testing.B, cert tls.Certificate) string {
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates:           []tls.Certificate{cert},
		CurvePreferences:       []tls.CurveID{tls.X25519},
		SessionTicketsDisabled: true,
	})
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func(c net.Conn) {
				defer wg.Done()
				defer c.Close()
				_ = c.(*tls.Conn).Handshake()
			}(c)
		}
	}()
	b.Cleanup(func() {
		l.Close()
		wg.Wait()
	})
	return l.Addr().String()
}
