package tlspolicy

import (
	"bufio"
	"crypto/tls"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/latchsec/latch/internal/testpki"
	"github.com/stretchr/testify/require"
)

// tlsServer is a TLS server on 127.0.0.1 that completes the handshake,
// writes "ok\n" and closes. It stops when the test ends.
type tlsServer struct {
	addr     string
	accepted atomic.Int64 // TCP connections accepted
	resumed  atomic.Int64 // session tickets the server accepted
}

func startTLSServer(t testing.TB, cfg *tls.Config) *tlsServer {
	t.Helper()
	s := &tlsServer{}
	cfg = cfg.Clone()
	// Count offered tickets that the server accepts for resumption.
	cfg.UnwrapSession = func(identity []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
		st, err := cfg.DecryptTicket(identity, cs)
		if st != nil {
			s.resumed.Add(1)
		}
		return st, err
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	require.NoError(t, err)
	s.addr = l.Addr().String()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				if err := c.(*tls.Conn).Handshake(); err != nil {
					return
				}
				_, _ = c.Write([]byte("ok\n"))
				_, _ = c.Read(make([]byte, 1)) // wait for the client to close
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
	})
	return s
}

// serve starts a server presenting cert (and the chain after it).
func serve(t testing.TB, cert tls.Certificate) *tlsServer {
	return startTLSServer(t, &tls.Config{Certificates: []tls.Certificate{cert}})
}

// dial connects with cfg, reads the server's greeting and closes.
func dial(addr string, cfg *tls.Config) (tls.ConnectionState, error) {
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return tls.ConnectionState{}, err
	}
	if line != "ok\n" {
		return tls.ConnectionState{}, errors.New("unexpected greeting")
	}
	return c.ConnectionState(), nil
}

// pki is the set of chains the handshake tests use.
type pki struct {
	root, inter, leaf *testpki.Cert // public-CA-style chain for api.example.test
	selfSigned        *testpki.Cert // a lone leaf for device.local only
}

func newPKI(t testing.TB) *pki {
	root := testpki.New(t, testpki.Options{CommonName: "Test Root", CA: true}, nil)
	inter := testpki.New(t, testpki.Options{CommonName: "Test Intermediate", CA: true}, root)
	leaf := testpki.New(t, testpki.Options{CommonName: "api.example.test", Hosts: []string{"api.example.test", "localhost"}}, inter)
	self := testpki.New(t, testpki.Options{CommonName: "device.local", Hosts: []string{"device.local"}}, nil)
	return &pki{root: root, inter: inter, leaf: leaf, selfSigned: self}
}
