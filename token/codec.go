package token

import (
	"encoding/base64"
	"strings"

	"github.com/latchsec/latch/internal/strictjson"
	"github.com/latchsec/latch/token/internal/lexical"
)

// This file is the token's wire format: a JWE in compact serialization (RFC
// 7516 §7.1) with alg "dir" and enc "A256GCM" (RFC 7518 §4.5, §5.3):
//
//	[prefix] BASE64URL(header) "." "" "." BASE64URL(iv) "." BASE64URL(ciphertext) "." BASE64URL(tag)
//
// The header is {"alg":"dir","enc":"A256GCM","kid":KID}; the encrypted key
// is empty (dir); the IV is 96 bits and the tag 128 bits; the additional
// data of AES-GCM is the header part as written in the token.

const (
	ivLen         = 12
	tagLen        = 16
	ivB64Len      = 16 // base64url characters of the IV
	tagB64Len     = 22 // base64url characters of the tag
	maxHeaderB64  = 512
	maxHeaderJSON = maxHeaderB64 / 4 * 3
)

// seal encrypts claims under k and returns the token.
func seal(k *key, prefix string, claims []byte) string {
	aad := []byte(k.header)
	out := k.aead.Seal(nil, nil, claims, aad) // iv || ciphertext || tag
	iv, ct, tag := out[:ivLen], out[ivLen:len(out)-tagLen], out[len(out)-tagLen:]
	enc := base64.RawURLEncoding
	n := len(prefix) + len(k.header) + 4 + enc.EncodedLen(len(iv)) + enc.EncodedLen(len(ct)) + enc.EncodedLen(len(tag))
	b := make([]byte, 0, n)
	b = append(b, prefix...)
	b = append(b, k.header...)
	b = append(b, '.', '.')
	b = enc.AppendEncode(b, iv)
	b = append(b, '.')
	b = enc.AppendEncode(b, ct)
	b = append(b, '.')
	b = enc.AppendEncode(b, tag)
	return string(b)
}

// open checks the form of tok, finds its key in keys and decrypts it. It
// returns the claims JSON, or a refusal under ErrInvalid.
func open(keys *keyset, prefix, tok string) ([]byte, error) {
	claims, _, err := openKid(keys, prefix, tok)
	return claims, err
}

// openKid is open that also returns the kid of the key that decrypted tok.
func openKid(keys *keyset, prefix, tok string) ([]byte, string, error) {
	// The size cap comes before anything else looks at the token.
	if len(tok) > maxTokenSize {
		return nil, "", malformed("larger than 8192 bytes")
	}
	rest, ok := strings.CutPrefix(tok, prefix)
	if !ok {
		return nil, "", malformed("missing the configured prefix")
	}
	header, rest, ok1 := strings.Cut(rest, ".")
	encKey, rest, ok2 := strings.Cut(rest, ".")
	iv, rest, ok3 := strings.Cut(rest, ".")
	ct, tag, ok4 := strings.Cut(rest, ".")
	switch {
	case !ok1 || !ok2 || !ok3 || !ok4 || strings.IndexByte(tag, '.') >= 0:
		return nil, "", malformed("not five parts separated by dots")
	case encKey != "":
		return nil, "", malformed("encrypted key part is not empty (alg dir has none)")
	case len(iv) != ivB64Len:
		return nil, "", malformed("iv is not 96 bits")
	case len(tag) != tagB64Len:
		return nil, "", malformed("authentication tag is not 128 bits")
	case len(ct) == 0:
		return nil, "", malformed("ciphertext is empty")
	case len(header) > maxHeaderB64:
		return nil, "", malformed("header is too long")
	}
	var hbuf [maxHeaderJSON]byte
	hjson, err := lexical.AppendBase64(hbuf[:0], header)
	if err != nil {
		if prefix == "" && strayPrefix(header) {
			return nil, "", malformed("the token starts with a prefix (such as lt_) and the verifier has none: set Config.Prefix to the Issuer's")
		}
		return nil, "", malformed("header is not canonical base64url")
	}
	kid, problem := parseHeader(hjson)
	if problem != "" {
		if prefix == "" && strayPrefix(header) {
			return nil, "", malformed("the token starts with a prefix (such as lt_) and the verifier has none: set Config.Prefix to the Issuer's")
		}
		return nil, "", malformed(problem)
	}
	k := keys.lookup(string(kid))
	if k == nil {
		return nil, "", refusedKey
	}
	// One buffer: the additional data (the header as written), then iv,
	// ciphertext and tag, which is the layout the random-nonce AEAD opens.
	buf := make([]byte, 0, len(header)+ivLen+len(ct)/4*3+3+tagLen)
	buf = append(buf, header...)
	aad := buf[:len(header)]
	if buf, err = lexical.AppendBase64(buf, iv); err == nil {
		if buf, err = lexical.AppendBase64(buf, ct); err == nil {
			buf, err = lexical.AppendBase64(buf, tag)
		}
	}
	if err != nil {
		return nil, "", malformed("iv, ciphertext or tag is not canonical base64url")
	}
	sealed := buf[len(header):]
	claims, err := k.aead.Open(sealed[:0], nil, sealed, aad)
	if err != nil {
		return nil, "", refusedDecrypt
	}
	return claims, k.id, nil
}

// strayPrefix reports whether header, which does not decode, looks like a
// prefix followed by a header: every header starts with "eyJ", the base64url
// of `{"`.
func strayPrefix(header string) bool {
	i := strings.Index(header, "eyJ")
	return i > 0 && lexical.Prefix(header[:i])
}

// headerMembers names the registered JOSE header parameters that a token
// must not have, so that logs say which one was refused. Anything else
// unknown is refused too.
var headerMembers = []string{
	"zip", "jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256", "crit", "cty",
	"typ", "epk", "apu", "apv", "p2s", "p2c", "iv", "tag",
}

// parseHeader reads the protected header: exactly alg "dir", enc "A256GCM"
// and a kid, each once, in any order. It returns the kid, or a problem.
func parseHeader(b []byte) (kid []byte, problem string) {
	r := strictjson.NewReader(b)
	if !r.Consume('{') {
		return nil, "header is not a JSON object"
	}
	var alg, enc []byte
	var seen uint
	for more := true; more; {
		name, err := r.Member()
		if err != nil {
			return nil, "header is not valid JSON"
		}
		var bit uint
		switch string(name) {
		case "alg":
			bit = 1
			alg, err = r.Raw()
		case "enc":
			bit = 2
			enc, err = r.Raw()
		case "kid":
			bit = 4
			kid, err = r.Raw()
		default:
			for _, m := range headerMembers {
				if m == string(name) {
					return nil, "header member " + m + " is not accepted"
				}
			}
			return nil, "header has a member other than alg, enc and kid"
		}
		if seen&bit != 0 {
			return nil, "header has a duplicate member"
		}
		seen |= bit
		if err != nil {
			return nil, "header member is not a valid JSON string"
		}
		if more, err = r.Next('}'); err != nil {
			return nil, "header is not valid JSON"
		}
	}
	switch {
	case !r.End():
		return nil, "header is followed by data"
	case seen != 7:
		return nil, "header lacks alg, enc or kid"
	case string(alg) != "dir":
		return nil, "alg is not dir"
	case string(enc) != "A256GCM":
		return nil, "enc is not A256GCM"
	case !checkKeyID(string(kid)):
		return nil, "kid is not 1 to 64 URL-safe characters"
	}
	return kid, ""
}

// checkKeyID reports whether s is a well-formed kid: 1 to 64 bytes of ASCII
// letters, digits and "_-.~" (URL-safe, so it can be logged and compared
// as is).
func checkKeyID(s string) bool {
	return lexical.IDChars(s, maxKeyID, "_-.~")
}
