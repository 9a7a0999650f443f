package token

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/latchsec/latch/internal/strictjson"
	"github.com/latchsec/latch/token/internal/lexical"
)

// A Keyring holds the keys that tokens are encrypted under: one active key,
// which encrypts new tokens, and older verify-only keys, which still decrypt
// the tokens issued under them. The token header's kid names the key.
//
// Rotation: [Keyring.Rotate] makes a new active key and keeps the previous
// one for verification; once the tokens issued under an old key have expired
// or may be invalidated, [Keyring.Retire] removes it, and its tokens stop
// verifying. A Keyring is safe for concurrent use; Issuers and Verifiers that
// share it see a rotation at once. Where the keys are stored, make the change
// on a copy, store it, then apply it with [Keyring.Replace].
//
// A Keyring holds secrets. It prints as its key ids only, and it has no
// JSON form except the explicit [Keyring.JWKSet].
type Keyring struct {
	mu   sync.Mutex // serializes changes
	keys atomic.Pointer[keyset]
}

// keyset is one immutable state of a Keyring.
type keyset struct {
	list []*key // the active key first, then verify-only keys, newest first
}

type key struct {
	id     string
	secret []byte
	aead   cipher.AEAD // AES-256-GCM with random 96-bit nonces
	header string      // the token header for this key, in base64url
}

func (s *keyset) active() *key { return s.list[0] }

func (s *keyset) lookup(kid string) *key {
	for _, k := range s.list {
		if k.id == kid {
			return k
		}
	}
	return nil
}

func newKey(id string, secret []byte) *key {
	if len(secret) != keySize || !checkKeyID(id) {
		panic("token: internal error: bad key")
	}
	block, err := aes.NewCipher(secret)
	if err != nil {
		panic("token: internal error: " + err.Error())
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		panic("token: internal error: " + err.Error())
	}
	// The header Issue writes: exactly these members, in this order.
	h := `{"alg":"dir","enc":"A256GCM","kid":"` + id + `"}`
	return &key{
		id:     id,
		secret: slices.Clone(secret),
		aead:   aead,
		header: base64.RawURLEncoding.EncodeToString([]byte(h)),
	}
}

// generateKey makes a key from crypto/rand, with a random 96-bit kid.
func generateKey() *key {
	secret := make([]byte, keySize)
	rand.Read(secret)
	var id [12]byte
	rand.Read(id[:])
	return newKey(base64.RawURLEncoding.EncodeToString(id[:]), secret)
}

// NewKeyring returns a keyring with one new active key from crypto/rand.
func NewKeyring() *Keyring {
	kr := new(Keyring)
	kr.keys.Store(&keyset{list: []*key{generateKey()}})
	return kr
}

func (kr *Keyring) load() *keyset {
	if kr == nil {
		return nil
	}
	return kr.keys.Load()
}

// ActiveKeyID returns the kid of the key that encrypts new tokens.
func (kr *Keyring) ActiveKeyID() string {
	s := kr.load()
	if s == nil {
		return ""
	}
	return s.active().id
}

// KeyIDs returns the kids of all keys, the active one first, then the
// verify-only ones from newest to oldest.
func (kr *Keyring) KeyIDs() []string {
	s := kr.load()
	if s == nil {
		return nil
	}
	ids := make([]string, len(s.list))
	for i, k := range s.list {
		ids[i] = k.id
	}
	return ids
}

// Rotate makes a new active key from crypto/rand; the previous active key
// becomes verify-only. It returns the new kid. On a zero Keyring it makes
// the first key. It fails if the keyring already holds 32 keys: retire
// old ones first.
func (kr *Keyring) Rotate() (string, error) {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	var list []*key
	if s := kr.keys.Load(); s != nil {
		list = s.list
	}
	if len(list) >= maxKeys {
		return "", keyringProblem("full (" + strconv.Itoa(maxKeys) + " keys): retire old keys before rotating")
	}
	k := generateKey()
	kr.keys.Store(&keyset{list: append([]*key{k}, list...)})
	return k.id, nil
}

// Retire removes the verify-only key kid. Tokens issued under it no longer
// verify. The active key cannot be retired: rotate first.
func (kr *Keyring) Retire(kid string) error {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	s := kr.keys.Load()
	if s == nil {
		s = &keyset{}
	}
	i := slices.IndexFunc(s.list, func(k *key) bool { return k.id == kid })
	switch {
	case i < 0:
		return keyringProblem("no key with that kid")
	case i == 0:
		return keyringProblem("the active key cannot be retired; rotate first")
	}
	kr.keys.Store(&keyset{list: slices.Delete(slices.Clone(s.list), i, i+1)})
	return nil
}

// Replace gives kr the keys of next, at once for every Issuer and Verifier
// that shares kr; next is not changed. It is how a change that must be
// stored before it takes effect is applied: parse the stored set into a
// copy ([ParseKeyring]), Rotate or Retire the copy, store the copy's
// [Keyring.JWKSet], and only then Replace; if storing fails, kr has not
// changed. It is also how a server picks up a set another one stored. It
// fails, changing nothing, if next has no keys.
func (kr *Keyring) Replace(next *Keyring) error {
	s := next.load()
	if s == nil || len(s.list) == 0 {
		return keyringProblem("cannot replace the keys with none")
	}
	kr.mu.Lock()
	defer kr.mu.Unlock()
	kr.keys.Store(s) // a keyset never changes once stored: sharing it is safe
	return nil
}

// Format prints the keyring as its key ids, never its keys, whatever the
// verb.
func (kr *Keyring) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "token.Keyring%q", kr.KeyIDs())
}

// ParseKeyring reads a keyring from a JWK Set (RFC 7517) document, as
// written by [Keyring.JWKSet]:
//
//	{"keys":[
//	  {"kty":"oct","kid":"...","k":"...","alg":"dir","use":"enc","key_ops":["encrypt","decrypt"]},
//	  {"kty":"oct","kid":"...","k":"...","alg":"dir","use":"enc","key_ops":["decrypt"]}
//	]}
//
// Every key must be a 256-bit "oct" key with a kid of 1 to 64 URL-safe
// characters, and key_ops of ["encrypt","decrypt"] for the one active key or
// ["decrypt"] for a verify-only key; "alg" and "use", when present, must be
// "dir" and "enc". The document must be strict JSON (no duplicate members),
// at most 64 KiB, with at most 32 keys. Keys are kept in the set's
// order. Errors are [*KeySetError], under ErrKeySet, and never contain key
// material.
func ParseKeyring(jwks []byte) (*Keyring, error) {
	if len(jwks) > maxKeySetSize {
		return nil, keySetError(-1, "", nil, "larger than 64 KiB")
	}
	// Members are looked up by their exact names (encoding/json would also
	// match "KEYS" or "Kty"); other members are ignored, as RFC 7517 says.
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := strictjson.DecodeExtensible(jwks, &doc, keySetLimits); err != nil {
		if errors.Is(err, strictjson.ErrType) || errors.Is(err, strictjson.ErrUnknown) {
			return nil, keySetError(-1, "", nil, `not a JWK Set: a "keys" array is required`)
		}
		return nil, keySetError(-1, "", nil, "not strict JSON (syntax, encoding or a duplicate member)")
	}
	keys := doc.Keys
	if keys == nil {
		return nil, keySetError(-1, "", nil, `not a JWK Set: a "keys" array is required`)
	}
	if len(keys) > maxKeys {
		return nil, keySetError(-1, "", nil, "more than "+strconv.Itoa(maxKeys)+" keys")
	}
	var list []*key
	activeAt := -1
	for i, raw := range keys {
		k, active, err := parseJWK(raw)
		if err != nil {
			err.Index = i
			return nil, err
		}
		if slices.ContainsFunc(list, func(o *key) bool { return o.id == k.id }) {
			return nil, keySetError(i, k.id, errDuplicateKeyID, "kid used by an earlier key")
		}
		if active {
			if activeAt >= 0 {
				return nil, keySetError(i, k.id, errNoActiveKey, "a second active key (key_ops with encrypt); only one key may encrypt")
			}
			activeAt = i
		}
		list = append(list, k)
	}
	if activeAt < 0 {
		return nil, keySetError(-1, "", errNoActiveKey, `no usable active key: one 256-bit oct key needs key_ops ["encrypt","decrypt"]`)
	}
	// The active key first, the others in the set's order.
	active := list[activeAt]
	list = append([]*key{active}, slices.Delete(list, activeAt, activeAt+1)...)
	kr := new(Keyring)
	kr.keys.Store(&keyset{list: list})
	return kr, nil
}

// parseJWK reads one key of a set. The error's Index is for the caller to
// set.
func parseJWK(raw []byte) (k *key, active bool, _ *KeySetError) {
	fail := func(why error, kid, detail string) (*key, bool, *KeySetError) {
		return nil, false, keySetError(0, kid, why, detail)
	}
	var peek struct {
		Kty *string `json:"kty"`
		Kid *string `json:"kid"`
		K   *string `json:"k"`
	}
	if err := strictjson.DecodeExtensible(raw, &peek, keySetLimits); err != nil {
		var e *strictjson.Error
		if errors.As(err, &e) && e.Member != "" && errors.Is(err, strictjson.ErrType) {
			return fail(nil, "", e.Member+" is not a string")
		}
		if errors.As(err, &e) && e.Member != "" && errors.Is(err, strictjson.ErrUnknown) {
			return fail(nil, "", "a member's name is kty, kid or k in another case")
		}
		return fail(nil, "", "not a JSON object")
	}
	kid := ""
	if peek.Kid != nil && checkKeyID(*peek.Kid) {
		kid = *peek.Kid
	}
	switch {
	case peek.Kty == nil:
		return fail(nil, kid, "no kty")
	case *peek.Kty != "oct":
		return fail(errUnsupportedKey, kid, `not an "oct" key: token keys are 256-bit symmetric keys`)
	case kid == "":
		return fail(errUnsupportedKey, "", "no kid, or not 1 to 64 characters of A-Z a-z 0-9 _ - . ~")
	case peek.K == nil:
		return fail(errUnsupportedKey, kid, "no key value k")
	}
	var secret [keySize]byte
	if len(*peek.K) != 43 {
		return fail(errUnsupportedKey, kid, "not a 256-bit key")
	}
	if _, err := lexical.AppendBase64(secret[:0], *peek.K); err != nil {
		return fail(errUnsupportedKey, kid, "k is not canonical base64url")
	}
	jk, err := jwk.ParseKey(raw)
	if err != nil {
		return fail(errUnsupportedKey, kid, "not a valid oct JWK")
	}
	sk, ok := jk.(jwk.SymmetricKey)
	if !ok {
		return fail(errUnsupportedKey, kid, "not a symmetric key")
	}
	if octets, ok := sk.Octets(); !ok || len(octets) != keySize || string(octets) != string(secret[:]) {
		return fail(errUnsupportedKey, kid, "not a 256-bit key")
	}
	if alg, ok := sk.Algorithm(); ok && alg.String() != jwa.DIRECT().String() {
		return fail(errUnsupportedKey, kid, `alg is not "dir"`)
	}
	if use, ok := sk.KeyUsage(); ok && use != string(jwk.ForEncryption) {
		return fail(errUnsupportedKey, kid, `use is not "enc"`)
	}
	ops, _ := sk.KeyOps()
	switch {
	case slices.Equal(ops, jwk.KeyOperationList{jwk.KeyOpEncrypt, jwk.KeyOpDecrypt}),
		slices.Equal(ops, jwk.KeyOperationList{jwk.KeyOpDecrypt, jwk.KeyOpEncrypt}):
		active = true
	case slices.Equal(ops, jwk.KeyOperationList{jwk.KeyOpDecrypt}):
	default:
		return fail(errUnsupportedKey, kid, `key_ops must be ["encrypt","decrypt"] (active key) or ["decrypt"] (verify-only)`)
	}
	return newKey(kid, secret[:]), active, nil
}

// JWKSet returns the keyring as a JWK Set document that ParseKeyring reads
// back: the active key first with key_ops ["encrypt","decrypt"], then the
// verify-only keys with ["decrypt"]. The document holds the secret keys:
// store it as a secret.
func (kr *Keyring) JWKSet() ([]byte, error) {
	s := kr.load()
	if s == nil {
		return nil, keyringProblem("no keys")
	}
	set := jwk.NewSet()
	for i, k := range s.list {
		jk, err := jwk.Import(k.secret)
		if err != nil {
			return nil, keyringProblem("cannot write a key as a JWK")
		}
		ops := jwk.KeyOperationList{jwk.KeyOpDecrypt}
		if i == 0 {
			ops = jwk.KeyOperationList{jwk.KeyOpEncrypt, jwk.KeyOpDecrypt}
		}
		for name, v := range map[string]any{
			jwk.KeyIDKey:     k.id,
			jwk.AlgorithmKey: jwa.DIRECT(),
			jwk.KeyUsageKey:  jwk.ForEncryption,
			jwk.KeyOpsKey:    ops,
		} {
			if err := jk.Set(name, v); err != nil {
				return nil, keyringProblem("cannot write a key as a JWK")
			}
		}
		if err := set.AddKey(jk); err != nil {
			return nil, keyringProblem("cannot write a key as a JWK")
		}
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, keyringProblem("cannot write the keys as a JWK Set")
	}
	return b, nil
}
