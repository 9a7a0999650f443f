package totp

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"strconv"
	"time"
)

// Algorithm is the HMAC hash of a key. The zero value is SHA1, the one every
// authenticator app supports; SHA256 and SHA512 are for apps and tokens
// known to support them.
type Algorithm uint8

// The algorithms of RFC 6238.
const (
	SHA1 Algorithm = iota
	SHA256
	SHA512
)

// String returns the name used in key URIs: SHA1, SHA256 or SHA512.
func (a Algorithm) String() string {
	switch a {
	case SHA1:
		return "SHA1"
	case SHA256:
		return "SHA256"
	case SHA512:
		return "SHA512"
	}
	return "Algorithm(" + strconv.Itoa(int(a)) + ")"
}

func (a Algorithm) valid() bool { return a <= SHA512 }

func validDigits(d int) bool { return d == 6 || d == 8 }

// pow10 holds the moduli of the valid code lengths.
var pow10 = [...]uint32{6: 1_000_000, 8: 100_000_000}

// step returns the time step of t (RFC 6238 §4: T0 = 0, X = 30 s), rounding
// towards the past. Integer arithmetic only.
func step(t time.Time) int64 {
	u := t.Unix()
	s := u / period
	if u%period < 0 {
		s--
	}
	return s
}

// generator computes HOTP values (RFC 4226 §5.3) for one secret. It holds
// the HMAC key already XOR-ed with the pads (RFC 2104) and hashes each
// message with the one-shot functions of crypto/sha1, crypto/sha256 and
// crypto/sha512, so that a code costs no allocation and no hash state is
// copied or marshalled; a server checks one code per sign-in, the case
// this is made for. Call clear when done: the pads are secret.
type generator struct {
	alg    Algorithm
	digits int
	// inner is the key XOR ipad followed by the counter; outer is the key
	// XOR opad followed by the inner hash.
	inner [sha512.BlockSize + 8]byte
	outer [sha512.BlockSize + sha512.Size]byte
}

// newGenerator returns a generator by value, so that it stays on the
// caller's stack.
func newGenerator(secret []byte, alg Algorithm, digits int) generator {
	if !validDigits(digits) {
		panic("totp: invalid number of digits " + strconv.Itoa(digits))
	}
	g := generator{alg: alg, digits: digits}
	block := alg.blockSize()
	key := secret
	var sum [sha512.Size]byte
	if len(key) > block {
		key = alg.sum(&sum, key) // RFC 2104 §2: a key longer than a block is hashed
	}
	copy(g.inner[:block], key)
	copy(g.outer[:block], key)
	clear(sum[:])
	for i := range block {
		g.inner[i] ^= 0x36
		g.outer[i] ^= 0x5c
	}
	return g
}

// blockSize is the block size of a's hash, in bytes.
func (a Algorithm) blockSize() int {
	if a == SHA512 {
		return sha512.BlockSize
	}
	return sha1.BlockSize // SHA-256's is the same, 64 bytes
}

// sum hashes msg with a's hash into dst and returns the digest.
func (a Algorithm) sum(dst *[sha512.Size]byte, msg []byte) []byte {
	switch a {
	case SHA1:
		s := sha1.Sum(msg)
		return dst[:copy(dst[:], s[:])]
	case SHA256:
		s := sha256.Sum256(msg)
		return dst[:copy(dst[:], s[:])]
	case SHA512:
		*dst = sha512.Sum512(msg)
		return dst[:]
	}
	panic("totp: invalid algorithm " + a.String())
}

// value returns the code for counter as a number below 10^digits.
func (g *generator) value(counter uint64) uint32 {
	block := g.alg.blockSize()
	binary.BigEndian.PutUint64(g.inner[block:], counter)
	var in, sum [sha512.Size]byte
	n := len(g.alg.sum(&in, g.inner[:block+8]))
	copy(g.outer[block:], in[:n])
	s := g.alg.sum(&sum, g.outer[:block+n])
	// Dynamic truncation, RFC 4226 §5.4.
	off := s[len(s)-1] & 0x0f
	bin := binary.BigEndian.Uint32(s[off:off+4]) & 0x7fff_ffff
	return bin % pow10[g.digits]
}

// clear wipes the key material.
func (g *generator) clear() {
	clear(g.inner[:])
	clear(g.outer[:])
}

// format writes v as a code of g.digits digits, with leading zeros.
func (g *generator) format(v uint32) string {
	var b [8]byte
	for i := g.digits - 1; i >= 0; i-- {
		b[i] = '0' + byte(v%10)
		v /= 10
	}
	return string(b[:g.digits])
}

// parseCode turns a submitted code into its value: ASCII spaces are removed
// (apps show codes as "123 456"), and what remains must be exactly digits
// ASCII digits. Anything else is ErrMalformedCode.
func parseCode(code string, digits int) (uint32, error) {
	if len(code) > maxCodeInput {
		return 0, ErrMalformedCode
	}
	var v uint32
	n := 0
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case c == ' ':
			continue
		case c >= '0' && c <= '9' && n < digits:
			v = v*10 + uint32(c-'0')
			n++
		default:
			return 0, ErrMalformedCode
		}
	}
	if n != digits {
		return 0, ErrMalformedCode
	}
	return v, nil
}

// equal compares two code values in constant time.
func equal(a, b uint32) bool { return subtle.ConstantTimeEq(int32(a), int32(b)) == 1 }
