package token_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/internal/interop"
	"github.com/latchsec/latch/token"
)

// The interop tests check the format against JOSE implementations nobody
// here wrote: every token Issuer makes decrypts with them, given the key as
// the JWK that Keyring.JWKSet writes, and the tokens they make with dir,
// A256GCM, a kid and our claims verify; their tokens with zip or another
// alg are refused.

// peer is one JOSE implementation.
type peer struct {
	// decrypt returns the claims of tok, decrypted with jwkJSON.
	decrypt func(t *testing.T, jwkJSON []byte, tok string, now time.Time) map[string]any
	// encrypt returns a compact JWE of claims under header.
	encrypt func(t *testing.T, jwkJSON []byte, header map[string]any, claims string) string
}

type interopFixture struct {
	now      time.Time
	keys     *token.Keyring
	issuer   *token.Issuer
	verifier *token.Verifier
	jwk      []byte // the active key as a JWK
}

func newInteropFixture(t *testing.T) *interopFixture {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	keys := token.NewKeyring()
	revs := &token.MemoryRevocations{Now: clock}
	cfg := token.Config{Keys: keys, Issuer: "https://platform.example", Audience: "api", Revocations: revs, Now: clock}
	f := &interopFixture{
		now:      now,
		keys:     keys,
		issuer:   &token.Issuer{Config: cfg},
		verifier: &token.Verifier{Config: cfg},
	}
	set, err := keys.JWKSet()
	require.NoError(t, err)
	var doc struct{ Keys []json.RawMessage }
	require.NoError(t, json.Unmarshal(set, &doc))
	f.jwk = doc.Keys[0]
	return f
}

// claimsMap is what a peer should find in a token with claims c.
func claimsMap(c *token.Claims) map[string]any {
	m := map[string]any{
		"iss": c.Issuer, "sub": c.Subject, "aud": c.Audience,
		"iat": float64(c.IssuedAt.Unix()), "nbf": float64(c.NotBefore.Unix()),
		"jti": c.ID, "scope": strings.Join(c.Scopes, " "),
	}
	if !c.Expires.IsZero() {
		m["exp"] = float64(c.Expires.Unix())
	}
	list := func(s []string) []any {
		out := make([]any, len(s))
		for i, v := range s {
			out[i] = v
		}
		return out
	}
	if len(c.Apps) > 0 {
		m["app"] = list(c.Apps)
	}
	if len(c.Lineage) > 0 {
		m["lineage"] = list(c.Lineage)
	}
	return m
}

func testPeer(t *testing.T, p peer) {
	f := newInteropFixture(t)
	ctx := context.Background()

	t.Run("our tokens decrypt", func(t *testing.T) {
		tok, _, err := f.issuer.Issue(ctx, token.Claims{
			Subject: "user-42", Scopes: []string{"data:read", "devices:manage"},
			Apps: []string{"app-1"}, Expires: f.now.Add(time.Hour),
		})
		require.NoError(t, err)
		child, _, err := f.issuer.Narrow(ctx, tok, []string{"data:read"}, nil, time.Time{})
		require.NoError(t, err)
		forever, _, err := f.issuer.Issue(ctx, token.Claims{Subject: "ünïcode \"quoted\" subject", Scopes: []string{"data:read"}, NeverExpires: true})
		require.NoError(t, err)
		for _, tok := range []string{tok, child, forever} {
			c, err := f.verifier.Verify(ctx, tok)
			require.NoError(t, err)
			require.Equal(t, claimsMap(c), p.decrypt(t, f.jwk, tok, f.now))
		}
	})

	header := map[string]any{"alg": "dir", "enc": "A256GCM", "kid": f.keys.ActiveKeyID()}
	var id [16]byte
	rand.Read(id[:])
	claims := map[string]any{
		"iss": "https://platform.example", "sub": "user-42", "aud": "api",
		"iat": f.now.Unix(), "nbf": f.now.Unix(), "exp": f.now.Add(time.Hour).Unix(),
		"jti": base64.RawURLEncoding.EncodeToString(id[:]), "scope": "data:read devices:manage",
		"app": []string{"app-1", "app-2"},
	}
	claimsJSON, err := json.Marshal(claims)
	require.NoError(t, err)

	t.Run("their tokens verify", func(t *testing.T) {
		tok := p.encrypt(t, f.jwk, header, string(claimsJSON))
		c, err := f.verifier.Verify(ctx, tok)
		require.NoError(t, err)
		var want map[string]any
		require.NoError(t, json.Unmarshal(claimsJSON, &want))
		require.Equal(t, want, claimsMap(c))
	})

	refuse := func(t *testing.T, header map[string]any) {
		t.Helper()
		tok := p.encrypt(t, f.jwk, header, string(claimsJSON))
		// The peer made what we asked for.
		h, err := base64.RawURLEncoding.DecodeString(tok[:strings.IndexByte(tok, '.')])
		require.NoError(t, err)
		var got map[string]any
		require.NoError(t, json.Unmarshal(h, &got))
		for k, v := range header {
			require.Equal(t, v, got[k], "header member %s", k)
		}
		_, err = f.verifier.Verify(ctx, tok)
		require.ErrorIs(t, err, token.ErrInvalid)
		require.ErrorIs(t, err, token.ErrMalformed)
	}
	t.Run("their A256KW tokens are refused", func(t *testing.T) {
		refuse(t, map[string]any{"alg": "A256KW", "enc": "A256GCM", "kid": f.keys.ActiveKeyID()})
	})
	t.Run("their A256GCMKW tokens are refused", func(t *testing.T) {
		refuse(t, map[string]any{"alg": "A256GCMKW", "enc": "A256GCM", "kid": f.keys.ActiveKeyID()})
	})
	t.Run("their A128CBC-HS256 tokens are refused", func(t *testing.T) {
		refuse(t, map[string]any{"alg": "dir", "enc": "A128CBC-HS256", "kid": f.keys.ActiveKeyID()})
	})
	t.Run("their zip tokens are refused", func(t *testing.T) {
		refuse(t, map[string]any{"alg": "dir", "enc": "A256GCM", "kid": f.keys.ActiveKeyID(), "zip": "DEF"})
	})
}

func TestInteropJWX(t *testing.T) {
	jwkOf := func(t *testing.T, b []byte) jwk.Key {
		k, err := jwk.ParseKey(b)
		require.NoError(t, err)
		return k
	}
	testPeer(t, peer{
		decrypt: func(t *testing.T, jwkJSON []byte, tok string, _ time.Time) map[string]any {
			plain, err := jwe.Decrypt([]byte(tok), jwe.WithKey(jwa.DIRECT(), jwkOf(t, jwkJSON)))
			require.NoError(t, err)
			var m map[string]any
			require.NoError(t, json.Unmarshal(plain, &m))
			return m
		},
		encrypt: func(t *testing.T, jwkJSON []byte, header map[string]any, claims string) string {
			h := jwe.NewHeaders()
			for k, v := range header {
				if k != "alg" && k != "enc" && k != "zip" {
					require.NoError(t, h.Set(k, v))
				}
			}
			alg, err := jwa.KeyAlgorithmFrom(header["alg"])
			require.NoError(t, err)
			enc, ok := jwa.LookupContentEncryptionAlgorithm(header["enc"].(string))
			require.True(t, ok)
			var raw []byte
			require.NoError(t, jwk.Export(jwkOf(t, jwkJSON), &raw))
			opts := []jwe.EncryptOption{
				jwe.WithKey(alg, raw), jwe.WithContentEncryption(enc), jwe.WithProtectedHeaders(h),
			}
			if header["zip"] == "DEF" {
				opts = append(opts, jwe.WithCompress(jwa.Deflate()))
			}
			tok, err := jwe.Encrypt([]byte(claims), opts...)
			require.NoError(t, err)
			return string(tok)
		},
	})
}

// nodeJose runs npm jose (jwtDecrypt, EncryptJWT).
const nodeJose = `
import * as jose from "jose";
import { readFileSync } from "node:fs";
const req = JSON.parse(readFileSync(0, "utf8"));
const key = await jose.importJWK(req.jwk);
if (req.op === "decrypt") {
  const { payload, protectedHeader } = await jose.jwtDecrypt(req.token, key, {
    keyManagementAlgorithms: ["dir"], contentEncryptionAlgorithms: ["A256GCM"],
    currentDate: new Date(req.now * 1000),
  });
  if (Object.keys(protectedHeader).sort().join() !== "alg,enc,kid") throw new Error("header " + JSON.stringify(protectedHeader));
  console.log(JSON.stringify(payload));
} else {
  console.log(await new jose.EncryptJWT(JSON.parse(req.claims)).setProtectedHeader(req.header).encrypt(key));
}
`

func TestInteropNodeJose(t *testing.T) {
	interop.Node(t, "jose")
	run := func(t *testing.T, req map[string]any) []byte {
		in, err := json.Marshal(req)
		require.NoError(t, err)
		return interop.RunNode(t, nodeJose, in)
	}
	testPeer(t, peer{
		decrypt: func(t *testing.T, jwkJSON []byte, tok string, now time.Time) map[string]any {
			out := run(t, map[string]any{"op": "decrypt", "jwk": json.RawMessage(jwkJSON), "token": tok, "now": now.Unix()})
			var m map[string]any
			require.NoError(t, json.Unmarshal(out, &m))
			return m
		},
		encrypt: func(t *testing.T, jwkJSON []byte, header map[string]any, claims string) string {
			out := run(t, map[string]any{"op": "encrypt", "jwk": json.RawMessage(jwkJSON), "header": header, "claims": claims})
			return strings.TrimSpace(string(out))
		},
	})
}

// pythonJWCrypto runs Debian's python3-jwcrypto.
const pythonJWCrypto = `
import sys, json
from jwcrypto import jwk, jwe
req = json.load(sys.stdin)
key = jwk.JWK(**req["jwk"])
if req["op"] == "decrypt":
    obj = jwe.JWE()
    obj.allowed_algs = ["dir", "A256GCM"]
    obj.deserialize(req["token"], key=key)
    header = json.loads(obj.objects["protected"])
    assert sorted(header) == ["alg", "enc", "kid"], header
    print(json.dumps(json.loads(obj.payload)))
else:
    obj = jwe.JWE(req["claims"].encode(), protected=json.dumps(req["header"]))
    obj.allowed_algs = ["dir", "A256KW", "A256GCMKW", "A256GCM", "A128CBC-HS256"]
    obj.add_recipient(key)
    print(obj.serialize(compact=True))
`

func TestInteropPythonJWCrypto(t *testing.T) {
	py := interop.Python(t, []string{"jwcrypto"}, "python3-jwcrypto")
	run := func(t *testing.T, req map[string]any) []byte {
		in, err := json.Marshal(req)
		require.NoError(t, err)
		return interop.Run(t, in, py, "-c", pythonJWCrypto)
	}
	testPeer(t, peer{
		decrypt: func(t *testing.T, jwkJSON []byte, tok string, _ time.Time) map[string]any {
			out := run(t, map[string]any{"op": "decrypt", "jwk": json.RawMessage(jwkJSON), "token": tok})
			var m map[string]any
			require.NoError(t, json.Unmarshal(out, &m))
			return m
		},
		encrypt: func(t *testing.T, jwkJSON []byte, header map[string]any, claims string) string {
			out := run(t, map[string]any{"op": "encrypt", "jwk": json.RawMessage(jwkJSON), "header": header, "claims": claims})
			return strings.TrimSpace(string(out))
		},
	})
}
