package main

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchsec/latch/internal/interop"
	"github.com/latchsec/latch/internal/testpki"
	"github.com/latchsec/latch/tlspolicy"
	"github.com/stretchr/testify/require"
)

// testNow is the --now of every test: the time testpki's certificates are
// valid around.
var testNow = testpki.Now.Format(time.RFC3339)

// pki is a root, an intermediate, and leaves under it.
type pki struct {
	root, inter, other *testpki.Cert
	leaf               *testpki.Cert // localhost and 127.0.0.1
	named              *testpki.Cert // api.example.test only
	expired            *testpki.Cert // localhost and 127.0.0.1, expired an hour before testpki.Now
	self               *testpki.Cert // self-signed, device.local and 127.0.0.1
}

func newPKI(t *testing.T) *pki {
	p := &pki{}
	p.root = testpki.New(t, testpki.Options{CommonName: "Test Root", CA: true,
		NotAfter: testpki.Now.AddDate(10, 0, 0)}, nil)
	p.inter = testpki.New(t, testpki.Options{CommonName: "Test Intermediate", CA: true,
		NotAfter: testpki.Now.AddDate(3, 0, 0)}, p.root)
	p.other = testpki.New(t, testpki.Options{CommonName: "Other Root", CA: true}, nil)
	p.leaf = testpki.New(t, testpki.Options{CommonName: "localhost"}, p.inter)
	p.named = testpki.New(t, testpki.Options{CommonName: "api.example.test", Hosts: []string{"api.example.test"}}, p.inter)
	p.expired = testpki.New(t, testpki.Options{CommonName: "expired", NotBefore: testpki.Now.AddDate(-1, 0, 0),
		NotAfter: testpki.Now.Add(-time.Hour)}, p.inter)
	p.self = testpki.New(t, testpki.Options{CommonName: "device.local", Hosts: []string{"device.local", "127.0.0.1"}}, nil)
	return p
}

// serveTLS serves cert (with chain) over HTTPS on 127.0.0.1 and returns the
// port.
func serveTLS(t *testing.T, cert tls.Certificate) string {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	srv.Config.ErrorLog = newDiscardLogger()
	testpki.Start(t, srv, &cert)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)
	return port
}

func writeFile(t *testing.T, dir, name, content string) string {
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// sha256Colon is the SHA-256 fingerprint as openssl x509 -fingerprint
// writes it, computed here independently of the command's code.
func sha256Colon(der []byte) string {
	sum := sha256.Sum256(der)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var parts []string
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

// pinJSON runs latch tls pin --json and decodes its report.
func pinJSON(t *testing.T, args ...string) (pinReport, result) {
	t.Helper()
	r := latch(t, nil, append([]string{"tls", "pin", "--json", "--now", testNow}, args...)...)
	var rep pinReport
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	return rep, r
}

func TestTLSPinIntermediateChain(t *testing.T) {
	p := newPKI(t)
	port := serveTLS(t, p.leaf.TLS(p.inter))
	dir := t.TempDir()
	roots := writeFile(t, dir, "roots.pem", p.root.PEM())

	rep, r := pinJSON(t, "--roots", roots, "https://localhost:"+port)
	r.ok(t)
	require.Len(t, rep.Chain, 2)
	require.Equal(t, "CN=localhost", rep.Chain[0].Subject)
	require.Equal(t, "CN=Test Intermediate", rep.Chain[0].Issuer)
	require.Equal(t, []string{"localhost"}, rep.Chain[0].DNSNames)
	require.Equal(t, []string{"127.0.0.1"}, rep.Chain[0].IPAddresses)
	require.Equal(t, sha256Colon(p.leaf.Cert.Raw), rep.Chain[0].SHA256)
	require.Equal(t, sha256Colon(p.inter.Cert.Raw), rep.Chain[1].SHA256)
	require.True(t, rep.Chain[1].IsCA)
	require.True(t, rep.CACheckWorks, "the chain leads to --roots")
	require.True(t, rep.Chain[0].PinWorks)
	require.True(t, rep.Chain[1].PinWorks)
	require.True(t, rep.Chain[0].PinBreaksAt.Equal(p.leaf.Cert.NotAfter))
	require.True(t, rep.Chain[1].PinBreaksAt.Equal(p.inter.Cert.NotAfter), "an intermediate pin lasts as long as the intermediate")
	require.Equal(t, 1, rep.Pinned, "a public API: pin the issuing intermediate")
	require.NotNil(t, rep.Policy)
	require.Equal(t, tlspolicy.TlsPinnedCertificate, rep.Policy.SecurityLevel)
	require.Equal(t, p.inter.PEM(), rep.Policy.PinnedCertificate)

	// The human output: the chain, both recommendations, and a policy
	// that tls check accepts.
	r = latch(t, nil, "tls", "pin", "--now", testNow, "--roots", roots, "https://localhost:"+port).ok(t)
	for _, want := range []string{
		"[0] CN=localhost, the server's certificate",
		"[1] CN=Test Intermediate, the intermediate that issued it",
		"valid:       2026-05-31 12:00 UTC to 2027-06-01 12:00 UTC (expires in 365 days)",
		"names:       localhost, 127.0.0.1",
		"sha256:      " + sha256Colon(p.leaf.Cert.Raw),
		"for a device on a local network, pin [0]",
		"for a public API that renews its certificate, pin [1]",
		"breaks on 2029-06-01",
		"TlsWithCACheck        works",
		"Policy pinning [1]",
	} {
		require.Contains(t, r.stdout, want)
	}
	policyLine := r.stdout[strings.LastIndex(strings.TrimSpace(r.stdout), "\n")+1:]
	policy := writeFile(t, dir, "policy.json", policyLine)
	latch(t, nil, "tls", "check", "--now", testNow, "--policy", policy, "https://localhost:"+port+"/status").ok(t)

	// --pin leaf gives the leaf's policy, which --out writes.
	out := filepath.Join(dir, "leaf-policy.json")
	rep, r = pinJSON(t, "--pin", "leaf", "--out", out, "https://localhost:"+port)
	r.ok(t)
	require.Equal(t, 0, rep.Pinned)
	require.Equal(t, p.leaf.PEM(), rep.Policy.PinnedCertificate)
	var written tlspolicy.Policy
	require.NoError(t, json.Unmarshal(mustRead(t, out), &written))
	require.Equal(t, tlspolicy.TlsPinnedCertificate, written.SecurityLevel)
	require.Equal(t, p.leaf.PEM(), written.PinnedCertificate)
	latch(t, nil, "tls", "check", "--now", testNow, "--policy", out, "https://127.0.0.1:"+port).ok(t)
	latch(t, nil, "tls", "pin", "--now", testNow, "--out", out, "https://localhost:"+port).fails(t, exitFailure, "leaf-policy.json already exists")
	require.False(t, rep.CACheckWorks, "without --roots, the test root is not trusted")
	require.Contains(t, rep.CACheckProblem, "does not lead to a trusted root")
}

// TestTLSPinByAddressNotNamed: a device reaches a server by an address its
// certificate does not name. Only the leaf can be pinned.
func TestTLSPinByAddressNotNamed(t *testing.T) {
	p := newPKI(t)
	port := serveTLS(t, p.named.TLS(p.inter))
	rep, r := pinJSON(t, "https://127.0.0.1:"+port)
	r.ok(t)
	require.False(t, rep.Chain[1].PinWorks)
	require.Contains(t, rep.Chain[1].PinProblem, "the server's certificate names api.example.test, not 127.0.0.1")
	require.True(t, rep.Chain[0].PinWorks)
	require.Equal(t, 0, rep.Pinned, "the leaf is the pin that works")

	r = latch(t, nil, "tls", "pin", "--now", testNow, "--pin", "issuer", "https://127.0.0.1:"+port)
	r.fails(t, exitFailure, "pinning certificate [1] would not work for 127.0.0.1", "names api.example.test, not 127.0.0.1")
	require.NotContains(t, r.stdout, "Policy pinning", "no policy is printed for a pin that does not work")
}

func TestTLSPinSelfSigned(t *testing.T) {
	p := newPKI(t)
	port := serveTLS(t, p.self.TLS())
	rep, r := pinJSON(t, "https://127.0.0.1:"+port)
	r.ok(t)
	require.Len(t, rep.Chain, 1)
	require.True(t, rep.Chain[0].SelfSigned)
	require.Equal(t, 0, rep.Pinned)
	require.Equal(t, p.self.PEM(), rep.Policy.PinnedCertificate)
	require.Contains(t, rep.CACheckProblem, "self-signed or from a private CA")

	latch(t, nil, "tls", "pin", "--now", testNow, "--pin", "issuer", "https://127.0.0.1:"+port).
		fails(t, exitFailure, "did not send the certificate that issued its own")
	latch(t, nil, "tls", "pin", "--now", testNow, "--pin", "1", "https://127.0.0.1:"+port).
		fails(t, exitUsage, `--pin "1": want leaf, issuer or a number from 0 to 0`)
}

func TestTLSPinExpired(t *testing.T) {
	p := newPKI(t)
	port := serveTLS(t, p.expired.TLS(p.inter))
	r := latch(t, nil, "tls", "pin", "--now", testNow, "https://127.0.0.1:"+port)
	r.fails(t, exitFailure, "no certificate the server sent can be pinned for 127.0.0.1",
		`certificate "CN=expired" expired on 2026-06-01 11:00 UTC (checked at 2026-06-01 12:00 UTC)`)
	require.Contains(t, r.stdout, "(expired 1h0m0s ago)")
	require.Contains(t, r.stdout, "TlsPinnedCertificate  no certificate the server sent works as the pin now:")
	require.NotContains(t, r.stdout, "Policy pinning")

	// A day earlier it was fine: the judgement follows --now.
	latch(t, nil, "tls", "pin", "--now", "2026-05-31T12:00:00Z", "https://127.0.0.1:"+port).ok(t)
}

func TestTLSPinNotTLS(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	u := strings.Replace(srv.URL, "http://", "https://", 1)
	latch(t, nil, "tls", "pin", "--now", testNow, u).fails(t, exitFailure, "the server does not speak TLS on this port")
	latch(t, nil, "tls", "pin", srv.URL).fails(t, exitUsage, "is not an https:// URL")
	latch(t, nil, "tls", "pin", "api.example.com").fails(t, exitUsage, "is not a URL")
}

func TestTLSCheck(t *testing.T) {
	p := newPKI(t)
	good := serveTLS(t, p.leaf.TLS(p.inter))
	named := serveTLS(t, p.named.TLS(p.inter))
	expired := serveTLS(t, p.expired.TLS(p.inter))
	dir := t.TempDir()
	policy := func(name string, pol tlspolicy.Policy) string {
		b, err := json.Marshal(pol)
		require.NoError(t, err)
		return writeFile(t, dir, name, string(b))
	}
	pinInter := policy("inter.json", tlspolicy.Policy{SecurityLevel: tlspolicy.TlsPinnedCertificate, PinnedCertificate: p.inter.PEM()})
	pinOther := policy("other.json", tlspolicy.Policy{SecurityLevel: tlspolicy.TlsPinnedCertificate, PinnedCertificate: p.other.PEM()})
	caCheck := policy("ca.json", tlspolicy.Policy{SecurityLevel: tlspolicy.TlsWithCACheck})
	pinNamed := policy("named.json", tlspolicy.Policy{SecurityLevel: tlspolicy.TlsPinnedCertificate, PinnedCertificate: p.named.PEM()})
	pinSelf := policy("self.json", tlspolicy.Policy{SecurityLevel: tlspolicy.TlsPinnedCertificate, PinnedCertificate: p.self.PEM()})
	roots := writeFile(t, dir, "roots.pem", p.root.PEM())

	check := func(pol, url string, extra ...string) result {
		return latch(t, nil, append(append([]string{"tls", "check", "--now", testNow, "--policy", pol}, extra...), url)...)
	}
	r := check(pinInter, "https://localhost:"+good+"/").ok(t)
	require.Equal(t, "ok: TlsPinnedCertificate accepts localhost (the server answered 418 I'm a teapot)\n", r.stdout)
	check(caCheck, "https://localhost:"+good+"/", "--roots", roots).ok(t)

	cases := []struct {
		name, policy, url string
		want              string
	}{
		{"expired", pinInter, "https://localhost:" + expired, `certificate "CN=expired" expired on 2026-06-01 11:00 UTC`},
		{"wrong host", pinInter, "https://127.0.0.1:" + named, "the server's certificate names api.example.test, not 127.0.0.1; pin the server's own certificate"},
		{"not under the pin", pinOther, "https://localhost:" + good, "the server's certificate does not lead to the pinned certificate"},
		{"untrusted root", caCheck, "https://localhost:" + good, "the server's certificate does not lead to a trusted root"},
		{"plain http", pinInter, "http://localhost:" + good, "the URL is plain http://, which only AllowHttp permits"},
		{"refused connection", pinInter, "https://127.0.0.1:1", "cannot connect to 127.0.0.1:1"},
		{"pinned leaf of another server, by name", pinNamed, "https://localhost:" + good, "the server's certificate is not the pinned one (the server has a new or another certificate)"},
		{"pinned leaf of another server, by address", pinSelf, "https://127.0.0.1:" + good, "the server's certificate is not the pinned one"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := check(tc.policy, tc.url)
			r.fails(t, exitFailure, "refused: "+tc.want)
			require.Contains(t, r.stdout, "refused: ")

			r = check(tc.policy, tc.url, "--json")
			require.Equal(t, exitFailure, r.code)
			var rep checkReport
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
			require.False(t, rep.OK)
			require.Contains(t, rep.Problem, tc.want)
		})
	}
	// AllowHttp lets plain http through; the other levels refused it above.
	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)
	allowHTTP := policy("http.json", tlspolicy.Policy{SecurityLevel: tlspolicy.AllowHttp})
	r = check(allowHTTP, plain.URL).ok(t)
	require.Contains(t, r.stdout, "ok: AllowHttp accepts 127.0.0.1 (the server answered 404 Not Found)")

	// Judged a day earlier, the expired certificate is accepted.
	latch(t, nil, "tls", "check", "--now", "2026-05-31T12:00:00Z", "--policy", pinInter, "https://localhost:"+expired).ok(t)

	// Bad policies.
	badLevel := writeFile(t, dir, "bad-level.json", `{"securityLevel":"TLSWithCACheck"}`)
	pinAtCA := writeFile(t, dir, "pin-at-ca.json", fmt.Sprintf(`{"securityLevel":"TlsWithCACheck","pinnedCertificate":%q}`, p.inter.PEM()))
	notJSON := writeFile(t, dir, "not.json", `securityLevel: AllowHttp`)
	unknownField := writeFile(t, dir, "unknown.json", `{"securityLevel":"AllowHttp","pin":"x"}`)
	noPin := writeFile(t, dir, "nopin.json", `{"securityLevel":"TlsPinnedCertificate"}`)
	u := "https://localhost:" + good
	check(filepath.Join(dir, "missing.json"), u).fails(t, exitFailure, "cannot read the policy", "missing.json: no such file or directory")
	check(badLevel, u).fails(t, exitFailure, "is not a policy", "unknown security level")
	check(pinAtCA, u).fails(t, exitFailure, "a pinned certificate is used only at TlsPinnedCertificate")
	check(notJSON, u).fails(t, exitFailure, "is not a policy")
	check(unknownField, u).fails(t, exitFailure, `unknown field "pin"`)
	check(noPin, u).fails(t, exitFailure, "invalid pinned certificate: missing")
	latch(t, nil, "tls", "check", u).fails(t, exitUsage, "--policy is required")
}

// TestTLSPinOpenSSL runs tls pin and tls check against openssl s_server
// serving a chain the openssl tool made, and checks the fingerprints
// against openssl's own.
func TestTLSPinOpenSSL(t *testing.T) {
	openssl := interop.Program(t, "openssl", "openssl")
	dir := t.TempDir()
	interop.OpenSSLChain(t, openssl, dir, "DNS:localhost,IP:127.0.0.1",
		testpki.Now.Add(-30*24*time.Hour), testpki.Now.Add(365*24*time.Hour))
	port := interop.StartSServer(t, openssl, dir)

	rep, r := pinJSON(t, "--roots", filepath.Join(dir, "root.pem"), "https://localhost:"+port)
	r.ok(t)
	require.Len(t, rep.Chain, 2)
	require.True(t, rep.CACheckWorks)
	for i, name := range []string{"leaf.pem", "inter.pem"} {
		out := interop.Run(t, nil, openssl, "x509", "-in", filepath.Join(dir, name), "-noout", "-fingerprint", "-sha256")
		_, fp, ok := strings.Cut(strings.TrimSpace(string(out)), "=")
		require.True(t, ok, "%s", out)
		require.Equal(t, fp, rep.Chain[i].SHA256, "fingerprint of %s as openssl computes it", name)
		require.Equal(t, "CN=OpenSSL "+strings.TrimSuffix(name, ".pem"), rep.Chain[i].Subject)
	}
	inter, err := os.ReadFile(filepath.Join(dir, "inter.pem"))
	require.NoError(t, err)
	require.Equal(t, 1, rep.Pinned)
	requireSameCert(t, string(inter), rep.Policy.PinnedCertificate)

	// The printed policy works against s_server, by name; by address too
	// when the leaf is pinned.
	b, err := json.Marshal(rep.Policy)
	require.NoError(t, err)
	policy := writeFile(t, dir, "policy.json", string(b))
	r = latch(t, nil, "tls", "check", "--now", testNow, "--policy", policy, "https://localhost:"+port+"/").ok(t)
	require.Contains(t, r.stdout, "200 ok")

	rep, r = pinJSON(t, "--pin", "leaf", "https://127.0.0.1:"+port)
	r.ok(t)
	b, err = json.Marshal(rep.Policy)
	require.NoError(t, err)
	policy = writeFile(t, dir, "leaf.json", string(b))
	latch(t, nil, "tls", "check", "--now", testNow, "--policy", policy, "https://127.0.0.1:"+port+"/").ok(t)

	// A year and a day later the leaf has expired.
	latch(t, nil, "tls", "check", "--now", testpki.Now.AddDate(1, 0, 1).Format(time.RFC3339), "--policy", policy, "https://127.0.0.1:"+port+"/").
		fails(t, exitFailure, `certificate "CN=OpenSSL leaf" expired on 2027-06-01 12:00 UTC`)
}

func requireSameCert(t *testing.T, a, b string) {
	t.Helper()
	ba, _ := pem.Decode([]byte(a))
	bb, _ := pem.Decode([]byte(b))
	require.NotNil(t, ba)
	require.NotNil(t, bb)
	ca, err := x509.ParseCertificate(ba.Bytes)
	require.NoError(t, err)
	cb, err := x509.ParseCertificate(bb.Bytes)
	require.NoError(t, err)
	require.Equal(t, sha256.Sum256(ca.Raw), sha256.Sum256(cb.Raw))
}

func newDiscardLogger() *log.Logger { return log.New(io.Discard, "", 0) }

// TestTLSPinRootSent: a server that sends its root too. Every certificate
// can be pinned; a root pin lasts as long as the earliest expiry below it.
func TestTLSPinRootSent(t *testing.T) {
	p := newPKI(t)
	port := serveTLS(t, p.leaf.TLS(p.inter, p.root))
	rep, r := pinJSON(t, "https://localhost:"+port)
	r.ok(t)
	require.Len(t, rep.Chain, 3)
	require.Equal(t, "a root", rep.Chain[2].Role)
	require.True(t, rep.Chain[2].SelfSigned)
	for _, c := range rep.Chain {
		require.True(t, c.PinWorks, "[%d]: %s", c.Index, c.PinProblem)
	}
	require.True(t, rep.Chain[2].PinBreaksAt.Equal(p.root.Cert.NotAfter), "a root pin lasts as long as the root")
	require.Contains(t, rep.Chain[2].PinBreaksWhy, "the intermediates below the pin too, as long as they are issued under it")
	require.Contains(t, rep.Chain[1].PinBreaksWhy, "it breaks sooner if the CA issues from another one")
	require.Equal(t, 1, rep.Pinned)
	rep, r = pinJSON(t, "--pin", "2", "https://localhost:"+port)
	r.ok(t)
	require.Equal(t, p.root.PEM(), rep.Policy.PinnedCertificate)
}
