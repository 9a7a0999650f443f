package pairing

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"

	"filippo.io/bigmod"
	"filippo.io/nistec"
)

// This file is SPAKE2+ (RFC 9383) with the ciphersuite
// P256-SHA256-HKDF-HMAC-SHA256 and nothing else: the group, the shares, the
// transcript and the key schedule. The protocol around it is in device.go
// and app.go.

const (
	scalarSize = 32 // a scalar modulo the P-256 group order, big-endian
	pointSize  = 65 // an uncompressed P-256 point: 0x04 || x || y
	hashSize   = sha256.Size

	// wideSize is the length of w0s and w1s, each half of the PBKDF
	// output: ceil(log2(p))/8 + 8 bytes, so that reducing it modulo the
	// group order p has a bias of at most 2^-64 (RFC 9383, section 3.2).
	wideSize = scalarSize + 8
)

// The group order of P-256.
var orderBytes = []byte{
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
	0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
}

// The points M and N of RFC 9383, section 4, for P-256, compressed.
var (
	compressedM = []byte{
		0x02, 0x88, 0x6e, 0x2f, 0x97, 0xac, 0xe4, 0x6e, 0x55, 0xba, 0x9d, 0xd7, 0x24, 0x25, 0x79, 0xf2,
		0x99, 0x3b, 0x64, 0xe1, 0x6e, 0xf3, 0xdc, 0xab, 0x95, 0xaf, 0xd4, 0x97, 0x33, 0x3d, 0x8f, 0xa1, 0x2f,
	}
	compressedN = []byte{
		0x03, 0xd8, 0xbb, 0xd6, 0xc6, 0x39, 0xc6, 0x29, 0x37, 0xb0, 0x4d, 0x99, 0x7f, 0x38, 0xc3, 0x77,
		0x07, 0x19, 0xc6, 0x29, 0xd7, 0x01, 0x4d, 0x49, 0xa2, 0x4b, 0x4f, 0x98, 0xba, 0xa1, 0x29, 0x2b, 0x49,
	}
)

var (
	order   = mustModulus(orderBytes)
	wideMod = mustModulus(append([]byte{1}, make([]byte, wideSize)...)) // 2^320
	pointM  = mustPoint(compressedM)
	pointN  = mustPoint(compressedN)
)

func mustModulus(b []byte) *bigmod.Modulus {
	m, err := bigmod.NewModulus(b)
	if err != nil {
		panic("pairing: bad modulus: " + err.Error())
	}
	return m
}

func mustPoint(b []byte) *nistec.P256Point {
	p, err := nistec.NewP256Point().SetBytes(b)
	if err != nil {
		panic("pairing: bad point: " + err.Error())
	}
	return p
}

// reduceWide returns b (wideSize bytes, big-endian) modulo the group order,
// as 32 big-endian bytes, in constant time.
func reduceWide(b []byte) []byte {
	if len(b) != wideSize {
		panic("pairing: reduceWide: wrong input length")
	}
	n, err := bigmod.NewNat().SetBytes(b, wideMod)
	if err != nil {
		panic("pairing: reduceWide: " + err.Error()) // b < 2^320 always
	}
	return bigmod.NewNat().Mod(n, order).Bytes(order)
}

// isZeroScalar reports whether s (32 bytes) is zero, in constant time.
func isZeroScalar(s []byte) bool {
	var acc byte
	for _, c := range s {
		acc |= c
	}
	return subtle.ConstantTimeByteEq(acc, 0) == 1
}

// randomScalar returns a uniformly random non-zero scalar: 40 random bytes
// reduced modulo the group order (bias at most 2^-64).
func randomScalar() []byte {
	var wide [wideSize]byte
	for {
		rand.Read(wide[:])
		s := reduceWide(wide[:])
		if !isZeroScalar(s) {
			return s
		}
	}
}

// validScalar reports whether s is 32 bytes, below the group order and not
// zero: a valid w0, w1, x or y.
func validScalar(s []byte) bool {
	if len(s) != scalarSize || isZeroScalar(s) {
		return false
	}
	_, err := bigmod.NewNat().SetBytes(s, order)
	return err == nil
}

// parsePoint decodes an uncompressed point of the group that is not the
// identity; anything else is refused.
func parsePoint(b []byte) (*nistec.P256Point, bool) {
	if len(b) != pointSize || b[0] != 4 {
		return nil, false
	}
	p, err := nistec.NewP256Point().SetBytes(b)
	if err != nil || p.IsInfinity() == 1 {
		return nil, false
	}
	return p, true
}

// mul returns s*p. s must be a valid 32-byte scalar.
func mul(p *nistec.P256Point, s []byte) *nistec.P256Point {
	r, err := nistec.NewP256Point().ScalarMult(p, s)
	if err != nil {
		panic("pairing: " + err.Error())
	}
	return r
}

// mulBase returns s*P.
func mulBase(s []byte) *nistec.P256Point {
	r, err := nistec.NewP256Point().ScalarBaseMult(s)
	if err != nil {
		panic("pairing: " + err.Error())
	}
	return r
}

// sub returns a - b.
func sub(a, b *nistec.P256Point) *nistec.P256Point {
	neg := nistec.NewP256Point().Negate(b)
	return nistec.NewP256Point().Add(a, neg)
}

// splitW turns the 80-byte PBKDF output w0s || w1s into w0 and w1
// (RFC 9383, section 3.2).
func splitW(out []byte) (w0, w1 []byte) {
	return reduceWide(out[:wideSize]), reduceWide(out[wideSize:])
}

// registration returns L = w1*P, the verifier's half of the record.
func registration(w1 []byte) []byte { return mulBase(w1).Bytes() }

// share returns x*P + w0*mask: shareP with mask M, shareV with mask N.
func share(x, w0 []byte, mask *nistec.P256Point) []byte {
	return nistec.NewP256Point().Add(mulBase(x), mul(mask, w0)).Bytes()
}

// proverSecrets computes Z and V on the prover's side from shareV:
// Z = x*(Y - w0*N), V = w1*(Y - w0*N). The cofactor of P-256 is 1.
func proverSecrets(x, w0, w1 []byte, shareV []byte) (z, v []byte, ok bool) {
	y, ok := parsePoint(shareV)
	if !ok {
		return nil, nil, false
	}
	unmasked := sub(y, mul(pointN, w0))
	return finishSecrets(mul(unmasked, x), mul(unmasked, w1))
}

// verifierSecrets computes Z and V on the verifier's side from shareP:
// Z = y*(X - w0*M), V = y*L.
func verifierSecrets(y, w0 []byte, l *nistec.P256Point, shareP []byte) (z, v []byte, ok bool) {
	x, ok := parsePoint(shareP)
	if !ok {
		return nil, nil, false
	}
	unmasked := sub(x, mul(pointM, w0))
	return finishSecrets(mul(unmasked, y), mul(l, y))
}

// finishSecrets encodes Z and V, refusing the identity: a share that
// cancels the mask (X = w0*M) would otherwise give Z = identity whatever
// the other side's scalar.
func finishSecrets(z, v *nistec.P256Point) ([]byte, []byte, bool) {
	if z.IsInfinity()|v.IsInfinity() != 0 {
		return nil, nil, false
	}
	return z.Bytes(), v.Bytes(), true
}

// appendLV appends len(b) as 8 bytes little-endian, then b (RFC 9383,
// section 3.3).
func appendLV(dst, b []byte) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, uint64(len(b)))
	return append(dst, b...)
}

// transcript is TT of RFC 9383, section 3.3.
type transcript struct {
	context, idProver, idVerifier []byte
	shareP, shareV, z, v, w0      []byte
}

func (t *transcript) bytes() []byte {
	var b []byte
	b = appendLV(b, t.context)
	b = appendLV(b, t.idProver)
	b = appendLV(b, t.idVerifier)
	b = appendLV(b, pointM.Bytes())
	b = appendLV(b, pointN.Bytes())
	b = appendLV(b, t.shareP)
	b = appendLV(b, t.shareV)
	b = appendLV(b, t.z)
	b = appendLV(b, t.v)
	b = appendLV(b, t.w0)
	return b
}

// schedule is the key schedule of RFC 9383, section 3.4.
type schedule struct {
	kMain, kConfirmP, kConfirmV, kShared []byte
	confirmP, confirmV                   []byte // MAC(K_confirmP, shareV), MAC(K_confirmV, shareP)
}

func keySchedule(t *transcript) *schedule {
	h := sha256.Sum256(t.bytes())
	s := &schedule{kMain: h[:]}
	conf, err := hkdf.Key(sha256.New, s.kMain, nil, "ConfirmationKeys", 2*hashSize)
	if err != nil {
		panic("pairing: " + err.Error())
	}
	s.kConfirmP, s.kConfirmV = conf[:hashSize], conf[hashSize:]
	s.kShared, err = hkdf.Key(sha256.New, s.kMain, nil, "SharedKey", hashSize)
	if err != nil {
		panic("pairing: " + err.Error())
	}
	s.confirmP = macSHA256(s.kConfirmP, t.shareV)
	s.confirmV = macSHA256(s.kConfirmV, t.shareP)
	return s
}

func macSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}
