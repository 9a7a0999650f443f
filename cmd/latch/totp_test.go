package main

import (
	"bytes"
	"encoding/base32"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchsec/latch/internal/interop"
	"github.com/latchsec/latch/totp"
	"github.com/stretchr/testify/require"
)

// secretBytes returns the length of k's secret, read from its base32 form.
func secretBytes(t *testing.T, k totp.Key) int {
	t.Helper()
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(k.SecretBase32(), " ", ""))
	require.NoError(t, err)
	return len(b)
}

// rfcKey is the key of RFC 6238's SHA1 test vectors.
const rfcKey = "otpauth://totp/Example:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Example&algorithm=SHA1&digits=8&period=30"

func TestTOTPCodeRFC6238(t *testing.T) {
	dir := t.TempDir()
	key := writeFile(t, dir, "rfc.totp", rfcKey+"\n")
	// RFC 6238 Appendix B, SHA1.
	for at, want := range map[int64]string{
		59: "94287082", 1111111109: "07081804", 1111111111: "14050471",
		1234567890: "89005924", 2000000000: "69279037", 20000000000: "65353130",
	} {
		now := time.Unix(at, 0).UTC().Format(time.RFC3339)
		r := latch(t, nil, "totp", "code", "--key", key, "--now", now).ok(t)
		require.Equal(t, want+"\n", r.stdout, "at %d", at)
		r = latch(t, []byte(rfcKey), "totp", "code", "--now", now).ok(t)
		require.Equal(t, want+"\n", r.stdout, "key on standard input, at %d", at)
	}
}

// enroll runs totp enroll with --out and returns the key file and output.
func enroll(t *testing.T, dir string, extra ...string) (string, result) {
	t.Helper()
	key := filepath.Join(dir, "key.totp")
	r := latch(t, nil, append([]string{"totp", "enroll", "--issuer", "Acme Co", "--account", "alice@example.com", "--out", key}, extra...)...).ok(t)
	return key, r
}

func TestTOTPEnroll(t *testing.T) {
	dir := t.TempDir()
	pngFile := filepath.Join(dir, "qr.png")
	key, r := enroll(t, dir, "--png", pngFile)
	for _, f := range []string{key, pngFile} {
		st, err := os.Stat(f)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), f)
	}
	uri := strings.TrimSpace(string(mustRead(t, key)))
	k, err := totp.ParseKeyURI(uri)
	require.NoError(t, err)
	require.Equal(t, "Acme Co", k.Issuer())
	require.Equal(t, "alice@example.com", k.Account())
	require.Equal(t, 20, secretBytes(t, k), "160 bits for SHA1")
	require.Contains(t, r.stdout, "uri:    "+uri+"\n")
	require.Contains(t, r.stdout, "secret: "+k.SecretBase32()+"\n")

	// The terminal drawing is the QR code of the PNG, module for module.
	drawn := parseQRText(t, r.stdout[:strings.Index(r.stdout, "\n\nuri:")+1], false)
	img, err := png.Decode(bytes.NewReader(mustRead(t, pngFile)))
	require.NoError(t, err)
	size := img.Bounds().Dx()
	require.Equal(t, 256, size)
	n := len(drawn)
	scale := size / (n + 8) // QRCode leaves a margin of four modules at least
	off := (size - scale*n) / 2
	for y := range n {
		for x := range n {
			r, _, _, _ := img.At(off+x*scale+scale/2, off+y*scale+scale/2).RGBA()
			require.Equal(t, r < 0x8000, drawn[y][x], "module %d,%d", x, y)
		}
	}
	want, err := k.QRModules()
	require.NoError(t, err)
	require.Equal(t, want, drawn)
	r = latch(t, nil, "totp", "enroll", "--issuer", "Acme", "--account", "bob", "--invert", "--no-qr")
	r.ok(t)
	require.True(t, strings.HasPrefix(r.stdout, "uri:    otpauth://totp/Acme:bob?"))

	// Other parameters, and JSON.
	r = latch(t, nil, "totp", "enroll", "--issuer", "Acme", "--account", "carol", "--algorithm", "sha256", "--digits", "8", "--json").ok(t)
	var out struct{ URI, Algorithm string }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
	k, err = totp.ParseKeyURI(out.URI)
	require.NoError(t, err)
	require.Equal(t, totp.SHA256, k.Algorithm())
	require.Equal(t, 8, k.Digits())
	require.Equal(t, 32, secretBytes(t, k))

	// Bad inputs; nothing is overwritten.
	before := mustRead(t, key)
	latch(t, nil, "totp", "enroll", "--issuer", "Acme", "--account", "a", "--out", key).fails(t, exitFailure, "key.totp already exists")
	require.Equal(t, before, mustRead(t, key))
	latch(t, nil, "totp", "enroll", "--issuer", "Acme:Evil", "--account", "a").fails(t, exitFailure, "totp: invalid config: Issuer must be 1 to 256 bytes of UTF-8 without a colon")
	latch(t, nil, "totp", "enroll", "--issuer", "Acme", "--account", "a", "--digits", "7").fails(t, exitFailure, "totp: invalid config")
	latch(t, nil, "totp", "enroll", "--issuer", "Acme", "--account", "a", "--algorithm", "MD5").fails(t, exitUsage, `--algorithm "MD5"`)
	latch(t, nil, "totp", "enroll", "--issuer", "Acme", "--account", "a", "--png", filepath.Join(dir, "x.png"), "--size", "10").
		fails(t, exitFailure, "QR code size out of range: 10 pixels, want 64 to 2048")
	latch(t, nil, "totp", "enroll", "--account", "a").fails(t, exitUsage, "--issuer and --account are required")
}

// parseQRText reads back a QR code drawn by qrText: four light modules of
// quiet zone around the code, two module rows per line.
func parseQRText(t *testing.T, text string, invert bool) [][]bool {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	var grid [][]bool
	for _, line := range lines {
		top, bottom := []bool{}, []bool{}
		for _, r := range line {
			var up, down bool // light?
			switch r {
			case '█':
				up, down = true, true
			case '▀':
				up = true
			case '▄':
				down = true
			case ' ':
			default:
				t.Fatalf("unexpected character %q in the QR drawing", r)
			}
			top, bottom = append(top, up != invert), append(bottom, down != invert)
		}
		grid = append(grid, top, bottom)
	}
	width := len(grid[0])
	require.Equal(t, len(grid)-1, width, "square, with an odd size (the last half line is empty)")
	n := width - 8
	rows := make([][]bool, n)
	for y := range width {
		for x := range width {
			light := grid[y][x]
			inside := x >= 4 && y >= 4 && x < 4+n && y < 4+n
			if !inside {
				require.True(t, light, "quiet zone at %d,%d", x, y)
				continue
			}
			rows[y-4] = append(rows[y-4], !light)
		}
	}
	return rows
}

// qrPNG draws a module grid as a PNG image, as a screenshot of the
// terminal would show it: scale pixels a module, dark modules black, inside
// a white quiet zone of four modules.
func qrPNG(t *testing.T, rows [][]bool, scale int) []byte {
	const quiet = 4
	size := (len(rows) + 2*quiet) * scale
	img := image.NewGray(image.Rect(0, 0, size, size))
	for y := range size {
		for x := range size {
			mx, my := x/scale-quiet, y/scale-quiet
			dark := mx >= 0 && my >= 0 && my < len(rows) && mx < len(rows[my]) && rows[my][mx]
			if !dark {
				img.SetGray(x, y, color.Gray{Y: 0xff})
			}
		}
	}
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

// TestTOTPEnrollQRScans: zbarimg, a QR code reader nobody here wrote, reads
// the QR code that latch totp enroll draws in the terminal, in both
// colourings, back into exactly the key URI that the command prints.
func TestTOTPEnrollQRScans(t *testing.T) {
	interop.Program(t, "zbarimg", "zbar-tools")
	for _, tc := range []struct {
		name   string
		invert bool
		args   []string
	}{
		{"default", false, []string{"--issuer", "Acme Co", "--account", "alice@example.com"}},
		{"default inverted", true, []string{"--issuer", "Acme Co", "--account", "alice@example.com", "--invert"}},
		{"names", false, []string{"--issuer", "Bücher & Söhne #1", "--account", "zoë?x=1+y@例え.jp", "--algorithm", "SHA256", "--digits", "8"}},
		{"names inverted", true, []string{"--issuer", "Q&A = 100% #fun?", "--account", "a+b=c & d@e #f ?g", "--algorithm", "SHA512", "--invert"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := latch(t, nil, append([]string{"totp", "enroll"}, tc.args...)...).ok(t).stdout
			drawing, rest, found := strings.Cut(out, "\n\nuri:    ")
			require.True(t, found, "a drawing, then the URI: %q", out)
			uri, _, _ := strings.Cut(rest, "\n")
			k, err := totp.ParseKeyURI(uri)
			require.NoError(t, err)

			rows := parseQRText(t, drawing+"\n", tc.invert)
			want, err := k.QRModules()
			require.NoError(t, err)
			require.Equal(t, want, rows, "the drawing is the key's QR code")
			require.Equal(t, uri, interop.ScanQR(t, qrPNG(t, rows, 4)))
		})
	}
}

func TestTOTPVerify(t *testing.T) {
	dir := t.TempDir()
	key := writeFile(t, dir, "rfc.totp", rfcKey+"\n")
	at := func(sec int64) string { return time.Unix(sec, 0).UTC().Format(time.RFC3339) }
	verify := func(code string, now int64, extra ...string) result {
		return latch(t, []byte(code+"\n"), append([]string{"totp", "verify", "--key", key, "--now", at(now)}, extra...)...)
	}
	r := verify("07081804", 1111111109).ok(t)
	require.Equal(t, "valid\n", r.stdout)
	verify("0708 1804", 1111111109).ok(t)
	verify("07081804", 1111111109+30).ok(t)                                                // one step later: in the window
	verify("07081804", 1111111109+60).fails(t, exitFailure, "refused: totp: invalid code") // two steps: out
	verify("07081804", 1111111109+60, "--window", "2").ok(t)
	verify("07081805", 1111111109).fails(t, exitFailure, "refused: totp: invalid code")
	verify("708180", 1111111109).fails(t, exitFailure, "refused: totp: malformed code")
	verify("", 1111111109).fails(t, exitFailure, "the code is empty")
	verify("07081804", 1111111109, "--window", "9").fails(t, exitUsage, "--window 9")
	latch(t, []byte("1"), "totp", "verify").fails(t, exitUsage, "--key FILE is required")

	// Bad key files.
	latch(t, []byte("07081804"), "totp", "verify", "--key", filepath.Join(dir, "none.totp")).
		fails(t, exitFailure, "cannot read the key", "none.totp: no such file or directory")
	hotp := writeFile(t, dir, "hotp.totp", "otpauth://hotp/Example:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=0")
	latch(t, []byte("07081804"), "totp", "verify", "--key", hotp).fails(t, exitFailure, "hotp.totp: totp: invalid key URI")
	short := writeFile(t, dir, "short.totp", "otpauth://totp/Example:alice?secret=GEZDGNBVGY3TQOJQ")
	r = latch(t, nil, "totp", "code", "--key", short)
	r.fails(t, exitFailure, "short.totp: totp: invalid key URI")
	require.NotContains(t, r.stderr, "GEZDGNBVGY3TQOJQ", "no secret in messages")
}

// TestTOTPInteropOathtool: the codes of latch totp code for a key that
// latch totp enroll made agree with oathtool's, for each algorithm and
// length, at fixed times on both sides of step boundaries.
func TestTOTPInteropOathtool(t *testing.T) {
	oathtool := interop.Program(t, "oathtool", "oathtool")
	for _, tc := range []struct {
		alg    string
		digits int
	}{{"SHA1", 6}, {"SHA256", 8}, {"SHA512", 6}} {
		t.Run(tc.alg, func(t *testing.T) {
			dir := t.TempDir()
			key, _ := enroll(t, dir, "--algorithm", tc.alg, "--digits", strconv.Itoa(tc.digits), "--no-qr")
			k, err := totp.ParseKeyURI(strings.TrimSpace(string(mustRead(t, key))))
			require.NoError(t, err)
			secret := strings.ReplaceAll(k.SecretBase32(), " ", "")
			for _, sec := range []int64{59, 60, 1780315199, 1780315200, 1780315229} {
				now := time.Unix(sec, 0).UTC().Format(time.RFC3339)
				ours := latch(t, nil, "totp", "code", "--key", key, "--now", now).ok(t).stdout
				theirs := interop.Run(t, []byte(secret+"\n"), oathtool, "--totp="+tc.alg, "--base32",
					"--digits="+strconv.Itoa(tc.digits), "--now=@"+strconv.FormatInt(sec, 10), "-")
				require.Equal(t, strings.TrimSpace(string(theirs)), strings.TrimSpace(ours), "at %d", sec)
				// And latch totp verify accepts oathtool's code.
				latch(t, theirs, "totp", "verify", "--key", key, "--now", now).ok(t)
			}
		})
	}
}

// TestTOTPInteropPyotp: pyotp reads the key URI that latch totp enroll
// writes and computes the same codes as latch totp code.
func TestTOTPInteropPyotp(t *testing.T) {
	py := interop.Python(t, []string{"pyotp"}, "python3-pyotp")
	const script = `
import sys, pyotp
t = pyotp.parse_uri(sys.stdin.read().strip())
print(t.issuer, t.name, t.digits, sep="|")
for at in sys.argv[1:]:
    print(t.at(int(at)))
`
	dir := t.TempDir()
	key, _ := enroll(t, dir, "--digits", "8", "--no-qr")
	times := []string{"59", "1780315199", "1780315200"}
	out := strings.Split(strings.TrimSpace(string(interop.Run(t, mustRead(t, key), py, append([]string{"-c", script}, times...)...))), "\n")
	require.Equal(t, "Acme Co|alice@example.com|8", out[0])
	for i, sec := range times {
		n, err := strconv.ParseInt(sec, 10, 64)
		require.NoError(t, err)
		ours := latch(t, nil, "totp", "code", "--key", key, "--now", time.Unix(n, 0).UTC().Format(time.RFC3339)).ok(t).stdout
		require.Equal(t, out[i+1], strings.TrimSpace(ours), "at %s", sec)
	}
}

// TestTOTPCodeBareSecret: a base32 secret given where a key URI belongs
// (as the --key file name, or as the file's content) gets an error that
// says an otpauth:// URI is wanted, and does not echo the secret.
func TestTOTPCodeBareSecret(t *testing.T) {
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	dir := t.TempDir()
	file := filepath.Join(dir, "secret.txt")
	require.NoError(t, os.WriteFile(file, []byte("jbsw y3dp ehpk 3pxp jbsw y3dp ehpk 3pxp\n"), 0o600))
	for _, r := range []result{
		latch(t, nil, "totp", "code", "--key", secret),
		latch(t, []byte(secret+"\n"), "totp", "code"),
		latch(t, nil, "totp", "code", "--key", file),
		latch(t, []byte("123456\n"), "totp", "verify", "--key", file),
	} {
		r.fails(t, exitFailure, "otpauth://")
		require.NotContains(t, strings.ToUpper(strings.ReplaceAll(r.stderr, " ", "")), secret[:12])
	}
}
