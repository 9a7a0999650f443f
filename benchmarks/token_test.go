package benchmarks

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	golangjwt "github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe"
	"github.com/lestrrat-go/jwx/v3/jwk"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/latchsec/latch/token"
)

// The token benchmarks give every implementation the same claims: the
// standard ones (iss, sub, aud, iat, nbf, exp, jti), five scopes and one
// application. jwx and go-jose make and read JWE dir/A256GCM tokens, as
// Latch does; golang-jwt makes HS256 JWS tokens, signed and not encrypted,
// the cheap baseline users pick today.
//
// Verification everywhere turns a token string into claims a server can
// act on: decrypted or signature-checked, issuer, audience and validity
// period checked with a one-minute leeway, scopes split into a list.
// Latch's Verify also checks the in-memory revocation list (holding a
// thousand revoked IDs and a revoked subject); the peers have no such list.
// The peers are given their one raw key directly, Latch looks the key up by
// kid in its keyring.
const (
	benchIssuer   = "https://platform.example"
	benchAudience = "api"
	benchSubject  = "user-42"
)

var (
	benchScopes = []string{"data:read", "data:write", "devices:manage", "devices:read", "rules:read"}
	benchApps   = []string{"app-1"}
)

// plainClaims is what every implementation's verification must give back
// for a token: the claims in a form all of them can be compared in.
type plainClaims struct {
	Issuer, Subject, Audience string
	IssuedAt, NotBefore, Exp  int64
	ID                        string
	Scopes, Apps              []string
}

func (c plainClaims) String() string { return fmt.Sprintf("%+v", struct{ plainClaims }{c}) }

// tokenFixture holds one key, shared by every implementation, and the
// Latch issuer and verifier around it.
type tokenFixture struct {
	keys     *token.Keyring
	kid      string
	key      []byte // the raw 256-bit key, for the peers
	issuer   *token.Issuer
	verifier *token.Verifier
}

func newTokenFixture(b *testing.B) *tokenFixture {
	keys := token.NewKeyring()
	set, err := keys.JWKSet()
	if err != nil {
		b.Fatal(err)
	}
	var doc struct{ Keys []json.RawMessage }
	if err := json.Unmarshal(set, &doc); err != nil {
		b.Fatal(err)
	}
	k, err := jwk.ParseKey(doc.Keys[0])
	if err != nil {
		b.Fatal(err)
	}
	var raw []byte
	if err := jwk.Export(k, &raw); err != nil {
		b.Fatal(err)
	}
	revs := &token.MemoryRevocations{}
	ctx := context.Background()
	for range 1000 {
		if err := revs.RevokeID(ctx, newJTI(b), time.Now().Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
	if err := revs.RevokeSubject(ctx, "user-7", time.Now()); err != nil {
		b.Fatal(err)
	}
	cfg := token.Config{Keys: keys, Issuer: benchIssuer, Audience: benchAudience, Prefix: "lt_", Revocations: revs}
	return &tokenFixture{
		keys:     keys,
		kid:      keys.ActiveKeyID(),
		key:      raw,
		issuer:   &token.Issuer{Config: cfg},
		verifier: &token.Verifier{Config: cfg},
	}
}

func newJTI(b *testing.B) string {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		b.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(id[:])
}

// want is the claims a token issued at iat with id jti must verify to.
func want(iat time.Time, jti string) plainClaims {
	return plainClaims{
		Issuer: benchIssuer, Subject: benchSubject, Audience: benchAudience,
		IssuedAt: iat.Unix(), NotBefore: iat.Unix(), Exp: iat.Add(time.Hour).Unix(),
		ID: jti, Scopes: benchScopes, Apps: benchApps,
	}
}

// tokenImpl is one implementation: issue makes a token with the benchmark
// claims, issued now with a new random ID, as Latch's Issue does; verify
// reads a token back.
type tokenImpl struct {
	name   string
	issue  func() (string, error)
	verify func(tok string) (plainClaims, error)
}

// newClaimTimes returns what a peer's issue needs beyond the fixed
// claims: the current time in whole seconds and a random 128-bit jti.
func newClaimTimes() (time.Time, string, error) {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return time.Time{}, "", err
	}
	return time.Now().Truncate(time.Second), base64.RawURLEncoding.EncodeToString(id[:]), nil
}

func (f *tokenFixture) impls(b *testing.B) []tokenImpl {
	return []tokenImpl{f.latch(), f.jwx(b), f.gojose(b), f.golangjwt()}
}

func (f *tokenFixture) latch() tokenImpl {
	ctx := context.Background()
	return tokenImpl{
		name: "latch",
		issue: func() (string, error) {
			tok, _, err := f.issuer.Issue(ctx, token.Claims{
				Subject: benchSubject, Scopes: benchScopes, Apps: benchApps, Expires: time.Now().Add(time.Hour),
			})
			return tok, err
		},
		verify: func(tok string) (plainClaims, error) {
			c, err := f.verifier.Verify(ctx, tok)
			if err != nil {
				return plainClaims{}, err
			}
			return plainClaims{
				Issuer: c.Issuer, Subject: c.Subject, Audience: c.Audience,
				IssuedAt: c.IssuedAt.Unix(), NotBefore: c.NotBefore.Unix(), Exp: c.Expires.Unix(),
				ID: c.ID, Scopes: c.Scopes, Apps: c.Apps,
			}, nil
		},
	}
}

func (f *tokenFixture) jwx(b *testing.B) tokenImpl {
	h := jwe.NewHeaders()
	if err := h.Set("kid", f.kid); err != nil {
		b.Fatal(err)
	}
	serializer := jwxjwt.NewSerializer().Encrypt(
		jwxjwt.WithKey(jwa.DIRECT(), f.key),
		jwxjwt.WithEncryptOption(jwe.WithContentEncryption(jwa.A256GCM())),
		jwxjwt.WithEncryptOption(jwe.WithProtectedHeaders(h)),
	)
	return tokenImpl{
		name: "jwx",
		issue: func() (string, error) {
			now, jti, err := newClaimTimes()
			if err != nil {
				return "", err
			}
			t, err := jwxjwt.NewBuilder().
				Issuer(benchIssuer).Subject(benchSubject).Audience([]string{benchAudience}).
				IssuedAt(now).NotBefore(now).Expiration(now.Add(time.Hour)).JwtID(jti).
				Claim("scope", strings.Join(benchScopes, " ")).Claim("app", benchApps).
				Build()
			if err != nil {
				return "", err
			}
			tok, err := serializer.Serialize(t)
			return string(tok), err
		},
		verify: func(tok string) (plainClaims, error) {
			payload, err := jwe.Decrypt([]byte(tok), jwe.WithKey(jwa.DIRECT(), f.key))
			if err != nil {
				return plainClaims{}, err
			}
			t, err := jwxjwt.Parse(payload, jwxjwt.WithVerify(false),
				jwxjwt.WithIssuer(benchIssuer), jwxjwt.WithAudience(benchAudience),
				jwxjwt.WithAcceptableSkew(time.Minute))
			if err != nil {
				return plainClaims{}, err
			}
			var c plainClaims
			var scope string
			var apps []any
			if err := t.Get("scope", &scope); err != nil {
				return c, err
			}
			if err := t.Get("app", &apps); err != nil {
				return c, err
			}
			c.Issuer, _ = t.Issuer()
			c.Subject, _ = t.Subject()
			if aud, _ := t.Audience(); len(aud) == 1 {
				c.Audience = aud[0]
			}
			iat, _ := t.IssuedAt()
			nbf, _ := t.NotBefore()
			exp, _ := t.Expiration()
			c.IssuedAt, c.NotBefore, c.Exp = iat.Unix(), nbf.Unix(), exp.Unix()
			c.ID, _ = t.JwtID()
			c.Scopes = strings.Fields(scope)
			for _, a := range apps {
				s, _ := a.(string)
				c.Apps = append(c.Apps, s)
			}
			return c, nil
		},
	}
}

// joseClaims are the claims beyond the registered ones, for go-jose and
// golang-jwt.
type joseClaims struct {
	Scope string   `json:"scope"`
	App   []string `json:"app"`
}

func (f *tokenFixture) gojose(b *testing.B) tokenImpl {
	enc, err := jose.NewEncrypter(jose.A256GCM,
		jose.Recipient{Algorithm: jose.DIRECT, Key: f.key, KeyID: f.kid},
		(&jose.EncrypterOptions{}).WithType("JWT"))
	if err != nil {
		b.Fatal(err)
	}
	return tokenImpl{
		name: "gojose",
		// Not benchmarked (the issue asks for go-jose's verification
		// only); it makes the token that go-jose verifies.
		issue: func() (string, error) {
			now, jti, err := newClaimTimes()
			if err != nil {
				return "", err
			}
			return josejwt.Encrypted(enc).Claims(josejwt.Claims{
				Issuer: benchIssuer, Subject: benchSubject, Audience: josejwt.Audience{benchAudience},
				IssuedAt: josejwt.NewNumericDate(now), NotBefore: josejwt.NewNumericDate(now),
				Expiry: josejwt.NewNumericDate(now.Add(time.Hour)), ID: jti,
			}).Claims(joseClaims{Scope: strings.Join(benchScopes, " "), App: benchApps}).Serialize()
		},
		verify: func(tok string) (plainClaims, error) {
			t, err := josejwt.ParseEncrypted(tok, []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256GCM})
			if err != nil {
				return plainClaims{}, err
			}
			var std josejwt.Claims
			var extra joseClaims
			if err := t.Claims(f.key, &std, &extra); err != nil {
				return plainClaims{}, err
			}
			err = std.ValidateWithLeeway(josejwt.Expected{
				Issuer: benchIssuer, AnyAudience: josejwt.Audience{benchAudience}, Time: time.Now(),
			}, time.Minute)
			if err != nil {
				return plainClaims{}, err
			}
			c := plainClaims{Issuer: std.Issuer, Subject: std.Subject, ID: std.ID,
				Scopes: strings.Fields(extra.Scope), Apps: extra.App}
			if len(std.Audience) == 1 {
				c.Audience = std.Audience[0]
			}
			if std.IssuedAt != nil && std.NotBefore != nil && std.Expiry != nil {
				c.IssuedAt, c.NotBefore, c.Exp = std.IssuedAt.Time().Unix(), std.NotBefore.Time().Unix(), std.Expiry.Time().Unix()
			}
			return c, nil
		},
	}
}

type hsClaims struct {
	joseClaims
	golangjwt.RegisteredClaims
}

func (f *tokenFixture) golangjwt() tokenImpl {
	parser := golangjwt.NewParser(golangjwt.WithValidMethods([]string{"HS256"}),
		golangjwt.WithIssuer(benchIssuer), golangjwt.WithAudience(benchAudience),
		golangjwt.WithLeeway(time.Minute), golangjwt.WithExpirationRequired(), golangjwt.WithIssuedAt())
	keyFunc := func(t *golangjwt.Token) (any, error) {
		if t.Header["kid"] != f.kid {
			return nil, fmt.Errorf("unknown kid")
		}
		return f.key, nil
	}
	return tokenImpl{
		name: "golangjwt",
		issue: func() (string, error) {
			now, jti, err := newClaimTimes()
			if err != nil {
				return "", err
			}
			t := golangjwt.NewWithClaims(golangjwt.SigningMethodHS256, hsClaims{
				joseClaims: joseClaims{Scope: strings.Join(benchScopes, " "), App: benchApps},
				RegisteredClaims: golangjwt.RegisteredClaims{
					Issuer: benchIssuer, Subject: benchSubject, Audience: golangjwt.ClaimStrings{benchAudience},
					IssuedAt: golangjwt.NewNumericDate(now), NotBefore: golangjwt.NewNumericDate(now),
					ExpiresAt: golangjwt.NewNumericDate(now.Add(time.Hour)), ID: jti,
				},
			})
			t.Header["kid"] = f.kid
			return t.SignedString(f.key)
		},
		verify: func(tok string) (plainClaims, error) {
			var hc hsClaims
			if _, err := parser.ParseWithClaims(tok, &hc, keyFunc); err != nil {
				return plainClaims{}, err
			}
			c := plainClaims{Issuer: hc.Issuer, Subject: hc.Subject, ID: hc.ID,
				Scopes: strings.Fields(hc.Scope), Apps: hc.App}
			if len(hc.Audience) == 1 {
				c.Audience = hc.Audience[0]
			}
			if hc.IssuedAt != nil && hc.NotBefore != nil && hc.ExpiresAt != nil {
				c.IssuedAt, c.NotBefore, c.Exp = hc.IssuedAt.Unix(), hc.NotBefore.Unix(), hc.ExpiresAt.Unix()
			}
			return c, nil
		},
	}
}

// checkToken makes a token with impl and checks that impl reads back the
// benchmark claims, so that no benchmark can measure a failure. A JWE token
// (every one but golang-jwt's) must also decrypt with the other JOSE
// implementations to the same claims, and the Latch token with jwx and
// go-jose: they all handle the same format. It returns the token.
func checkToken(b *testing.B, f *tokenFixture, impl tokenImpl) string {
	b.Helper()
	before := time.Now().Truncate(time.Second)
	tok, err := impl.issue()
	if err != nil {
		b.Fatalf("%s: issue: %v", impl.name, err)
	}
	got, err := impl.verify(tok)
	if err != nil {
		b.Fatalf("%s: verify: %v", impl.name, err)
	}
	if id, err := base64.RawURLEncoding.Strict().DecodeString(got.ID); err != nil || len(id) != 16 {
		b.Fatalf("%s: jti %q is not 128 bits in base64url", impl.name, got.ID)
	}
	iat := time.Unix(got.IssuedAt, 0)
	if iat.Before(before) || iat.After(time.Now()) {
		b.Fatalf("%s: iat %v is not the time of issue", impl.name, iat)
	}
	w := want(iat, got.ID)
	if !equalClaims(got, w) {
		b.Fatalf("%s: verified to\n%v\nwant\n%v", impl.name, got, w)
	}
	if impl.name == "golangjwt" {
		return tok
	}
	for _, other := range f.impls(b) {
		if other.name == impl.name || other.name == "golangjwt" || other.name == "latch" && impl.name != "latch" {
			continue // Latch's verifier accepts only its own exact form
		}
		got, err := other.verify(strings.TrimPrefix(tok, "lt_")) // the scanner prefix is Latch's
		if err != nil {
			b.Fatalf("%s token: %s cannot verify it: %v", impl.name, other.name, err)
		}
		if !equalClaims(got, w) {
			b.Fatalf("%s token: %s verified it to\n%v\nwant\n%v", impl.name, other.name, got, w)
		}
	}
	// A token of another key, or altered, must be refused: the verifier
	// really checks.
	if _, err := impl.verify(tok[:len(tok)-2] + flip(tok[len(tok)-2:])); err == nil {
		b.Fatalf("%s: an altered token verified", impl.name)
	}
	return tok
}

func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func equalClaims(a, b plainClaims) bool {
	return a.Issuer == b.Issuer && a.Subject == b.Subject && a.Audience == b.Audience &&
		a.IssuedAt == b.IssuedAt && a.NotBefore == b.NotBefore && a.Exp == b.Exp && a.ID == b.ID &&
		slices.Equal(a.Scopes, b.Scopes) && slices.Equal(a.Apps, b.Apps)
}

// BenchmarkTokenIssue measures making a token: the claims (a fresh random
// 128-bit jti and the current time for every one), their JSON, and the
// encryption (or HS256 signature).
func BenchmarkTokenIssue(b *testing.B) {
	f := newTokenFixture(b)
	for _, impl := range f.impls(b) {
		if impl.name == "gojose" {
			continue
		}
		b.Run(impl.name, func(b *testing.B) {
			tok := checkToken(b, f, impl)
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				t, err := impl.issue()
				if err != nil {
					b.Fatal(err)
				}
				tok = t
			}
			cpu.report(b)
			b.ReportMetric(float64(len(tok)), "bytes/token")
		})
	}
}

// BenchmarkTokenVerify measures checking a token made by the same
// implementation and getting its claims.
func BenchmarkTokenVerify(b *testing.B) {
	f := newTokenFixture(b)
	for _, impl := range f.impls(b) {
		b.Run(impl.name, func(b *testing.B) {
			tok := checkToken(b, f, impl)
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				if _, err := impl.verify(tok); err != nil {
					b.Fatal(err)
				}
			}
			cpu.report(b)
			b.ReportMetric(float64(len(tok)), "bytes/token")
		})
	}
}
