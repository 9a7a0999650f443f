package token

import (
	"errors"
	"unicode/utf8"
)

// This file is a strict JSON reader for the two documents the package reads
// from outside: token headers and claims (read member by member by their
// parsers) and JWK Sets (validated by checkJSON before jwx sees them).
//
// Strict means: RFC 8259 syntax and nothing more, valid UTF-8 only, no lone
// surrogates in \u escapes, and no object with two members of the same name
// (compared after unescaping, so "iss" and "\u0069ss" are the same name).
// encoding/json and jwx keep the last of duplicate members, which lets a
// token say two things at once.

var errJSON = errors.New("invalid JSON")

type jsonReader struct {
	b []byte
	i int
}

// ws skips whitespace and returns the next byte, or 0 at the end.
func (r *jsonReader) ws() byte {
	for r.i < len(r.b) {
		switch c := r.b[r.i]; c {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return c
		}
	}
	return 0
}

// consume skips whitespace and then c if it is next.
func (r *jsonReader) consume(c byte) bool {
	if r.ws() == c && c != 0 {
		r.i++
		return true
	}
	return false
}

// end reports whether only whitespace is left.
func (r *jsonReader) end() bool {
	r.ws()
	return r.i == len(r.b)
}

// str reads a string value and returns it unescaped.
func (r *jsonReader) str() (string, error) {
	b, err := r.raw()
	return string(b), err
}

// raw reads a string value and returns its unescaped bytes: a part of the
// input when there are no escapes, so that comparing it to a constant
// allocates nothing.
func (r *jsonReader) raw() ([]byte, error) {
	if !r.consume('"') {
		return nil, errJSON
	}
	start := r.i
	// Fast path: no escapes.
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			s := r.b[start:r.i]
			r.i++
			if !utf8.Valid(s) {
				return nil, errJSON
			}
			return s, nil
		case c == '\\':
			return r.rawSlow(start)
		case c < 0x20:
			return nil, errJSON
		}
		r.i++
	}
	return nil, errJSON
}

func (r *jsonReader) rawSlow(start int) ([]byte, error) {
	out := make([]byte, 0, r.i-start+16)
	out = append(out, r.b[start:r.i]...)
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			r.i++
			if !utf8.Valid(out) {
				return nil, errJSON
			}
			return out, nil
		case c < 0x20:
			return nil, errJSON
		case c != '\\':
			out = append(out, c)
			r.i++
			continue
		}
		// An escape.
		if r.i+1 >= len(r.b) {
			return nil, errJSON
		}
		e := r.b[r.i+1]
		r.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			cp, ok := r.hex4()
			if !ok {
				return nil, errJSON
			}
			switch {
			case cp >= 0xDC00 && cp <= 0xDFFF:
				return nil, errJSON // lone low surrogate
			case cp >= 0xD800 && cp <= 0xDBFF:
				if r.i+1 >= len(r.b) || r.b[r.i] != '\\' || r.b[r.i+1] != 'u' {
					return nil, errJSON
				}
				r.i += 2
				lo, ok := r.hex4()
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return nil, errJSON
				}
				cp = 0x10000 + (cp-0xD800)<<10 + (lo - 0xDC00)
			}
			out = utf8.AppendRune(out, cp)
		default:
			return nil, errJSON
		}
	}
	return nil, errJSON
}

func (r *jsonReader) hex4() (rune, bool) {
	if r.i+4 > len(r.b) {
		return 0, false
	}
	var v rune
	for _, c := range r.b[r.i : r.i+4] {
		v <<= 4
		switch {
		case c >= '0' && c <= '9':
			v |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			v |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			v |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	r.i += 4
	return v, true
}

// member reads a member name, unescaped, and the colon after it.
func (r *jsonReader) member() ([]byte, error) {
	name, err := r.raw()
	if err != nil {
		return nil, err
	}
	if !r.consume(':') {
		return nil, errJSON
	}
	return name, nil
}

// next reads what follows a member or an element: a comma (more follows,
// true) or the closing delimiter (false).
func (r *jsonReader) next(closing byte) (more bool, err error) {
	if r.consume(',') {
		return true, nil
	}
	if r.consume(closing) {
		return false, nil
	}
	return false, errJSON
}

// numericDate reads a non-negative JSON integer no greater than
// maxNumericDate. Fractions, exponents, signs and leading zeros are refused:
// the tokens Issuer makes have whole seconds.
func (r *jsonReader) numericDate() (int64, error) {
	r.ws()
	start := r.i
	var v int64
	for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
		v = v*10 + int64(r.b[r.i]-'0')
		r.i++
		if v > maxNumericDate {
			return 0, errJSON
		}
	}
	n := r.i - start
	if n == 0 || (n > 1 && r.b[start] == '0') {
		return 0, errJSON
	}
	if r.i < len(r.b) {
		switch r.b[r.i] {
		case '.', 'e', 'E':
			return 0, errJSON
		}
	}
	return v, nil
}

// strArray reads a non-empty array of at most max strings.
func (r *jsonReader) strArray(max int) ([]string, error) {
	if !r.consume('[') {
		return nil, errJSON
	}
	var out []string
	for {
		s, err := r.str()
		if err != nil {
			return nil, err
		}
		if len(out) == max {
			return nil, errJSON
		}
		out = append(out, s)
		more, err := r.next(']')
		if err != nil {
			return nil, err
		}
		if !more {
			return out, nil
		}
	}
}

// Limits of checkJSON, far above any JWK Set of token keys.
const (
	maxJSONDepth   = 16
	maxJSONMembers = 256
)

// checkJSON validates a whole JSON document strictly (see the top of this
// file).
func checkJSON(b []byte) error {
	r := jsonReader{b: b}
	if err := r.value(0); err != nil {
		return err
	}
	if !r.end() {
		return errJSON
	}
	return nil
}

func (r *jsonReader) value(depth int) error {
	if depth > maxJSONDepth {
		return errJSON
	}
	switch r.ws() {
	case '{':
		r.i++
		if r.consume('}') {
			return nil
		}
		var names []string
		for {
			b, err := r.member()
			if err != nil {
				return err
			}
			name := string(b)
			for _, n := range names {
				if n == name {
					return errJSON
				}
			}
			if len(names) == maxJSONMembers {
				return errJSON
			}
			names = append(names, name)
			if err := r.value(depth + 1); err != nil {
				return err
			}
			more, err := r.next('}')
			if err != nil {
				return err
			}
			if !more {
				return nil
			}
		}
	case '[':
		r.i++
		if r.consume(']') {
			return nil
		}
		for n := 0; ; n++ {
			if n == maxJSONMembers {
				return errJSON
			}
			if err := r.value(depth + 1); err != nil {
				return err
			}
			more, err := r.next(']')
			if err != nil {
				return err
			}
			if !more {
				return nil
			}
		}
	case '"':
		_, err := r.str()
		return err
	case 't':
		return r.literal("true")
	case 'f':
		return r.literal("false")
	case 'n':
		return r.literal("null")
	default:
		return r.number()
	}
}

func (r *jsonReader) literal(s string) error {
	if len(r.b)-r.i < len(s) || string(r.b[r.i:r.i+len(s)]) != s {
		return errJSON
	}
	r.i += len(s)
	return nil
}

// number reads an RFC 8259 number.
func (r *jsonReader) number() error {
	if r.i < len(r.b) && r.b[r.i] == '-' {
		r.i++
	}
	start := r.i
	if n := r.digits(); n == 0 || (n > 1 && r.b[start] == '0') {
		return errJSON
	}
	if r.i < len(r.b) && r.b[r.i] == '.' {
		r.i++
		if r.digits() == 0 {
			return errJSON
		}
	}
	if r.i < len(r.b) && (r.b[r.i] == 'e' || r.b[r.i] == 'E') {
		r.i++
		if r.i < len(r.b) && (r.b[r.i] == '+' || r.b[r.i] == '-') {
			r.i++
		}
		if r.digits() == 0 {
			return errJSON
		}
	}
	return nil
}

func (r *jsonReader) digits() int {
	start := r.i
	for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
		r.i++
	}
	return r.i - start
}

// appendJSONString appends s as a JSON string. s must be valid UTF-8 (the
// claims that can hold arbitrary text are checked before they get here).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
