package pairing

import (
	"crypto/rand"
	"encoding/binary"
	"unicode/utf8"

	"github.com/latchsec/latch/internal/reason"
	"golang.org/x/crypto/argon2"
)

// KDFParams are the Argon2id (RFC 9106) parameters that turn a setup code
// into w0 and w1: RFC 9383's password-hashing step. The zero value means
// [DefaultKDF]. The device never runs Argon2id: the app does, once per
// pairing, and so does whoever makes the record at manufacture.
type KDFParams struct {
	Time      uint32 // passes over memory
	MemoryKiB uint32 // memory in KiB
	Threads   uint8  // lanes
}

// DefaultKDF is the work factor [NewRecord] uses unless told otherwise:
// Argon2id with 64 MiB and 3 passes, RFC 9106's second recommended option,
// about a tenth of a second on a phone.
var DefaultKDF = KDFParams{Time: 3, MemoryKiB: 64 << 10, Threads: 1}

// Bounds on the work factor. An app refuses a device that asks for more
// ([ErrWorkFactor]), so someone posing as a device cannot make the app
// exhaust its memory; [NewRecord] refuses less, so a record that leaks
// costs a guesser at least this much per guess.
const (
	minKDFMemoryKiB = 8 << 10
	maxKDFMemoryKiB = 256 << 10
	minKDFTime      = 1
	maxKDFTime      = 10
	maxKDFThreads   = 4
)

func (p KDFParams) orDefault() KDFParams {
	if p == (KDFParams{}) {
		return DefaultKDF
	}
	return p
}

func (p KDFParams) valid() bool {
	return p.MemoryKiB >= minKDFMemoryKiB && p.MemoryKiB <= maxKDFMemoryKiB &&
		p.Time >= minKDFTime && p.Time <= maxKDFTime &&
		p.Threads >= 1 && p.Threads <= maxKDFThreads
}

const (
	saltSize       = 16
	maxSaltSize    = 64
	maxDeviceIDLen = 64
)

// deriveW is RFC 9383, section 3.2: w0s || w1s = PBKDF(len(pw) || pw ||
// len(idProver) || idProver || len(idVerifier) || idVerifier), then each
// half reduced modulo the group order. The PBKDF is Argon2id with the
// record's salt and parameters. Tests replace it to keep fuzzing fast.
var deriveW = func(code SetupCode, idProver, idVerifier, salt []byte, p KDFParams) (w0, w1 []byte) {
	var in []byte
	in = appendLV(in, []byte(code.digits))
	in = appendLV(in, idProver)
	in = appendLV(in, idVerifier)
	out := argon2.IDKey(in, salt, p.Time, p.MemoryKiB, p.Threads, 2*wideSize)
	return splitW(out)
}

// A Record is the device's verification record (RFC 9383's registration
// record): w0, L = w1*P, the salt and work factor of the password hash,
// and the device's identity. It is made once, at manufacture, by
// [NewRecord], and stored on the device, which can then pair with anyone
// who knows the setup code. It does not contain the setup code, but it
// lets whoever reads it test guesses of the code offline at the cost of
// one Argon2id per guess: store it like a key (readable by the pairing
// process only), never publish it.
type Record struct {
	deviceID string
	kdf      KDFParams
	salt     []byte
	w0       []byte
	l        []byte
}

// NewRecord makes the verification record of a device from its setup code.
// deviceID is the device's public identity (at most 64 bytes of UTF-8, may
// be empty); it is bound into every pairing as RFC 9383's idVerifier, so a
// record made for one device identity does not pair as another. kdf is the
// work factor; the zero value is [DefaultKDF].
func NewRecord(code SetupCode, deviceID string, kdf KDFParams) (*Record, error) {
	if code.IsZero() {
		return nil, errCode("zero setup code")
	}
	if len(deviceID) > maxDeviceIDLen || !utf8.ValidString(deviceID) {
		return nil, errMalformed("device id too long or not UTF-8")
	}
	kdf = kdf.orDefault()
	if !kdf.valid() {
		return nil, reason.New(ErrWorkFactor, nil)
	}
	salt := make([]byte, saltSize)
	rand.Read(salt)
	w0, w1 := deriveW(code, nil, []byte(deviceID), salt, kdf)
	return &Record{deviceID: deviceID, kdf: kdf, salt: salt, w0: w0, l: registration(w1)}, nil
}

// DeviceID returns the device identity the record was made for.
func (r *Record) DeviceID() string { return r.deviceID }

// KDF returns the record's password-hashing parameters.
func (r *Record) KDF() KDFParams { return r.kdf }

// recordMagic starts an encoded record: a context label and version.
var recordMagic = []byte("latch-pairing-record\x00\x01")

const recordSuiteP256 = 1 // P256-SHA256-HKDF-HMAC-SHA256 with Argon2id

// MarshalBinary encodes the record: the label "latch-pairing-record", a
// NUL, the version 1, the suite 1, then Argon2id's time (4 bytes) and
// memory in KiB (4 bytes, both big-endian) and threads (1 byte), the
// salt and the device id (each a length byte and the bytes), w0 (32
// bytes) and L (65 bytes, uncompressed).
func (r *Record) MarshalBinary() ([]byte, error) {
	b := append([]byte(nil), recordMagic...)
	b = append(b, recordSuiteP256)
	b = appendHashParams(b, r.kdf, r.salt, []byte(r.deviceID))
	b = append(b, r.w0...)
	return append(b, r.l...), nil
}

// ParseRecord decodes a record written by [Record.MarshalBinary] and checks
// it: a known version, a work factor within bounds, w0 a valid scalar and
// L a valid point.
func ParseRecord(b []byte) (*Record, error) {
	if len(b) < len(recordMagic) || string(b[:len(recordMagic)-1]) != string(recordMagic[:len(recordMagic)-1]) {
		return nil, errMalformed("not a pairing record")
	}
	if b[len(recordMagic)-1] != recordMagic[len(recordMagic)-1] {
		return nil, reason.Newf(ErrUnsupportedVersion, nil, "record version")
	}
	d := decoder{b: b[len(recordMagic):]}
	if d.byte() != recordSuiteP256 && !d.failed {
		return nil, reason.Newf(ErrUnsupportedVersion, nil, "record suite")
	}
	r := &Record{}
	var id []byte
	r.kdf, r.salt, id = d.hashParams()
	r.deviceID = string(id)
	r.w0 = d.bytes(scalarSize)
	r.l = d.bytes(pointSize)
	if err := d.finish("record"); err != nil {
		return nil, err
	}
	// The record keeps copies: a caller that wipes or reuses b after
	// parsing (as it should with a secret) must not change w0 under it.
	r.salt = append([]byte(nil), r.salt...)
	r.w0 = append([]byte(nil), r.w0...)
	r.l = append([]byte(nil), r.l...)
	if !r.kdf.valid() {
		return nil, reason.New(ErrWorkFactor, nil)
	}
	if len(r.salt) < saltSize || len(r.salt) > maxSaltSize || len(r.deviceID) > maxDeviceIDLen || !utf8.ValidString(r.deviceID) {
		return nil, errMalformed("record salt or device id out of range")
	}
	if !validScalar(r.w0) {
		return nil, errMalformed("record w0 invalid")
	}
	if _, ok := parsePoint(r.l); !ok {
		return nil, errMalformed("record L invalid")
	}
	return r, nil
}

// appendHashParams encodes what the app needs to hash the code, in the
// record and in the params frame alike: Argon2id's time (4 bytes) and
// memory in KiB (4 bytes), threads (1 byte), then the salt and the device
// id, each a length byte and the bytes.
func appendHashParams(b []byte, kdf KDFParams, salt, deviceID []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, kdf.Time)
	b = binary.BigEndian.AppendUint32(b, kdf.MemoryKiB)
	b = append(b, kdf.Threads, byte(len(salt)))
	b = append(b, salt...)
	b = append(b, byte(len(deviceID)))
	return append(b, deviceID...)
}

// hashParams decodes what appendHashParams encodes.
func (d *decoder) hashParams() (kdf KDFParams, salt, deviceID []byte) {
	kdf.Time = d.uint32()
	kdf.MemoryKiB = d.uint32()
	kdf.Threads = d.byte()
	salt = d.bytes(int(d.byte()))
	deviceID = d.bytes(int(d.byte()))
	return kdf, salt, deviceID
}

// decoder reads fixed fields from a byte string and remembers the first
// failure, so that a parser checks once at the end.
type decoder struct {
	b      []byte
	failed bool
}

func (d *decoder) bytes(n int) []byte {
	if d.failed || n > len(d.b) {
		d.failed = true
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	v := d.bytes(1)
	if v == nil {
		return 0
	}
	return v[0]
}

func (d *decoder) uint16() uint16 {
	v := d.bytes(2)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint16(v)
}

func (d *decoder) uint32() uint32 {
	v := d.bytes(4)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint32(v)
}

func (d *decoder) uint64() uint64 {
	v := d.bytes(8)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// finish reports a truncated input or trailing bytes.
func (d *decoder) finish(what string) error {
	if d.failed {
		return errMalformed(what + " truncated")
	}
	if len(d.b) != 0 {
		return errMalformed(what + " has trailing bytes")
	}
	return nil
}
