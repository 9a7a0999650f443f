package tlspolicy

import (
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchsec/latch/internal/interop"
	"github.com/latchsec/latch/internal/testpki"
	"github.com/stretchr/testify/require"
)

// opensslPKI is a chain made by the openssl command-line tool: a root, an
// intermediate and a leaf for api.openssl.test and localhost, plus an
// unrelated root, all valid around testpki.Now.
type opensslPKI struct {
	root, inter, leaf, other string // PEM
}

func makeOpenSSLPKI(t *testing.T, openssl, dir string) *opensslPKI {
	interop.OpenSSLChain(t, openssl, dir, "DNS:api.openssl.test,DNS:localhost",
		testpki.Now.Add(-30*24*time.Hour), testpki.Now.Add(365*24*time.Hour), "other")
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		return string(b)
	}
	return &opensslPKI{root: read("root.pem"), inter: read("inter.pem"), leaf: read("leaf.pem"), other: read("other.pem")}
}

// TestInteropOpenSSL runs the policies against openssl s_server serving a
// chain that the openssl command-line tool made.
func TestInteropOpenSSL(t *testing.T) {
	openssl := interop.Program(t, "openssl", "openssl")
	dir := t.TempDir()
	pki := makeOpenSSLPKI(t, openssl, dir)
	port := interop.StartSServer(t, openssl, dir)

	roots := func(pemText string) Policy {
		p := Policy{SecurityLevel: TlsWithCACheck, Time: testpki.Clock}
		p.RootCAs = x509PoolFromPEM(t, pemText)
		return p
	}
	pin := func(pemText string) Policy {
		return Policy{SecurityLevel: TlsPinnedCertificate, PinnedCertificate: pemText, Time: testpki.Clock}
	}
	cases := []struct {
		name   string
		policy Policy
		host   string
		want   error
	}{
		{"ca check with openssl's root", roots(pki.root), "localhost", nil},
		{"ca check, unrelated root", roots(pki.other), "localhost", x509.UnknownAuthorityError{}},
		{"pinned intermediate", pin(pki.inter), "localhost", nil},
		{"pinned root", pin(pki.root), "localhost", nil},
		{"pinned leaf by address", pin(pki.leaf), "127.0.0.1", nil},
		{"pinned intermediate by address not named", pin(pki.inter), "127.0.0.1", ErrPinMismatch},
		{"pinned unrelated root", pin(pki.other), "localhost", ErrPinMismatch},
		{"allow self-signed", Policy{SecurityLevel: TlsAllowSelfSigned}, "127.0.0.1", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.policy.Client()
			require.NoError(t, err)
			resp, err := c.Get("https://" + net.JoinHostPort(tc.host, port) + "/")
			if tc.want != nil {
				requireErrorKind(t, err, tc.want)
				return
			}
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Contains(t, string(body), "s_server", "the page comes from openssl s_server -www")
		})
	}
}

func x509PoolFromPEM(t *testing.T, pemText string) *x509.CertPool {
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM([]byte(pemText)))
	return pool
}
