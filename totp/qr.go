package totp

// This file is the only one that imports a QR code library (pquerna/otp and
// the boombuler/barcode it uses); nothing on the verification path uses it.

import (
	"bytes"
	"fmt"
	"image/png"

	"github.com/boombuler/barcode/qr"
	"github.com/pquerna/otp"
)

// QRCode returns a PNG image, size pixels square, of a QR code holding the
// key's URI (error correction level M), for the person to scan with an
// authenticator app. size must be 64 to 2048; 256 suits a screen. The image
// holds the secret: send it to the person only, over TLS, and do not cache
// or log it.
func (k Key) QRCode(size int) ([]byte, error) {
	if size < 64 || size > 2048 {
		return nil, fmt.Errorf("totp: QR code size %d outside 64 to 2048", size)
	}
	if len(k.secret) < minSecretBytes {
		return nil, fmt.Errorf("%w: not a key from ParseKeyURI or Enroll", ErrInvalidKeyURI)
	}
	key, err := otp.NewKeyFromURL(k.URI())
	if err != nil {
		return nil, err
	}
	img, err := key.Image(size, size)
	if err != nil {
		return nil, fmt.Errorf("totp: QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// QRModules returns the same QR code as [Key.QRCode] as its grid of
// modules, row by row, true for a dark module, without the quiet zone (the
// light margin of four modules that a reader needs around it). It is for
// drawing the code where an image cannot go, such as a terminal. Like the
// image, it holds the secret.
func (k Key) QRModules() ([][]bool, error) {
	if len(k.secret) < minSecretBytes {
		return nil, fmt.Errorf("%w: not a key from ParseKeyURI or Enroll", ErrInvalidKeyURI)
	}
	code, err := qr.Encode(k.URI(), qr.M, qr.Auto)
	if err != nil {
		return nil, fmt.Errorf("totp: QR code: %w", err)
	}
	b := code.Bounds()
	rows := make([][]bool, b.Dy())
	for y := range rows {
		rows[y] = make([]bool, b.Dx())
		for x := range rows[y] {
			r, _, _, _ := code.At(b.Min.X+x, b.Min.Y+y).RGBA()
			rows[y][x] = r < 0x8000
		}
	}
	return rows, nil
}
