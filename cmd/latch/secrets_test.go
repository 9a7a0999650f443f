package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// runIn runs latch in the current process and returns standard output,
// standard error and the exit code.
func runIn(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var o, e bytes.Buffer
	code := run(args, strings.NewReader(""), &o, &e)
	return o.String(), e.String(), code
}

// exampleArgs is the first command line of a command's example, without
// "latch", the pipes and redirections, with every URL's host made
// 127.0.0.1:1 (nothing listens there; nothing leaves this machine).
func exampleArgs(c *command) []string {
	lines := strings.Split(strings.ReplaceAll(c.example, "\\\n", " "), "\n")
	line := lines[0]
	if c.name == "token revoke" { // the first line needs a Redis server
		line = lines[1]
	}
	if _, after, ok := strings.Cut(line, "| latch "); ok && strings.HasPrefix(line, "echo") {
		line = "latch " + after
	}
	var out []string
	for _, f := range strings.Fields(line)[1:] {
		if f == "|" || f == "<" || f == ">" {
			break
		}
		if u, err := url.Parse(f); err == nil && u.Host != "" {
			u.Host = "127.0.0.1:1"
			f = u.String()
		}
		out = append(out, f)
	}
	return out
}

// TestErrorsNeverHoldSecrets puts a token, a key set, a token key, a TOTP
// secret and key URI, and sealing keys in every argument position of every
// command (each positional argument and flag value of its example, every
// flag it has, an extra argument, an unknown flag, the command words), and
// checks that standard error never holds 12 characters of the secret. It
// failed before: "latch token verify lt_eyJ..." answered "cannot read the
// token: lt_eyJ...: file name too long". As flags may come anywhere, each
// flag (short forms too) gets the secret as its value both after the
// example's arguments and right after the command words.
func TestErrorsNeverHoldSecrets(t *testing.T) {
	// No name lookups from this process: a secret taken for a host name
	// must not leave the machine either.
	saved := net.DefaultResolver
	net.DefaultResolver = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no network in this test")
	}}
	t.Cleanup(func() { net.DefaultResolver = saved })
	dir := t.TempDir()
	t.Chdir(dir)

	mustRun := func(args ...string) string {
		o, e, code := runIn(t, args...)
		require.Equal(t, 0, code, "%v: %s", args, e)
		return o
	}
	mustRun("token", "keygen", "--keys", "keys.json")
	tok := strings.TrimSpace(mustRun("token", "issue", "--keys", "keys.json", "--issuer", "https://platform.example",
		"--audience", "api", "--prefix", "lt_", "--subject", "user-42", "--scope", "data:read", "--expires", "30d"))
	require.NoError(t, os.WriteFile("token.txt", []byte(tok+"\n"), 0o600))
	pub := mustRun("seal", "keygen", "--private", "integration.key")
	require.NoError(t, os.WriteFile("integration.pub", []byte(pub), 0o644))
	mustRun("seal", "keygen", "--e2e", "e2e.key")
	mustRun("sign", "keygen", "--private", "signing.key")
	mustRun("totp", "enroll", "--issuer", "Acme", "--account", "alice@example.com", "--out", "alice.totp")
	read := func(name string) string {
		b, err := os.ReadFile(name)
		require.NoError(t, err)
		return strings.TrimSpace(string(b))
	}
	keySet, sealKey, e2eKey, keyURI := read("keys.json"), read("integration.key"), read("e2e.key"), read("alice.totp")
	signKey := read("signing.key")
	u, err := url.Parse(keyURI)
	require.NoError(t, err)
	totpSecret := u.Query().Get("secret")
	require.NotEmpty(t, totpSecret)

	secrets := map[string]string{
		"token": tok, "token without prefix": strings.TrimPrefix(tok, "lt_"), "key set": keySet,
		"sealing key": sealKey, "end-to-end key": e2eKey, "key URI": keyURI, "TOTP secret": totpSecret,
		"signing key": signKey,
	}
	// cores are the random parts of each secret, which no output may show.
	cores := map[string][]string{}
	for name, s := range secrets {
		for _, run := range denseRun.FindAllString(s, -1) {
			if secretLike(run) {
				cores[name] = append(cores[name], run)
			}
		}
		require.NotEmpty(t, cores[name], name)
	}
	leaks := func(stderr string, core []string) bool {
		for _, c := range core {
			for i := 0; i+minShown <= len(c); i++ {
				if strings.Contains(stderr, c[i:i+minShown]) {
					return true
				}
			}
		}
		return false
	}

	runs := 0
	for _, c := range commands {
		base := exampleArgs(c)
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c.setup(fs)
		addShortFlags(c, fs)
		var lines [][]string
		words := strings.Fields(c.name)
		for i := range base {
			if i < len(words) {
				continue // the command words, below
			}
			l := append([]string(nil), base...)
			l[i] = "\x00" // the secret goes here
			lines = append(lines, l)
			if strings.HasPrefix(base[i], "--") && !strings.Contains(base[i], "=") {
				l = append([]string(nil), base...)
				l[i] = base[i] + "=\x00"
				lines = append(lines, l)
			}
		}
		// Every flag (short forms too) with the secret as its value, after
		// the example's arguments and, as flags may come anywhere, right
		// after the command words.
		fs.VisitAll(func(f *flag.Flag) {
			lines = append(lines, append(append([]string(nil), base...), "--"+f.Name+"=\x00"))
			lines = append(lines, append(append([]string(nil), base...), "--"+f.Name, "\x00"))
			lines = append(lines, slices.Concat(words, []string{"-" + f.Name, "\x00"}, base[len(words):]))
		})
		lines = append(lines,
			append(append([]string(nil), base...), "\x00"),
			append(append([]string(nil), base...), "--\x00"),
			append(append([]string(nil), base...), "\x00", "\x00"),
			append(append([]string(nil), base...), "--", "\x00"),
			slices.Concat(words, []string{"\x00"}, base[len(words):]),
			[]string{words[0], "\x00"}, []string{"\x00"}, []string{"\x00", "--help"})
		for _, l := range lines {
			for name, secret := range secrets {
				args := make([]string, len(l))
				for i, a := range l {
					args[i] = strings.ReplaceAll(a, "\x00", secret)
				}
				_, stderr, _ := runIn(t, args...)
				runs++
				if leaks(stderr, cores[name]) {
					t.Errorf("latch %s with the %s in %q: standard error shows it:\n%s", c.name, name, strings.Join(l, " "), stderr)
				}
			}
		}
	}
	t.Logf("%d command lines with a secret in them", runs)
}
