package token

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/internal/reason"
	"github.com/latchsec/latch/token/internal/lexical"
)

// badCase is a token that Verify must refuse with ErrInvalid and want.
type badCase struct {
	name string
	tok  string
	want error
}

// claimsJSON is a valid claims set for the fixture's verifier at its clock,
// with members replaced or added by kv ("name", "raw JSON value"; an empty
// value removes the member).
func claimsJSON(f *fixture, kv ...string) string {
	now := f.clock.Now().Unix()
	members := [][2]string{
		{"iss", `"https://latch.example"`},
		{"sub", `"user-42"`},
		{"aud", `"api"`},
		{"iat", fmt.Sprint(now)},
		{"nbf", fmt.Sprint(now)},
		{"exp", fmt.Sprint(now + 3600)},
		{"jti", `"AAECAwQFBgcICQoLDA0ODw"`},
		{"scope", `"data:read devices:manage"`},
		{"app", `["app-1"]`},
	}
	for i := 0; i < len(kv); i += 2 {
		found := false
		for j := range members {
			if members[j][0] == kv[i] {
				members[j][1] = kv[i+1]
				found = true
			}
		}
		if !found {
			members = append(members, [2]string{kv[i], kv[i+1]})
		}
	}
	var b strings.Builder
	b.WriteByte('{')
	for _, m := range members {
		if m[1] == "" {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:%s", m[0], m[1])
	}
	b.WriteByte('}')
	return b.String()
}

// parts splits a token; setPart replaces part i.
func setPart(tok string, i int, f func(string) string) string {
	p := strings.Split(tok, ".")
	p[i] = f(p[i])
	return strings.Join(p, ".")
}

// nonCanonical changes the unused trailing bits of the last character of s,
// which must have len(s)%4 == 2 or 3: lenient decoders give the same bytes.
func nonCanonical(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	v := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[v^1])
}

func TestVerifyRefusesBadInput(t *testing.T) {
	f := newFixture(t, "")
	kid, secret := f.activeSecret()
	hdr := func(extra string) string {
		return `{"alg":"dir","enc":"A256GCM","kid":"` + kid + `"` + extra + `}`
	}
	good := forge(t, secret, hdr(""), claimsJSON(f))
	c, err := f.v.Verify(t.Context(), good)
	require.NoError(t, err, "the forged baseline must verify, or every case below proves nothing")
	require.Equal(t, "user-42", c.Subject)

	otherKey := make([]byte, 32)
	rand.Read(otherKey)
	withClaims := func(kv ...string) string { return forge(t, secret, hdr(""), claimsJSON(f, kv...)) }
	now := f.clock.Now().Unix()

	cases := []badCase{
		{"wrong key", forge(t, otherKey, hdr(""), claimsJSON(f)), ErrDecrypt},
		{"unknown kid", forge(t, secret, `{"alg":"dir","enc":"A256GCM","kid":"retired-key"}`, claimsJSON(f)), ErrUnknownKey},
		{"kid not a string", forge(t, secret, `{"alg":"dir","enc":"A256GCM","kid":7}`, claimsJSON(f)), ErrMalformed},
		{"kid with spaces", forge(t, secret, `{"alg":"dir","enc":"A256GCM","kid":"a b"}`, claimsJSON(f)), ErrMalformed},
		{"no kid", forge(t, secret, `{"alg":"dir","enc":"A256GCM"}`, claimsJSON(f)), ErrMalformed},
		{"no alg", forge(t, secret, `{"enc":"A256GCM","kid":"`+kid+`"}`, claimsJSON(f)), ErrMalformed},
		{"enc A128GCM", forge(t, secret, `{"alg":"dir","enc":"A128GCM","kid":"`+kid+`"}`, claimsJSON(f)), ErrMalformed},
		{"enc A256CBC-HS512", forge(t, secret, `{"alg":"dir","enc":"A256CBC-HS512","kid":"`+kid+`"}`, claimsJSON(f)), ErrMalformed},
		{"header dup alg", forge(t, secret, `{"alg":"dir","alg":"dir","enc":"A256GCM","kid":"`+kid+`"}`, claimsJSON(f)), ErrMalformed},
		{"header dup escaped kid", forge(t, secret, hdr(`,"\u006bid":"`+kid+`"`), claimsJSON(f)), ErrMalformed},
		{"header not JSON", forge(t, secret, `{"alg":"dir",`, claimsJSON(f)), ErrMalformed},
		{"header an array", forge(t, secret, `["dir"]`, claimsJSON(f)), ErrMalformed},
		{"header empty object", forge(t, secret, `{}`, claimsJSON(f)), ErrMalformed},
		{"header trailing data", forge(t, secret, hdr("")+`{}`, claimsJSON(f)), ErrMalformed},
		{"header invalid UTF-8", forge(t, secret, "{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"kid\":\"\xff\"}", claimsJSON(f)), ErrMalformed},

		{"wrong number of parts: 1", "abc", ErrMalformed},
		{"wrong number of parts: 4", good[:strings.LastIndexByte(good, '.')], ErrMalformed},
		{"wrong number of parts: 6", good + ".AAAA", ErrMalformed},
		{"empty", "", ErrMalformed},
		{"only dots", "....", ErrMalformed},
		{"non-empty encrypted key", setPart(good, 1, func(string) string { return "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }), ErrMalformed},
		{"iv of 64 bits", setPart(good, 2, func(string) string { return b64(make([]byte, 8)) }), ErrMalformed},
		{"iv of 128 bits", setPart(good, 2, func(string) string { return b64(make([]byte, 16)) }), ErrMalformed},
		{"tag truncated to 15 bytes", setPart(good, 4, func(s string) string { return s[:20] }), ErrMalformed},
		{"tag of 12 bytes", setPart(good, 4, func(string) string { return b64(make([]byte, 12)) }), ErrMalformed},
		{"tag removed", setPart(good, 4, func(string) string { return "" }), ErrMalformed},
		{"ciphertext empty", setPart(good, 3, func(string) string { return "" }), ErrMalformed},
		{"padding on tag", setPart(good, 4, func(s string) string { return s + "==" }), ErrMalformed},
		{"padding on ciphertext", setPart(good, 3, func(s string) string { return s + "=" }), ErrMalformed},
		{"padding on header", setPart(good, 0, func(s string) string { return s + "=" }), ErrMalformed},
		{"trailing bits in tag", setPart(good, 4, nonCanonical), ErrMalformed},
		{"newline in ciphertext", setPart(good, 3, func(s string) string { return s[:4] + "\n" + s[4:] }), ErrMalformed},
		{"CR LF in header", setPart(good, 0, func(s string) string { return s[:4] + "\r\n" + s[4:] }), ErrMalformed},
		{"space in ciphertext", setPart(good, 3, func(s string) string { return s[:4] + " " + s[4:] }), ErrMalformed},
		{"standard alphabet +", setPart(good, 3, func(s string) string { return "+" + s[1:] }), ErrMalformed},
		{"standard alphabet /", setPart(good, 4, func(s string) string { return "/" + s[1:] }), ErrMalformed},
		{"oversized", good + strings.Repeat("A", maxTokenSize), ErrMalformed},
		{"oversized garbage", strings.Repeat("\x00", maxTokenSize+1), ErrMalformed},

		{"claims array", forge(t, secret, hdr(""), `[]`), ErrMalformed},
		{"claims string", forge(t, secret, hdr(""), `"x"`), ErrMalformed},
		{"claims null", forge(t, secret, hdr(""), `null`), ErrMalformed},
		{"claims empty object", forge(t, secret, hdr(""), `{}`), ErrMalformed},
		{"claims not JSON", forge(t, secret, hdr(""), `{"iss":`), ErrMalformed},
		{"claims trailing data", forge(t, secret, hdr(""), claimsJSON(f)+`x`), ErrMalformed},
		{"string exp", withClaims("exp", fmt.Sprintf(`"%d"`, now+60)), ErrMalformed},
		{"float iat", withClaims("iat", fmt.Sprintf(`%d.5`, now)), ErrMalformed},
		{"float iat .0", withClaims("iat", fmt.Sprintf(`%d.0`, now)), ErrMalformed},
		{"exponent iat", withClaims("iat", `1.7e9`), ErrMalformed},
		{"negative iat", withClaims("iat", `-1`), ErrMalformed},
		{"leading zero nbf", withClaims("nbf", fmt.Sprintf(`0%d`, now)), ErrMalformed},
		{"huge exp", withClaims("exp", `99999999999999999999999999`), ErrMalformed},
		{"exp past year 9999", withClaims("exp", `253402300800`), ErrMalformed},
		{"null exp", withClaims("exp", `null`), ErrMalformed},
		{"scope as array", withClaims("scope", `["data:read"]`), ErrMalformed},
		{"aud as array", withClaims("aud", `["api"]`), ErrMalformed},
		{"app as string", withClaims("app", `"app-1"`), ErrMalformed},
		{"app empty array", withClaims("app", `[]`), ErrMalformed},
		{"app with a number", withClaims("app", `["app-1",2]`), ErrMalformed},
		{"app id with space", withClaims("app", `["app 1"]`), ErrMalformed},
		{"too many apps", withClaims("app", `["a0","a1","a2","a3","a4","a5","a6","a7","a8","a9","b0","b1","b2","b3","b4","b5","b6"]`), ErrMalformed},
		{"app repeated", withClaims("app", `["a0","a0"]`), ErrMalformed},
		{"duplicate sub", withClaims("sub", `"user-42","sub":"admin"`), ErrMalformed},
		{"duplicate escaped sub", withClaims("sub", `"user-42","\u0073ub":"admin"`), ErrMalformed},
		{"unknown claim", withClaims("admin", `true`), ErrMalformed},
		{"nested object claim", withClaims("cnf", `{"jkt":"x"}`), ErrMalformed},
		{"sub with NUL", withClaims("sub", `"user\u0000"`), ErrMalformed},
		{"sub with newline", withClaims("sub", `"user\nFAKE LOG LINE"`), ErrMalformed},
		{"sub lone surrogate", withClaims("sub", `"\ud800"`), ErrMalformed},
		{"sub invalid UTF-8", withClaims("sub", "\"\xc3\x28\""), ErrMalformed},
		{"sub empty", withClaims("sub", `""`), ErrMalformed},
		{"missing jti", withClaims("jti", ``), ErrMalformed},
		{"missing sub", withClaims("sub", ``), ErrMalformed},
		{"missing iat", withClaims("iat", ``), ErrMalformed},
		{"missing scope", withClaims("scope", ``), ErrMalformed},
		{"jti of 96 bits", withClaims("jti", `"AAECAwQFBgcICQoL"`), ErrMalformed},
		{"jti non-canonical", withClaims("jti", `"AAECAwQFBgcICQoLDA0ODx"`), ErrMalformed},
		{"jti number", withClaims("jti", `5`), ErrMalformed},
		{"scope wildcard", withClaims("scope", `"data:*"`), ErrMalformed},
		{"scope upper case", withClaims("scope", `"Data:read"`), ErrMalformed},
		{"scope without action", withClaims("scope", `"data"`), ErrMalformed},
		{"scope with two colons", withClaims("scope", `"data:read:all"`), ErrMalformed},
		{"scope double space", withClaims("scope", `"data:read  devices:manage"`), ErrMalformed},
		{"scope trailing space", withClaims("scope", `"data:read "`), ErrMalformed},
		{"scope empty", withClaims("scope", `""`), ErrMalformed},
		{"scope repeated", withClaims("scope", `"data:read data:read"`), ErrMalformed},
		{"too many scopes", withClaims("scope", `"`+manyScopes(maxScopes+1)+`"`), ErrMalformed},
		{"nbf before iat", withClaims("nbf", fmt.Sprint(now-10)), ErrMalformed},
		{"exp not after nbf", withClaims("exp", fmt.Sprint(now)), ErrMalformed},
		{"lineage contains own jti", withClaims("lineage", `["AAECAwQFBgcICQoLDA0ODw"]`), ErrMalformed},
		{"lineage too long", withClaims("lineage", `[`+strings.Repeat(`"AAAAAAAAAAAAAAAAAAAAAA",`, maxLineage)+`"AQAAAAAAAAAAAAAAAAAAAA"]`), ErrMalformed},

		{"expired", withClaims("iat", fmt.Sprint(now-7200), "nbf", fmt.Sprint(now-7200), "exp", fmt.Sprint(now-61)), ErrExpired},
		{"expired exactly at leeway", withClaims("iat", fmt.Sprint(now-7200), "nbf", fmt.Sprint(now-7200), "exp", fmt.Sprint(now-60)), ErrExpired},
		{"not yet valid", withClaims("nbf", fmt.Sprint(now+61), "exp", fmt.Sprint(now+3600)), ErrNotYetValid},
		{"issued in the future", withClaims("iat", fmt.Sprint(now+61), "nbf", fmt.Sprint(now+61)), ErrNotYetValid},
		{"wrong iss", withClaims("iss", `"https://evil.example"`), ErrWrongIssuer},
		{"wrong aud", withClaims("aud", `"other-api"`), ErrWrongAudience},
	}
	for _, h := range []string{"none", "RSA-OAEP", "RSA-OAEP-256", "A256KW", "A256GCMKW", "ECDH-ES", "PBES2-HS256+A128KW", "PBES2-HS512+A256KW", "DIR", ""} {
		cases = append(cases, badCase{"alg " + h, forge(t, secret, `{"alg":"`+h+`","enc":"A256GCM","kid":"`+kid+`"}`, claimsJSON(f)), ErrMalformed})
	}
	for _, extra := range []string{
		`"zip":"DEF"`, `"jwk":{"kty":"oct","k":"AAAA"}`, `"jku":"https://evil.example/k"`,
		`"x5u":"https://evil.example/c"`, `"x5c":["MIIB"]`, `"x5t":"AAAA"`, `"x5t#S256":"AAAA"`,
		`"crit":["exp"]`, `"cty":"JWT"`, `"typ":"JWT"`, `"p2s":"AAAA"`, `"epk":{}`, `"b64":false`, `"x":1`,
	} {
		cases = append(cases, badCase{"header " + extra, forge(t, secret, hdr(","+extra), claimsJSON(f)), ErrMalformed})
	}
	// Every byte of the IV, ciphertext and tag, altered.
	parts := strings.Split(good, ".")
	for _, i := range []int{2, 3, 4} {
		raw, err := lexical.AppendBase64(nil, parts[i])
		require.NoError(t, err)
		for j := range raw {
			altered := append([]byte(nil), raw...)
			altered[j] ^= 0x01
			cases = append(cases, badCase{fmt.Sprintf("part %d byte %d altered", i, j), setPart(good, i, func(string) string { return b64(altered) }), ErrDecrypt})
		}
	}
	// A header with the same meaning but other bytes is other additional
	// data: AES-GCM refuses it.
	cases = append(cases, badCase{"header re-encoded", setPart(good, 0, func(string) string {
		return b64([]byte(`{"enc":"A256GCM","alg":"dir","kid":"` + kid + `"}`))
	}), ErrDecrypt})

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := f.v.Verify(t.Context(), tc.tok)
			requireRefused(t, err, tc.want, tc.tok)
			require.Nil(t, c)
		})
	}
}

// requireRefused checks that err is ErrInvalid and want, and that its
// message quotes neither the token nor a part of it.
func requireRefused(t *testing.T, err, want error, tok string) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, ErrInvalid)
	require.ErrorIs(t, err, want)
	var fault *reason.Fault
	require.True(t, errors.As(err, &fault), "%T is not internal/reason's", err)
	require.Same(t, ErrInvalid, fault.Category)
	require.Same(t, want, fault.Reason)
	msg := err.Error()
	require.True(t, strings.HasPrefix(msg, "token: invalid token: "), "message %q", msg)
	for _, p := range strings.Split(tok, ".") {
		if len(p) >= 8 {
			require.NotContains(t, msg, p, "the error quotes the token")
		}
	}
}

func TestSizeCapComesFirst(t *testing.T) {
	f := newFixture(t, "")
	huge := strings.Repeat(".", maxTokenSize+1)
	_, err := f.v.Verify(t.Context(), huge)
	requireRefused(t, err, ErrMalformed, huge)
	require.ErrorContains(t, err, "larger than 8192 bytes")
	// At the cap, the same input is refused for its form instead.
	_, err = f.v.Verify(t.Context(), huge[1:])
	require.ErrorIs(t, err, ErrMalformed)
	require.NotContains(t, err.Error(), "larger")
}

func manyScopes(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("r%d:read", i)
	}
	return strings.Join(s, " ")
}

func TestVerifyPrefix(t *testing.T) {
	f := newFixture(t, "lt_")
	tok := f.issue(t)
	require.True(t, strings.HasPrefix(tok, "lt_eyJ"))
	_, err := f.v.Verify(t.Context(), tok)
	require.NoError(t, err)

	for name, bad := range map[string]string{
		"missing prefix": strings.TrimPrefix(tok, "lt_"),
		"wrong prefix":   "xx_" + strings.TrimPrefix(tok, "lt_"),
		"double prefix":  "lt_" + tok,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.v.Verify(t.Context(), bad)
			requireRefused(t, err, ErrMalformed, bad)
		})
	}
	// A verifier without a prefix refuses prefixed tokens.
	noPrefix := *f.v
	noPrefix.Prefix = ""
	_, err = noPrefix.Verify(t.Context(), tok)
	requireRefused(t, err, ErrMalformed, tok)
}

func TestWrongApp(t *testing.T) {
	f := newFixture(t, "")
	c, err := f.v.Verify(t.Context(), f.issue(t))
	require.NoError(t, err)
	require.NoError(t, c.CheckApp("app-1"))
	err = c.CheckApp("app-2")
	require.ErrorIs(t, err, ErrInvalid)
	require.ErrorIs(t, err, ErrWrongApp)
}

func TestLeeway(t *testing.T) {
	f := newFixture(t, "")
	tok, _, err := f.is.Issue(t.Context(), Claims{
		Subject: "user-42", Scopes: []string{"data:read"},
		NotBefore: f.clock.Now().Add(10 * time.Minute),
		Expires:   f.clock.Now().Add(20 * time.Minute),
	})
	require.NoError(t, err)
	steps := []struct {
		at   time.Duration
		want error
	}{
		{0, ErrNotYetValid},
		{10*time.Minute - Leeway - time.Second, ErrNotYetValid},
		{10*time.Minute - Leeway, nil},
		{20*time.Minute + Leeway - time.Second, nil},
		{20*time.Minute + Leeway, ErrExpired},
	}
	start := f.clock.Now()
	for _, s := range steps {
		f.clock.Set(start.Add(s.at))
		_, err := f.v.Verify(t.Context(), tok)
		if s.want == nil {
			require.NoError(t, err, "at %v", s.at)
		} else {
			require.ErrorIs(t, err, s.want, "at %v", s.at)
		}
	}
}

func TestMisconfiguredVerifier(t *testing.T) {
	f := newFixture(t, "")
	tok := f.issue(t)
	for name, cfg := range map[string]Config{
		"no keys":        {Issuer: "i", Audience: "a", Revocations: f.revs},
		"no issuer":      {Keys: f.keys, Audience: "a", Revocations: f.revs},
		"no audience":    {Keys: f.keys, Issuer: "i", Revocations: f.revs},
		"no revocations": {Keys: f.keys, Issuer: "i", Audience: "a"},
		"bad prefix":     {Keys: f.keys, Issuer: "i", Audience: "a", Revocations: f.revs, Prefix: "a.b"},
	} {
		t.Run(name, func(t *testing.T) {
			v := &Verifier{Config: cfg}
			_, err := v.Verify(t.Context(), tok)
			require.ErrorIs(t, err, errConfig)
			require.False(t, errors.Is(err, ErrInvalid), "a configuration error is not the token's fault")
		})
	}
}

func TestMisconfiguredIssuer(t *testing.T) {
	f := newFixture(t, "")
	tok := f.issue(t)
	claims := Claims{Subject: "u", Scopes: []string{"data:read"}, NeverExpires: true}
	for name, cfg := range map[string]Config{
		"no keys":       {Issuer: "i", Audience: "a", Revocations: f.revs},
		"empty keyring": {Keys: new(Keyring), Issuer: "i", Audience: "a", Revocations: f.revs},
		"no issuer":     {Keys: f.keys, Audience: "a", Revocations: f.revs},
		"bad issuer":    {Keys: f.keys, Issuer: "i\n", Audience: "a", Revocations: f.revs},
		"bad prefix":    {Keys: f.keys, Issuer: "i", Audience: "a", Revocations: f.revs, Prefix: "a.b"},
	} {
		t.Run(name, func(t *testing.T) {
			is := &Issuer{Config: cfg}
			got, c, err := is.Issue(t.Context(), claims)
			require.ErrorIs(t, err, errConfig)
			require.False(t, errors.Is(err, ErrClaims), "a configuration error is not the claims' fault")
			require.Empty(t, got)
			require.Nil(t, c)
			_, _, err = is.Narrow(t.Context(), tok, nil, nil, time.Time{})
			require.Error(t, err)
			require.False(t, errors.Is(err, ErrInvalid), "a configuration error is not the token's fault")
		})
	}
	noRevs := *f.is
	noRevs.Revocations = nil
	_, _, err := noRevs.Narrow(t.Context(), tok, nil, nil, time.Time{})
	require.Error(t, err)
	require.False(t, errors.Is(err, ErrInvalid))
	require.Error(t, noRevs.Revoke(t.Context(), &Claims{ID: "AAECAwQFBgcICQoLDA0ODw"}))
}
