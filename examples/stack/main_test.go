package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/examples/internal/story"
	"github.com/latchsec/latch/tlspolicy"
	"github.com/latchsec/latch/totp"
)

// The command as the README runs it: the story completes, exit 0, and the
// state is where -state said. (The story's own test, with an injected
// clock, is in examples/internal/story.)
func TestRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"-state", dir}, &out, &errOut)
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
	for _, f := range []string{"platform.db", "audit.log", "parties.log", "master.key", "device-flash.json"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, f)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), f)
	}

	// The same state again is refused, with a non-zero exit.
	out.Reset()
	errOut.Reset()
	require.Equal(t, 1, run(t.Context(), []string{"-state", dir}, &out, &errOut))
	require.Contains(t, errOut.String(), "the story failed")
	require.False(t, strings.Contains(out.String(), "The story completed"))

	require.Equal(t, 2, run(t.Context(), []string{"-nope"}, &out, &errOut))
}

// lines is an io.Writer that hands each complete line to a channel, for a
// test that waits for what the command prints.
type lines struct {
	partial []byte
	c       chan string
}

func (l *lines) Write(p []byte) (int, error) {
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		l.c <- string(l.partial[:i])
		l.partial = l.partial[i+1:]
	}
}

// -serve: after the story the platform keeps serving (its console and its
// API answer, over its self-signed certificate) until the context is done
// (an interrupt, in main); then run returns 0 and nothing is left running.
func TestServe(t *testing.T) {
	ctx, interrupt := context.WithCancel(t.Context())
	defer interrupt()
	out := &lines{c: make(chan string, 1024)}
	var errOut bytes.Buffer
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"-serve"}, out, &errOut)
		close(out.c)
	}()
	var console, key string
	var all []string
	for line := range out.c {
		all = append(all, line)
		if u, ok := strings.CutPrefix(line, "The platform keeps running. Its web console: "); ok {
			console = u
		}
		if strings.HasPrefix(line, "  otpauth://") {
			key = strings.TrimSpace(line)
		}
		if line == "Press Ctrl-C to stop." {
			break
		}
	}
	require.NotEmpty(t, console, "output:\n%s\nstderr:\n%s", strings.Join(all, "\n"), errOut.String())
	require.NotEmpty(t, key)
	_, err := totp.ParseKeyURI(key)
	require.NoError(t, err)

	// The platform's certificate is made at start and trusted by nobody:
	// the level for that is TlsAllowSelfSigned.
	client, err := tlspolicy.Policy{SecurityLevel: tlspolicy.TlsAllowSelfSigned}.Client()
	require.NoError(t, err)
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Get(console + "signin")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	base := strings.TrimSuffix(console, "/console/")
	body := fmt.Sprintf(`{"email":%q,"password":%q}`, story.Email, story.Password)
	resp, err = client.Post(base+"/v1/signin", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	var ch struct{ Challenge string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&ch))
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotEmpty(t, ch.Challenge)

	interrupt()
	require.Equal(t, 0, <-code, errOut.String())
	for range out.c {
	}
	host := strings.TrimPrefix(base, "https://")
	c, err := net.Dial("tcp", host)
	if err == nil {
		c.Close()
	}
	require.Error(t, err, "%s still accepts connections", host)
}
