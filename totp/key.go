package totp

import (
	"crypto/rand"
	"encoding/base32"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Key is a TOTP key: the shared secret, its parameters, and the names an
// authenticator app shows. Keys come from [Authenticator.Enroll] and
// [ParseKeyURI]; the zero Key is not usable. Printing a Key with the fmt
// package never shows its secret.
type Key struct {
	issuer, account string
	secret          []byte
	alg             Algorithm
	digits          int
}

// Issuer returns the name of the service, as the app shows it.
func (k Key) Issuer() string { return k.issuer }

// Account returns the account name, as the app shows it.
func (k Key) Account() string { return k.account }

// Algorithm returns the key's HMAC hash.
func (k Key) Algorithm() Algorithm { return k.alg }

// Digits returns the code length, 6 or 8.
func (k Key) Digits() int { return k.digits }

// SecretBase32 returns the secret as people type it into an app that cannot
// scan the QR code: unpadded base32 (RFC 4648) in groups of four.
func (k Key) SecretBase32() string {
	s := b32.EncodeToString(k.secret)
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// Code returns the code an authenticator app shows at time t. Servers do
// not need it (they call [Authenticator.Verify]); it is for tools and tests
// that stand in for the app.
func (k Key) Code(t time.Time) string {
	g := newGenerator(k.secret, k.alg, k.digits)
	defer g.clear()
	return g.format(g.value(uint64(step(t))))
}

// String describes the key without its secret.
func (k Key) String() string {
	return "totp.Key{issuer: " + strconv.Quote(k.issuer) + ", account: " + strconv.Quote(k.account) +
		", algorithm: " + k.alg.String() + ", digits: " + strconv.Itoa(k.digits) + ", secret: redacted}"
}

// GoString is String, so that %#v does not show the secret either.
func (k Key) GoString() string { return k.String() }

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// generateKey makes a key with a random secret of minSecretBytes, or of the
// hash's output size if that is larger (RFC 6238's seeds are 20, 32 and 64
// bytes).
func generateKey(issuer, account string, alg Algorithm, digits int) (Key, error) {
	if !validName(issuer, false) || !validName(account, false) {
		return Key{}, invalidKeyURI("the name is empty, too long, not UTF-8, or has a colon or control characters")
	}
	n := minSecretBytes
	switch alg {
	case SHA256:
		n = 32
	case SHA512:
		n = 64
	}
	secret := make([]byte, n)
	rand.Read(secret) // never fails (crypto/rand)
	return Key{issuer: issuer, account: account, secret: secret, alg: alg, digits: digits}, nil
}

// validName reports whether an issuer or account name can go into a key
// URI's label unambiguously: no colon (the label's separator), no control
// characters, valid UTF-8, at most maxNameBytes. Empty is valid only if
// allowEmpty.
func validName(s string, allowEmpty bool) bool {
	if s == "" && !allowEmpty || len(s) > maxNameBytes || !utf8.ValidString(s) {
		return false
	}
	// Spaces around a name are refused: the Key Uri Format drops spaces
	// after the label's colon, so " bob" would not survive a round trip.
	if strings.TrimSpace(s) != s {
		return false
	}
	for _, r := range s {
		if r == ':' || r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}

// URI returns the key URI (the Google Authenticator "Key Uri Format") that
// the QR code holds:
//
//	otpauth://totp/Issuer:account?secret=...&issuer=Issuer&algorithm=SHA1&digits=6&period=30
//
// The issuer is in the label and in the issuer parameter; every byte of the
// names other than ASCII letters, digits and -._~ is percent-encoded, so
// every parser reads them the same way. All parameters are written, even
// the defaults.
func (k Key) URI() string {
	var b strings.Builder
	b.WriteString("otpauth://totp/")
	if k.issuer != "" {
		b.WriteString(escape(k.issuer))
		b.WriteByte(':')
	}
	b.WriteString(escape(k.account))
	b.WriteString("?secret=")
	b.WriteString(b32.EncodeToString(k.secret))
	if k.issuer != "" {
		b.WriteString("&issuer=")
		b.WriteString(escape(k.issuer))
	}
	b.WriteString("&algorithm=")
	b.WriteString(k.alg.String())
	b.WriteString("&digits=")
	b.WriteString(strconv.Itoa(k.digits))
	b.WriteString("&period=" + strconv.Itoa(period))
	return b.String()
}

func escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// ParseKeyURI reads a key URI made by another app or library, for
// [Authenticator.EnrollKey]. It is strict, and refuses with
// [ErrInvalidKeyURI]:
//
//   - anything but otpauth://totp/ (hotp keys, other schemes), a fragment,
//     or more than 2048 bytes;
//   - a label without an account name, with more than one colon, or with
//     names that hold control characters or invalid UTF-8 (a colon may be
//     written as %3A; spaces after it are ignored);
//   - a parameter other than secret, issuer, algorithm, digits and period,
//     a repeated parameter, or invalid percent-encoding;
//   - a secret that is not base32 (either case, padding optional) or is
//     shorter than 160 bits or longer than 1024 bits;
//   - an issuer parameter that differs from the label's issuer;
//   - an algorithm other than SHA1, SHA256, SHA512 (in upper or lower
//     case), digits other than 6 or 8, a period other than 30;
//   - a slash in the label that is not written as %2F.
//
// Missing algorithm, digits and period mean SHA1, 6 and 30.
func ParseKeyURI(uri string) (Key, error) {
	const prefix = "otpauth://totp/"
	if len(uri) > maxURIBytes || !strings.HasPrefix(uri, prefix) || strings.ContainsRune(uri, '#') {
		return Key{}, invalidKeyURI("not a TOTP key URI, longer than 2048 bytes, or with a fragment")
	}
	rawLabel, rawQuery, _ := strings.Cut(uri[len(prefix):], "?")
	label, err := url.PathUnescape(rawLabel)
	if err != nil || strings.Contains(rawLabel, "/") {
		return Key{}, invalidKeyURI("label badly escaped or with a slash")
	}
	k := Key{alg: SHA1, digits: defaultDigits}
	labelIssuer, account, hasIssuer := strings.Cut(label, ":")
	if hasIssuer {
		account = strings.TrimLeft(account, " ")
	} else {
		account, labelIssuer = labelIssuer, ""
	}
	if !validName(account, false) || !validName(labelIssuer, true) || hasIssuer && labelIssuer == "" {
		return Key{}, invalidKeyURI("label's issuer or account name empty, too long, not UTF-8, or with a colon or control characters")
	}
	k.account, k.issuer = account, labelIssuer

	seen := map[string]bool{}
	var secret string
	for _, kv := range strings.Split(rawQuery, "&") {
		rk, rv, ok := strings.Cut(kv, "=")
		if !ok {
			return Key{}, invalidKeyURI("parameter without a value")
		}
		name, err1 := url.QueryUnescape(rk)
		value, err2 := url.QueryUnescape(rv)
		if err1 != nil || err2 != nil || seen[name] {
			return Key{}, invalidKeyURI("parameter badly escaped or repeated")
		}
		seen[name] = true
		switch name {
		case "secret":
			secret = value
		case "issuer":
			if !validName(value, false) || hasIssuer && value != labelIssuer {
				return Key{}, invalidKeyURI("issuer parameter not a valid name or not the label's issuer")
			}
			k.issuer = value
		case "algorithm":
			switch value {
			case "SHA1", "sha1":
				k.alg = SHA1
			case "SHA256", "sha256":
				k.alg = SHA256
			case "SHA512", "sha512":
				k.alg = SHA512
			default:
				return Key{}, invalidKeyURI("algorithm other than SHA1, SHA256 and SHA512")
			}
		case "digits":
			switch value {
			case "6":
				k.digits = 6
			case "8":
				k.digits = 8
			default:
				return Key{}, invalidKeyURI("digits other than 6 and 8")
			}
		case "period":
			if value != strconv.Itoa(period) {
				return Key{}, invalidKeyURI("period other than 30")
			}
		default:
			return Key{}, invalidKeyURI("unknown parameter")
		}
	}
	if k.secret, err = decodeSecret(secret); err != nil {
		return Key{}, err
	}
	return k, nil
}

// decodeSecret decodes a base32 secret of a key URI: either case, with or
// without correct padding, of minSecretBytes to maxSecretBytes, and
// canonical (unused trailing bits zero), so that it encodes back to itself.
func decodeSecret(s string) ([]byte, error) {
	if len(s) > 2*maxSecretBytes {
		return nil, errSecretEncoding
	}
	s = strings.ToUpper(s)
	enc := b32
	if strings.HasSuffix(s, "=") {
		enc = base32.StdEncoding
	}
	secret, err := enc.DecodeString(s)
	if err != nil || len(secret) < minSecretBytes || len(secret) > maxSecretBytes || enc.EncodeToString(secret) != s {
		return nil, errSecretEncoding
	}
	return secret, nil
}
