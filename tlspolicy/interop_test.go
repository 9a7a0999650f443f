package tlspolicy

import (
	"bufio"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	dir                      string
	root, inter, leaf, other string // PEM
}

func makeOpenSSLPKI(t *testing.T, openssl string) *opensslPKI {
	dir := t.TempDir()
	cnf, err := os.ReadFile(filepath.Join("testdata", "openssl-ca.cnf"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ca.cnf"), cnf, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.txt"), nil, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "serial"), []byte("1000\n"), 0o600))

	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(openssl, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "openssl %s\n%s", strings.Join(args, " "), out)
	}
	dates := []string{
		"-startdate", testpki.Now.Add(-30 * 24 * time.Hour).Format("20060102150405Z"),
		"-enddate", testpki.Now.Add(365 * 24 * time.Hour).Format("20060102150405Z"),
	}
	for _, n := range []string{"root", "inter", "leaf", "other"} {
		run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", n+".key")
		run("req", "-new", "-key", n+".key", "-subj", "/CN=OpenSSL "+n, "-out", n+".csr")
	}
	ca := func(args ...string) {
		t.Helper()
		run(append(append([]string{"ca", "-batch", "-notext", "-config", "ca.cnf"}, dates...), args...)...)
	}
	ca("-selfsign", "-keyfile", "root.key", "-in", "root.csr", "-extensions", "root", "-out", "root.pem")
	ca("-selfsign", "-keyfile", "other.key", "-in", "other.csr", "-extensions", "root", "-out", "other.pem")
	ca("-cert", "root.pem", "-keyfile", "root.key", "-in", "inter.csr", "-extensions", "inter", "-out", "inter.pem")
	ca("-cert", "inter.pem", "-keyfile", "inter.key", "-in", "leaf.csr", "-extensions", "leaf", "-out", "leaf.pem")

	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		return string(b)
	}
	return &opensslPKI{dir: dir, root: read("root.pem"), inter: read("inter.pem"), leaf: read("leaf.pem"), other: read("other.pem")}
}

// startSServer runs "openssl s_server -www" on 127.0.0.1 at a port the
// kernel picks, serving the leaf with the intermediate as its chain, and
// returns its port. It is killed when the test ends.
func startSServer(t *testing.T, openssl string, pki *opensslPKI) string {
	cmd := exec.Command(openssl, "s_server", "-accept", "127.0.0.1:0",
		"-cert", "leaf.pem", "-key", "leaf.key", "-cert_chain", "inter.pem", "-www")
	cmd.Dir = pki.dir
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = io.Discard
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	// s_server prints "ACCEPT 127.0.0.1:PORT" once it listens.
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), "ACCEPT "); ok {
			go func() { _, _ = io.Copy(io.Discard, out) }()
			_, port, err := net.SplitHostPort(addr)
			require.NoError(t, err)
			return port
		}
	}
	t.Fatalf("openssl s_server exited before listening: %v", sc.Err())
	return ""
}

// TestInteropOpenSSL runs the policies against openssl s_server serving a
// chain that the openssl command-line tool made.
func TestInteropOpenSSL(t *testing.T) {
	openssl := interop.Program(t, "openssl", "openssl")
	pki := makeOpenSSLPKI(t, openssl)
	port := startSServer(t, openssl, pki)

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
