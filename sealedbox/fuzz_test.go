package sealedbox

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// The fuzz targets are seeded from testdata/vectors.json. Each checks that
// no input panics, and that what is accepted is exactly what was made
// (parse-then-marshal gives the same bytes; a changed input never opens).

type fuzzFixture struct {
	vectors []vector
	privs   []*PrivateKey
	pubs    []*PublicKey
}

func loadFuzzFixture(f *testing.F) fuzzFixture {
	var fx fuzzFixture
	fx.vectors = loadVectors(f)
	for _, v := range fx.vectors {
		priv, err := ParsePrivateKey(v.PrivateKey)
		if err != nil {
			f.Fatal(err)
		}
		fx.privs = append(fx.privs, priv)
		fx.pubs = append(fx.pubs, priv.PublicKey())
	}
	return fx
}

func fuzzUnhex(f *testing.F, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

func FuzzOpen(f *testing.F) {
	fx := loadFuzzFixture(f)
	for _, v := range fx.vectors {
		f.Add(fuzzUnhex(f, v.Envelope), fuzzUnhex(f, v.Context))
	}
	f.Fuzz(func(t *testing.T, env, ctx []byte) {
		for i, priv := range fx.privs {
			pt, err := Open(priv, env, ctx)
			if err != nil {
				if pt != nil {
					t.Fatal("plaintext with an error")
				}
				continue
			}
			// Only the vector itself opens.
			v := fx.vectors[i]
			if hex.EncodeToString(env) != v.Envelope || hex.EncodeToString(ctx) != v.Context {
				t.Fatalf("a changed envelope opened")
			}
		}
		id, err := EnvelopeKeyID(env)
		if err == nil && !bytes.Equal(id[:], env[10:42]) {
			t.Fatal("key id not from the header")
		}
	})
}

func FuzzParseKeyText(f *testing.F) {
	fx := loadFuzzFixture(f)
	for _, v := range fx.vectors {
		f.Add(v.PublicKey)
		f.Add(v.PrivateKey)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if pub, err := ParsePublicKey(text); err == nil {
			if pub.String() != text {
				t.Fatalf("public key text does not marshal back")
			}
		} else if pub != nil {
			t.Fatal("key with an error")
		}
		if priv, err := ParsePrivateKey(text); err == nil {
			if string(must(priv.MarshalText())) != text {
				t.Fatalf("private key text does not marshal back")
			}
		}
	})
}

func FuzzParseKeyBinary(f *testing.F) {
	fx := loadFuzzFixture(f)
	for _, v := range fx.vectors {
		f.Add(fuzzUnhex(f, v.PublicKeyBin))
		f.Add(fuzzUnhex(f, v.PrivateKeyBin))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var pub PublicKey
		if err := pub.UnmarshalBinary(data); err == nil {
			if !bytes.Equal(must(pub.MarshalBinary()), data) {
				t.Fatal("public key does not marshal back")
			}
		}
		var priv PrivateKey
		if err := priv.UnmarshalBinary(data); err == nil {
			if !bytes.Equal(must(priv.MarshalBinary()), data) {
				t.Fatal("private key does not marshal back")
			}
		}
	})
}
