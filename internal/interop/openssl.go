package interop

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// opensslCA is a minimal "openssl ca" configuration: a root, an
// intermediate with path length 0, and a server leaf whose subject
// alternative names come from the environment variable LATCH_SAN.
const opensslCA = `[ca]
default_ca = latch
[latch]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
[root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[inter]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = ${ENV::LATCH_SAN}
authorityKeyIdentifier = keyid
`

// OpenSSLChain makes a certificate chain with the openssl command-line
// tool (not with Go) in dir: root.pem, inter.pem (signed by the root, path
// length 0) and leaf.pem (signed by the intermediate, server auth, with the
// subject alternative names san, such as "DNS:localhost,IP:127.0.0.1"),
// each with its .key, valid from notBefore to notAfter, plus a self-signed
// root NAME.pem for each of otherRoots. Subjects are "CN=OpenSSL NAME".
func OpenSSLChain(t testing.TB, openssl, dir, san string, notBefore, notAfter time.Time, otherRoots ...string) {
	t.Helper()
	for name, content := range map[string]string{"ca.cnf": opensslCA, "index.txt": "", "serial": "1000\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(openssl, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "LATCH_SAN="+san)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	dates := []string{"-startdate", notBefore.UTC().Format("20060102150405Z"), "-enddate", notAfter.UTC().Format("20060102150405Z")}
	for _, n := range append([]string{"root", "inter", "leaf"}, otherRoots...) {
		run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", n+".key")
		run("req", "-new", "-key", n+".key", "-subj", "/CN=OpenSSL "+n, "-out", n+".csr")
	}
	ca := func(args ...string) {
		t.Helper()
		run(append(append([]string{"ca", "-batch", "-notext", "-config", "ca.cnf"}, dates...), args...)...)
	}
	ca("-selfsign", "-keyfile", "root.key", "-in", "root.csr", "-extensions", "root", "-out", "root.pem")
	for _, n := range otherRoots {
		ca("-selfsign", "-keyfile", n+".key", "-in", n+".csr", "-extensions", "root", "-out", n+".pem")
	}
	ca("-cert", "root.pem", "-keyfile", "root.key", "-in", "inter.csr", "-extensions", "inter", "-out", "inter.pem")
	ca("-cert", "inter.pem", "-keyfile", "inter.key", "-in", "leaf.csr", "-extensions", "leaf", "-out", "leaf.pem")
}

// StartSServer runs "openssl s_server -www" on 127.0.0.1 at a port the
// kernel picks, serving dir's leaf.pem with inter.pem as its chain (as
// OpenSSLChain makes them), and returns the port. It is killed when the
// test ends.
func StartSServer(t testing.TB, openssl, dir string) string {
	t.Helper()
	cmd := exec.Command(openssl, "s_server", "-accept", "127.0.0.1:0",
		"-cert", "leaf.pem", "-key", "leaf.key", "-cert_chain", "inter.pem", "-www")
	cmd.Dir = dir
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	drained := make(chan struct{})
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-drained
		_ = cmd.Wait()
	})
	// s_server prints "ACCEPT 127.0.0.1:PORT" once it listens.
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), "ACCEPT "); ok {
			go func() {
				defer close(drained)
				_, _ = io.Copy(io.Discard, out)
			}()
			_, port, err := net.SplitHostPort(addr)
			if err != nil {
				t.Fatal(err)
			}
			return port
		}
	}
	close(drained)
	t.Fatalf("openssl s_server exited before listening: %v", sc.Err())
	return ""
}
