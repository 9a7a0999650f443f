package benchmarks

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	pquerna "github.com/pquerna/otp/totp"

	"github.com/latchsec/latch/totp"
)

// The TOTP benchmarks compare what a server pays to check a six-digit
// SHA-1 code with a window of one step either side. Latch's Verify does
// everything it promises: it loads the account's record from the in-memory
// store, decrypts the stored secret (AES-256-GCM), checks the code, refuses
// replays and records the step (or the failure) with a compare-and-swap.
// pquerna/otp's ValidateCustom only computes codes from a base32 secret the
// caller holds in the clear; replay protection, throttling and storage are
// left to the caller.
//
// Codes and times are computed before the timer starts. Each valid
// iteration is for a fresh time step, so that Latch's replay protection
// does not refuse it; both implementations get the same steps and codes.

// totpStart is the time of enrollment in the benchmarks.
var totpStart = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// totpMaxFailures is the lockout threshold of the benchmark authenticator:
// the highest Latch allows, so that fewer accounts are needed to measure
// wrong codes without reaching a lockout.
const totpMaxFailures = 20

var pquernaOpts = pquerna.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// newTOTP returns an authenticator on a MemoryStore whose clock reads *now.
func newTOTP(b *testing.B, now *time.Time) *totp.Authenticator {
	encryptionKey := make([]byte, 32)
	if _, err := rand.Read(encryptionKey); err != nil {
		b.Fatal(err)
	}
	a, err := totp.New(totp.Config{
		Issuer:         "Acme IoT",
		Store:          &totp.MemoryStore{},
		EncryptionKeys: []totp.EncryptionKey{{ID: "bench", Key: encryptionKey}},
		MaxFailures:    totpMaxFailures,
		Now:            func() time.Time { return *now },
	})
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// enrollTOTP enrolls and confirms account at *now (which must be
// totpStart) and returns its key.
func enrollTOTP(b *testing.B, a *totp.Authenticator, account string, now time.Time) totp.Key {
	ctx := context.Background()
	key, err := a.Enroll(ctx, account, "")
	if err != nil {
		b.Fatal(err)
	}
	if err := a.Confirm(ctx, account, key.Code(now)); err != nil {
		b.Fatal(err)
	}
	return key
}

// secretBase32 is the key's secret as pquerna/otp takes it: unpadded base32
// without the grouping spaces.
func secretBase32(k totp.Key) string {
	return strings.ReplaceAll(k.SecretBase32(), " ", "")
}

// wrongCode returns a six-digit code that matches none of the steps of the
// window around t.
func wrongCode(k totp.Key, t time.Time) string {
	window := []string{k.Code(t.Add(-30 * time.Second)), k.Code(t), k.Code(t.Add(30 * time.Second))}
	var n int
	fmt.Sscan(window[1], &n)
	for {
		n = (n + 1) % 1_000_000
		if c := fmt.Sprintf("%06d", n); !slices.Contains(window, c) {
			return c
		}
	}
}

// checkTOTP checks, before any timing, that both implementations agree on
// codes and that each accepts a right code and refuses a wrong one (and
// Latch a replay), so that no benchmark measures a failure.
func checkTOTP(b *testing.B) {
	b.Helper()
	ctx := context.Background()
	now := totpStart
	a := newTOTP(b, &now)
	key := enrollTOTP(b, a, "check", now)
	secret := secretBase32(key)
	for i := range 4 {
		now = totpStart.Add(time.Duration(i+1) * 30 * time.Second)
		code := key.Code(now)
		if c, err := pquerna.GenerateCodeCustom(secret, now, pquernaOpts); err != nil || c != code {
			b.Fatalf("pquerna computes %q (%v), latch %q", c, err, code)
		}
		if ok, err := pquerna.ValidateCustom(code, secret, now, pquernaOpts); !ok || err != nil {
			b.Fatalf("pquerna refuses a right code: %v", err)
		}
		bad := wrongCode(key, now)
		if ok, err := pquerna.ValidateCustom(bad, secret, now, pquernaOpts); ok || err != nil {
			b.Fatalf("pquerna: wrong code: %v, %v", ok, err)
		}
		if err := a.Verify(ctx, "check", bad); !errors.Is(err, totp.ErrInvalidCode) {
			b.Fatalf("latch: wrong code: %v", err)
		}
		if err := a.Verify(ctx, "check", code); err != nil {
			b.Fatalf("latch refuses a right code: %v", err)
		}
		if err := a.Verify(ctx, "check", code); !errors.Is(err, totp.ErrReplayed) {
			b.Fatalf("latch: replay: %v", err)
		}
	}
}

// freshSteps holds one time per time step after totpStart and the key's
// code for each, in memory the garbage collector does not scan (a string
// and integers), so that holding millions of them does not slow the
// collections that the measured code triggers.
type freshSteps struct {
	unix  []int64
	codes string // six digits per step
}

func newFreshSteps(key totp.Key, n int) freshSteps {
	s := freshSteps{unix: make([]int64, n)}
	var codes strings.Builder
	codes.Grow(6 * n)
	for i := range n {
		t := totpStart.Add(time.Duration(i+1) * 30 * time.Second)
		s.unix[i] = t.Unix()
		codes.WriteString(key.Code(t))
	}
	s.codes = codes.String()
	return s
}

func (s freshSteps) at(i int) (time.Time, string) {
	return time.Unix(s.unix[i], 0), s.codes[6*i : 6*i+6]
}

// BenchmarkTOTPVerify measures accepting a right code.
func BenchmarkTOTPVerify(b *testing.B) {
	checkTOTP(b)
	ctx := context.Background()
	for _, recovery := range []bool{false, true} {
		name := "latch"
		if recovery {
			name = "latch-recoverycodes"
		}
		b.Run(name, func(b *testing.B) {
			now := totpStart
			a := newTOTP(b, &now)
			key := enrollTOTP(b, a, "user-42", now)
			if recovery {
				if _, err := a.RecoveryCodes(ctx, "user-42"); err != nil {
					b.Fatal(err)
				}
			}
			steps := newFreshSteps(key, b.N)
			b.ReportAllocs()
			runtime.GC() // the setup's garbage is not the loop's to collect
			b.ResetTimer()
			cpu := startCPU()
			for i := range b.N {
				var code string
				now, code = steps.at(i)
				if err := a.Verify(ctx, "user-42", code); err != nil {
					b.Fatal(err)
				}
			}
			cpu.report(b)
		})
	}
	b.Run("pquerna", func(b *testing.B) {
		now := totpStart
		key := enrollTOTP(b, newTOTP(b, &now), "user-42", now)
		secret := secretBase32(key)
		steps := newFreshSteps(key, b.N)
		b.ReportAllocs()
		runtime.GC() // the setup's garbage is not the loop's to collect
		b.ResetTimer()
		cpu := startCPU()
		for i := range b.N {
			t, code := steps.at(i)
			ok, err := pquerna.ValidateCustom(code, secret, t, pquernaOpts)
			if err != nil || !ok {
				b.Fatal("pquerna refused a right code", err)
			}
		}
		cpu.report(b)
	})
}

// BenchmarkTOTPVerifyInvalid measures refusing a well-formed wrong code,
// which costs both implementations the whole window of three steps. Latch
// also counts the failure in the store; so that no account reaches the
// lockout (after which codes are refused without being looked at), each
// account gets fewer wrong codes than the threshold, and there are as many
// accounts as that takes.
func BenchmarkTOTPVerifyInvalid(b *testing.B) {
	checkTOTP(b)
	ctx := context.Background()
	at := totpStart.Add(5 * time.Minute)
	const perAccount = totpMaxFailures - 1
	b.Run("latch", func(b *testing.B) {
		now := totpStart
		a := newTOTP(b, &now)
		accounts := make([]string, (b.N+perAccount-1)/perAccount)
		bad := make([]string, len(accounts))
		for i := range accounts {
			accounts[i] = fmt.Sprintf("user-%d", i)
			bad[i] = wrongCode(enrollTOTP(b, a, accounts[i], now), at)
		}
		now = at
		b.ReportAllocs()
		runtime.GC() // the setup's garbage is not the loop's to collect
		b.ResetTimer()
		cpu := startCPU()
		for i := range b.N {
			err := a.Verify(ctx, accounts[i/perAccount], bad[i/perAccount])
			if !errors.Is(err, totp.ErrInvalidCode) {
				b.Fatal("latch: wrong code:", err)
			}
		}
		cpu.report(b)
	})
	b.Run("pquerna", func(b *testing.B) {
		now := totpStart
		key := enrollTOTP(b, newTOTP(b, &now), "user-42", now)
		secret, bad := secretBase32(key), wrongCode(key, at)
		b.ReportAllocs()
		runtime.GC() // the setup's garbage is not the loop's to collect
		b.ResetTimer()
		cpu := startCPU()
		for range b.N {
			ok, err := pquerna.ValidateCustom(bad, secret, at, pquernaOpts)
			if err != nil || ok {
				b.Fatal("pquerna: wrong code:", ok, err)
			}
		}
		cpu.report(b)
	})
}
