package totp

import (
	"crypto/rand"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchsec/latch/internal/interop"
	"github.com/stretchr/testify/require"
)

// The interop tests compare Latch with implementations written by others:
// oathtool (Debian oathtool), pyotp (Debian python3-pyotp), otplib (npm,
// internal/interop/node) and the QR code reader zbarimg (Debian zbar-tools).

// interopTimes are fixed times: the first steps, RFC 6238's times, and both
// sides of step boundaries (a step ends at a multiple of 30 s).
var interopTimes = []int64{
	0, 29, 30, 59, 60, 89,
	1111111109, 1111111111, 1234567890, 2000000000, 20000000000,
	1767225599, 1767225600, 1767225629, 1767225630,
}

type codeCase struct {
	Secret string   `json:"secret"` // base32
	Alg    string   `json:"alg"`
	Digits int      `json:"digits"`
	Times  []int64  `json:"times"`
	Want   []string `json:"-"`
}

// codeCases: SHA1/SHA256/SHA512 × 6/8 digits with random secrets of each
// hash's seed size, and Latch's codes at interopTimes.
func codeCases(t *testing.T) []codeCase {
	var cases []codeCase
	for _, alg := range []Algorithm{SHA1, SHA256, SHA512} {
		for _, digits := range []int{6, 8} {
			secret := make([]byte, map[Algorithm]int{SHA1: 20, SHA256: 32, SHA512: 64}[alg])
			_, err := rand.Read(secret)
			require.NoError(t, err)
			k := Key{account: "interop", secret: secret, alg: alg, digits: digits}
			c := codeCase{Secret: b32.EncodeToString(secret), Alg: alg.String(), Digits: digits, Times: interopTimes}
			for _, at := range interopTimes {
				c.Want = append(c.Want, k.Code(time.Unix(at, 0)))
			}
			cases = append(cases, c)
		}
	}
	return cases
}

func TestInteropOathtoolCodes(t *testing.T) {
	oathtool := interop.Program(t, "oathtool", "oathtool")
	for _, c := range codeCases(t) {
		for i, at := range c.Times {
			// The key goes on standard input, not the command line.
			out := interop.Run(t, []byte(c.Secret+"\n"), oathtool,
				"--totp="+c.Alg, "--base32", "--digits="+strconv.Itoa(c.Digits), "--now=@"+strconv.FormatInt(at, 10), "-")
			require.Equal(t, c.Want[i], strings.TrimSpace(string(out)), "%s/%d at %d", c.Alg, c.Digits, at)
		}
	}
}

const pyotpCodes = `
import datetime, hashlib, json, sys
import pyotp
out = []
for c in json.load(sys.stdin):
    totp = pyotp.TOTP(c["secret"], digits=c["digits"], digest=getattr(hashlib, c["alg"].lower()))
    out.append([totp.at(datetime.datetime.fromtimestamp(t, datetime.timezone.utc)) for t in c["times"]])
print(json.dumps(out))
`

func TestInteropPyotpCodes(t *testing.T) {
	py := interop.Python(t, []string{"pyotp"}, "python3-pyotp")
	cases := codeCases(t)
	in, err := json.Marshal(cases)
	require.NoError(t, err)
	var got [][]string
	require.NoError(t, json.Unmarshal(interop.Run(t, in, py, "-c", pyotpCodes), &got))
	require.Len(t, got, len(cases))
	for i, c := range cases {
		require.Equal(t, c.Want, got[i], "%s/%d", c.Alg, c.Digits)
	}
}

const otplibCodes = `
import { readFileSync } from "node:fs";
import { generateSync } from "otplib";
const out = JSON.parse(readFileSync(0, "utf8")).map((c) =>
  c.times.map((t) => generateSync({ secret: c.secret, algorithm: c.alg.toLowerCase(), digits: c.digits, epoch: t })));
console.log(JSON.stringify(out));
`

func TestInteropOtplibCodes(t *testing.T) {
	interop.Node(t, "otplib")
	cases := codeCases(t)
	in, err := json.Marshal(cases)
	require.NoError(t, err)
	var got [][]string
	require.NoError(t, json.Unmarshal(interop.RunNode(t, otplibCodes, in), &got))
	require.Len(t, got, len(cases))
	for i, c := range cases {
		require.Equal(t, c.Want, got[i], "%s/%d", c.Alg, c.Digits)
	}
}

// uriKeys are keys whose URIs the peers parse: names with spaces, @, +,
// dots and non-ASCII letters.
func uriKeys(t *testing.T) []Key {
	return newKeys(t, []keySpec{
		{"Acme", "alice@example.com", SHA1, 6},
		{"Acme Co", "bob+2fa@example.com", SHA256, 8},
		{"Bücher Straße", "Zoë O.Brien", SHA512, 6},
		{"IoT-Platform_1.0~beta", "device owner 42", SHA1, 8},
	})
}

// keySpec names a key for newKeys.
type keySpec struct {
	issuer, account string
	alg             Algorithm
	digits          int
}

// newKeys makes a key with a new random secret for each spec.
func newKeys(t *testing.T, specs []keySpec) []Key {
	keys := make([]Key, len(specs))
	for i, c := range specs {
		k, err := generateKey(c.issuer, c.account, c.alg, c.digits)
		require.NoError(t, err, i)
		keys[i] = k
	}
	return keys
}

type parsedURI struct {
	Issuer  string `json:"issuer"`
	Account string `json:"account"`
	Secret  string `json:"secret"`
	Alg     string `json:"alg"`
	Digits  int    `json:"digits"`
	Period  int    `json:"period"`
	Code    string `json:"code"` // the peer's code at t0
}

func requireParsedSame(t *testing.T, k Key, p parsedURI) {
	t.Helper()
	require.Equal(t, k.Issuer(), p.Issuer)
	require.Equal(t, k.Account(), p.Account)
	require.Equal(t, b32.EncodeToString(k.secret), strings.ToUpper(strings.TrimRight(p.Secret, "=")))
	require.Equal(t, k.Algorithm().String(), strings.ToUpper(p.Alg))
	require.Equal(t, k.Digits(), p.Digits)
	require.Equal(t, period, p.Period)
	require.Equal(t, k.Code(t0), p.Code)
}

const pyotpParse = `
import json, sys
import pyotp
out = []
for uri in json.load(sys.stdin):
    o = pyotp.parse_uri(uri)
    out.append({"issuer": o.issuer, "account": o.name, "secret": o.secret, "alg": o.digest().name,
                "digits": o.digits, "period": o.interval, "code": o.at(int(sys.argv[1]))})
print(json.dumps(out))
`

// TestInteropPyotpParsesOurURI: pyotp.parse_uri reads Latch's key URIs into
// the same parameters, and computes the same codes.
func TestInteropPyotpParsesOurURI(t *testing.T) {
	py := interop.Python(t, []string{"pyotp"}, "python3-pyotp")
	keys := uriKeys(t)
	var uris []string
	for _, k := range keys {
		uris = append(uris, k.URI())
	}
	in, err := json.Marshal(uris)
	require.NoError(t, err)
	var got []parsedURI
	require.NoError(t, json.Unmarshal(interop.Run(t, in, py, "-c", pyotpParse, strconv.FormatInt(t0.Unix(), 10)), &got))
	require.Len(t, got, len(keys))
	for i, k := range keys {
		requireParsedSame(t, k, got[i])
	}
}

const otplibParse = `
import { readFileSync } from "node:fs";
import { generateSync } from "otplib";
import { parse } from "@otplib/uri";
const epoch = Number(process.argv[2]);
const out = JSON.parse(readFileSync(0, "utf8")).map((uri) => {
  const u = parse(uri);
  if (u.type !== "totp") throw new Error("type " + u.type);
  const colon = u.label.indexOf(":");
  const p = u.params;
  const alg = p.algorithm ?? "sha1";
  const digits = p.digits ?? 6;
  return {
    issuer: p.issuer ?? (colon >= 0 ? u.label.slice(0, colon) : ""),
    account: colon >= 0 ? u.label.slice(colon + 1) : u.label,
    secret: p.secret, alg, digits, period: p.period ?? 30,
    code: generateSync({ secret: p.secret, algorithm: alg, digits, period: p.period ?? 30, epoch }),
  };
});
console.log(JSON.stringify(out));
`

// TestInteropOtplibParsesOurURI: otplib's URI parser reads Latch's key URIs
// into the same parameters, and computes the same codes.
func TestInteropOtplibParsesOurURI(t *testing.T) {
	interop.Node(t, "otplib", "@otplib/uri")
	keys := uriKeys(t)
	var uris []string
	for _, k := range keys {
		uris = append(uris, k.URI())
	}
	in, err := json.Marshal(uris)
	require.NoError(t, err)
	var got []parsedURI
	require.NoError(t, json.Unmarshal(interop.RunNode(t, otplibParse, in, strconv.FormatInt(t0.Unix(), 10)), &got))
	require.Len(t, got, len(keys))
	for i, k := range keys {
		requireParsedSame(t, k, got[i])
	}
}

// peerURI is a key URI made by a peer, with the codes the peer computes at
// t0 and one step later.
type peerURI struct {
	URI   string `json:"uri"`
	Code0 string `json:"code0"`
	Code1 string `json:"code1"`
}

// enrollPeerURIs enrolls each URI in Latch, confirms with the peer's code
// at t0 and verifies its code of the next step.
func enrollPeerURIs(t *testing.T, uris []peerURI, wantAlg []Algorithm, wantDigits []int) {
	require.Len(t, uris, len(wantAlg))
	f := newFixture(t, nil)
	for i, u := range uris {
		k, err := ParseKeyURI(u.URI)
		require.NoError(t, err, u.URI)
		require.Equal(t, wantAlg[i], k.Algorithm(), u.URI)
		require.Equal(t, wantDigits[i], k.Digits(), u.URI)
		require.Equal(t, "Peer Co", k.Issuer(), u.URI)
		require.Equal(t, "carol@example.com", k.Account(), u.URI)
		account := "acct" + strconv.Itoa(i)
		f.clock.Set(t0)
		require.NoError(t, f.a.EnrollKey(f.ctx, account, k))
		require.NoError(t, f.a.Confirm(f.ctx, account, u.Code0), u.URI)
		f.clock.Advance(period * time.Second)
		require.NoError(t, f.a.Verify(f.ctx, account, u.Code1), u.URI)
	}
}

const pyotpMake = `
import hashlib, json, sys
import pyotp
t0 = int(sys.argv[1])
out = []
for alg, digits in [("sha1", 6), ("sha256", 8), ("sha512", 6), ("sha1", 8)]:
    totp = pyotp.TOTP(pyotp.random_base32(), digits=digits, digest=getattr(hashlib, alg))
    uri = totp.provisioning_uri(name="carol@example.com", issuer_name="Peer Co")
    out.append({"uri": uri, "code0": totp.at(t0), "code1": totp.at(t0 + 30)})
print(json.dumps(out))
`

// TestInteropPyotpURIEnrolls: key URIs made by pyotp enroll in Latch.
func TestInteropPyotpURIEnrolls(t *testing.T) {
	py := interop.Python(t, []string{"pyotp"}, "python3-pyotp")
	var uris []peerURI
	require.NoError(t, json.Unmarshal(interop.Run(t, nil, py, "-c", pyotpMake, strconv.FormatInt(t0.Unix(), 10)), &uris))
	enrollPeerURIs(t, uris, []Algorithm{SHA1, SHA256, SHA512, SHA1}, []int{6, 8, 6, 8})
}

const otplibMake = `
import { generateSecret, generateSync, generateURI } from "otplib";
const t0 = Number(process.argv[2]);
const out = [["sha1", 6], ["sha256", 8], ["sha512", 6], ["sha1", 8]].map(([algorithm, digits]) => {
  const secret = generateSecret();
  const uri = generateURI({ issuer: "Peer Co", label: "carol@example.com", secret, algorithm, digits });
  return {
    uri,
    code0: generateSync({ secret, algorithm, digits, epoch: t0 }),
    code1: generateSync({ secret, algorithm, digits, epoch: t0 + 30 }),
  };
});
console.log(JSON.stringify(out));
`

// TestInteropOtplibURIEnrolls: key URIs made by otplib enroll in Latch.
func TestInteropOtplibURIEnrolls(t *testing.T) {
	interop.Node(t, "otplib")
	var uris []peerURI
	require.NoError(t, json.Unmarshal(interop.RunNode(t, otplibMake, nil, strconv.FormatInt(t0.Unix(), 10)), &uris))
	enrollPeerURIs(t, uris, []Algorithm{SHA1, SHA256, SHA512, SHA1}, []int{6, 8, 6, 8})
}

// TestInteropZbarimgScansQRCode: zbarimg, a QR code reader nobody here
// wrote, reads the PNG of Key.QRCode back into exactly the key URI, for
// names that need percent-encoding and the longest names, at two pixels a
// module, at the size the docs recommend and at the largest; and the URI it
// reads gives a key with the same codes. (At one pixel a module zbarimg
// misses about half of the codes, so that is not tested.)
func TestInteropZbarimgScansQRCode(t *testing.T) {
	interop.Program(t, "zbarimg", "zbar-tools")
	keys := newKeys(t, []keySpec{
		{"Acme", "alice@example.com", SHA1, 6},
		{"Acme Co", "bob smith", SHA256, 8},
		{"Bücher & Söhne #1", "zoë?x=1+y@例え.jp", SHA512, 6},
		{"Q&A = 100% #fun?", "a+b=c & d@e #f ?g", SHA1, 8},
		{strings.Repeat("Acme", 64), strings.Repeat("x", 256), SHA1, 6}, // the longest names
	})
	// And a key without an issuer.
	noIssuer, err := ParseKeyURI("otpauth://totp/carol%40example.com?secret=" + b32.EncodeToString(rfcSecret))
	require.NoError(t, err)
	keys = append(keys, noIssuer)

	for _, k := range keys {
		modules, err := k.QRModules()
		require.NoError(t, err)
		// The smallest size QRCode draws (two pixels a module and the
		// quiet zone), the usual one and the largest.
		for _, size := range []int{max(64, 2*(len(modules)+8)), 256, 2048} {
			png, err := k.QRCode(size)
			require.NoError(t, err)
			uri := interop.ScanQR(t, png)
			require.Equal(t, k.URI(), uri, "%v at %d pixels", k, size)

			got, err := ParseKeyURI(uri)
			require.NoError(t, err, "%v", k)
			require.Equal(t, k.Issuer(), got.Issuer())
			require.Equal(t, k.Account(), got.Account())
			require.Equal(t, k.Algorithm(), got.Algorithm())
			require.Equal(t, k.Digits(), got.Digits())
			for _, at := range interopTimes {
				require.Equal(t, k.Code(time.Unix(at, 0)), got.Code(time.Unix(at, 0)), "%v at %d", k, at)
			}
		}
	}
}
