// Package lexical holds the character-level rules that several steps of
// reading and writing a token share: canonical unpadded base64url (the
// token's parts, its jti, a key's k), identifier characters (the prefix, a
// kid, an application id) and free text (iss, sub, aud). Each step keeps
// its own file in package token; these leaves sit here so that a reader
// following a token from bytes to claims never walks back to a file it
// left.
package lexical

import (
	"errors"
	"strings"
)

// ErrBase64 is AppendBase64's failure, which token turns into an error of
// its own: it never leaves package token.
var ErrBase64 = errors.New("token: not canonical base64url")

// AppendBase64 appends the bytes of s to dst. s must be canonical unpadded
// base64url (RFC 7515 §2): only the 64 characters of the URL-safe alphabet,
// no padding, no whitespace, and zero trailing bits, so that every byte
// string has exactly one encoding. (encoding/base64 skips newlines even in
// Strict mode.)
func AppendBase64(dst []byte, s string) ([]byte, error) {
	if len(s)%4 == 1 {
		return nil, ErrBase64
	}
	i := 0
	for ; i+4 <= len(s); i += 4 {
		a, b, c, d := b64dec[s[i]], b64dec[s[i+1]], b64dec[s[i+2]], b64dec[s[i+3]]
		if (a|b|c|d)&0xc0 != 0 {
			return nil, ErrBase64
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		dst = append(dst, byte(v>>16), byte(v>>8), byte(v))
	}
	switch len(s) - i {
	case 2:
		a, b := b64dec[s[i]], b64dec[s[i+1]]
		if (a|b)&0xc0 != 0 || b&0x0f != 0 {
			return nil, ErrBase64
		}
		dst = append(dst, a<<2|b>>4)
	case 3:
		a, b, c := b64dec[s[i]], b64dec[s[i+1]], b64dec[s[i+2]]
		if (a|b|c)&0xc0 != 0 || c&0x03 != 0 {
			return nil, ErrBase64
		}
		dst = append(dst, a<<2|b>>4, b<<4|c>>2)
	}
	return dst, nil
}

// b64dec maps a base64url character to its value, or 0xff.
var b64dec = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range len(alphabet) {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// TokenID returns the 16 bytes of s if s is a token ID: 128 bits in
// canonical base64url, 22 characters.
func TokenID(s string) (id [16]byte, ok bool) {
	if len(s) != 22 {
		return id, false
	}
	_, err := AppendBase64(id[:0], s)
	return id, err == nil
}

// Prefix reports whether p is a token prefix: "" (none) or 1 to 16
// characters of A-Z a-z 0-9 _.
func Prefix(p string) bool {
	return p == "" || IDChars(p, 16, "_")
}

// IDChars reports whether s is 1 to max bytes of ASCII letters, digits and
// the bytes of extra.
func IDChars(s string, max int, extra string) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(extra, c) >= 0) {
			return false
		}
	}
	return true
}

// Text reports whether s is free text: 1 to max bytes of UTF-8 without
// control characters (which would let a subject forge lines in a log) or
// line and paragraph separators.
func Text(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}
