package main

import (
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFlagsAfterArguments: flags may come before, between and after the
// positional arguments, with the same result; "--" ends the flags.
func TestFlagsAfterArguments(t *testing.T) {
	te := newTokenEnv(t)
	tok := te.issue(t, "--subject", "user-42", "--scope", "data:read", "--expires", "30d")
	tokFile := filepath.Join(te.dir, "token.txt")
	require.NoError(t, os.WriteFile(tokFile, []byte(tok+"\n"), 0o600))

	before := te.run(t, nil, "token", "inspect", "--keys", te.keys, "--prefix", "lt_", "--now", testNow, tokFile).ok(t).stdout
	require.Contains(t, before, "subject:    user-42")
	after := te.run(t, nil, "token", "inspect", tokFile, "--keys", te.keys, "--prefix", "lt_", "--now", testNow).ok(t).stdout
	require.Equal(t, before, after)
	between := te.run(t, nil, "token", "inspect", "--keys", te.keys, tokFile, "--prefix=lt_", "--now", testNow).ok(t).stdout
	require.Equal(t, before, between)

	// A bool flag takes no value: the argument after it is positional.
	js := te.run(t, nil, "token", "inspect", "--json", tokFile, "--keys", te.keys, "--prefix", "lt_").ok(t).stdout
	require.Contains(t, js, `"sub": "user-42"`)

	// The issue's own example: verify TOKEN --keys k.json.
	r := te.run(t, nil, append([]string{"token", "verify", tokFile, "--keys", te.keys, "--now", testNow, "--no-revocation-check"}, tokenIDFlags...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	require.True(t, strings.HasPrefix(r.stdout, "valid\n"), r.stdout)

	// A flag's value is taken whatever it looks like, as package flag does.
	te.run(t, nil, "token", "inspect", tokFile, "--keys", "--prefix").fails(t, exitFailure, "--prefix")

	// After "--" every argument is positional, even one like a flag.
	te.run(t, nil, "token", "inspect", "--keys", te.keys, "--", "--json").fails(t, exitFailure, "--json: no such file")
	// One positional too many, wherever it is.
	te.run(t, nil, "token", "inspect", tokFile, "--keys", te.keys, "extra").fails(t, exitUsage, `unexpected argument "extra"`)
	te.run(t, nil, "token", "inspect", tokFile, "--keys", te.keys, "--bogus").fails(t, exitUsage, "flag provided but not defined: -bogus")
	te.run(t, nil, "token", "inspect", tokFile, "--keys").fails(t, exitUsage, "flag needs an argument: -keys")
	// --help anywhere shows the help.
	require.Contains(t, te.run(t, nil, "token", "inspect", tokFile, "--help").ok(t).stdout, "Usage: latch token inspect")
}

// TestVersion: latch --version, -version and version print the module
// version from the build information, which go version -m reads too.
func TestVersion(t *testing.T) {
	out, err := exec.Command("go", "version", "-m", latchBin).Output()
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^\tmod\tgithub.com/latchsec/latch\t(\S+)`).FindSubmatch(out)
	require.NotNil(t, m, "go version -m: %s", out)
	want := "latch " + string(m[1]) + "\n"
	for _, arg := range []string{"--version", "-version", "version"} {
		require.Equal(t, want, latch(t, nil, arg).ok(t).stdout, arg)
	}
	latch(t, nil, "version", "extra").fails(t, exitUsage, `unexpected argument "extra"`)
	require.Contains(t, latch(t, nil, "--help").ok(t).stdout, "latch --version")

	// In this test binary, built from a checkout by go test.
	o, _, code := runIn(t, "--version")
	require.Equal(t, exitOK, code)
	require.Equal(t, "latch "+version()+"\n", o)
	require.NotEmpty(t, version())
}

// TestShortFlags: -a (--base64), -r (--to), -i (--key of seal open) and -o
// (--out) are the same flags as their long forms, shown beside them in
// --help, and exist only where the long flag does.
func TestShortFlags(t *testing.T) {
	dir := t.TempDir()
	priv, pub := sealKeys(t, dir, "a")
	plain := []byte("request body\n")
	ctx := "integration/42/request/7"

	b64 := latch(t, plain, "seal", "seal", "-r", pub, "--context", ctx, "-a").ok(t).stdout
	_, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	require.NoError(t, err, "-a is --base64")
	r := latch(t, []byte(b64), "seal", "open", "-i", priv, "--context", ctx, "-a").ok(t)
	require.Equal(t, plain, []byte(r.stdout))
	r = latch(t, []byte(b64), "seal", "open", "--key", priv, "--context", ctx, "--base64").ok(t)
	require.Equal(t, plain, []byte(r.stdout))
	// After the argument too: seal open has none, so the envelope comes
	// from standard input; -r= form with "=".
	b64 = latch(t, plain, "seal", "seal", "--context", ctx, "-r="+pub, "-a=true").ok(t).stdout
	r = latch(t, []byte(b64), "seal", "open", "--context", ctx, "-a", "-i", priv).ok(t)
	require.Equal(t, plain, []byte(r.stdout))

	// -o: totp enroll writes its key URI there.
	keyFile := filepath.Join(dir, "alice.totp")
	latch(t, nil, "totp", "enroll", "--issuer", "Acme", "--account", "alice@example.com", "--no-qr", "-o", keyFile).ok(t)
	uri, err := os.ReadFile(keyFile)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(uri), "otpauth://totp/"), string(uri))

	// --help shows each short form beside its flag.
	help := latch(t, nil, "seal", "open", "--help").ok(t).stdout
	require.Contains(t, help, "\n  --key, -i FILE\n")
	require.Contains(t, help, "\n  --base64, -a\n")
	require.NotContains(t, help, "\n  --i", "a short form is not listed as a flag of its own")
	require.Contains(t, latch(t, nil, "seal", "seal", "--help").ok(t).stdout, "\n  --to, -r KEY\n")
	require.Contains(t, latch(t, nil, "tls", "pin", "--help").ok(t).stdout, "\n  --out, -o FILE\n")

	// Only where the long flag is: -i is seal open's alone (--key means
	// another key in seal wrap and totp code), and token commands have no
	// -o.
	latch(t, nil, "seal", "wrap", "-i", priv).fails(t, exitUsage, "flag provided but not defined: -i")
	latch(t, nil, "totp", "code", "-i", keyFile).fails(t, exitUsage, "flag provided but not defined: -i")
	latch(t, nil, "token", "keygen", "-o", filepath.Join(dir, "k.json")).fails(t, exitUsage, "flag provided but not defined: -o")
}
