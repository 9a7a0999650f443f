package platform

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

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
	h, err := parsePasswordHash(stored)
	if err != nil {
		return false, err
	}
	return h.matches(password), nil
}

// passwordHash is a parsed PHC string.
type passwordHash struct {
	memory, time uint32 // KiB, passes
	threads      uint8
	salt, key    []byte
}

// parsePasswordHash parses a stored PHC string, refusing parameters
// beyond the caps.
func parsePasswordHash(stored string) (*passwordHash, error) {
	parts := strings.Split(stored, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return nil, errPasswordFormat
	}
	var h passwordHash
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.memory, &h.time, &h.threads); err != nil ||
		h.memory == 0 || h.memory > maxHashMemory || h.time == 0 || h.time > maxHashTime || h.threads == 0 {
		return nil, errPasswordFormat
	}
	b64 := base64.RawStdEncoding
	var err error
	if h.salt, err = b64.DecodeString(parts[4]); err != nil || len(h.salt) < 16 {
		return nil, errPasswordFormat
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil || len(h.key) < 16 || len(h.key) > 64 {
		return nil, errPasswordFormat
	}
	return &h, nil
}

func (h *passwordHash) matches(password string) bool {
	got := argon2.IDKey([]byte(password), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(got, h.key) == 1
}

// DefaultPasswordHashingMemory is how much memory password hashing may
// take at once when Config.PasswordHashingMemory is zero: 256 MiB, room
// for 13 argon2id evaluations with [PasswordParams].
const DefaultPasswordHashingMemory = 256 << 20

// errHashingBusy answers a request that would take password hashing past
// its memory budget.
var errHashingBusy = &retryAfterError{userError{http.StatusServiceUnavailable, "temporarily_unavailable",
	"Too many sign-ins in progress; try again in a moment."}, time.Second}

// hashing bounds the memory that password hashing holds. Each argon2id
// evaluation holds its memory parameter (19 MiB with PasswordParams) for
// its whole length, so evaluations run at once only while their sum fits
// the budget; past it a request is refused at once (errHashingBusy), never
// queued, so that a flood of sign-ins costs the server a bounded amount of
// memory and no waiting goroutines.
type hashing struct {
	mu     sync.Mutex
	budget int64  // KiB
	inUse  int64  // KiB
	hook   func() // tests only (export_test.go): called in each evaluation
}

// acquire takes memory KiB of the budget (at most the whole budget, so
// that any one hash can run alone) and returns the function that gives it
// back, or errHashingBusy if the budget is spent.
func (h *hashing) acquire(memory uint32) (release func(), err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	kib := min(int64(memory), h.budget)
	if h.inUse+kib > h.budget {
		return nil, errHashingBusy
	}
	h.inUse += kib
	return func() {
		h.mu.Lock()
		h.inUse -= kib
		h.mu.Unlock()
	}, nil
}

// run runs f, an argon2id evaluation, with memory acquired for it.
func (h *hashing) run(f func()) {
	h.mu.Lock()
	hook := h.hook
	h.mu.Unlock()
	if hook != nil {
		hook()
	}
	f()
}

// hashPassword hashes a new password within the hashing budget.
func (ac *accounts) hashPassword(password string) (string, error) {
	release, err := ac.hashing.acquire(PasswordParams.Memory)
	if err != nil {
		return "", err
	}
	defer release()
	var h string
	ac.hashing.run(func() { h = hashPassword(password) })
	return h, nil
}
