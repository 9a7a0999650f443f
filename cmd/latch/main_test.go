package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// latchBin is the latch binary that TestMain builds once; every test runs
// it as a subprocess, as a user would.
var latchBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "latch-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	latchBin = filepath.Join(dir, "latch")
	build := exec.Command("go", "build", "-o", latchBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building latch:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is how one run of latch ended.
type result struct {
	stdout, stderr string
	code           int
}

// latch runs the binary in dir with stdin (nil for none) and returns its
// output and exit code.
func latchIn(t *testing.T, dir string, stdin []byte, args ...string) result {
	t.Helper()
	cmd := exec.Command(latchBin, args...)
	cmd.Dir = dir
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		require.True(t, ok, "running latch: %v", err)
		code = ee.ExitCode()
	}
	return result{o.String(), e.String(), code}
}

func latch(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	return latchIn(t, "", stdin, args...)
}

// ok requires exit code 0 and nothing on standard error.
func (r result) ok(t *testing.T) result {
	t.Helper()
	require.Equal(t, 0, r.code, "exit code; stderr: %s", r.stderr)
	require.Empty(t, r.stderr)
	return r
}

// fails requires exit code code and one line on standard error containing
// each of want.
func (r result) fails(t *testing.T, code int, want ...string) {
	t.Helper()
	require.Equal(t, code, r.code, "exit code; stdout: %s\nstderr: %s", r.stdout, r.stderr)
	require.True(t, strings.HasPrefix(r.stderr, "latch"), "stderr starts with latch: %q", r.stderr)
	require.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line on stderr: %q", r.stderr)
	require.True(t, strings.HasSuffix(r.stderr, "\n"))
	for _, w := range want {
		require.Contains(t, r.stderr, w)
	}
}

func TestUsage(t *testing.T) {
	r := latch(t, nil)
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stdout, "latch tls pin")

	r = latch(t, nil, "--help").ok(t)
	for _, c := range commands {
		require.Contains(t, r.stdout, "latch "+c.name, "the overview lists every command")
	}

	latch(t, nil, "frobnicate").fails(t, exitUsage, `unknown command "frobnicate"`)
	latch(t, nil, "tls", "frob").fails(t, exitUsage, `unknown command "frob"`)
	r = latch(t, nil, "tls")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stdout, "latch tls check")
	latch(t, nil, "token", "--help").ok(t)
	latch(t, nil, "tls", "pin", "--bogus").fails(t, exitUsage, "flag provided but not defined: -bogus", "latch tls pin --help")
	latch(t, nil, "tls", "pin").fails(t, exitUsage, "missing argument")
	latch(t, nil, "tls", "pin", "https://a", "b").fails(t, exitUsage, `unexpected argument "b"`)
	latch(t, nil, "tls", "pin", "--now", "yesterday", "https://127.0.0.1:1").fails(t, exitUsage, "--now")
}

// TestHelpEveryCommand: every command has --help, with its usage line, its
// flags and an example that runs the command itself.
func TestHelpEveryCommand(t *testing.T) {
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			r := latch(t, nil, append(strings.Fields(c.name), "--help")...).ok(t)
			require.Contains(t, r.stdout, "Usage: latch "+c.name)
			_, ex, found := strings.Cut(r.stdout, "\nExample:\n")
			require.True(t, found)
			require.Contains(t, ex, "latch "+c.name, "the example runs the command")
			for _, w := range strings.Fields(ex) {
				if name, ok := strings.CutPrefix(w, "--"); ok {
					name, _, _ = strings.Cut(name, "=")
					require.Contains(t, r.stdout, "\n  --"+name, "the example uses a flag the command does not have")
				}
			}
			r2 := latch(t, nil, append([]string{"help"}, strings.Fields(c.name)...)...).ok(t)
			require.Equal(t, r.stdout, r2.stdout, "latch help CMD is CMD --help")
		})
	}
}

// TestDocListsEveryCommand: the package doc shows every command, and only
// commands that exist, each with flags the command has.
func TestDocListsEveryCommand(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	shown := map[string]bool{}
	for _, line := range strings.Split(string(src), "\n") {
		_, cmdline, ok := strings.Cut(line, "latch ")
		if !ok || !strings.HasPrefix(line, "//\t") || strings.HasPrefix(cmdline, "@") {
			continue
		}
		words := strings.Fields(cmdline)
		if strings.Contains(words[0], "/") {
			continue // the go install line
		}
		cmd, rest := lookup(words)
		require.NotNil(t, cmd, "doc.go shows an unknown command: %s", line)
		shown[cmd.name] = true
		help := latch(t, nil, append(strings.Fields(cmd.name), "--help")...).ok(t).stdout
		for _, w := range rest {
			if name, ok := strings.CutPrefix(w, "--"); ok {
				require.Contains(t, help, "  --"+name, "doc.go uses a flag %s does not have", cmd.name)
			}
		}
	}
	for _, c := range commands {
		require.True(t, shown[c.name], "doc.go does not show %s", c.name)
	}
}

func TestOverviewOrder(t *testing.T) {
	out := latch(t, nil, "--help").ok(t).stdout
	last := -1
	for _, g := range groups {
		i := strings.Index(out, "  latch "+g.name+" ")
		require.Greater(t, i, last, "commands listed in the order of the groups")
		last = i
	}
	require.Contains(t, latch(t, nil, "token", "issue", "--help").ok(t).stdout, "Usage: latch token issue [flags]\n")
}
