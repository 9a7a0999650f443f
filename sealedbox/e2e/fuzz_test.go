package e2e

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/latchsec/latch/sealedbox"
)

// The fuzz targets are seeded from testdata/vectors.json. Each checks that
// no input panics, and that what is accepted is exactly what was made
// (parse-then-marshal gives the same bytes; a changed input never opens).

type fuzzFixture struct {
	vectors []vector
	keys    []*Key
	pubs    []*sealedbox.PublicKey
	names   []string
}

func loadFuzzFixture(f *testing.F) fuzzFixture {
	var fx fuzzFixture
	fx.vectors = loadVectors(f)
	for _, v := range fx.vectors {
		pub, err := sealedbox.ParsePublicKey(v.PublicKey)
		if err != nil {
			f.Fatal(err)
		}
		key, err := ParseKey(v.KeyText)
		if err != nil {
			f.Fatal(err)
		}
		fx.pubs, fx.keys = append(fx.pubs, pub), append(fx.keys, key)
		fx.names = append(fx.names, suiteName(pub.Suite()))
	}
	return fx
}

// FuzzUnwrap fuzzes the wrapped key inside a text with a valid checksum,
// so that the inputs reach the decryption and the public key checks.
func FuzzUnwrap(f *testing.F) {
	fx := loadFuzzFixture(f)
	for _, v := range fx.vectors {
		f.Add(unhex(f, v.WrappedKey))
	}
	f.Fuzz(func(t *testing.T, wrapped []byte) {
		for i, pub := range fx.pubs {
			k, err := UnwrapPrivateKey(fx.keys[i], wrappedTextOf(fx.names[i], wrapped), pub)
			if err != nil {
				if k != nil {
					t.Fatal("key with an error")
				}
				continue
			}
			if hex.EncodeToString(wrapped) != fx.vectors[i].WrappedKey {
				t.Fatal("a changed wrapped key opened")
			}
		}
	})
}

// FuzzParseWrappedKey fuzzes the text form of wrapped keys.
func FuzzParseWrappedKey(f *testing.F) {
	fx := loadFuzzFixture(f)
	for _, v := range fx.vectors {
		f.Add(v.WrappedKeyText)
	}
	f.Fuzz(func(t *testing.T, text string) {
		w, err := parseWrapped(text)
		if err != nil {
			if w != nil {
				t.Fatal("wrapped key with an error")
			}
			return
		}
		if len(w) != wrappedSize {
			t.Fatal("a wrapped key of the wrong size parsed")
		}
		name := keyformSuiteName(w)
		if wrappedTextOf(name, w) != text {
			t.Fatal("wrapped key text does not marshal back")
		}
		for i, pub := range fx.pubs {
			if k, err := UnwrapPrivateKey(fx.keys[i], text, pub); err == nil && (text != fx.vectors[i].WrappedKeyText || k == nil) {
				t.Fatal("a changed wrapped key text opened")
			}
		}
	})
}

func FuzzOpenMessage(f *testing.F) {
	fx := loadFuzzFixture(f)
	for _, v := range fx.vectors {
		f.Add(unhex(f, v.Message))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		for i, v := range fx.vectors {
			r, err := NewReceiver(fx.keys[i], unhex(t, v.MessageContext), 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := r.Open(msg); err == nil && hex.EncodeToString(msg) != v.Message {
				t.Fatal("a changed message opened")
			}
		}
	})
}

func FuzzParseKey(f *testing.F) {
	fx := loadFuzzFixture(f)
	for _, v := range fx.vectors {
		f.Add(v.KeyText)
	}
	f.Add("latch_e2e_")
	f.Fuzz(func(t *testing.T, text string) {
		k, err := ParseKey(text)
		if err != nil {
			if k != nil {
				t.Fatal("key with an error")
			}
			return
		}
		if keyText(k) != text {
			t.Fatal("end-to-end key text does not marshal back")
		}
		var again Key
		if err := again.UnmarshalText([]byte(text)); err != nil || !bytes.Equal(again.b[:], k.b[:]) {
			t.Fatal("UnmarshalText and ParseKey disagree")
		}
	})
}
