package sealedbox

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// signedFuzzFixture holds the keys of testdata/signed-vectors.json.
type signedFuzzFixture struct {
	vectors []signedVector
	privs   []*PrivateKey
	trusted []*VerifyingKey
}

func loadSignedFuzzFixture(f *testing.F) signedFuzzFixture {
	var fx signedFuzzFixture
	fx.vectors = loadSignedVectors(f)
	for _, v := range fx.vectors {
		fx.privs = append(fx.privs, must(ParsePrivateKey(v.PrivateKey)))
		fx.trusted = append(fx.trusted, must(ParseVerifyingKey(v.VerifyingKey)))
	}
	return fx
}

// FuzzOpenSigned: no input panics, and only the vectors themselves open.
func FuzzOpenSigned(f *testing.F) {
	fx := loadSignedFuzzFixture(f)
	for _, v := range fx.vectors {
		f.Add(fuzzUnhex(f, v.Envelope), fuzzUnhex(f, v.Context))
	}
	f.Fuzz(func(t *testing.T, env, ctx []byte) {
		for i, priv := range fx.privs {
			pt, id, err := OpenSigned(priv, fx.trusted, env, ctx)
			if err != nil {
				if pt != nil || id != (KeyID{}) {
					t.Fatal("plaintext or signer with an error")
				}
				continue
			}
			v := fx.vectors[i]
			if hex.EncodeToString(env) != v.Envelope || hex.EncodeToString(ctx) != v.Context {
				t.Fatalf("a changed signed envelope opened")
			}
		}
		if IsSigned(env) && !bytes.HasPrefix(env, []byte("LSN\x01")) {
			t.Fatal("IsSigned without the signed magic")
		}
	})
}

// FuzzOpenSignedPayload: any payload, sealed as a signed envelope by
// anyone with the public key, never panics and opens only if it is the
// vector's payload. It seals to the x25519 vector's key only, to stay
// fast; the payload's parsing does not depend on the suite.
func FuzzOpenSignedPayload(f *testing.F) {
	fx := loadSignedFuzzFixture(f)
	for _, v := range fx.vectors {
		f.Add(fuzzUnhex(f, v.Payload))
	}
	priv, v := fx.privs[1], fx.vectors[1]
	ctx := fuzzUnhex(f, v.Context)
	f.Fuzz(func(t *testing.T, payload []byte) {
		env, err := sealEnvelope(signedEnvelope, priv.PublicKey(), payload, ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := OpenSigned(priv, fx.trusted, env, ctx); err == nil && hex.EncodeToString(payload) != v.Payload {
			t.Fatal("a changed payload opened")
		}
	})
}

// FuzzParseSigningKeyText: parse-then-marshal gives the same text for both
// kinds of signing key.
func FuzzParseSigningKeyText(f *testing.F) {
	fx := loadSignedFuzzFixture(f)
	for _, v := range fx.vectors {
		f.Add(v.VerifyingKey)
		f.Add(v.SigningKey)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if vk, err := ParseVerifyingKey(text); err == nil {
			if vk.String() != text {
				t.Fatal("verifying key text does not marshal back")
			}
		} else if vk != nil {
			t.Fatal("key with an error")
		}
		if sk, err := ParseSigningKey(text); err == nil {
			if string(must(sk.MarshalText())) != text {
				t.Fatal("signing key text does not marshal back")
			}
		}
	})
}

// FuzzParseSigningKeyBinary: the same for the binary encodings.
func FuzzParseSigningKeyBinary(f *testing.F) {
	fx := loadSignedFuzzFixture(f)
	for _, v := range fx.vectors {
		f.Add(fuzzUnhex(f, v.VerifyingKeyBin))
		f.Add(fuzzUnhex(f, v.SigningKeyBin))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var vk VerifyingKey
		if err := vk.UnmarshalBinary(data); err == nil && !bytes.Equal(must(vk.MarshalBinary()), data) {
			t.Fatal("verifying key does not marshal back")
		}
		var sk SigningKey
		if err := sk.UnmarshalBinary(data); err == nil && !bytes.Equal(must(sk.MarshalBinary()), data) {
			t.Fatal("signing key does not marshal back")
		}
	})
}
