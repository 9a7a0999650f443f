package pairing

import (
	"crypto/rand"
	"encoding/binary"
	"strings"

	"github.com/latchsec/latch/internal/reason"
)

// codeDigits is the number of random decimal digits in a setup code:
// 10^8 values, fewer the trivial ones [NewSetupCode] refuses. The printed
// form adds one check digit.
const codeDigits = 8

// qrPrefix starts the QR payload form of a setup code. Every character of
// the payload is in the QR alphanumeric set, so the code stays small.
const qrPrefix = "LATCH:PAIR:1:"

// A SetupCode is the secret printed on a device's label. The device never
// stores it: at manufacture, [NewRecord] turns it into the verification
// record, and the code goes on the label only. The person types it
// ([ParseSetupCode] on [SetupCode.Printed]) or scans it
// ([SetupCode.QRPayload]) into the app.
//
// A SetupCode's String method hides the digits, so a code that ends up in a
// log line by mistake does not leak.
type SetupCode struct {
	digits string // codeDigits ASCII digits, without the check digit
}

// NewSetupCode returns a new random setup code from crypto/rand, never a
// trivial one (one digit repeated, or an ascending or descending run such
// as 12345678).
func NewSetupCode() SetupCode {
	const limit = 1 << 32 / 100000000 * 100000000 // largest multiple of 10^8 below 2^32
	var b [4]byte
	for {
		rand.Read(b[:])
		n := binary.BigEndian.Uint32(b[:])
		if n >= limit {
			continue
		}
		var d [codeDigits]byte
		n %= 100000000
		for i := codeDigits - 1; i >= 0; i-- {
			d[i] = byte('0' + n%10)
			n /= 10
		}
		if !trivial(d[:]) {
			return SetupCode{digits: string(d[:])}
		}
	}
}

// trivial reports whether digits are one digit repeated, or a run that
// goes up or down by one at each step.
func trivial(digits []byte) bool {
	same, up, down := true, true, true
	for i := 1; i < len(digits); i++ {
		same = same && digits[i] == digits[0]
		up = up && digits[i] == digits[i-1]+1
		down = down && digits[i]+1 == digits[i-1]
	}
	return same || up || down
}

// ParseSetupCode reads a setup code as a person types it, in its printed
// form (its 8 digits and check digit; spaces and hyphens are ignored), or
// from its QR payload. A typo is caught by the check digit before any
// attempt is used ([ErrCheckDigit]).
func ParseSetupCode(s string) (SetupCode, error) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, qrPrefix); ok {
		s = rest
	}
	d := make([]byte, 0, codeDigits+1)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			if len(d) == codeDigits+1 {
				return SetupCode{}, errCode("too many digits")
			}
			d = append(d, c)
		case c == ' ' || c == '-':
		default:
			return SetupCode{}, errCode("not a digit")
		}
	}
	if len(d) != codeDigits+1 {
		return SetupCode{}, errCode("too few digits")
	}
	if verhoeffDigit(d[:codeDigits]) != d[codeDigits] {
		return SetupCode{}, reason.New(ErrInvalidSetupCode, ErrCheckDigit)
	}
	if trivial(d[:codeDigits]) {
		return SetupCode{}, errCode("trivial code")
	}
	return SetupCode{digits: string(d[:codeDigits])}, nil
}

// Printed returns the form for a label and for a person to type: the 8
// digits and the check digit, grouped as 1234-5678-9.
func (c SetupCode) Printed() string {
	c.mustBeValid()
	return c.digits[:4] + "-" + c.digits[4:] + "-" + string(verhoeffDigit([]byte(c.digits)))
}

// QRPayload returns the text to encode in a QR code on the label, such as
// "LATCH:PAIR:1:123456789": a prefix naming the format and its version,
// then the digits and the check digit. [ParseSetupCode] reads it back.
func (c SetupCode) QRPayload() string {
	c.mustBeValid()
	return qrPrefix + c.digits + string(verhoeffDigit([]byte(c.digits)))
}

// String hides the code: it returns "pairing.SetupCode(redacted)". Use
// [SetupCode.Printed] where the code is meant to be shown.
func (c SetupCode) String() string { return "pairing.SetupCode(redacted)" }

// GoString hides the code, as String does.
func (c SetupCode) GoString() string { return c.String() }

// IsZero reports whether c is the zero SetupCode, which is not a code.
func (c SetupCode) IsZero() bool { return c.digits == "" }

func (c SetupCode) mustBeValid() {
	if len(c.digits) != codeDigits {
		panic("pairing: zero SetupCode")
	}
}

// The Verhoeff check digit (Verhoeff 1969): the dihedral group D5 with a
// position-dependent permutation. Unlike the Luhn digit, it catches every
// single-digit error and every transposition of two adjacent digits.
var (
	verhoeffD = [10][10]byte{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
		{2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
		{3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
		{4, 0, 1, 2, 3, 9, 5, 6, 7, 8},
		{5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
		{6, 5, 9, 8, 7, 1, 0, 4, 3, 2},
		{7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
		{8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
		{9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
	}
	verhoeffP = [8][10]byte{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
		{5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
		{8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
		{9, 4, 5, 3, 1, 2, 6, 8, 7, 0},
		{4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
		{2, 7, 9, 3, 8, 0, 6, 4, 1, 5},
		{7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
	}
	verhoeffInv = [10]byte{0, 4, 3, 2, 1, 5, 6, 7, 8, 9}
)

// verhoeffDigit returns the check digit (ASCII) of ASCII digits.
func verhoeffDigit(digits []byte) byte {
	var c byte
	for i := range digits {
		d := digits[len(digits)-1-i] - '0'
		c = verhoeffD[c][verhoeffP[(i+1)%8][d]]
	}
	return '0' + verhoeffInv[c]
}
