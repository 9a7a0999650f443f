package story_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/examples/internal/story"
	"github.com/latchsec/latch/internal/interop"
	"github.com/latchsec/latch/internal/testclock"
	"github.com/latchsec/latch/internal/testlog"
)

// TestStory runs the whole story. Every step of it checks itself (the
// refusals included: 403 without the scope, 401 once revoked, a wrong
// device secret, a sealed request under another key, a replayed and an
// altered message, a definition that no API gives back); this test checks
// that it completed, what it told, and what the audit log and state hold.
func TestStory(t *testing.T) { runStory(t, nil) }

// The same story with the revocation list and the TOTP records on Redis.
func TestStoryOnRedis(t *testing.T) {
	r := interop.StartRedis(t)
	runStory(t, &redis.UniversalOptions{Addrs: []string{r.Addr()}})
}

func runStory(t *testing.T, rdb *redis.UniversalOptions) {
	ctx := context.Background()
	// The clock starts at the real time (the certificates made during the
	// story are checked by crypto/tls against it) and moves only when the
	// story asks.
	c := testclock.New(time.Now().Truncate(time.Second))
	dir := t.TempDir()
	var out, audit, logs syncBuffer
	res, err := story.Run(ctx, story.Options{Out: &out, StateDir: dir, Audit: &audit, Log: &logs, Now: c.Now, Advance: c.Advance, Redis: rdb})
	require.NoError(t, err, "narration so far:\n%s", out.String())
	require.NoError(t, res.Platform.Close())

	// The narration: numbered steps in plain sentences, then the end line.
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if rdb != nil {
		require.Contains(t, lines[1], "Redis at "+strings.Join(rdb.Addrs, ","))
		lines = append(lines[:1], lines[2:]...)
		for i := 1; i < len(lines)-1; i++ { // renumber after the Redis step
			_, rest, _ := strings.Cut(lines[i], ". ")
			lines[i] = fmt.Sprintf("%2d. %s", i+1, rest)
		}
	}
	require.Len(t, lines, 25)
	for i, l := range lines[:24] {
		require.Regexp(t, fmt.Sprintf(`^ ?%d\. [A-Z].*\.$`, i+1), l)
	}
	require.Contains(t, lines[4], "403")
	require.Contains(t, lines[5], "401")
	require.Contains(t, lines[6], "invalid_scope")
	require.Contains(t, lines[7], "the device refuses it")
	require.Regexp(t, `label reads setup code [0-9]{4}-[0-9]{4}-[0-9];`, lines[7])
	require.Contains(t, lines[8], "refused by the broker")
	require.Contains(t, lines[10], "TlsPinnedCertificate")
	require.Contains(t, lines[15], "refuses")
	require.Contains(t, lines[16], "the device runs nothing")
	require.Contains(t, lines[16], "changed: securityLevel, pinnedCertificate, authorization.tokenUrl.scheme")
	require.Contains(t, lines[17], "(200)")
	require.Contains(t, lines[18], "pins the set")
	require.Contains(t, lines[21], "refuses it: the envelope is not signed by Acme")
	require.Contains(t, lines[22], "has accepted version 2 for this request and refuses it")
	require.Equal(t, "The story completed: every step did what it said, and every refusal happened.", lines[24])

	// The audit log: one JSON object per line, every security event of
	// the story, and no secret.
	log := audit.String()
	for _, event := range []string{
		"signed up", "sign-in refused", "signed in", "token created", "token revoked", "api token refused",
		"device added", "connect refused", "integrator registered", "integrator token issued", "token narrowed",
		"integration switched on", "request sealed", "device reported", "signed out everywhere",
		"signed request stored",
	} {
		require.Contains(t, log, `"msg":"`+event+`"`)
	}
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		require.True(t, json.Valid([]byte(line)), line)
	}
	require.NotEmpty(t, res.Secrets)
	for _, s := range res.Secrets {
		require.NotContains(t, log, s)
		require.NotContains(t, out.String(), s)
	}

	// The device's and Acme's logs: what each did, and no secret either.
	partyLog := logs.String()
	for _, line := range strings.Split(strings.TrimSpace(partyLog), "\n") {
		require.True(t, json.Valid([]byte(line)), line)
	}
	for _, event := range []string{
		`"party":"device"`, `"party":"acme"`, `"msg":"executing"`, `"msg":"rule executed"`, `"msg":"message refused"`,
		`"msg":"door opened"`, `"msg":"request registered"`,
	} {
		require.Contains(t, partyLog, event)
	}
	for _, s := range res.Secrets {
		if strings.HasPrefix(s, "https://") {
			// Where a request goes is kept from the platform, but the
			// device's own log names it, without its query
			// (integrator.Request.LogValue).
			continue
		}
		require.NotContains(t, partyLog, s)
	}

	// The state directory: the database holds none of them either (the
	// story checked it while running; the write-ahead log is folded in
	// at Close, so check again), and only its owner can read it.
	db, err := os.ReadFile(filepath.Join(dir, "platform.db"))
	require.NoError(t, err)
	for _, s := range res.Secrets {
		require.False(t, bytes.Contains(db, []byte(s)))
	}
	fi, err := os.Stat(filepath.Join(dir, "platform.db"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	// The device saved the refresh token Acme rotated, bound to Acme's
	// token endpoint, and it is not the one in the definition (which Acme
	// has retired). It ran four rules: the request, the rewritten one it
	// refused, the request again and the signed back door's.
	var flash struct {
		Highest     uint64                       `json:"highest"`
		Credentials map[string]map[string]string `json:"credentials"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "device-flash.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &flash))
	require.Equal(t, uint64(4), flash.Highest, "the front door's rule, the rewritten one it refused, the rule again, then the signed back door's")
	require.Len(t, flash.Credentials, 2, "one request in each of the two integrations")
	var forms []string
	for _, byRequest := range flash.Credentials {
		require.Len(t, byRequest, 1)
		for _, form := range byRequest {
			forms = append(forms, form)
		}
	}
	// The app kept Acme's pinned key set and the version it accepted of
	// the signed back door in its state file.
	var appState struct {
		KeySets  map[string]json.RawMessage `json:"keySets"`
		Versions []struct {
			RequestID string `json:"requestId"`
			Version   uint64 `json:"version"`
		} `json:"versions"`
	}
	b, err = os.ReadFile(filepath.Join(dir, "app-state.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &appState))
	require.Len(t, appState.KeySets, 1)
	require.Len(t, appState.Versions, 1)
	require.Equal(t, "rq_back_door", appState.Versions[0].RequestID)
	require.EqualValues(t, 2, appState.Versions[0].Version)
	for _, form := range forms {
		f := strings.Fields(form)
		require.Len(t, f, 9)
		require.Equal(t, "latch-integrator-credential/v1", f[0])
		require.Equal(t, "TlsPinnedCertificate", f[2])
		rt := f[8]
		require.True(t, strings.HasPrefix(rt, "art_"))
		require.NotContains(t, res.Secrets, rt)
	}
}

// A state directory that already holds a platform is refused rather than
// mixed with a new story.
func TestStoryRefusesUsedState(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "platform.db"), nil, 0o600))
	var out bytes.Buffer
	_, err := story.Run(context.Background(), story.Options{Out: &out, StateDir: dir})
	require.ErrorContains(t, err, "already holds a platform")
}

// syncBuffer collects what servers log.
type syncBuffer = testlog.Buffer
