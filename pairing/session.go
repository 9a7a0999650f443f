package pairing

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"net/url"
	"unicode/utf8"

	"github.com/latchsec/latch/internal/reason"
	"github.com/latchsec/latch/sealedbox/e2e"
	"golang.org/x/crypto/chacha20poly1305"
)

// What both sides compute from the frames: the SPAKE2+ context, the final
// keys, and the provisioning payload under them.

// protocolLabel names this protocol and its version in every derivation.
const protocolLabel = "latch-pairing/v1"

// keySize is the size of the end-to-end key, in bytes.
const keySize = 32

// spakeContext is RFC 9383's Context for one session: the protocol label
// and the SHA-256 of the hello and params frames (nonces, work factor,
// salt, device identity, ML-KEM encapsulation key) and of the ML-KEM
// ciphertext. The confirmation MACs cover K_main, which covers the
// context, so a change to any of these fails key confirmation.
func spakeContext(hello, params, ct []byte) []byte {
	h := sha256.New()
	h.Write(hello)
	h.Write(params)
	h.Write(ct)
	return h.Sum([]byte(protocolLabel))
}

// sessionKeys are derived from K_shared and the ML-KEM shared secret, with
// the SHA-256 of the frames from hello to confirmP as salt:
// HKDF-SHA256(K_shared || ss, salt, "latch-pairing/v1 keys", 96).
type sessionKeys struct {
	e2e     []byte // the end-to-end key handed to both callers
	payload []byte // ChaCha20-Poly1305 key of the provisioning payload
	done    []byte // HMAC key of the device's last frame
	th      []byte // the transcript hash, AAD of the payload
}

func deriveSessionKeys(kShared, ss []byte, frames [][]byte) *sessionKeys {
	h := sha256.New()
	for _, f := range frames {
		h.Write(f)
	}
	th := h.Sum(nil)
	secret := append(append([]byte(nil), kShared...), ss...)
	out, err := hkdf.Key(sha256.New, secret, th, protocolLabel+" keys", 3*keySize)
	if err != nil {
		panic("pairing: " + err.Error())
	}
	return &sessionKeys{e2e: out[:keySize], payload: out[keySize : 2*keySize], done: out[2*keySize:], th: th}
}

// e2eKey returns the end-to-end key handed to both callers.
func (k *sessionKeys) e2eKey() (*e2e.Key, error) {
	key, err := e2e.NewKey(k.e2e)
	if err != nil {
		return nil, errPairing(err) // unreachable: the key is keySize bytes
	}
	return key, nil
}

// doneMAC is the device's last frame: proof that it holds the same keys
// and accepted the payload.
func (k *sessionKeys) doneMAC() []byte {
	return macSHA256(k.done, []byte(protocolLabel+" done"))
}

// Provisioning is what the app gives the device once they share a key:
// the device's MQTT credentials and where the platform is.
type Provisioning struct {
	AppKey      string // application key: the MQTT username
	AppSecret   string // application secret: the MQTT password
	PlatformURL string // the platform's URL, absolute
	// Settings is anything else the device needs from the app, such as
	// its identity at the platform; opaque to this package, at most 1024
	// bytes, may be empty.
	Settings []byte
}

// maxFieldSize caps each field of a provisioning payload.
const maxFieldSize = 1024

const provisioningVersion = 1

func (p *Provisioning) check() error {
	for _, f := range []string{p.AppKey, p.AppSecret, p.PlatformURL} {
		if f == "" || len(f) > maxFieldSize || !utf8.ValidString(f) {
			return errMalformed("provisioning field empty, too long or not UTF-8")
		}
	}
	if len(p.Settings) > maxFieldSize {
		return errMalformed("provisioning settings too long")
	}
	if len(p.marshal())+chacha20poly1305.Overhead > maxFrameSize {
		return errMalformed("provisioning payload too large")
	}
	u, err := url.Parse(p.PlatformURL)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return errMalformed("provisioning platform URL not absolute")
	}
	return nil
}

// marshal encodes the payload: version 1, then each field (AppKey,
// AppSecret, PlatformURL, Settings) as a 2-byte big-endian length and its
// bytes.
func (p *Provisioning) marshal() []byte {
	b := []byte{provisioningVersion}
	for _, f := range []string{p.AppKey, p.AppSecret, p.PlatformURL, string(p.Settings)} {
		b = binary.BigEndian.AppendUint16(b, uint16(len(f)))
		b = append(b, f...)
	}
	return b
}

func parseProvisioning(b []byte) (*Provisioning, error) {
	d := decoder{b: b}
	if v := d.byte(); v != provisioningVersion && !d.failed {
		return nil, reason.Newf(ErrUnsupportedVersion, nil, "provisioning payload version")
	}
	p := &Provisioning{}
	p.AppKey = string(d.bytes(int(d.uint16())))
	p.AppSecret = string(d.bytes(int(d.uint16())))
	p.PlatformURL = string(d.bytes(int(d.uint16())))
	if settings := d.bytes(int(d.uint16())); len(settings) > 0 {
		p.Settings = settings
	}
	if err := d.finish("provisioning payload"); err != nil {
		return nil, err
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	return p, nil
}

// sealPayload encrypts the payload with ChaCha20-Poly1305 under a key used
// for this one message, so the nonce is zero; the transcript hash is the
// associated data.
func (k *sessionKeys) sealPayload(p []byte) []byte {
	aead, err := chacha20poly1305.New(k.payload)
	if err != nil {
		panic("pairing: " + err.Error())
	}
	return aead.Seal(nil, make([]byte, aead.NonceSize()), p, k.th)
}

func (k *sessionKeys) openPayload(c []byte) ([]byte, error) {
	aead, err := chacha20poly1305.New(k.payload)
	if err != nil {
		panic("pairing: " + err.Error())
	}
	p, err := aead.Open(nil, make([]byte, aead.NonceSize()), c, k.th)
	if err != nil {
		return nil, ErrAuthentication
	}
	return p, nil
}
