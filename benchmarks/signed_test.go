package benchmarks

import (
	"testing"

	"github.com/latchsec/latch/sealedbox"
)

// The signed-sealing benchmarks sign and seal, then open and verify, the
// same 1 KiB plaintext and context as BenchmarkSeal and BenchmarkOpen, all
// to a MLKEM768X25519 public key (the default suite):
//
//   - latch-hybrid: sealedbox.SealSigned and OpenSigned with the default
//     signature scheme, MLDSA65Ed25519 (an ML-DSA-65 and an Ed25519
//     signature, both verified);
//   - latch-ed25519: the same with the Ed25519 scheme alone;
//   - latch-unsigned: sealedbox.Seal and Open, the baseline: the difference
//     is what signing and verifying cost, and the overhead-bytes difference
//     is what a signature adds to an envelope.
//
// There is no peer: no library seals and signs in one envelope with a
// post-quantum signature; the comparison is with unsigned sealing.

func signedImpls(b *testing.B) []sealImpl {
	priv, err := sealedbox.MLKEM768X25519().GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	pub := priv.PublicKey()
	var impls []sealImpl
	for _, s := range []struct {
		name   string
		scheme *sealedbox.SignatureScheme
	}{{"latch-hybrid", sealedbox.MLDSA65Ed25519()}, {"latch-ed25519", sealedbox.Ed25519()}} {
		signer, err := s.scheme.GenerateSigningKey()
		if err != nil {
			b.Fatal(err)
		}
		trusted := []*sealedbox.VerifyingKey{signer.VerifyingKey()}
		impls = append(impls, sealImpl{
			name: s.name,
			seal: func(pt []byte) ([]byte, error) { return sealedbox.SealSigned(pub, signer, pt, sealContext) },
			open: func(env []byte) ([]byte, error) {
				pt, _, err := sealedbox.OpenSigned(priv, trusted, env, sealContext)
				return pt, err
			},
		})
	}
	// The baseline last: the first sub-benchmark of a run pays for
	// warming up.
	return append(impls, sealImpl{
		name: "latch-unsigned",
		seal: func(pt []byte) ([]byte, error) { return sealedbox.Seal(pub, pt, sealContext) },
		open: func(env []byte) ([]byte, error) { return sealedbox.Open(priv, env, sealContext) },
	})
}

// BenchmarkSignedSeal measures signing and sealing 1 KiB.
func BenchmarkSignedSeal(b *testing.B) { benchSeal(b, signedImpls(b), false) }

// BenchmarkSignedOpen measures opening and verifying what
// BenchmarkSignedSeal's implementation sealed.
func BenchmarkSignedOpen(b *testing.B) { benchSeal(b, signedImpls(b), true) }
