package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchsec/latch/sealedbox"
	"github.com/latchsec/latch/sealedbox/e2e"
	"github.com/stretchr/testify/require"
)

// sealKeys makes a key pair in dir and returns the private key file and
// the public key text.
func sealKeys(t *testing.T, dir, name string, extra ...string) (string, string) {
	t.Helper()
	priv := filepath.Join(dir, name+".key")
	r := latch(t, nil, append([]string{"seal", "keygen", "--private", priv}, extra...)...).ok(t)
	pub := strings.TrimSpace(r.stdout)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".pub"), []byte(pub+"\n"), 0o644))
	return priv, pub
}

func TestSealKeygen(t *testing.T) {
	dir := t.TempDir()
	priv, pub := sealKeys(t, dir, "a")
	st, err := os.Stat(priv)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	k, err := sealedbox.ParsePublicKey(pub)
	require.NoError(t, err)
	require.Equal(t, sealedbox.MLKEM768X25519(), k.Suite(), "the default suite")
	text, err := os.ReadFile(priv)
	require.NoError(t, err)
	sk, err := sealedbox.ParsePrivateKey(strings.TrimSpace(string(text)))
	require.NoError(t, err)
	require.True(t, sk.PublicKey().Equal(k), "the printed public key is the private key's")

	before := string(text)
	latch(t, nil, "seal", "keygen", "--private", priv).fails(t, exitFailure, "a.key already exists; refusing to overwrite it")
	after, err := os.ReadFile(priv)
	require.NoError(t, err)
	require.Equal(t, before, string(after))

	_, pub = sealKeys(t, dir, "x", "--suite", "X25519")
	k, err = sealedbox.ParsePublicKey(pub)
	require.NoError(t, err)
	require.Equal(t, sealedbox.X25519(), k.Suite())

	latch(t, nil, "seal", "keygen", "--private", filepath.Join(dir, "b.key"), "--suite", "P256").fails(t, exitUsage, `--suite "P256"`)
	latch(t, nil, "seal", "keygen").fails(t, exitUsage, "give --private FILE or --e2e FILE")
	latch(t, nil, "seal", "keygen", "--private", "p", "--e2e", "e").fails(t, exitUsage, "give --private FILE or --e2e FILE")

	e2e := filepath.Join(dir, "e2e.key")
	latch(t, nil, "seal", "keygen", "--e2e", e2e).ok(t)
	st, err = os.Stat(e2e)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	latch(t, nil, "seal", "keygen", "--e2e", e2e).fails(t, exitFailure, "already exists")
}

func TestSealOpen(t *testing.T) {
	dir := t.TempDir()
	priv, pub := sealKeys(t, dir, "a")
	otherPriv, _ := sealKeys(t, dir, "b", "--suite", "X25519")
	plain := []byte(`{"method":"GET","url":"https://api.example.com"}` + "\n\x00binary too")
	ctx := "integration/42/request/7"

	// The public key as text and as a file; binary and base64 envelopes.
	env := latch(t, plain, "seal", "seal", "--to", pub, "--context", ctx).ok(t).stdout
	require.Len(t, env, len(plain)+sealedbox.MLKEM768X25519().Overhead())
	r := latch(t, []byte(env), "seal", "open", "--key", priv, "--context", ctx).ok(t)
	require.Equal(t, plain, []byte(r.stdout))

	b64 := latch(t, plain, "seal", "seal", "--to", filepath.Join(dir, "a.pub"), "--context", ctx, "--base64").ok(t).stdout
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	require.NoError(t, err)
	r = latch(t, []byte(b64), "seal", "open", "--key", priv, "--context", ctx, "--base64").ok(t)
	require.Equal(t, plain, []byte(r.stdout))
	envFile := filepath.Join(dir, "env.bin")
	require.NoError(t, os.WriteFile(envFile, raw, 0o600))
	r = latch(t, nil, "seal", "open", "--key", priv, "--context", ctx, envFile).ok(t)
	require.Equal(t, plain, []byte(r.stdout))

	// The Go package opens what the command seals.
	text, err := os.ReadFile(priv)
	require.NoError(t, err)
	sk, err := sealedbox.ParsePrivateKey(strings.TrimSpace(string(text)))
	require.NoError(t, err)
	got, err := sealedbox.Open(sk, []byte(env), []byte(ctx))
	require.NoError(t, err)
	require.Equal(t, plain, got)

	// An empty context is a choice to make explicitly.
	latch(t, plain, "seal", "seal", "--to", pub).fails(t, exitUsage, "--context is required")
	noCtx := latch(t, plain, "seal", "seal", "--to", pub, "--context=").ok(t).stdout
	latch(t, []byte(noCtx), "seal", "open", "--key", priv, "--context=").ok(t)

	tampered := []byte(env)
	tampered[len(tampered)-5] ^= 1
	sk2, err := sealedbox.ParsePrivateKey(strings.TrimSpace(string(mustRead(t, otherPriv))))
	require.NoError(t, err)
	cases := []struct {
		name  string
		stdin []byte
		args  []string
		code  int
		want  []string
	}{
		{"wrong context", []byte(env), []string{"--key", priv, "--context", "integration/42/request/8"}, exitFailure,
			[]string{"sealedbox: cannot open: the envelope was altered or truncated, or sealed under another context"}},
		{"tampered envelope", tampered, []string{"--key", priv, "--context", ctx}, exitFailure,
			[]string{"sealedbox: cannot open: the envelope was altered"}},
		{"truncated envelope", []byte(env[:40]), []string{"--key", priv, "--context", ctx}, exitFailure,
			[]string{"sealedbox: cannot open: malformed input"}},
		{"another key", []byte(env), []string{"--key", otherPriv, "--context", ctx}, exitFailure,
			[]string{"envelope sealed to another key", "this key is " + sk2.KeyID().String()}},
		{"public key given as the private key", []byte(env), []string{"--key", filepath.Join(dir, "a.pub"), "--context", ctx}, exitFailure,
			[]string{"a.pub holds a public key; give the private key file"}},
		{"missing key file", []byte(env), []string{"--key", filepath.Join(dir, "nope.key"), "--context", ctx}, exitFailure,
			[]string{"cannot read the private key", "nope.key: no such file or directory"}},
		{"not base64", []byte("%%%"), []string{"--key", priv, "--context", ctx, "--base64"}, exitFailure,
			[]string{"the envelope is not base64"}},
		{"no key", []byte(env), []string{"--context", ctx}, exitUsage, []string{"--key is required"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := latch(t, tc.stdin, append([]string{"seal", "open"}, tc.args...)...)
			r.fails(t, tc.code, tc.want...)
			require.Empty(t, r.stdout, "nothing half-opened is written")
		})
	}
	latch(t, plain, "seal", "seal", "--to", strings.TrimSpace(string(text)), "--context", ctx).
		fails(t, exitFailure, "that is a private key; give the public key")
	latch(t, plain, "seal", "seal", "--to", "latch_pk_x25519_AAAA", "--context", ctx).fails(t, exitFailure, "sealedbox: invalid key")
	latch(t, bytes.Repeat([]byte("a"), 1<<20+1), "seal", "seal", "--to", pub, "--context", ctx).
		fails(t, exitFailure, "sealedbox: input too large")
}

func mustRead(t *testing.T, name string) []byte {
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	return b
}

func TestSealWrapUnwrap(t *testing.T) {
	dir := t.TempDir()
	priv, pub := sealKeys(t, dir, "a")
	_, otherPub := sealKeys(t, dir, "b")
	e2eFile := filepath.Join(dir, "e2e.key")
	latch(t, nil, "seal", "keygen", "--e2e", e2eFile).ok(t)
	otherE2E := filepath.Join(dir, "other-e2e.key")
	latch(t, nil, "seal", "keygen", "--e2e", otherE2E).ok(t)

	// The end-to-end key file holds its text form.
	e2eText := strings.TrimSpace(string(mustRead(t, e2eFile)))
	require.True(t, strings.HasPrefix(e2eText, "latch_e2e_"), "the end-to-end key's text form")
	_, err := e2e.ParseKey(e2eText)
	require.NoError(t, err)

	// seal wrap prints the wrapped key's text form.
	wrapped := latch(t, nil, "seal", "wrap", "--e2e", e2eFile, "--key", priv).ok(t).stdout
	require.True(t, strings.HasPrefix(wrapped, "latch_wk_mlkem768x25519_"), wrapped)
	require.Equal(t, 1, strings.Count(wrapped, "\n"))
	// Its binary, as FORMAT.md describes the text: base64url of the
	// wrapped key and a 4-byte checksum.
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(strings.TrimSpace(wrapped), "latch_wk_mlkem768x25519_"))
	require.NoError(t, err)
	raw := payload[:len(payload)-4]
	require.Len(t, raw, 114, "a wrapped key is 114 bytes")
	require.Equal(t, "LSW\x01", string(raw[:4]))
	require.NotContains(t, wrapped, strings.TrimSpace(string(mustRead(t, priv))))

	out := filepath.Join(dir, "back.key")
	r := latch(t, []byte(wrapped), "seal", "unwrap", "--e2e", e2eFile, "--public", pub, "--out", out).ok(t)
	require.Contains(t, r.stdout, "wrote "+out)
	require.Equal(t, mustRead(t, priv), mustRead(t, out))
	st, err := os.Stat(out)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	// And from a file.
	wf := filepath.Join(dir, "integration.wrapped")
	require.NoError(t, os.WriteFile(wf, []byte(wrapped), 0o600))
	latch(t, nil, "seal", "unwrap", "--e2e", e2eFile, "--public", filepath.Join(dir, "a.pub"), "--out", filepath.Join(dir, "back2.key"), wf).ok(t)

	// The binary and base64 forms of before are refused, as is a typo.
	unwrapIn := func(in []byte) result {
		return latch(t, in, "seal", "unwrap", "--e2e", e2eFile, "--public", pub, "--out", filepath.Join(dir, "x.key"))
	}
	unwrapIn(raw).fails(t, exitFailure, "the wrapped key is not one", "latch_wk_")
	unwrapIn([]byte(base64.StdEncoding.EncodeToString(raw))).fails(t, exitFailure, "the wrapped key is not one")
	typo := []byte(wrapped)
	typo[50] = 'A'
	if wrapped[50] == 'A' {
		typo[50] = 'B'
	}
	unwrapIn(typo).fails(t, exitFailure, "bad checksum")
	unwrapIn([]byte(e2eText)).fails(t, exitFailure, "the wrapped key is not one")

	notKey := filepath.Join(dir, "not-e2e.key")
	require.NoError(t, os.WriteFile(notKey, []byte("c2hvcnQ\n"), 0o600))
	unwrap := func(args ...string) result {
		return latch(t, []byte(wrapped), append([]string{"seal", "unwrap"}, args...)...)
	}
	unwrap("--e2e", e2eFile, "--public", otherPub, "--out", filepath.Join(dir, "x.key")).
		fails(t, exitFailure, "public key does not belong to the wrapped private key", "was swapped")
	unwrap("--e2e", otherE2E, "--public", pub, "--out", filepath.Join(dir, "x.key")).fails(t, exitFailure, "e2e: cannot open")
	unwrap("--e2e", notKey, "--public", pub, "--out", filepath.Join(dir, "x.key")).fails(t, exitFailure, "is not an end-to-end key")
	unwrap("--e2e", e2eFile, "--public", pub, "--out", out).fails(t, exitFailure, "back.key already exists")
	unwrap("--e2e", e2eFile, "--public", pub).fails(t, exitUsage, "--e2e, --public and --out are required")
	_, err = os.Stat(filepath.Join(dir, "x.key"))
	require.ErrorIs(t, err, os.ErrNotExist, "nothing is written when unwrapping fails")

	latch(t, nil, "seal", "wrap", "--e2e", e2eFile, "--key", filepath.Join(dir, "a.pub")).fails(t, exitFailure, "holds a public key")
	latch(t, nil, "seal", "wrap", "--e2e", priv, "--key", priv).fails(t, exitFailure, "is not an end-to-end key")
	// The unpadded base64url of before is refused, by its missing prefix.
	old := filepath.Join(dir, "old-e2e.key")
	require.NoError(t, os.WriteFile(old, []byte(base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, 32))+"\n"), 0o600))
	latch(t, nil, "seal", "wrap", "--e2e", old, "--key", priv).fails(t, exitFailure, "is not an end-to-end key (latch_e2e_...")
}
