package totp

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"hash"
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

func (a Algorithm) newHash() func() hash.Hash {
	switch a {
	case SHA1:
		return sha1.New
	case SHA256:
		return sha256.New
	case SHA512:
		return sha512.New
	}
	panic("totp: invalid algorithm " + a.String())
}

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

// generator computes HOTP values (RFC 4226 §5.3) for one secret, reusing its
// HMAC state from step to step.
type generator struct {
	mac    hash.Hash
	digits int
	buf    [8]byte
	sum    [sha512.Size]byte
}

func newGenerator(secret []byte, alg Algorithm, digits int) *generator {
	if !validDigits(digits) {
		panic("totp: invalid number of digits " + strconv.Itoa(digits))
	}
	return &generator{mac: hmac.New(alg.newHash(), secret), digits: digits}
}

// value returns the code for counter as a number below 10^digits.
func (g *generator) value(counter uint64) uint32 {
	binary.BigEndian.PutUint64(g.buf[:], counter)
	g.mac.Reset()
	g.mac.Write(g.buf[:])
	sum := g.mac.Sum(g.sum[:0])
	// Dynamic truncation, RFC 4226 §5.4.
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fff_ffff
	return bin % pow10[g.digits]
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
