package interop

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ScanQR reads the QR code in a PNG image with zbarimg (Debian zbar-tools)
// and returns the text it holds, byte for byte: zbarimg runs with --raw,
// so it converts no character set, and with every symbology but QR
// disabled. The image is written to a temporary folder of the test. It
// fails the test when zbarimg finds no QR code.
func ScanQR(t testing.TB, png []byte) string {
	t.Helper()
	zbarimg := Program(t, "zbarimg", "zbar-tools")
	file := filepath.Join(t.TempDir(), "qr.png")
	if err := os.WriteFile(file, png, 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := RunErr(nil, zbarimg, "--raw", "-q", "--nodbus", "-Sdisable", "-Sqrcode.enable", file)
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 4 {
		t.Fatalf("zbarimg found no QR code in the image\nstderr:\n%s", stderr)
	}
	if err != nil {
		t.Fatalf("zbarimg: %v\nstderr:\n%s", err, stderr)
	}
	// zbarimg ends each symbol's text with a newline.
	text, ok := strings.CutSuffix(string(out), "\n")
	if !ok {
		t.Fatalf("zbarimg: output without a final newline: %q", out)
	}
	return text
}
