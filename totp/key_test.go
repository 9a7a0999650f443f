package totp

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/boombuler/barcode/qr"
	"github.com/stretchr/testify/require"
)

// rfcSecret is RFC 6238's SHA1 seed, whose base32 is GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ.
var rfcSecret = []byte("12345678901234567890")

func TestKeyURI(t *testing.T) {
	k := Key{issuer: "Acme Co", account: "alice+2fa@example.com", secret: rfcSecret, alg: SHA1, digits: 6}
	require.Equal(t,
		"otpauth://totp/Acme%20Co:alice%2B2fa%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Co&algorithm=SHA1&digits=6&period=30",
		k.URI())

	k = Key{issuer: "Bücher/Shop & Co.", account: "bob?x=1#frag", secret: rfcSecret, alg: SHA512, digits: 8}
	require.Equal(t,
		"otpauth://totp/B%C3%BCcher%2FShop%20%26%20Co.:bob%3Fx%3D1%23frag?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=B%C3%BCcher%2FShop%20%26%20Co.&algorithm=SHA512&digits=8&period=30",
		k.URI())
	back, err := ParseKeyURI(k.URI())
	require.NoError(t, err)
	require.Equal(t, k, back)
}

func TestKeyNeverPrintsSecret(t *testing.T) {
	k := Key{issuer: "Acme", account: "alice", secret: rfcSecret, alg: SHA256, digits: 8}
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k), k.String()} {
		require.NotContains(t, s, "GEZDGNBV")
		require.NotContains(t, s, "1234567890")
		require.NotContains(t, s, "49 50 51")
		require.Contains(t, s, "redacted")
	}
	require.Equal(t, "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ", k.SecretBase32())
	require.Equal(t, "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ GEZD GNBV", Key{secret: []byte("1234567890123456789012345")}.SecretBase32())
}

func TestParseKeyURI(t *testing.T) {
	const sec = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	good := []struct {
		uri             string
		issuer, account string
		alg             Algorithm
		digits          int
	}{
		{"otpauth://totp/alice?secret=" + sec, "", "alice", SHA1, 6},
		{"otpauth://totp/Acme:alice?secret=" + sec, "Acme", "alice", SHA1, 6},
		{"otpauth://totp/Acme%3Aalice?secret=" + sec + "&issuer=Acme", "Acme", "alice", SHA1, 6},
		{"otpauth://totp/Acme:%20%20alice?secret=" + sec, "Acme", "alice", SHA1, 6},
		{"otpauth://totp/alice?secret=" + sec + "&issuer=Acme", "Acme", "alice", SHA1, 6},
		{"otpauth://totp/Acme%20Co:alice%40example.com?issuer=Acme+Co&secret=" + strings.ToLower(sec), "Acme Co", "alice@example.com", SHA1, 6},
		{"otpauth://totp/a+b?secret=" + sec, "", "a+b", SHA1, 6},
		{"otpauth://totp/a%2Fb?secret=" + sec, "", "a/b", SHA1, 6},
		{"otpauth://totp/x?secret=" + sec + "&algorithm=SHA256&digits=8&period=30", "", "x", SHA256, 8},
		{"otpauth://totp/x?secret=" + sec + "&algorithm=sha512&digits=6", "", "x", SHA512, 6},
		{"otpauth://totp/x?algorithm=SHA1&secret=" + sec, "", "x", SHA1, 6},
		// 21 bytes: base32 with padding, and without.
		{"otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGE======", "", "x", SHA1, 6},
		{"otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGE", "", "x", SHA1, 6},
	}
	for _, c := range good {
		k, err := ParseKeyURI(c.uri)
		require.NoError(t, err, c.uri)
		require.Equal(t, c.issuer, k.Issuer(), c.uri)
		require.Equal(t, c.account, k.Account(), c.uri)
		require.Equal(t, c.alg, k.Algorithm(), c.uri)
		require.Equal(t, c.digits, k.Digits(), c.uri)
		require.Equal(t, rfcSecret, k.secret[:20], c.uri)
		// What we write parses back to the same key.
		again, err := ParseKeyURI(k.URI())
		require.NoError(t, err)
		require.Equal(t, k, again)
	}

	bad := []string{
		"",
		"otpauth://hotp/x?secret=" + sec + "&counter=0",
		"OTPAUTH://TOTP/x?secret=" + sec,
		"otpauth://totp?secret=" + sec,
		"otpauth://totp/?secret=" + sec,
		"otpauth://totp/Acme:?secret=" + sec,
		"otpauth://totp/:alice?secret=" + sec,
		"otpauth://totp/a:b:c?secret=" + sec,
		"otpauth://totp/a%3Ab%3Ac?secret=" + sec,
		"otpauth://totp/a/b?secret=" + sec,
		"otpauth://totp/a%00b?secret=" + sec,
		"otpauth://totp/a%0Ab?secret=" + sec,
		"otpauth://totp/a%ffb?secret=" + sec,
		"otpauth://totp/a%zzb?secret=" + sec,
		"otpauth://totp/x",
		"otpauth://totp/x?",
		"otpauth://totp/x?secret=",
		"otpauth://totp/x?secret=" + sec + "#frag",
		"otpauth://totp/x?secret=" + sec + "&secret=" + sec,
		"otpauth://totp/x?secret=" + sec + "&digits=6&digits=6",
		"otpauth://totp/x?secret=" + sec + "&",
		"otpauth://totp/x?secret=" + sec + "&issuer",
		"otpauth://totp/x?secret=" + sec + "&issuer=",
		"otpauth://totp/Acme:x?secret=" + sec + "&issuer=Evil",
		"otpauth://totp/x?secret=" + sec + "&issuer=a%3Ab",
		"otpauth://totp/x?secret=" + sec + "&algorithm=MD5",
		"otpauth://totp/x?secret=" + sec + "&algorithm=",
		"otpauth://totp/x?secret=" + sec + "&algorithm=Sha1",
		"otpauth://totp/x?secret=" + sec + "&algorithm=\u017fha1",
		"otpauth://totp/x?secret=" + sec + "&digits=7",
		"otpauth://totp/x?secret=" + sec + "&digits=06",
		"otpauth://totp/x?secret=" + sec + "&digits=10",
		"otpauth://totp/x?secret=" + sec + "&period=60",
		"otpauth://totp/x?secret=" + sec + "&period=030",
		"otpauth://totp/x?secret=" + sec + "&counter=1",
		"otpauth://totp/x?secret=" + sec + "&encoder=steam",
		"otpauth://totp/x?secret=" + sec + "&image=https%3A%2F%2Fexample.com%2Fa.png",
		"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP",                           // 80 bits
		"otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ",            // 155 bits
		"otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ1",          // not base32
		"otpauth://totp/x?secret=GEZD+GNBVGY3TQOJQGEZDGNBVGY3TQOJQ",          // a space
		"otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGE=",        // bad padding
		"otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGF",         // trailing bits set
		"otpauth://totp/x?secret=GEZDGNBVGY3TQOJQ%0AGEZDGNBVGY3TQOJQ",        // newline
		"otpauth://totp/x?secret=" + strings.Repeat("GEZDGNBV", 33),          // 165 bytes
		"otpauth://totp/" + strings.Repeat("a", 300) + "?secret=" + sec,      // long account
		"otpauth://totp/x?secret=" + sec + "&x=" + strings.Repeat("a", 2048), // long URI
		" otpauth://totp/x?secret=" + sec,
	}
	for _, uri := range bad {
		_, err := ParseKeyURI(uri)
		require.ErrorIs(t, err, ErrInvalidKeyURI, "%q", uri)
	}
}

// requireQRImage checks that the PNG b, size pixels square, shows the
// module grid rows: each module whole pixels, centred, every pixel outside
// the code light, with a margin of at least four modules.
func requireQRImage(t *testing.T, b []byte, rows [][]bool, size int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, size, size), img.Bounds())
	n := len(rows)
	scale := size / (n + 8)
	require.GreaterOrEqual(t, scale, 2)
	off := (size - n*scale) / 2
	require.GreaterOrEqual(t, off, 4*scale, "quiet zone")
	for y := range size {
		for x := range size {
			r, _, _, _ := img.At(x, y).RGBA()
			mx, my := (x-off)/scale, (y-off)/scale
			dark := x >= off && y >= off && mx < n && my < n && rows[my][mx]
			require.Equal(t, dark, r < 0x8000, "pixel %d,%d", x, y)
		}
	}
}

func TestQRCode(t *testing.T) {
	k := Key{issuer: "Acme", account: "alice@example.com", secret: rfcSecret, alg: SHA1, digits: 6}
	// The image is the QR code of the key URI, at level M.
	code, err := qr.Encode(k.URI(), qr.M, qr.Auto)
	require.NoError(t, err)
	n := code.Bounds().Dx()
	rows := make([][]bool, n)
	for y := range rows {
		rows[y] = make([]bool, n)
		for x := range rows[y] {
			r, _, _, _ := code.At(x, y).RGBA()
			rows[y][x] = r < 0x8000
		}
	}
	for _, size := range []int{(n + 8) * 2, 256, 257, 1000, 2048} {
		b, err := k.QRCode(size)
		require.NoError(t, err, size)
		requireQRImage(t, b, rows, size)
	}

	for _, size := range []int{0, 63, 2049, -1} {
		_, err := k.QRCode(size)
		require.Error(t, err)
	}
	// Too small for two pixels a module and the margin.
	_, err = k.QRCode((n+8)*2 - 1)
	require.ErrorContains(t, err, "needs a size of at least")
	_, err = Key{}.QRCode(256)
	require.ErrorIs(t, err, ErrInvalidKeyURI)
}

// A key whose URI no QR code holds is refused with an error that does not
// quote the URI (it holds the secret).
func TestQRTooLong(t *testing.T) {
	for _, n := range []int{2000, 3000} {
		k := Key{issuer: strings.Repeat("&", n/3), account: "a", secret: rfcSecret, alg: SHA1, digits: 6}
		_, err := k.QRModules()
		if len(k.URI()) <= 2048 {
			require.NoError(t, err)
			continue
		}
		require.ErrorIs(t, err, ErrInvalidKeyURI)
		_, err2 := k.QRCode(2048)
		require.ErrorIs(t, err2, ErrInvalidKeyURI)
		for _, e := range []error{err, err2} {
			require.NotContains(t, e.Error(), k.SecretBase32())
			require.NotContains(t, e.Error(), "otpauth")
		}
	}
}

// TestQRModules: the module grid is the QR code that the PNG of QRCode
// shows, module for module.
func TestQRModules(t *testing.T) {
	k := Key{issuer: "Acme", account: "alice@example.com", secret: rfcSecret, alg: SHA1, digits: 6}
	rows, err := k.QRModules()
	require.NoError(t, err)
	n := len(rows)
	require.Equal(t, 0, (n-17)%4, "a QR code is 17+4v modules wide")
	for _, row := range rows {
		require.Len(t, row, n)
	}
	b, err := k.QRCode(512)
	require.NoError(t, err)
	requireQRImage(t, b, rows, 512)
	// The finder pattern: a dark 7x7 square ring in the top-left corner.
	for i := range 7 {
		require.True(t, rows[0][i] && rows[6][i] && rows[i][0] && rows[i][6])
	}
	require.False(t, rows[1][1])

	_, err = Key{}.QRModules()
	require.ErrorIs(t, err, ErrInvalidKeyURI)
}

func TestKeyCodeAt(t *testing.T) {
	k := Key{account: "a", secret: rfcSecret, alg: SHA1, digits: 8}
	require.Equal(t, "94287082", k.Code(time.Unix(59, 0)))
}
