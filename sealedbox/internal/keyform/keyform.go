// Package keyform is the family of binary and text key forms that
// sealedbox and sealedbox/e2e share (sealedbox/FORMAT.md): binary = magic
// ‖ version ‖ algorithm id ‖ key bytes, and text = prefix ‖
// base64url(binary ‖ checksum), where the prefix names the kind of key and
// the algorithm, and the checksum is the first 4 bytes of SHA-256(prefix ‖
// binary). It also holds the names and ids of the suites, which the keys of
// sealedbox and the wrapped keys of sealedbox/e2e both carry.
//
// Errors match the sentinels of the package that made the form ([Errors]),
// so that each package's errors start with its own name.
package keyform

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"

	"github.com/latchsec/latch/internal/reason"
)

const (
	// Version is the format version of every key form.
	Version = 1
	// ChecksumSize is the size of the checksum in a text form.
	ChecksumSize = 4
	// SuiteIDSize is the size of a suite id: kem_id ‖ kdf_id ‖ aead_id.
	SuiteIDSize = 6
	// SuiteHeaderSize is the size of the header of a suite's key: magic,
	// version and suite id.
	SuiteHeaderSize = 3 + 1 + SuiteIDSize
	// PrivateKeySize is the size of the KEM private key bytes of both
	// suites: an X25519 scalar or an X-Wing seed.
	PrivateKeySize = 32
)

// Magics of the binary forms of a suite's keys.
var (
	PublicKeyMagic  = [3]byte{'L', 'S', 'P'}
	PrivateKeyMagic = [3]byte{'L', 'S', 'S'}
)

// A Suite is the name (in text prefixes) and the id (in binary forms) of
// one of sealedbox's suites.
type Suite struct {
	Name string
	ID   string // SuiteIDSize bytes, big endian
}

// Suites lists every suite, the default first. sealedbox checks at start
// that each id is the one its HPKE suite computes.
var Suites = []Suite{
	{Name: "mlkem768x25519", ID: "\x64\x7a\x00\x01\x00\x03"},
	{Name: "x25519", ID: "\x00\x20\x00\x01\x00\x03"},
}

// SuiteName returns the name of the suite whose id is id, or "".
func SuiteName(id string) string {
	for _, s := range Suites {
		if s.ID == id {
			return s.Name
		}
	}
	return ""
}

// Errors are the sentinels of the package that owns a form: Invalid is
// the category of every error, Version and Algorithm the reasons for an
// unknown format version and an unknown suite or scheme.
type Errors struct {
	Invalid, Version, Algorithm error
}

// invalid returns an error of category e.Invalid with a short description
// that never contains key material.
func (e Errors) invalid(what string) error { return reason.Newf(e.Invalid, nil, what) }

// A Form describes the binary and text forms of one kind of key. The
// encryption keys of the suites, the signing keys of the signature schemes
// and the wrapped keys of sealedbox/e2e are all written and read through
// one.
type Form struct {
	errs         Errors
	kind         string // in error messages: "public", "private", ...
	magic, other [3]byte
	idSize       int      // bytes of the algorithm id
	names        []string // algorithm names, in text prefixes
	ids          []string // algorithm ids, in the order of names
	textTag      string   // "pk", "sk", ... : the prefix is "latch_" ‖ tag ‖ "_" ‖ name ‖ "_"
	otherTag     string   // textTag of the other kind of key of the same family
	maxText      int      // length of the longest text form
}

// New returns the form of a kind of key whose algorithms have the given
// names, ids and largest binary form. other and otherTag are the magic and
// the text tag of the other kind of key of the same family (private for
// public and the reverse), which the form refuses with a clear message.
func New(errs Errors, kind string, magic, other [3]byte, tag, otherTag string, names, ids []string, maxBinary int) *Form {
	f := &Form{errs: errs, kind: kind, magic: magic, other: other, idSize: len(ids[0]), names: names, ids: ids, textTag: tag, otherTag: otherTag}
	longest := 0
	for _, n := range names {
		longest = max(longest, len(f.Prefix(n)))
	}
	f.maxText = longest + b64.EncodedLen(maxBinary+ChecksumSize)
	return f
}

// NewSuiteForm returns the form of a kind of key of the suites, whose key
// bytes are at most maxRaw long.
func NewSuiteForm(errs Errors, kind string, magic, other [3]byte, tag, otherTag string, maxRaw int) *Form {
	var names, ids []string
	for _, s := range Suites {
		names, ids = append(names, s.Name), append(ids, s.ID)
	}
	return New(errs, kind, magic, other, tag, otherTag, names, ids, SuiteHeaderSize+maxRaw)
}

// Prefix returns the text prefix of the keys of the algorithm name.
func (f *Form) Prefix(name string) string { return "latch_" + f.textTag + "_" + name + "_" }

func (f *Form) otherPrefix(name string) string { return "latch_" + f.otherTag + "_" + name + "_" }

// HeaderSize returns the size of the binary header: magic, version and
// algorithm id.
func (f *Form) HeaderSize() int { return 3 + 1 + f.idSize }

// MaxText returns the length of the longest text form.
func (f *Form) MaxText() int { return f.maxText }

// AppendBinary appends the binary form of key bytes raw of algorithm id.
func (f *Form) AppendBinary(b []byte, id string, raw []byte) []byte {
	return AppendBinary(b, f.magic, id, raw)
}

// AppendBinary appends magic ‖ version ‖ id ‖ raw to b.
func AppendBinary(b []byte, magic [3]byte, id string, raw []byte) []byte {
	b = append(b, magic[:]...)
	b = append(b, Version)
	b = append(b, id...)
	return append(b, raw...)
}

// ParseBinary checks the header of a binary form and returns the index of
// its algorithm and its key bytes.
func (f *Form) ParseBinary(data []byte) (int, []byte, error) {
	if len(data) < f.HeaderSize() {
		return 0, nil, f.errs.invalid(f.kind + " key is too short")
	}
	switch [3]byte(data[:3]) {
	case f.magic:
	case f.other:
		return 0, nil, f.errs.invalid("expected a " + f.kind + " key, got the other kind")
	default:
		return 0, nil, f.errs.invalid("not a " + f.kind + " key")
	}
	if data[3] != Version {
		return 0, nil, reason.New(f.errs.Invalid, f.errs.Version)
	}
	for i, id := range f.ids {
		if string(data[4:f.HeaderSize()]) == id {
			return i, data[f.HeaderSize():], nil
		}
	}
	return 0, nil, reason.New(f.errs.Invalid, f.errs.Algorithm)
}

// AppendText appends the text form of the binary form bin of algorithm
// name.
func (f *Form) AppendText(b []byte, name string, bin []byte) []byte {
	return AppendText(b, f.Prefix(name), bin)
}

// ParseText checks a text form and returns the binary form inside it. The
// binary form's header is checked against the prefix, not otherwise.
func (f *Form) ParseText(text []byte) ([]byte, error) {
	if len(text) > f.maxText {
		return nil, f.errs.invalid(f.kind + " key text is too long")
	}
	var prefix, id string
	for i, n := range f.names {
		if p := f.Prefix(n); bytes.HasPrefix(text, []byte(p)) {
			prefix, id = p, f.ids[i]
			break
		}
		if bytes.HasPrefix(text, []byte(f.otherPrefix(n))) {
			return nil, f.errs.invalid("expected a " + f.kind + " key, got the other kind")
		}
	}
	if prefix == "" {
		return nil, f.errs.invalid("not a " + f.kind + " key of a known " + f.algorithm())
	}
	bin, err := DecodeText(f.errs.Invalid, f.kind, prefix, text, f.HeaderSize())
	if err != nil {
		return nil, err
	}
	if string(bin[4:f.HeaderSize()]) != id {
		return nil, f.errs.invalid(f.kind + " key text names two different " + f.algorithm() + "s")
	}
	return bin, nil
}

func (f *Form) algorithm() string {
	if f.idSize == SuiteIDSize {
		return "suite"
	}
	return "scheme"
}

var b64 = base64.RawURLEncoding.Strict()

// EncodedLen returns the length of the text form of a binary form of n
// bytes, without its prefix.
func EncodedLen(n int) int { return b64.EncodedLen(n + ChecksumSize) }

// Checksum returns the checksum of the binary form bin under prefix.
func Checksum(prefix string, bin []byte) []byte {
	h := sha256.New()
	h.Write([]byte(prefix))
	h.Write(bin)
	return h.Sum(nil)[:ChecksumSize]
}

// AppendText appends prefix ‖ base64url(bin ‖ checksum) to b.
func AppendText(b []byte, prefix string, bin []byte) []byte {
	b = append(b, prefix...)
	payload := append(bytes.Clone(bin), Checksum(prefix, bin)...)
	return b64.AppendEncode(b, payload)
}

// DecodeText checks the base64url and the checksum of text, which begins
// with prefix, and returns the binary form inside it, at least minBinary
// bytes long. Its errors match invalid; kind names the key in them.
func DecodeText(invalid error, kind, prefix string, text []byte, minBinary int) ([]byte, error) {
	errs := Errors{Invalid: invalid}
	payload, err := b64.AppendDecode(nil, text[len(prefix):])
	if err != nil || len(payload) < minBinary+ChecksumSize {
		return nil, errs.invalid(kind + " key text is not valid base64url")
	}
	// The decoder skips CR and LF; require the one canonical form.
	if !bytes.Equal(b64.AppendEncode(nil, payload), text[len(prefix):]) {
		return nil, errs.invalid(kind + " key text is not canonical base64url")
	}
	bin, sum := payload[:len(payload)-ChecksumSize], payload[len(payload)-ChecksumSize:]
	if subtle.ConstantTimeCompare(sum, Checksum(prefix, bin)) != 1 {
		return nil, errs.invalid(kind + " key text has a bad checksum")
	}
	return bin, nil
}
