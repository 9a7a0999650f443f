package strictjson

import "unicode/utf8"

// Reader reads one JSON document token by token, strictly: RFC 8259 syntax
// and nothing more, valid UTF-8 only, no lone surrogates in \u escapes.
// Parsers on a hot path (token headers and claims) read their members with
// it one by one, allocating nothing for strings without escapes; everything
// else calls Decode. Duplicate members are the caller's to refuse.
type Reader struct {
	b []byte
	i int
}

// NewReader returns a Reader at the start of b.
func NewReader(b []byte) Reader { return Reader{b: b} }

// Offset is the number of bytes read so far.
func (r *Reader) Offset() int { return r.i }

// ws skips whitespace and returns the next byte, or 0 at the end.
func (r *Reader) ws() byte {
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

// Consume skips whitespace and then c if it is next.
func (r *Reader) Consume(c byte) bool {
	if r.ws() == c && c != 0 {
		r.i++
		return true
	}
	return false
}

// End reports whether only whitespace is left.
func (r *Reader) End() bool {
	r.ws()
	return r.i == len(r.b)
}

// Str reads a string value and returns it unescaped.
func (r *Reader) Str() (string, error) {
	b, err := r.Raw()
	return string(b), err
}

// Raw reads a string value and returns its unescaped bytes: a part of the
// input when there are no escapes, so that comparing it to a constant
// allocates nothing.
func (r *Reader) Raw() ([]byte, error) {
	if !r.Consume('"') {
		return nil, ErrSyntax
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
				return nil, ErrSyntax
			}
			return s, nil
		case c == '\\':
			return r.rawSlow(start)
		case c < 0x20:
			return nil, ErrSyntax
		}
		r.i++
	}
	return nil, ErrSyntax
}

func (r *Reader) rawSlow(start int) ([]byte, error) {
	out := make([]byte, 0, r.i-start+16)
	out = append(out, r.b[start:r.i]...)
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			r.i++
			if !utf8.Valid(out) {
				return nil, ErrSyntax
			}
			return out, nil
		case c < 0x20:
			return nil, ErrSyntax
		case c != '\\':
			out = append(out, c)
			r.i++
			continue
		}
		// An escape.
		if r.i+1 >= len(r.b) {
			return nil, ErrSyntax
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
				return nil, ErrSyntax
			}
			switch {
			case cp >= 0xDC00 && cp <= 0xDFFF:
				return nil, ErrSyntax // lone low surrogate
			case cp >= 0xD800 && cp <= 0xDBFF:
				if r.i+1 >= len(r.b) || r.b[r.i] != '\\' || r.b[r.i+1] != 'u' {
					return nil, ErrSyntax
				}
				r.i += 2
				lo, ok := r.hex4()
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return nil, ErrSyntax
				}
				cp = 0x10000 + (cp-0xD800)<<10 + (lo - 0xDC00)
			}
			out = utf8.AppendRune(out, cp)
		default:
			return nil, ErrSyntax
		}
	}
	return nil, ErrSyntax
}

func (r *Reader) hex4() (rune, bool) {
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

// Member reads a member name, unescaped, and the colon after it.
func (r *Reader) Member() ([]byte, error) {
	name, err := r.Raw()
	if err != nil {
		return nil, err
	}
	if !r.Consume(':') {
		return nil, ErrSyntax
	}
	return name, nil
}

// Next reads what follows a member or an element: a comma (more follows,
// true) or the closing delimiter (false).
func (r *Reader) Next(closing byte) (more bool, err error) {
	if r.Consume(',') {
		return true, nil
	}
	if r.Consume(closing) {
		return false, nil
	}
	return false, ErrSyntax
}

// Uint reads a non-negative JSON integer no greater than max (max <
// 1<<62). Fractions, exponents, signs and leading zeros are refused.
func (r *Reader) Uint(max int64) (int64, error) {
	r.ws()
	start := r.i
	var v int64
	for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
		v = v*10 + int64(r.b[r.i]-'0')
		r.i++
		if v > max {
			return 0, ErrSyntax
		}
	}
	n := r.i - start
	if n == 0 || (n > 1 && r.b[start] == '0') {
		return 0, ErrSyntax
	}
	if r.i < len(r.b) {
		switch r.b[r.i] {
		case '.', 'e', 'E':
			return 0, ErrSyntax
		}
	}
	return v, nil
}

// StrArray reads a non-empty array of at most max strings.
func (r *Reader) StrArray(max int) ([]string, error) {
	if !r.Consume('[') {
		return nil, ErrSyntax
	}
	var out []string
	for {
		s, err := r.Str()
		if err != nil {
			return nil, err
		}
		if len(out) == max {
			return nil, ErrSyntax
		}
		out = append(out, s)
		more, err := r.Next(']')
		if err != nil {
			return nil, err
		}
		if !more {
			return out, nil
		}
	}
}

func (r *Reader) literal(s string) error {
	if len(r.b)-r.i < len(s) || string(r.b[r.i:r.i+len(s)]) != s {
		return ErrSyntax
	}
	r.i += len(s)
	return nil
}

// number reads an RFC 8259 number.
func (r *Reader) number() error {
	if r.i < len(r.b) && r.b[r.i] == '-' {
		r.i++
	}
	start := r.i
	if n := r.digits(); n == 0 || (n > 1 && r.b[start] == '0') {
		return ErrSyntax
	}
	if r.i < len(r.b) && r.b[r.i] == '.' {
		r.i++
		if r.digits() == 0 {
			return ErrSyntax
		}
	}
	if r.i < len(r.b) && (r.b[r.i] == 'e' || r.b[r.i] == 'E') {
		r.i++
		if r.i < len(r.b) && (r.b[r.i] == '+' || r.b[r.i] == '-') {
			r.i++
		}
		if r.digits() == 0 {
			return ErrSyntax
		}
	}
	return nil
}

func (r *Reader) digits() int {
	start := r.i
	for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
		r.i++
	}
	return r.i - start
}

// AppendString appends s as a JSON string. s must be valid UTF-8.
func AppendString(b []byte, s string) []byte {
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
