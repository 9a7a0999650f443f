package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchsec/latch/integrator"
	"github.com/latchsec/latch/sealedbox"
	"github.com/stretchr/testify/require"
)

// signKeys makes a signing key in dir and returns its file and the
// verifying key text.
func signKeys(t *testing.T, dir, name string, extra ...string) (string, string) {
	t.Helper()
	file := filepath.Join(dir, name+".sigk")
	vk := strings.TrimSpace(latch(t, nil, append([]string{"sign", "keygen", "--private", file}, extra...)...).ok(t).stdout)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".vk"), []byte(vk+"\n"), 0o644))
	return file, vk
}

func TestSignKeygen(t *testing.T) {
	dir := t.TempDir()
	file, vk := signKeys(t, dir, "i")
	st, err := os.Stat(file)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	k, err := sealedbox.ParseVerifyingKey(vk)
	require.NoError(t, err)
	require.Same(t, sealedbox.MLDSA65Ed25519(), k.Scheme(), "the default scheme")
	text, err := os.ReadFile(file)
	require.NoError(t, err)
	sk, err := sealedbox.ParseSigningKey(strings.TrimSpace(string(text)))
	require.NoError(t, err)
	require.True(t, sk.VerifyingKey().Equal(k))
	require.NotContains(t, vk, strings.TrimSpace(string(text))[20:])

	latch(t, nil, "sign", "keygen", "--private", file).fails(t, exitFailure, "already exists")
	_, vk = signKeys(t, dir, "e", "--scheme", "Ed25519")
	k, err = sealedbox.ParseVerifyingKey(vk)
	require.NoError(t, err)
	require.Same(t, sealedbox.Ed25519(), k.Scheme())
	latch(t, nil, "sign", "keygen", "--private", filepath.Join(dir, "x"), "--scheme", "RSA").fails(t, exitUsage, `--scheme "RSA"`)
	latch(t, nil, "sign", "keygen").fails(t, exitUsage, "--private is required")
}

// TestSealSignedOpen: seal --sign, then open --signer reports the signer;
// every refusal is one line on standard error with no key, no signing key
// and no plaintext in it.
func TestSealSignedOpen(t *testing.T) {
	dir := t.TempDir()
	priv, pub := sealKeys(t, dir, "app", "--suite", "X25519")
	signer, vk := signKeys(t, dir, "integrator")
	_, strangerVK := signKeys(t, dir, "cloud", "--scheme", "Ed25519")
	cloudSigner := filepath.Join(dir, "cloud.sigk")
	plain := []byte(`{"method":"GET","url":"https://api.example.com","secret":"s3cr3t-plaintext"}`)
	ctx := "integration/42/request/7"
	signingText, err := os.ReadFile(signer)
	require.NoError(t, err)
	privText, err := os.ReadFile(priv)
	require.NoError(t, err)
	noSecret := func(s string) {
		t.Helper()
		require.NotContains(t, s, "s3cr3t-plaintext")
		require.NotContains(t, s, strings.TrimSpace(string(signingText))[15:60])
		require.NotContains(t, s, strings.TrimSpace(string(privText))[16:])
	}

	env := latch(t, plain, "seal", "seal", "--to", pub, "--sign", signer, "--context", ctx).ok(t).stdout
	require.Len(t, env, len(plain)+sealedbox.X25519().Overhead()+sealedbox.MLDSA65Ed25519().Overhead())
	r := latch(t, []byte(env), "seal", "open", "--key", priv, "--signer", filepath.Join(dir, "integrator.vk"), "--signer", strangerVK, "--context", ctx)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, string(plain), r.stdout)
	k, err := sealedbox.ParseVerifyingKey(vk)
	require.NoError(t, err)
	require.Equal(t, "signed by key id "+k.KeyID().String()+"\n", r.stderr)

	fail := func(stdin string, code int, want string, args ...string) {
		t.Helper()
		r := latch(t, []byte(stdin), args...)
		r.fails(t, code, want)
		noSecret(r.stderr)
		require.Empty(t, r.stdout)
	}
	fail(env, exitUsage, "the envelope is signed; give --signer", "seal", "open", "--key", priv, "--context", ctx)
	fail(env, exitFailure, "none of the --signer keys signed it", "seal", "open", "--key", priv, "--signer", strangerVK, "--context", ctx)
	r = latch(t, []byte(env), "seal", "open", "--key", priv, "--signer", strangerVK, "--context", ctx)
	require.NotContains(t, r.stderr, "altered", "one reason, not two")
	fail(env, exitFailure, "another context", "seal", "open", "--key", priv, "--signer", vk, "--context", "integration/42/request/8")

	// The cloud re-seals the plaintext to the app's key: unsigned, or
	// signed with its own key.
	unsigned := latch(t, plain, "seal", "seal", "--to", pub, "--context", ctx).ok(t).stdout
	fail(unsigned, exitFailure, "may have replaced a signed envelope", "seal", "open", "--key", priv, "--signer", vk, "--context", ctx)
	own := latch(t, plain, "seal", "seal", "--to", pub, "--sign", cloudSigner, "--context", ctx).ok(t).stdout
	fail(own, exitFailure, "none of the --signer keys signed it", "seal", "open", "--key", priv, "--signer", vk, "--context", ctx)

	// Keys in the wrong places.
	fail("x", exitFailure, "holds a verifying key", "seal", "seal", "--to", pub, "--sign", filepath.Join(dir, "integrator.vk"), "--context", ctx)
	fail(env, exitFailure, "that is a signing key", "seal", "open", "--key", priv, "--signer", strings.TrimSpace(string(signingText)), "--context", ctx)
	fail(env, exitFailure, "signing key", "seal", "open", "--key", priv, "--signer", signer, "--context", ctx)
}

// TestSignKeysetAndRequest: the integrator's key set and signed request
// made with the CLI are accepted by the app's StatementVerifier.
func TestSignKeysetAndRequest(t *testing.T) {
	dir := t.TempDir()
	priv, pub := sealKeys(t, dir, "app", "--suite", "X25519")
	signer, vk := signKeys(t, dir, "integrator", "--scheme", "Ed25519")
	doc := latch(t, nil, "sign", "keyset", "--key", vk, "--valid", "30d", "--now", testNow).ok(t).stdout
	set, err := integrator.ParseKeySet("api.example.com", []byte(doc))
	require.NoError(t, err)
	require.Len(t, set.Keys, 1)

	def := `{"method":"GET","url":"https://api.example.com/state","securityLevel":"TlsWithCACheck","authorization":{"type":"OAuthAccessToken","accessToken":"s3cr3t-access"}}`
	env := latch(t, []byte(def), "sign", "request", "--to", pub, "--sign", signer, "--integration", "in_7", "--request", "rq_42", "--version", "3").ok(t).stdout
	text, err := os.ReadFile(priv)
	require.NoError(t, err)
	appKey, err := sealedbox.ParsePrivateKey(strings.TrimSpace(string(text)))
	require.NoError(t, err)
	now, err := time.Parse(time.RFC3339, testNow)
	require.NoError(t, err)
	v := &integrator.StatementVerifier{Keys: set, Versions: &oneVersion{}, Now: func() time.Time { return now.Add(time.Hour) }}
	s, err := v.Open(appKey, []byte(env), "in_7", "rq_42")
	require.NoError(t, err)
	require.Equal(t, uint64(3), s.Version)
	require.Equal(t, "s3cr3t-access", s.Definition.Authorization.AccessToken)

	r := latch(t, []byte(strings.Replace(def, "GET", "TRACE", 1)), "sign", "request", "--to", pub, "--sign", signer, "--integration", "in_7", "--request", "rq_42", "--version", "3")
	r.fails(t, exitFailure, "method")
	require.NotContains(t, r.stderr, "s3cr3t-access")
	latch(t, []byte(def), "sign", "request", "--to", pub, "--sign", signer, "--integration", "in_7", "--request", "rq_42").fails(t, exitUsage, "--version")
	latch(t, nil, "sign", "keyset").fails(t, exitUsage, "--key is required")
	latch(t, nil, "sign", "keyset", "--key", vk, "--valid", "soon").fails(t, exitUsage, "--valid")
}

// oneVersion is the app's VersionStore for a single request, in memory.
type oneVersion struct {
	version uint64
	digest  [32]byte
}

func (o *oneVersion) LoadVersion(string, string) (uint64, [32]byte, error) {
	return o.version, o.digest, nil
}

func (o *oneVersion) SaveVersion(_, _ string, version uint64, digest [32]byte) error {
	o.version, o.digest = version, digest
	return nil
}
