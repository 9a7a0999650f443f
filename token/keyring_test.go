package token

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/stretchr/testify/require"
)

func TestKeyringJWKSetRoundTrip(t *testing.T) {
	kr := NewKeyring()
	_, err := kr.Rotate()
	require.NoError(t, err)
	_, err = kr.Rotate()
	require.NoError(t, err)

	set, err := kr.JWKSet()
	require.NoError(t, err)
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(set, &doc))
	require.Len(t, doc.Keys, 3)
	for i, k := range doc.Keys {
		require.Equal(t, "oct", k["kty"])
		require.Equal(t, "dir", k["alg"])
		require.Equal(t, "enc", k["use"])
		require.Equal(t, kr.KeyIDs()[i], k["kid"])
		require.Len(t, k["k"], 43)
		if i == 0 {
			require.Equal(t, []any{"encrypt", "decrypt"}, k["key_ops"])
		} else {
			require.Equal(t, []any{"decrypt"}, k["key_ops"])
		}
	}

	loaded, err := ParseKeyring(set)
	require.NoError(t, err)
	require.Equal(t, kr.KeyIDs(), loaded.KeyIDs())
	for i, k := range kr.load().list {
		require.Equal(t, k.secret, loaded.load().list[i].secret)
	}
	again, err := loaded.JWKSet()
	require.NoError(t, err)
	require.JSONEq(t, string(set), string(again))

	// jwx reads what we write.
	js, err := jwk.Parse(set)
	require.NoError(t, err)
	require.Equal(t, 3, js.Len())
}

func TestKeyringNeverPrintsKeys(t *testing.T) {
	kr := NewKeyring()
	secret := b64(kr.load().active().secret)
	holder := struct{ K *Keyring }{kr}
	for _, s := range []string{
		fmt.Sprint(kr), fmt.Sprintf("%v %+v %#v %s %x %q", kr, kr, kr, kr, kr, kr),
		fmt.Sprintf("%+v %#v", holder, holder),
	} {
		require.NotContains(t, s, secret)
		require.NotContains(t, s, fmt.Sprintf("%x", kr.load().active().secret))
	}
	require.Equal(t, `token.Keyring["`+kr.ActiveKeyID()+`"]`, fmt.Sprint(kr))
	//lint:ignore SA9005 the point is that a Keyring has no JSON form
	b, err := json.Marshal(kr)
	require.NoError(t, err)
	require.Equal(t, "{}", string(b), "a Keyring has no implicit JSON form")
}

// jwkJSON marshals a jwx key with extra members.
func jwkJSON(t *testing.T, raw any, members map[string]any) string {
	t.Helper()
	k, err := jwk.Import(raw)
	require.NoError(t, err)
	for n, v := range members {
		require.NoError(t, k.Set(n, v))
	}
	b, err := json.Marshal(k)
	require.NoError(t, err)
	return string(b)
}

func TestParseKeyringRefuses(t *testing.T) {
	secret := make([]byte, 32)
	rand.Read(secret)
	k := b64(secret)
	oct := func(kid, extra string) string {
		return `{"kty":"oct","kid":"` + kid + `","k":"` + k + `","alg":"dir","use":"enc","key_ops":["encrypt","decrypt"]` + extra + `}`
	}
	verifyOnly := func(kid string) string {
		return `{"kty":"oct","kid":"` + kid + `","k":"` + k + `","key_ops":["decrypt"]}`
	}
	set := func(keys ...string) string { return `{"keys":[` + strings.Join(keys, ",") + `]}` }

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)

	type c struct {
		doc   string
		want  error
		index int
	}
	cases := map[string]c{
		"not JSON":                {`{"keys":[`, ErrKeySet, -1},
		"duplicate member":        {`{"keys":[` + oct("a", "") + `],"keys":[]}`, ErrKeySet, -1},
		"duplicate in a key":      {set(`{"kty":"oct","kid":"a","k":"` + k + `","k":"` + b64(make([]byte, 32)) + `","key_ops":["encrypt","decrypt"]}`), ErrKeySet, -1},
		"a single JWK":            {oct("a", ""), ErrKeySet, -1},
		"keys not an array":       {`{"keys":{}}`, ErrKeySet, -1},
		"KEYS":                    {`{"KEYS":[` + oct("a", "") + `]}`, ErrKeySet, -1},
		"KTY":                     {set(`{"KTY":"oct","kid":"a","k":"` + k + `","key_ops":["encrypt","decrypt"]}`), ErrKeySet, 0},
		"kty in another case too": {set(`{"kty":"oct","Kty":"RSA","kid":"a","k":"` + k + `","key_ops":["encrypt","decrypt"]}`), ErrKeySet, 0},
		"kid in another case too": {set(`{"kty":"oct","kid":"a","KID":"b","k":"` + k + `","key_ops":["encrypt","decrypt"]}`), ErrKeySet, 0},
		"kty not a string":        {set(`{"kty":1,"kid":"a","k":"` + k + `","key_ops":["encrypt","decrypt"]}`), ErrKeySet, 0},
		"key not an object":       {set(`"oct"`), ErrKeySet, 0},
		"no keys":                 {`{"keys":[]}`, errNoActiveKey, -1},
		"only verify-only":        {set(verifyOnly("a"), verifyOnly("b")), errNoActiveKey, -1},
		"two active keys":         {set(oct("a", ""), oct("b", "")), errNoActiveKey, 1},
		"duplicate kid":           {set(oct("a", ""), verifyOnly("a")), errDuplicateKeyID, 1},
		"RSA key":                 {set(oct("a", ""), jwkJSON(t, rsaKey, map[string]any{"kid": "r"})), errUnsupportedKey, 1},
		"RSA public key":          {set(jwkJSON(t, &rsaKey.PublicKey, map[string]any{"kid": "r"})), errUnsupportedKey, 0},
		"EC key":                  {set(jwkJSON(t, ecKey, map[string]any{"kid": "e"})), errUnsupportedKey, 0},
		"OKP key":                 {set(jwkJSON(t, edKey, map[string]any{"kid": "o"})), errUnsupportedKey, 0},
		"no kty":                  {set(`{"kid":"a","k":"` + k + `"}`), ErrKeySet, 0},
		"128-bit key":             {set(`{"kty":"oct","kid":"a","k":"` + b64(secret[:16]) + `","key_ops":["encrypt","decrypt"]}`), errUnsupportedKey, 0},
		"512-bit key":             {set(`{"kty":"oct","kid":"a","k":"` + b64(append(secret, secret...)) + `","key_ops":["encrypt","decrypt"]}`), errUnsupportedKey, 0},
		"k padded":                {set(`{"kty":"oct","kid":"a","k":"` + k + `=","key_ops":["encrypt","decrypt"]}`), errUnsupportedKey, 0},
		"k not canonical":         {set(`{"kty":"oct","kid":"a","k":"` + nonCanonical(k) + `","key_ops":["encrypt","decrypt"]}`), errUnsupportedKey, 0},
		"no k":                    {set(`{"kty":"oct","kid":"a","key_ops":["encrypt","decrypt"]}`), errUnsupportedKey, 0},
		"no kid":                  {set(`{"kty":"oct","k":"` + k + `","key_ops":["encrypt","decrypt"]}`), errUnsupportedKey, 0},
		"kid with a space":        {set(oct("a b", "")), errUnsupportedKey, 0},
		"kid too long":            {set(oct(strings.Repeat("a", 65), "")), errUnsupportedKey, 0},
		"alg A256KW":              {set(`{"kty":"oct","kid":"a","k":"` + k + `","alg":"A256KW","key_ops":["encrypt","decrypt"]}`), errUnsupportedKey, 0},
		"alg HS256":               {set(`{"kty":"oct","kid":"a","k":"` + k + `","alg":"HS256","key_ops":["encrypt","decrypt"]}`), errUnsupportedKey, 0},
		"use sig":                 {set(`{"kty":"oct","kid":"a","k":"` + k + `","use":"sig","key_ops":["encrypt","decrypt"]}`), errUnsupportedKey, 0},
		"key_ops sign":            {set(`{"kty":"oct","kid":"a","k":"` + k + `","key_ops":["sign","verify"]}`), errUnsupportedKey, 0},
		"no key_ops":              {set(`{"kty":"oct","kid":"a","k":"` + k + `"}`), errUnsupportedKey, 0},
		"too many keys":           {set(strings.Split(strings.Repeat(verifyOnly("x")+"\n", maxKeys+1), "\n")[:maxKeys+1]...), ErrKeySet, -1},
		"too large":               {`{"keys":[],"pad":"` + strings.Repeat("x", maxKeySetSize) + `"}`, ErrKeySet, -1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			kr, err := ParseKeyring([]byte(tc.doc))
			require.Nil(t, kr)
			require.ErrorIs(t, err, ErrKeySet)
			require.ErrorIs(t, err, tc.want)
			var kse *KeySetError
			require.True(t, errors.As(err, &kse))
			require.Equal(t, tc.index, kse.Index)
			require.NotContains(t, err.Error(), k, "the error quotes a key")
			require.NotContains(t, err.Error(), k[:10])
			require.True(t, strings.HasPrefix(err.Error(), "token: invalid key set"), err.Error())
		})
	}
}

func TestParseKeyringAcceptsOtherOrders(t *testing.T) {
	secret := make([]byte, 32)
	rand.Read(secret)
	k := b64(secret)
	doc := `{"keys":[
		{"kty":"oct","kid":"old","k":"` + b64(make([]byte, 32)) + `","key_ops":["decrypt"]},
		{"key_ops":["decrypt","encrypt"],"k":"` + k + `","kid":"new","kty":"oct","ext":true}
	]}`
	kr, err := ParseKeyring([]byte(doc))
	require.NoError(t, err)
	require.Equal(t, []string{"new", "old"}, kr.KeyIDs(), "the active key comes first")
	require.Equal(t, secret, kr.load().active().secret)
}
