package pairing

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestVerhoeffKnownAnswers(t *testing.T) {
	// Verhoeff's scheme as published: 236 gets 3, 12345 gets 1, 75872 gets 2.
	require.Equal(t, byte('3'), verhoeffDigit([]byte("236")))
	require.Equal(t, byte('1'), verhoeffDigit([]byte("12345")))
	require.Equal(t, byte('2'), verhoeffDigit([]byte("75872")))
}

func TestNewSetupCode(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c := NewSetupCode()
		require.Len(t, c.digits, codeDigits)
		require.False(t, trivial([]byte(c.digits)))
		printed := c.Printed()
		require.Regexp(t, `^[0-9]{4}-[0-9]{4}-[0-9]$`, printed)
		back, err := ParseSetupCode(printed)
		require.NoError(t, err)
		require.Equal(t, c, back)
		back, err = ParseSetupCode(c.QRPayload())
		require.NoError(t, err)
		require.Equal(t, c, back)
		back, err = ParseSetupCode(" " + strings.ReplaceAll(printed, "-", " ") + " ")
		require.NoError(t, err)
		require.Equal(t, c, back)
		seen[c.digits] = true
		require.NotContains(t, fmt.Sprint(c), c.digits)
		require.NotContains(t, fmt.Sprintf("%#v", c), c.digits)
	}
	require.Greater(t, len(seen), 195, "codes repeat far more than chance allows")
}

// TestCheckDigitCatchesTypos changes every digit of printed codes to every
// other value, and swaps every pair of adjacent digits: each typo is
// refused with ErrCheckDigit before any attempt is made.
func TestCheckDigitCatchesTypos(t *testing.T) {
	for range 50 {
		c := NewSetupCode()
		full := []byte(c.digits + string(verhoeffDigit([]byte(c.digits))))
		for i := range full {
			for d := byte('0'); d <= '9'; d++ {
				if d == full[i] {
					continue
				}
				typo := append([]byte(nil), full...)
				typo[i] = d
				_, err := ParseSetupCode(string(typo))
				require.ErrorIs(t, err, ErrCheckDigit, "single error at %d", i)
				require.ErrorIs(t, err, ErrInvalidSetupCode)
			}
			if i+1 < len(full) && full[i] != full[i+1] {
				typo := append([]byte(nil), full...)
				typo[i], typo[i+1] = typo[i+1], typo[i]
				_, err := ParseSetupCode(string(typo))
				require.ErrorIs(t, err, ErrCheckDigit, "transposition at %d", i)
			}
		}
	}
}

func TestTrivialCodesRefused(t *testing.T) {
	for _, digits := range []string{"00000000", "77777777", "01234567", "12345678", "23456789", "98765432", "76543210"} {
		require.True(t, trivial([]byte(digits)), digits)
		s := digits + string(verhoeffDigit([]byte(digits)))
		_, err := ParseSetupCode(s)
		require.ErrorIs(t, err, ErrInvalidSetupCode, digits)
		require.NotErrorIs(t, err, ErrCheckDigit)
	}
	require.False(t, trivial([]byte("12345679")))
}

func TestParseSetupCodeRefuses(t *testing.T) {
	for _, s := range []string{"", "1234", "1234-5678", "1234-5678-90", "1234-5678-x", "LATCH:PAIR:2:123456789", "１２３４５６７８９"} {
		_, err := ParseSetupCode(s)
		require.ErrorIs(t, err, ErrInvalidSetupCode, s)
	}
}

func TestRecordEncoding(t *testing.T) {
	code := NewSetupCode()
	rec, err := NewRecord(code, "dev-1", testKDF)
	require.NoError(t, err)
	b, err := rec.MarshalBinary()
	require.NoError(t, err)
	back, err := ParseRecord(b)
	require.NoError(t, err)
	require.Equal(t, rec, back)
	require.NotContains(t, string(b), code.digits)

	for i := range b {
		// Every truncation is refused.
		_, err := ParseRecord(b[:i])
		require.Error(t, err)
	}
	_, err = ParseRecord(append(append([]byte(nil), b...), 0))
	require.ErrorIs(t, err, ErrMalformed)
	v2 := append([]byte(nil), b...)
	v2[len(recordMagic)-1] = 2
	_, err = ParseRecord(v2)
	require.ErrorIs(t, err, ErrUnsupportedVersion)
	// L replaced by the identity's encoding, w0 by zero.
	badL := append([]byte(nil), b...)
	copy(badL[len(b)-pointSize:], make([]byte, pointSize))
	_, err = ParseRecord(badL)
	require.ErrorIs(t, err, ErrMalformed)
	badW0 := append([]byte(nil), b...)
	copy(badW0[len(b)-pointSize-scalarSize:], make([]byte, scalarSize))
	_, err = ParseRecord(badW0)
	require.ErrorIs(t, err, ErrMalformed)

	// The same code with another salt makes another record.
	rec2, err := NewRecord(code, "dev-1", testKDF)
	require.NoError(t, err)
	require.NotEqual(t, rec.w0, rec2.w0)
}

func TestStateEncoding(t *testing.T) {
	for _, s := range []State{{}, {Failures: 3, WindowOpened: t0}} {
		b, err := s.MarshalBinary()
		require.NoError(t, err)
		var back State
		require.NoError(t, back.UnmarshalBinary(b))
		require.True(t, s.WindowOpened.Equal(back.WindowOpened))
		require.Equal(t, s.Failures, back.Failures)
	}
	var s State
	require.ErrorIs(t, s.UnmarshalBinary([]byte("latch-pairing-state\x00\x01short")), ErrMalformed)
	require.ErrorIs(t, s.UnmarshalBinary([]byte("latch-pairing-state\x00\x09")), ErrUnsupportedVersion)
	_, err := State{Failures: -1}.MarshalBinary()
	require.ErrorIs(t, err, ErrMalformed)
	_, err = State{WindowOpened: time.Unix(-5, 0)}.MarshalBinary()
	require.ErrorIs(t, err, ErrMalformed, "a time the decoder would refuse is not written")
}

// TestTrivialCount counts the codes trivial refuses, the number the
// package doc quotes.
func TestTrivialCount(t *testing.T) {
	n := 0
	d := make([]byte, codeDigits)
	for first := byte('0'); first <= '9'; first++ {
		for _, step := range []int{0, 1, -1} {
			ok := true
			for i := range d {
				v := int(first-'0') + step*i
				if v < 0 || v > 9 {
					ok = false
					break
				}
				d[i] = byte('0' + v)
			}
			if ok && trivial(d) {
				n++
			}
		}
	}
	require.Equal(t, 16, n)
}
