package token

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"testing"
	"time"

	"github.com/latchsec/latch/internal/testclock"
	"github.com/stretchr/testify/require"
)

func newClock() *clock { return testclock.New(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)) }

// fixture is an Issuer and a Verifier that agree, on one keyring, clock and
// revocation list.
type fixture struct {
	clock *clock
	keys  *Keyring
	revs  *MemoryRevocations
	is    *Issuer
	v     *Verifier
}

func newFixture(t testing.TB, prefix string) *fixture {
	t.Helper()
	f := &fixture{clock: newClock(), keys: NewKeyring()}
	f.revs = &MemoryRevocations{Now: f.clock.Now}
	cfg := Config{Keys: f.keys, Issuer: "https://latch.example", Audience: "api", Prefix: prefix, Revocations: f.revs, Now: f.clock.Now}
	f.is = &Issuer{Config: cfg}
	f.v = &Verifier{Config: cfg}
	return f
}

// issue issues a token with typical claims, expiring in an hour.
func (f *fixture) issue(t testing.TB) string {
	t.Helper()
	tok, _, err := f.is.Issue(t.Context(), Claims{
		Subject: "user-42",
		Scopes:  []string{"data:read", "devices:manage"},
		Apps:    []string{"app-1"},
		Expires: f.clock.Now().Add(time.Hour),
	})
	require.NoError(t, err)
	return tok
}

// activeSecret returns the raw active key, for forging tokens in tests.
func (f *fixture) activeSecret() (kid string, secret []byte) {
	k := f.keys.load().active()
	return k.id, k.secret
}

// b64 encodes canonically.
func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// forge makes a compact JWE dir/A256GCM with any header and plaintext,
// encrypted under secret with a fixed IV, the way a peer library would.
func forge(t testing.TB, secret []byte, header, plaintext string) string {
	t.Helper()
	block, err := aes.NewCipher(secret)
	require.NoError(t, err)
	gcm, err := cipher.NewGCM(block)
	require.NoError(t, err)
	h := b64([]byte(header))
	iv := []byte("0123456789ab")
	out := gcm.Seal(nil, iv, []byte(plaintext), []byte(h))
	ct, tag := out[:len(out)-16], out[len(out)-16:]
	return h + ".." + b64(iv) + "." + b64(ct) + "." + b64(tag)
}

// clock is the injected test clock.
type clock = testclock.Clock
