package token

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fuzzKeys is a fixed keyring, so that a saved fuzz corpus stays
// meaningful from run to run.
const fuzzKeys = `{"keys":[
{"kty":"oct","kid":"fuzz-active","k":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8","alg":"dir","use":"enc","key_ops":["encrypt","decrypt"]},
{"kty":"oct","kid":"fuzz-old","k":"ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8","key_ops":["decrypt"]}]}`

func fuzzFixture(t testing.TB) *fixture {
	keys, err := ParseKeyring([]byte(fuzzKeys))
	require.NoError(t, err)
	f := newFixture(t, "")
	f.keys, f.is.Keys, f.v.Keys = keys, keys, keys
	return f
}

// FuzzVerify feeds whole tokens to Verify: nothing may panic, every
// refusal is ErrInvalid, and whatever is accepted has claims Issue could
// have made.
func FuzzVerify(f *testing.F) {
	fx := fuzzFixture(f)
	good := fx.issue(f)
	f.Add(good)
	child, _, err := fx.is.Narrow(f.Context(), good, []string{"data:read"}, nil, time.Time{})
	require.NoError(f, err)
	f.Add(child)
	kid, secret := fx.activeSecret()
	f.Add(forge(f, secret, `{"alg":"dir","enc":"A256GCM","kid":"`+kid+`","zip":"DEF"}`, claimsJSON(fx)))
	f.Add(setPart(good, 4, nonCanonical))
	f.Add("")
	f.Add("....")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := fx.v.Verify(t.Context(), tok)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalid)
			require.Nil(t, c)
			return
		}
		require.Empty(t, c.problem())
	})
}

// FuzzVerifyPlaintext encrypts any header and claims under the key, so that
// the fuzzer reaches the header and claims parsers behind AES-GCM. What
// Verify accepts must also be valid JSON with the same values for
// encoding/json, and must survive a marshal and parse unchanged.
func FuzzVerifyPlaintext(f *testing.F) {
	fx := fuzzFixture(f)
	kid, secret := fx.activeSecret()
	hdr := `{"alg":"dir","enc":"A256GCM","kid":"` + kid + `"}`
	f.Add(hdr, claimsJSON(fx))
	f.Add(hdr, claimsJSON(fx, "lineage", `["AQAAAAAAAAAAAAAAAAAAAA"]`, "exp", ""))
	f.Add(hdr, claimsJSON(fx, "sub", `"\u00e9l\u00e8ve \ud83d\ude00"`))
	f.Add(`{"kid":"`+kid+`", "enc":"A256GCM" ,"alg":"dir"}`, claimsJSON(fx, "app", `["a","b"]`))
	f.Add(hdr+" ", claimsJSON(fx, "sub", `"a","sub":"b"`))
	f.Fuzz(func(t *testing.T, header, claims string) {
		tok := forge(t, secret, header, claims)
		c, err := fx.v.Verify(t.Context(), tok)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalid)
			return
		}
		require.True(t, json.Valid([]byte(header)))
		var std struct {
			Iss, Sub, Aud, Jti, Scope string
			Iat, Nbf                  int64
		}
		require.NoError(t, json.Unmarshal([]byte(claims), &std))
		require.Equal(t, std.Sub, c.Subject)
		require.Equal(t, std.Iss, c.Issuer)
		require.Equal(t, std.Aud, c.Audience)
		require.Equal(t, std.Jti, c.ID)
		require.Equal(t, std.Iat, c.IssuedAt.Unix())
		require.Equal(t, std.Nbf, c.NotBefore.Unix())

		var again Claims
		require.Empty(t, parseClaims(c.appendJSON(nil), &again))
		require.Equal(t, *c, again)
	})
}

// FuzzLoadJWKSet feeds documents to ParseKeyring: nothing may panic, every
// error is ErrKeySet, and an accepted set saves and loads back the same.
func FuzzLoadJWKSet(f *testing.F) {
	f.Add([]byte(fuzzKeys))
	kr := NewKeyring()
	_, err := kr.Rotate()
	require.NoError(f, err)
	set, err := kr.JWKSet()
	require.NoError(f, err)
	f.Add(set)
	f.Add([]byte(`{"keys":[]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","kid":"r","n":"AQAB","e":"AQAB"}]}`))
	f.Add([]byte(`{"kty":"oct","kid":"a","k":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		kr, err := ParseKeyring(doc)
		if err != nil {
			require.ErrorIs(t, err, ErrKeySet)
			var kse *KeySetError
			require.True(t, errors.As(err, &kse))
			return
		}
		out, err := kr.JWKSet()
		require.NoError(t, err)
		again, err := ParseKeyring(out)
		require.NoError(t, err)
		require.Equal(t, kr.KeyIDs(), again.KeyIDs())
		for i, k := range kr.load().list {
			require.Equal(t, k.secret, again.load().list[i].secret)
		}
	})
}

// FuzzRevocationsJSON: reading a revocation list never panics, and a list
// that is read writes back a document that reads back the same.
func FuzzRevocationsJSON(f *testing.F) {
	f.Add([]byte(`{"ids":{"AAECAwQFBgcICQoLDA0ODw":1780318800,"AQAAAAAAAAAAAAAAAAAAAA":0},"subjects":{"user-42":1780315200}}`))
	f.Add([]byte(`{"ids":{},"subjects":{}}`))
	f.Add([]byte(`{"ids":null,"subjects":{"a":253402300799}}`))
	f.Add([]byte(`{"ids":{"AAECAwQFBgcICQoLDA0ODw":1e3}}`))
	now := func() time.Time { return time.Unix(0, 0) } // nothing has expired yet
	f.Fuzz(func(t *testing.T, doc []byte) {
		m := &MemoryRevocations{Now: now}
		if m.UnmarshalJSON(doc) != nil {
			return
		}
		b, err := m.MarshalJSON()
		require.NoError(t, err)
		back := &MemoryRevocations{Now: now}
		require.NoError(t, back.UnmarshalJSON(b))
		again, err := back.MarshalJSON()
		require.NoError(t, err)
		require.JSONEq(t, string(b), string(again))
	})
}
