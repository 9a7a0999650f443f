package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The command as the README runs it: the story completes, exit 0, and the
// state is where -state said. (The story's own test, with an injected
// clock, is in examples/internal/story.)
func TestRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	var out, errOut bytes.Buffer
	code := run([]string{"-state", dir}, &out, &errOut)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	require.Contains(t, out.String(), "\nThe story completed: every step did what it said, and every refusal happened.\n")
	// Nothing is left running: the addresses the story served on refuse
	// connections once run has returned.
	addrs := regexp.MustCompile(`(?:https|ssl)://(127\.0\.0\.1:\d+)`).FindAllStringSubmatch(out.String(), -1)
	require.GreaterOrEqual(t, len(addrs), 3) // platform API, Acme, broker
	for _, m := range addrs {
		c, err := net.Dial("tcp", m[1])
		if err == nil {
			c.Close()
		}
		require.Error(t, err, "%s still accepts connections", m[1])
	}
	for _, f := range []string{"platform.db", "audit.log", "master.key", "device-flash.json"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, f)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), f)
	}

	// The same state again is refused, with a non-zero exit.
	out.Reset()
	errOut.Reset()
	require.Equal(t, 1, run([]string{"-state", dir}, &out, &errOut))
	require.Contains(t, errOut.String(), "the story failed")
	require.False(t, strings.Contains(out.String(), "The story completed"))

	require.Equal(t, 2, run([]string{"-nope"}, &out, &errOut))
}
