package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/pquerna/otp"
	ptotp "github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"
)

type rfc6238 struct {
	Seeds   map[string]string `json:"seeds"`
	Digits  int               `json:"digits"`
	Vectors []struct {
		Time int64  `json:"time"`
		UTC  string `json:"utc"`
		Step string `json:"step"`
		TOTP string `json:"totp"`
		Mode string `json:"mode"`
	} `json:"vectors"`
}

type rfc4226 struct {
	Secret  string `json:"secret"`
	Digits  int    `json:"digits"`
	Vectors []struct {
		Count     uint64 `json:"count"`
		Truncated string `json:"truncated"`
		HOTP      string `json:"hotp"`
	} `json:"vectors"`
}

func readJSON(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, v))
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

var algorithms = map[string]Algorithm{"SHA1": SHA1, "SHA256": SHA256, "SHA512": SHA512}

// TestRFC6238 checks every vector of RFC 6238 Appendix B: the time step and
// the code, through Key.Code.
func TestRFC6238(t *testing.T) {
	var kat rfc6238
	readJSON(t, "rfc6238.json", &kat)
	require.Len(t, kat.Vectors, 18)
	for _, v := range kat.Vectors {
		alg, ok := algorithms[v.Mode]
		require.True(t, ok, v.Mode)
		at := time.Unix(v.Time, 0)
		require.Equal(t, v.UTC, at.UTC().Format(time.DateTime))
		want, err := strconv.ParseInt(v.Step, 16, 64)
		require.NoError(t, err)
		require.Equal(t, want, step(at), "step at %d", v.Time)

		k := Key{account: "rfc", secret: unhex(t, kat.Seeds[v.Mode]), alg: alg, digits: kat.Digits}
		require.Equal(t, v.TOTP, k.Code(at), "%s at %d", v.Mode, v.Time)
		// The same code one nanosecond before the next step, not after.
		require.Equal(t, v.TOTP, k.Code(time.Unix((want+1)*period, -1)))
		require.NotEqual(t, v.TOTP, k.Code(time.Unix((want+1)*period, 0)))
	}
}

// TestRFC4226 checks every value of RFC 4226 Appendix D: the truncated
// value and the 6-digit code for counters 0 to 9.
func TestRFC4226(t *testing.T) {
	var kat rfc4226
	readJSON(t, "rfc4226.json", &kat)
	require.Len(t, kat.Vectors, 10)
	g := newGenerator(unhex(t, kat.Secret), SHA1, kat.Digits)
	g10 := newGenerator(unhex(t, kat.Secret), SHA1, 8)
	for _, v := range kat.Vectors {
		trunc, err := strconv.ParseUint(v.Truncated, 16, 32)
		require.NoError(t, err)
		require.Equal(t, uint32(trunc%1_000_000), g.value(v.Count))
		require.Equal(t, uint32(trunc%100_000_000), g10.value(v.Count))
		require.Equal(t, v.HOTP, g.format(g.value(v.Count)), "count %d", v.Count)
	}
}

func TestStep(t *testing.T) {
	for _, c := range []struct {
		unix int64
		want int64
	}{
		{0, 0}, {29, 0}, {30, 1}, {59, 1}, {60, 2}, {-1, -1}, {-30, -1}, {-31, -2},
		{1<<62 + 29, (1<<62 + 29) / 30},
	} {
		require.Equal(t, c.want, step(time.Unix(c.unix, 0)), "%d", c.unix)
	}
	// Sub-second parts never move a time into the next step.
	require.Equal(t, int64(0), step(time.Unix(29, 999_999_999)))
}

func TestFormatLeadingZeros(t *testing.T) {
	g := newGenerator(make([]byte, 20), SHA1, 6)
	require.Equal(t, "000000", g.format(0))
	require.Equal(t, "000042", g.format(42))
	require.Equal(t, "999999", g.format(999_999))
	g8 := newGenerator(make([]byte, 20), SHA1, 8)
	require.Equal(t, "00000007", g8.format(7))
}

func TestParseCode(t *testing.T) {
	good := []struct {
		in     string
		digits int
		want   uint32
	}{
		{"123456", 6, 123456},
		{"123 456", 6, 123456},
		{" 012345 ", 6, 12345},
		{"000000", 6, 0},
		{"1 2 3 4 5 6", 6, 123456},
		{"12345678", 8, 12345678},
		{"1234 5678", 8, 12345678},
		{"99999999", 8, 99999999},
	}
	for _, c := range good {
		v, err := parseCode(c.in, c.digits)
		require.NoError(t, err, "%q", c.in)
		require.Equal(t, c.want, v, "%q", c.in)
	}
	bad := []struct {
		in     string
		digits int
	}{
		{"", 6}, {"      ", 6}, {"12345", 6}, {"1234567", 6}, {"12345678", 6}, {"123456", 8},
		{"123-456", 6}, {"123\t456", 6}, {"123456\n", 6}, {"\u00a0123456", 6}, {"123\u2009456", 6},
		{"+123456", 6}, {"-12345", 6}, {"12345a", 6}, {"١٢٣٤٥٦", 6}, {"１２３４５６", 6},
		{"0x1234", 6}, {"123456\x00", 6}, {"1e5000", 6},
		{"123456" + string(make([]byte, 100)), 6},
		{"1" + string(make([]byte, 70)) + "23456", 6},
	}
	for _, c := range bad {
		_, err := parseCode(c.in, c.digits)
		require.ErrorIs(t, err, ErrMalformedCode, "%q", c.in)
	}
	// More than maxCodeInput bytes is refused even if it is only spaces
	// and the right digits.
	long := "123456"
	for len(long) <= maxCodeInput {
		long = " " + long
	}
	_, err := parseCode(long, 6)
	require.ErrorIs(t, err, ErrMalformedCode)
}

func TestAlgorithmString(t *testing.T) {
	require.Equal(t, "SHA1", SHA1.String())
	require.Equal(t, "SHA256", SHA256.String())
	require.Equal(t, "SHA512", SHA512.String())
	require.Equal(t, "Algorithm(3)", Algorithm(3).String())
	require.False(t, Algorithm(3).valid())
	require.Equal(t, SHA1, Algorithm(0), "the zero Algorithm is SHA1")
}

// TestAgreesWithPquerna compares codes with pquerna/otp's for random
// secrets, every algorithm and length, and times around step boundaries.
func TestAgreesWithPquerna(t *testing.T) {
	algs := map[Algorithm]otp.Algorithm{SHA1: otp.AlgorithmSHA1, SHA256: otp.AlgorithmSHA256, SHA512: otp.AlgorithmSHA512}
	for alg, palg := range algs {
		for _, digits := range []int{6, 8} {
			for i := range 20 {
				secret := make([]byte, 20+i)
				_, _ = rand.Read(secret)
				k := Key{account: "a", secret: secret, alg: alg, digits: digits}
				for _, unix := range []int64{0, 29, 30, 1_700_000_000 + int64(i)*997, 4_102_444_799} {
					at := time.Unix(unix, 0)
					want, err := ptotp.GenerateCodeCustom(b32.EncodeToString(secret), at, ptotp.ValidateOpts{
						Period: period, Digits: otp.Digits(digits), Algorithm: palg,
					})
					require.NoError(t, err)
					require.Equal(t, want, k.Code(at), "%s/%d at %d", alg, digits, unix)
				}
			}
		}
	}
}

func TestWindowOrder(t *testing.T) {
	var got []int64
	for i := range 9 {
		got = append(got, windowStep(100, i))
	}
	require.Equal(t, []int64{100, 99, 101, 98, 102, 97, 103, 96, 104}, got)
}

// TestFind: the match is the step the code belongs to; steps at or before
// lastStep are replays, never matches; steps before 1 are never looked at.
func TestFind(t *testing.T) {
	g := newGenerator(rfcSecret, SHA1, 6)
	for _, c := range []struct {
		codeStep, centre int64
		window           int
		last             int64
		match            int64
		replayed         bool
	}{
		{100, 100, 1, 0, 100, false},
		{99, 100, 1, 0, 99, false},
		{101, 100, 1, 0, 101, false},
		{102, 100, 1, 0, 0, false},
		{98, 100, 1, 0, 0, false},
		{102, 100, 2, 0, 102, false},
		{100, 100, 1, 100, 0, true},
		{99, 100, 1, 100, 0, true},
		{101, 100, 1, 100, 101, false},
		{101, 100, 1, 101, 0, true},
		{97, 100, 1, 200, 0, false},
		{0, 0, 1, 0, 0, false},
		{1, 0, 1, 0, 1, false},
	} {
		match, replayed := find(&g, g.value(uint64(c.codeStep)), c.centre, c.window, c.last)
		require.Equal(t, c.match, match, "%+v", c)
		require.Equal(t, c.replayed, replayed, "%+v", c)
	}
}

// TestGeneratorIsHMAC checks the generator's HMAC against crypto/hmac for
// every algorithm and keys of every length up to beyond two blocks (a key
// longer than a block is hashed first, RFC 2104 §2).
func TestGeneratorIsHMAC(t *testing.T) {
	hashes := map[Algorithm]func() hash.Hash{SHA1: sha1.New, SHA256: sha256.New, SHA512: sha512.New}
	for alg, h := range hashes {
		for n := 0; n <= 2*sha512.BlockSize+3; n++ {
			key := make([]byte, n)
			for i := range key {
				key[i] = byte(i*7 + n)
			}
			g := newGenerator(key, alg, 8)
			for _, counter := range []uint64{0, 1, 56_666_666, 1<<63 + 5} {
				mac := hmac.New(h, key)
				var msg [8]byte
				binary.BigEndian.PutUint64(msg[:], counter)
				mac.Write(msg[:])
				sum := mac.Sum(nil)
				off := sum[len(sum)-1] & 0x0f
				want := (binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fff_ffff) % 100_000_000
				require.Equal(t, want, g.value(counter), "%s, key of %d bytes, counter %d", alg, n, counter)
			}
			g.clear()
			require.Equal(t, [len(g.inner)]byte{}, g.inner)
			require.Equal(t, [len(g.outer)]byte{}, g.outer)
		}
	}
}
