package totp

// This file is the only one that imports a QR code library
// (boombuler/barcode); nothing on the verification path uses it.

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"github.com/boombuler/barcode/qr"

	"github.com/latchsec/latch/internal/reason"
)

// qrQuietZone is the light margin, in modules, that QR readers need around
// a code (ISO/IEC 18004 asks for four); qrMinModulePixels is the fewest
// pixels a module gets in [Key.QRCode]: at one pixel a module, readers miss
// codes.
const (
	qrQuietZone       = 4
	qrMinModulePixels = 2
)

// QRCode returns a PNG image, size pixels square, of a QR code holding the
// key's URI (error correction level M), for the person to scan with an
// authenticator app: black modules of a whole number of pixels each
// (at least two), centred, with a light margin of at least four modules.
// size must be 64 to 2048, and large enough for that: 256 holds a key
// whose URI is up to about 990 bytes (a code of up to 117 modules; see
// [Key.QRModules]), far more than a typical key needs, and 2048 any key. The image holds the
// secret: send it to the person only, over TLS, and do not cache or log it.
func (k Key) QRCode(size int) ([]byte, error) {
	if size < 64 || size > 2048 {
		return nil, reason.Newf(errQRSize, nil, fmt.Sprintf("%d pixels, want 64 to 2048", size))
	}
	rows, err := k.QRModules()
	if err != nil {
		return nil, err
	}
	n := len(rows)
	scale := size / (n + 2*qrQuietZone)
	if scale < qrMinModulePixels {
		return nil, reason.Newf(errQRSize, nil, fmt.Sprintf("this key's QR code (%d modules) needs a size of at least %d", n, (n+2*qrQuietZone)*qrMinModulePixels))
	}
	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{color.White, color.Black})
	offset := (size - n*scale) / 2
	for y, row := range rows {
		for x, dark := range row {
			if !dark {
				continue
			}
			for dy := range scale {
				i := img.PixOffset(offset+x*scale, offset+y*scale+dy)
				for dx := range scale {
					img.Pix[i+dx] = 1
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// QRModules returns the QR code of [Key.QRCode] as its grid of modules,
// row by row, true for a dark module, without the quiet zone (the light
// margin of four modules that a reader needs around it). It is for drawing
// the code where an image cannot go, such as a terminal. Like the image, it
// holds the secret.
func (k Key) QRModules() ([][]bool, error) {
	if len(k.secret) < minSecretBytes {
		return nil, invalidKeyURI("not a key from ParseKeyURI or Enroll")
	}
	uri := k.URI()
	if len(uri) > maxURIBytes {
		return nil, errQRTooLong
	}
	code, err := qr.Encode(uri, qr.M, qr.Auto)
	if err != nil {
		// The library's error quotes the URI, secret included.
		return nil, errQRTooLong
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
