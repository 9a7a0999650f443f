package totp_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/latchsec/latch/totp"
)

// newAuthenticator returns an Authenticator on a MemoryStore whose clock is
// *now. A real server keeps its encryption key in a secrets manager, uses
// totp/redisstore when it is one of several, and leaves Now nil.
func newAuthenticator(now *time.Time) *totp.Authenticator {
	encryptionKey := make([]byte, 32)
	if _, err := rand.Read(encryptionKey); err != nil {
		panic(err)
	}
	a, err := totp.New(totp.Config{
		Issuer:         "Acme IoT",
		Store:          &totp.MemoryStore{},
		EncryptionKeys: []totp.EncryptionKey{{ID: "2026-01", Key: encryptionKey}},
		Now:            func() time.Time { return *now },
	})
	if err != nil {
		panic(err)
	}
	return a
}

// A person switches on two-factor sign-in: enroll, show the QR code,
// confirm with the first code the app shows, then sign in with codes.
func Example() {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	a := newAuthenticator(&now)

	// Enroll: the account id keys the store; the app shows the name.
	key, err := a.Enroll(ctx, "user-42", "alice@example.com")
	if err != nil {
		panic(err)
	}
	png, err := key.QRCode(256) // serve it to the person, once, over TLS
	if err != nil {
		panic(err)
	}
	uri, _, _ := strings.Cut(key.URI(), "?")
	fmt.Println(uri, len(png) > 0)

	// Until it is confirmed, no code signs in.
	fmt.Println(errors.Is(a.Verify(ctx, "user-42", key.Code(now)), totp.ErrNotEnrolled))

	// The person scans the QR code and types the code the app shows.
	fmt.Println("confirm:", a.Confirm(ctx, "user-42", key.Code(now)))

	// Later, at sign-in.
	now = now.Add(5 * time.Minute)
	code := key.Code(now)
	fmt.Println("verify:", a.Verify(ctx, "user-42", code))

	// The same code again (someone who watched over the shoulder) is
	// refused. Show the person totp.ErrRefused; log the reason.
	err = a.Verify(ctx, "user-42", code)
	fmt.Println(errors.Is(err, totp.ErrRefused), errors.Is(err, totp.ErrReplayed))
	fmt.Println(err)
	// Output:
	// otpauth://totp/Acme%20IoT:alice%40example.com true
	// true
	// confirm: <nil>
	// verify: <nil>
	// true true
	// totp: code not accepted: code already used
}

// Wrong codes lock the account for a while; the error says until when.
func ExampleRefusedError() {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	a := newAuthenticator(&now)
	key, _ := a.Enroll(ctx, "user-42", "alice@example.com")
	_ = a.Confirm(ctx, "user-42", key.Code(now))
	now = now.Add(time.Minute)

	wrong := "000000"
	if key.Code(now) == wrong || key.Code(now.Add(-30*time.Second)) == wrong || key.Code(now.Add(30*time.Second)) == wrong {
		wrong = "000001"
	}
	var err error
	for range 5 {
		err = a.Verify(ctx, "user-42", wrong)
	}
	// The right code is refused too until the lockout ends.
	err = a.Verify(ctx, "user-42", key.Code(now))
	var refused *totp.RefusedError
	if errors.As(err, &refused) && errors.Is(err, totp.ErrThrottled) {
		fmt.Println("locked for", refused.RetryAfter.Sub(now))
	}
	// Output: locked for 1m0s
}

// Recovery codes sign a person in once each when the phone is lost. Show
// them once; only their hashes are kept.
func ExampleAuthenticator_RecoveryCodes() {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	a := newAuthenticator(&now)
	key, _ := a.Enroll(ctx, "user-42", "alice@example.com")
	_ = a.Confirm(ctx, "user-42", key.Code(now))

	codes, err := a.RecoveryCodes(ctx, "user-42")
	if err != nil {
		panic(err)
	}
	fmt.Println(len(codes), len(codes[0]), strings.Count(codes[0], "-"))

	// The person types one, in any case and spacing.
	typed := strings.ToUpper(strings.ReplaceAll(codes[0], "-", " "))
	fmt.Println("first use:", a.VerifyRecoveryCode(ctx, "user-42", typed))
	fmt.Println("second use:", a.VerifyRecoveryCode(ctx, "user-42", codes[0]))

	// A new set replaces the old one.
	if _, err := a.RecoveryCodes(ctx, "user-42"); err != nil {
		panic(err)
	}
	fmt.Println("old set:", errors.Is(a.VerifyRecoveryCode(ctx, "user-42", codes[1]), totp.ErrRefused))
	// Output:
	// 10 19 3
	// first use: <nil>
	// second use: totp: code not accepted: invalid code
	// old set: true
}

// A key URI shown by another app or a hardware token's sheet enrolls like
// a key made here.
func ExampleParseKeyURI() {
	key, err := totp.ParseKeyURI("otpauth://totp/Acme%20IoT:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20IoT&algorithm=SHA256&digits=8")
	if err != nil {
		panic(err)
	}
	fmt.Println(key.Issuer(), key.Account(), key.Algorithm(), key.Digits())
	fmt.Println(key)

	_, err = totp.ParseKeyURI("otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP") // 80 bits
	fmt.Println(err)
	// Output:
	// Acme IoT alice@example.com SHA256 8
	// totp.Key{issuer: "Acme IoT", account: "alice@example.com", algorithm: SHA256, digits: 8, secret: redacted}
	// totp: invalid key URI: secret not canonical base32 of 160 to 1024 bits
}
