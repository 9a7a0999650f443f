package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchsec/latch/internal/interop"
	"github.com/stretchr/testify/require"
)

// tokenEnv is a folder with a key set, and the flags every token command
// of the tests shares.
type tokenEnv struct {
	dir, keys string
}

var tokenIDFlags = []string{"--issuer", "https://platform.example", "--audience", "api", "--prefix", "lt_"}

func newTokenEnv(t *testing.T) *tokenEnv {
	dir := t.TempDir()
	te := &tokenEnv{dir: dir, keys: filepath.Join(dir, "keys.json")}
	latch(t, nil, "token", "keygen", "--keys", te.keys).ok(t)
	return te
}

// secrets are the "k" members of the key set: key material, which no
// output may show.
func (te *tokenEnv) secrets(t *testing.T) []string {
	b, err := os.ReadFile(te.keys)
	require.NoError(t, err)
	var set struct {
		Keys []struct {
			K string `json:"k"`
		} `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(b, &set))
	var out []string
	for _, k := range set.Keys {
		require.Len(t, k.K, 43)
		out = append(out, k.K)
	}
	return out
}

// run runs a token command and checks that its output holds no key.
func (te *tokenEnv) run(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	r := latchIn(t, te.dir, stdin, args...)
	for _, k := range te.secrets(t) {
		require.NotContains(t, r.stdout+r.stderr, k, "key material printed")
	}
	return r
}

func (te *tokenEnv) issue(t *testing.T, extra ...string) string {
	t.Helper()
	args := append(append([]string{"token", "issue", "--keys", te.keys, "--now", testNow}, tokenIDFlags...), extra...)
	r := te.run(t, nil, args...).ok(t)
	tok := strings.TrimSpace(r.stdout)
	require.True(t, strings.HasPrefix(tok, "lt_eyJ"), tok)
	return tok
}

// verify runs latch token verify on tok; without a revocation flag in
// extra, against an empty revocation list file.
func (te *tokenEnv) verify(t *testing.T, tok string, extra ...string) result {
	t.Helper()
	args := append(append([]string{"token", "verify", "--keys", te.keys}, tokenIDFlags...), extra...)
	if !containsFlag(extra, "--revocations") && !containsFlag(extra, "--redis") && !containsFlag(extra, "--no-revocation-check") &&
		!containsFlag(extra, "--redis-prefix") {
		empty := filepath.Join(te.dir, "empty-revocations.json")
		require.NoError(t, os.WriteFile(empty, []byte(`{"ids":{},"subjects":{}}`), 0o644))
		args = append(args, "--revocations", empty)
	}
	if !containsFlag(extra, "--now") {
		args = append(args, "--now", testNow)
	}
	return te.run(t, []byte(tok+"\n"), args...)
}

func containsFlag(args []string, f string) bool {
	for _, a := range args {
		if a == f {
			return true
		}
	}
	return false
}

// TestTokenVerifyNeedsRevocationSource: without a revocation list, verify
// said "valid" for a revoked token. It now needs --revocations, --redis or
// an explicit --no-revocation-check, which says so on standard error.
func TestTokenVerifyNeedsRevocationSource(t *testing.T) {
	te := newTokenEnv(t)
	tok := te.issue(t, "--subject", "user-42", "--scope", "data:read", "--expires", "1h")
	revs := filepath.Join(te.dir, "revoked.json")
	te.run(t, []byte(tok), "token", "revoke", "--revocations", revs, "--keys", te.keys, "--prefix", "lt_", "--now", testNow).ok(t)
	base := append([]string{"token", "verify", "--keys", te.keys, "--now", testNow}, tokenIDFlags...)

	r := te.run(t, []byte(tok), base...)
	r.fails(t, exitUsage, "--revocations FILE", "--redis URL", "--no-revocation-check")
	require.NotContains(t, r.stdout, "valid")

	te.run(t, []byte(tok), append(base, "--revocations", revs)...).fails(t, exitFailure, "refused: token: invalid token: revoked")

	r = te.run(t, []byte(tok), append(base, "--no-revocation-check")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	require.True(t, strings.HasPrefix(r.stdout, "valid\n"), r.stdout)
	require.Contains(t, r.stderr, "revocation not checked")

	te.run(t, []byte(tok), append(base, "--no-revocation-check", "--revocations", revs)...).fails(t, exitUsage, "exclude")
	te.run(t, []byte(tok), append(base, "--no-revocation-check", "--redis", "redis://127.0.0.1:1/0")...).fails(t, exitUsage, "exclude")
}

func TestTokenKeygen(t *testing.T) {
	te := newTokenEnv(t)
	st, err := os.Stat(te.keys)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	before, err := os.ReadFile(te.keys)
	require.NoError(t, err)

	te.run(t, nil, "token", "keygen", "--keys", te.keys).fails(t, exitFailure, "keys.json already exists; refusing to overwrite it")
	after, err := os.ReadFile(te.keys)
	require.NoError(t, err)
	require.Equal(t, before, after)

	other := filepath.Join(te.dir, "other.json")
	r := te.run(t, nil, "token", "keygen", "--keys", other, "--json").ok(t)
	var rep keysReport
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
	require.Len(t, rep.KeyIDs, 1)
	require.Equal(t, rep.KeyIDs[0], rep.Active)
	te.run(t, nil, "token", "keygen").fails(t, exitUsage, "--keys is required")
	te.run(t, nil, "token", "keygen", "--keys", filepath.Join(te.dir, "no", "such", "dir.json")).fails(t, exitFailure, "no such file or directory")
}

func TestTokenLifecycle(t *testing.T) {
	te := newTokenEnv(t)
	tok := te.issue(t, "--subject", "user-42", "--scope", "data:read,devices:manage", "--app", "app-1", "--expires", "30d")

	// inspect, from a file and from standard input.
	tokFile := filepath.Join(te.dir, "token.txt")
	require.NoError(t, os.WriteFile(tokFile, []byte(tok+"\n"), 0o600))
	r := te.run(t, nil, "token", "inspect", "--keys", te.keys, "--prefix", "lt_", "--now", testNow, tokFile).ok(t)
	for _, want := range []string{
		"subject:    user-42", "audience:   api", "scopes:     data:read devices:manage", "apps:       app-1",
		"issued at:  2026-06-01T12:00:00Z", "expires:    2026-07-01T12:00:00Z (in 30 days)",
	} {
		require.Contains(t, r.stdout, want)
	}
	r = te.run(t, []byte(tok), "token", "inspect", "--keys", te.keys, "--prefix", "lt_", "--json").ok(t)
	var c claimsJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &c))
	require.Equal(t, "https://platform.example", c.Issuer)
	require.Equal(t, []string{"data:read", "devices:manage"}, c.Scopes)
	require.True(t, c.Expires.Equal(testpkiNow().AddDate(0, 0, 30)))
	require.Len(t, c.ID, 22)

	// verify, with scopes and apps.
	r = te.verify(t, tok, "--scope", "data:read", "--app", "app-1").ok(t)
	require.True(t, strings.HasPrefix(r.stdout, "valid\n"))
	te.verify(t, tok, "--scope", "data:write").fails(t, exitFailure, "refused: the token does not grant data:write (it grants data:read devices:manage)")
	te.verify(t, tok, "--app", "app-2").fails(t, exitFailure, "refused: the token is limited to app-1, not app-2")
	te.verify(t, tok, "--now", "2026-07-01T12:01:00Z").fails(t, exitFailure, "refused: token: invalid token: expired")
	te.verify(t, tok, "--now", "2026-05-31T12:00:00Z").fails(t, exitFailure, "refused: token: invalid token: not yet valid")
	te.run(t, []byte(tok), "token", "verify", "--keys", te.keys, "--issuer", "https://platform.example", "--audience", "billing", "--prefix", "lt_", "--now", testNow, "--no-revocation-check").
		fails(t, exitFailure, "refused: token: invalid token: wrong audience")
	te.run(t, []byte(tok), "token", "verify", "--keys", te.keys, "--issuer", "https://platform.example", "--audience", "api", "--now", testNow, "--no-revocation-check").
		fails(t, exitFailure, "refused: token: malformed: the token starts with a prefix", "pass --prefix")

	// A changed byte is caught.
	i := len(tok) - 30 // inside the ciphertext, not its last character
	swap := byte('A')
	if tok[i] == 'A' {
		swap = 'B'
	}
	tampered := tok[:i] + string(swap) + tok[i+1:]
	te.verify(t, tampered).fails(t, exitFailure, "refused: token: invalid token: decryption failed")
	te.run(t, []byte(tampered), "token", "inspect", "--keys", te.keys, "--prefix", "lt_").fails(t, exitFailure, "token: invalid token: decryption failed")

	// Rotation: the old token still verifies; after retiring its key, no.
	oldKid := keyIDs(t, te)[0]
	r = te.run(t, nil, "token", "rotate", "--keys", te.keys).ok(t)
	require.Contains(t, r.stdout, "verify-only: "+oldKid)
	st, err := os.Stat(te.keys)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "rotate keeps the file's permissions")
	ids := keyIDs(t, te)
	require.Len(t, ids, 2)
	require.Equal(t, oldKid, ids[1])
	te.verify(t, tok).ok(t)
	newTok := te.issue(t, "--subject", "user-42", "--scope", "data:read", "--no-expiry")
	r = te.run(t, []byte(newTok), "token", "inspect", "--keys", te.keys, "--prefix", "lt_", "--json").ok(t)
	var c2 claimsJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &c2))
	require.Equal(t, ids[0], c2.KeyID, "new tokens use the new key")
	require.True(t, c2.Expires.IsZero())
	te.run(t, nil, "token", "rotate", "--keys", te.keys, "--retire", ids[0]).fails(t, exitFailure, "the active key cannot be retired")
	te.run(t, nil, "token", "rotate", "--keys", te.keys, "--retire", oldKid).ok(t)
	te.verify(t, tok).fails(t, exitFailure, "refused: token: invalid token: unknown key id")
	te.verify(t, newTok).ok(t)
}

func keyIDs(t *testing.T, te *tokenEnv) []string {
	r := te.run(t, nil, "token", "rotate", "--keys", te.keys, "--retire", "no-such-kid")
	r.fails(t, exitFailure, "no key with that kid")
	b, err := os.ReadFile(te.keys)
	require.NoError(t, err)
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(b, &set))
	var ids []string
	for _, k := range set.Keys {
		ids = append(ids, k.Kid)
	}
	return ids
}

func testpkiNow() time.Time {
	t, _ := time.Parse(time.RFC3339, testNow)
	return t
}

func TestTokenRevoke(t *testing.T) {
	te := newTokenEnv(t)
	list := filepath.Join(te.dir, "revoked.json")
	a := te.issue(t, "--subject", "alice", "--scope", "data:read", "--expires", "1h")
	b := te.issue(t, "--subject", "bob", "--scope", "data:read", "--expires", "1h")
	never := te.issue(t, "--subject", "carol", "--scope", "data:read", "--no-expiry")
	revoked := func(tok string) {
		te.verify(t, tok, "--revocations", list).fails(t, exitFailure, "refused: token: invalid token: revoked")
	}
	valid := func(tok string) { te.verify(t, tok, "--revocations", list).ok(t) }

	te.verify(t, a, "--revocations", list).fails(t, exitFailure, "cannot read the revocation list", "revoked.json: no such file or directory")

	r := te.run(t, []byte(a), "token", "revoke", "--revocations", list, "--keys", te.keys, "--prefix", "lt_", "--now", testNow).ok(t)
	require.Contains(t, r.stdout, "of alice until it expires at 2026-06-01T13:00:00Z")
	revoked(a)
	valid(b)
	valid(never)

	te.run(t, nil, "token", "revoke", "--revocations", list, "--subject", "bob", "--now", testNow).ok(t)
	revoked(b)
	valid(never)

	var claims claimsJSON
	r = te.run(t, []byte(never), "token", "inspect", "--keys", te.keys, "--prefix", "lt_", "--json").ok(t)
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &claims))
	te.run(t, nil, "token", "revoke", "--revocations", list, "--id", claims.ID, "--now", testNow).ok(t)
	revoked(never)
	revoked(a)

	// The list holds ids, subjects and times, never tokens.
	doc, err := os.ReadFile(list)
	require.NoError(t, err)
	for _, tok := range []string{a, b, never} {
		require.NotContains(t, string(doc), tok[20:40])
	}

	// Bad inputs.
	te.run(t, nil, "token", "revoke", "--revocations", list, "--id", "x", "--subject", "y").fails(t, exitUsage, "one of them")
	te.run(t, nil, "token", "revoke", "--revocations", list, "--id", "not-an-id", "--now", testNow).fails(t, exitFailure, "not a token ID")
	te.run(t, []byte(a), "token", "revoke", "--revocations", list).fails(t, exitUsage, "--keys is required")
	te.run(t, nil, "token", "revoke", "--keys", te.keys).fails(t, exitUsage, "--revocations FILE or --redis URL is required")
	bad := filepath.Join(te.dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"ids":{"abc":0},"subjects":{}}`), 0o600))
	te.verify(t, a, "--revocations", bad).fails(t, exitFailure, "bad.json", "not a token ID")
}

func TestTokenBadInputs(t *testing.T) {
	te := newTokenEnv(t)
	tok := te.issue(t, "--subject", "user-42", "--scope", "data:read", "--expires", "1h")
	issue := append([]string{"token", "issue", "--keys", te.keys, "--now", testNow}, tokenIDFlags...)

	te.run(t, nil, append(issue, "--scope", "data:read", "--expires", "1h")...).fails(t, exitUsage, "--subject is required")
	te.run(t, nil, append(issue, "--subject", "u", "--expires", "1h")...).fails(t, exitUsage, "--scope is required")
	te.run(t, nil, append(issue, "--subject", "u", "--scope", "data:read")...).fails(t, exitUsage, "choose --expires DURATION or --no-expiry")
	te.run(t, nil, append(issue, "--subject", "u", "--scope", "data:read", "--expires", "1h", "--no-expiry")...).fails(t, exitUsage, "exclude each other")
	te.run(t, nil, append(issue, "--subject", "u", "--scope", "data:read", "--expires", "soon")...).fails(t, exitUsage, `--expires "soon"`)
	te.run(t, nil, append(issue, "--subject", "u", "--scope", "Data:*", "--expires", "1h")...).fails(t, exitFailure, "token: invalid claims")
	te.run(t, nil, "token", "issue", "--keys", te.keys, "--subject", "u", "--scope", "data:read", "--expires", "1h").fails(t, exitUsage, "--issuer is required")

	// Missing files, wrong kinds of key sets.
	missing := filepath.Join(te.dir, "missing.json")
	te.run(t, []byte(tok), "token", "inspect", "--keys", missing).fails(t, exitFailure, "cannot read the key set", "missing.json: no such file or directory")
	te.run(t, nil, "token", "inspect", "--keys", te.keys, filepath.Join(te.dir, "no-token.txt")).fails(t, exitFailure, "cannot read the token", "no such file or directory")
	te.run(t, []byte("  \n"), "token", "inspect", "--keys", te.keys).fails(t, exitFailure, "the token is empty")
	for name, set := range map[string]string{
		"ec key":      `{"keys":[{"kty":"EC","crv":"P-256","kid":"e","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","key_ops":["encrypt","decrypt"]}]}`,
		"short key":   `{"keys":[{"kty":"oct","kid":"s","k":"AAAAAAAAAAAAAAAAAAAAAA","key_ops":["encrypt","decrypt"]}]}`,
		"not a set":   `{"kty":"oct"}`,
		"not JSON":    `keys`,
		"no active":   `{"keys":[{"kty":"oct","kid":"a","k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","key_ops":["decrypt"]}]}`,
		"signing key": `{"keys":[{"kty":"oct","kid":"h","k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","alg":"HS256","key_ops":["encrypt","decrypt"]}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			f := filepath.Join(te.dir, strings.ReplaceAll(name, " ", "-")+".json")
			require.NoError(t, os.WriteFile(f, []byte(set), 0o600))
			r := te.run(t, []byte(tok), "token", "inspect", "--keys", f, "--prefix", "lt_")
			r.fails(t, exitFailure, filepath.Base(f)+": token: invalid key set")
			require.NotContains(t, r.stderr, "AAAAAAAAAAAAAAAAAAAA", "no key material in the message")
		})
	}
	// A key set of another platform: the kid is unknown.
	other := filepath.Join(te.dir, "other.json")
	te.run(t, nil, "token", "keygen", "--keys", other).ok(t)
	te.run(t, []byte(tok), "token", "inspect", "--keys", other, "--prefix", "lt_").fails(t, exitFailure, "token: invalid token: unknown key id")
}

// TestTokenRevokeRedis: revocations go to the Redis list that a fleet's
// servers mirror with token/redisrevoke, and latch token verify --redis
// reads them back in another process.
func TestTokenRevokeRedis(t *testing.T) {
	srv := interop.StartRedis(t)
	te := newTokenEnv(t)
	url := "redis://" + srv.Addr() + "/0"
	// Redis expires an entry at its token's exp by its own clock, which
	// --now cannot move, so the token revoked by id never expires.
	a := te.issue(t, "--subject", "alice", "--scope", "data:read", "--no-expiry")
	b := te.issue(t, "--subject", "bob", "--scope", "data:read", "--expires", "1h")

	te.verify(t, a, "--redis", url).ok(t)
	r := te.run(t, []byte(a), "token", "revoke", "--redis", url, "--keys", te.keys, "--prefix", "lt_", "--now", testNow).ok(t)
	require.Contains(t, r.stdout, "of alice for ever (it never expires)")
	te.verify(t, a, "--redis", url).fails(t, exitFailure, "refused: token: invalid token: revoked")
	te.verify(t, b, "--redis", url).ok(t)
	te.verify(t, a, "--redis", url, "--redis-prefix", "other:list").ok(t)
	te.run(t, nil, "token", "revoke", "--redis", url, "--subject", "bob", "--now", testNow).ok(t)
	te.verify(t, b, "--redis", url).fails(t, exitFailure, "refused: token: invalid token: revoked")

	// The password never comes from the command line.
	te.verify(t, a, "--redis", "redis://:hunter2@"+srv.Addr()+"/0").fails(t, exitUsage, "put the password in --redis-password-file")
	te.verify(t, a, "--redis", url, "--revocations", "x.json").fails(t, exitUsage, "exclude each other")
	te.verify(t, a, "--redis-prefix", "p").fails(t, exitUsage, "go with --redis")
	te.verify(t, a, "--redis", "http://x").fails(t, exitUsage, "--redis:")
	srv.Stop()
	te.verify(t, a, "--redis", url).fails(t, exitFailure, "cannot read the revocation list from Redis at "+srv.Addr())
}

// pythonJWKSet decrypts a token with a JWK Set file, or makes one with the
// set's first key, using Debian's python3-jwcrypto.
const pythonJWKSet = `
import sys, json
from jwcrypto import jwk, jwe
op, setfile = sys.argv[1], sys.argv[2]
keys = jwk.JWKSet.from_json(open(setfile).read())
if op == "decrypt":
    tok = sys.stdin.read().strip()
    obj = jwe.JWE()
    obj.allowed_algs = ["dir", "A256GCM"]
    obj.deserialize(tok[len(sys.argv[3]):])
    obj.decrypt(keys.get_key(obj.jose_header["kid"]))
    print(json.dumps(json.loads(obj.payload)))
else:
    key = list(keys["keys"])[0]
    hdr = {"alg": "dir", "enc": "A256GCM", "kid": key.key_id}
    obj = jwe.JWE(sys.stdin.read().encode(), protected=json.dumps(hdr))
    obj.allowed_algs = ["dir", "A256GCM"]
    obj.add_recipient(key)
    print(sys.argv[3] + obj.serialize(compact=True))
`

// TestTokenInteropJWCrypto: tokens of latch token issue decrypt with
// python3-jwcrypto reading the key set file as it is, and a token that
// jwcrypto makes with that file verifies with latch token verify.
func TestTokenInteropJWCrypto(t *testing.T) {
	py := interop.Python(t, []string{"jwcrypto"}, "python3-jwcrypto")
	te := newTokenEnv(t)
	tok := te.issue(t, "--subject", "user-42", "--scope", "devices:manage,data:read", "--app", "app-2,app-1", "--expires", "2h")
	out := interop.Run(t, []byte(tok), py, "-c", pythonJWKSet, "decrypt", te.keys, "lt_")
	var claims map[string]any
	require.NoError(t, json.Unmarshal(out, &claims))
	iat := float64(testpkiNow().Unix())
	require.Equal(t, map[string]any{
		"iss": "https://platform.example", "sub": "user-42", "aud": "api",
		"iat": iat, "nbf": iat, "exp": iat + 7200, "jti": claims["jti"],
		"scope": "data:read devices:manage", "app": []any{"app-1", "app-2"},
	}, claims)

	theirs := `{"iss":"https://platform.example","sub":"svc-1","aud":"api","iat":1780315200,"nbf":1780315200,"exp":1780318800,"jti":"AAECAwQFBgcICQoLDA0ODw","scope":"data:read"}`
	made := strings.TrimSpace(string(interop.Run(t, []byte(theirs), py, "-c", pythonJWKSet, "encrypt", te.keys, "lt_")))
	r := te.verify(t, made, "--scope", "data:read").ok(t)
	require.Contains(t, r.stdout, "subject:    svc-1")
	require.Contains(t, r.stdout, "id:         AAECAwQFBgcICQoLDA0ODw")
}
