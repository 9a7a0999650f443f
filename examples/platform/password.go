package platform

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are the argon2id parameters of new password hashes:
// OWASP's Password Storage Cheat Sheet's first argon2id setting (19 MiB of
// memory, 2 passes, 1 lane), a 128-bit random salt and a 256-bit hash.
// Raise Memory first if your servers can afford it (RFC 9106 §4 suggests
// 64 MiB with 3 passes). Stored hashes carry their parameters, so raising
// them later leaves old hashes verifiable.
var PasswordParams = struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	SaltLen int
	KeyLen  uint32
}{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Limits on stored hashes we agree to compute, so that a tampered row
// cannot make a sign-in cost gigabytes.
const (
	maxPasswordLen = 1024
	minPasswordLen = 10
	maxHashMemory  = 256 * 1024
	maxHashTime    = 10
)

var errPasswordFormat = errors.New("platform: malformed password hash")

// hashPassword returns the PHC string of password:
// $argon2id$v=19$m=19456,t=2,p=1$SALT$HASH (unpadded standard base64).
func hashPassword(password string) string {
	pp := PasswordParams
	salt := make([]byte, pp.SaltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, pp.Time, pp.Memory, pp.Threads, pp.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, pp.Memory, pp.Time, pp.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// checkPassword reports whether password matches the PHC string stored.
func checkPassword(stored, password string) (bool, error) {
	parts := strings.Split(stored, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false, errPasswordFormat
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > maxHashMemory || t == 0 || t > maxHashTime || p == 0 {
		return false, errPasswordFormat
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 16 {
		return false, errPasswordFormat
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) < 16 || len(want) > 64 {
		return false, errPasswordFormat
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
