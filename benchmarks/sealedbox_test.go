package benchmarks

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hpke"
	"crypto/rand"
	"errors"
	"io"
	"testing"

	"filippo.io/age"
	"golang.org/x/crypto/nacl/box"

	"github.com/latchsec/latch/sealedbox"
)

// The sealing benchmarks seal and open a 1 KiB plaintext to a public key:
//
//   - latch-hybrid, latch-x25519: sealedbox.Seal and Open with the
//     MLKEM768X25519 and X25519 suites, envelope and context (as AAD)
//     included;
//   - hpke-hybrid, hpke-x25519: the standard library's crypto/hpke with
//     the same suites (HKDF-SHA256, ChaCha20-Poly1305), through sender and
//     recipient contexts, with an info and AAD of the same lengths as
//     Latch's, and the output stored as enc ‖ ciphertext: what Latch does
//     without its envelope header, so the difference is the envelope;
//   - age-x25519, age-hybrid: filippo.io/age to its X25519 recipient and
//     its hybrid ML-KEM-768+X25519 recipient (age's header, stanza and
//     STREAM payload; age has no associated data);
//   - naclbox: x/crypto nacl/box SealAnonymous and OpenAnonymous (X25519,
//     XSalsa20-Poly1305, no associated data, not post-quantum).
//
// Each benchmark reports how many bytes the sealed form adds to the
// plaintext.

var (
	sealPlaintext = bytes.Repeat([]byte("integrator request definition. "), 1024/31+1)[:1024]
	sealContext   = []byte("integration 7/request 42")
	// hpkeInfo has the length of Latch's info: its 24-byte label and the
	// 42-byte envelope header.
	hpkeInfo = append([]byte("latch sealedbox envelope"), make([]byte, 42)...)
)

// sealImpl is one way to seal: seal returns the sealed form of plaintext,
// open returns the plaintext of a sealed form.
type sealImpl struct {
	name string
	seal func(plaintext []byte) ([]byte, error)
	open func(sealed []byte) ([]byte, error)
}

func sealImpls(b *testing.B) []sealImpl {
	return []sealImpl{
		latchSeal(b, "latch-hybrid", sealedbox.MLKEM768X25519()),
		hpkeSeal(b, "hpke-hybrid", hpke.MLKEM768X25519()),
		latchSeal(b, "latch-x25519", sealedbox.X25519()),
		hpkeSeal(b, "hpke-x25519", hpke.DHKEM(ecdh.X25519())),
		ageSeal(b, "age-x25519", false),
		ageSeal(b, "age-hybrid", true),
		naclSeal(b),
	}
}

func latchSeal(b *testing.B, name string, suite *sealedbox.Suite) sealImpl {
	priv, err := suite.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	pub := priv.PublicKey()
	return sealImpl{
		name: name,
		seal: func(pt []byte) ([]byte, error) { return sealedbox.Seal(pub, pt, sealContext) },
		open: func(env []byte) ([]byte, error) { return sealedbox.Open(priv, env, sealContext) },
	}
}

func hpkeSeal(b *testing.B, name string, kem hpke.KEM) sealImpl {
	priv, err := kem.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	pub := priv.PublicKey()
	kdf, aead := hpke.HKDFSHA256(), hpke.ChaCha20Poly1305()
	encSize := map[uint16]int{0x647a: 1120, 0x0020: 32}[kem.ID()]
	return sealImpl{
		name: name,
		seal: func(pt []byte) ([]byte, error) {
			enc, s, err := hpke.NewSender(pub, kdf, aead, hpkeInfo)
			if err != nil {
				return nil, err
			}
			out := make([]byte, 0, len(enc)+len(pt)+16)
			out = append(out, enc...)
			ct, err := s.Seal(sealContext, pt)
			return append(out, ct...), err
		},
		open: func(sealed []byte) ([]byte, error) {
			if len(sealed) < encSize {
				return nil, errors.New("hpke: short input")
			}
			r, err := hpke.NewRecipient(sealed[:encSize], priv, kdf, aead, hpkeInfo)
			if err != nil {
				return nil, err
			}
			return r.Open(sealContext, sealed[encSize:])
		},
	}
}

func ageSeal(b *testing.B, name string, hybrid bool) sealImpl {
	var id age.Identity
	var rcpt age.Recipient
	if hybrid {
		i, err := age.GenerateHybridIdentity()
		if err != nil {
			b.Fatal(err)
		}
		id, rcpt = i, i.Recipient()
	} else {
		i, err := age.GenerateX25519Identity()
		if err != nil {
			b.Fatal(err)
		}
		id, rcpt = i, i.Recipient()
	}
	return sealImpl{
		name: name,
		seal: func(pt []byte) ([]byte, error) {
			var buf bytes.Buffer
			w, err := age.Encrypt(&buf, rcpt)
			if err != nil {
				return nil, err
			}
			if _, err := w.Write(pt); err != nil {
				return nil, err
			}
			if err := w.Close(); err != nil {
				return nil, err
			}
			return buf.Bytes(), nil
		},
		open: func(sealed []byte) ([]byte, error) {
			r, err := age.Decrypt(bytes.NewReader(sealed), id)
			if err != nil {
				return nil, err
			}
			return io.ReadAll(r)
		},
	}
}

func naclSeal(b *testing.B) sealImpl {
	pub, priv, err := box.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	return sealImpl{
		name: "naclbox",
		seal: func(pt []byte) ([]byte, error) { return box.SealAnonymous(nil, pt, pub, rand.Reader) },
		open: func(sealed []byte) ([]byte, error) {
			pt, ok := box.OpenAnonymous(nil, sealed, pub, priv)
			if !ok {
				return nil, errors.New("nacl/box: cannot open")
			}
			return pt, nil
		},
	}
}

// checkSeal seals the plaintext with impl, checks that it opens to the same
// bytes and that an altered copy does not open, and returns the sealed form.
func checkSeal(b *testing.B, impl sealImpl) []byte {
	b.Helper()
	sealed, err := impl.seal(sealPlaintext)
	if err != nil {
		b.Fatalf("%s: seal: %v", impl.name, err)
	}
	if bytes.Contains(sealed, sealPlaintext[:64]) {
		b.Fatalf("%s: the sealed form holds the plaintext", impl.name)
	}
	pt, err := impl.open(sealed)
	if err != nil {
		b.Fatalf("%s: open: %v", impl.name, err)
	}
	if !bytes.Equal(pt, sealPlaintext) {
		b.Fatalf("%s: opened to other bytes", impl.name)
	}
	altered := bytes.Clone(sealed)
	altered[len(altered)-20] ^= 1
	if _, err := impl.open(altered); err == nil {
		b.Fatalf("%s: an altered sealed form opened", impl.name)
	}
	return sealed
}

// BenchmarkSeal measures sealing 1 KiB to a public key.
func BenchmarkSeal(b *testing.B) { benchSeal(b, sealImpls(b), false) }

// BenchmarkOpen measures opening what BenchmarkSeal's implementation
// sealed.
func BenchmarkOpen(b *testing.B) { benchSeal(b, sealImpls(b), true) }

// benchSeal runs a sub-benchmark per implementation that seals the
// plaintext, or opens what it sealed, and reports how many bytes the
// sealed form adds.
func benchSeal(b *testing.B, impls []sealImpl, open bool) {
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			sealed := checkSeal(b, impl)
			op := func() error {
				_, err := impl.seal(sealPlaintext)
				return err
			}
			if open {
				op = func() error {
					pt, err := impl.open(sealed)
					if err == nil && !bytes.Equal(pt, sealPlaintext) {
						err = errors.New("opened to other bytes")
					}
					return err
				}
			}
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				if err := op(); err != nil {
					b.Fatal(err)
				}
			}
			cpu.report(b)
			b.ReportMetric(float64(len(sealed)-len(sealPlaintext)), "overhead-bytes")
		})
	}
}
