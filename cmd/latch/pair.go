package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"

	"github.com/boombuler/barcode/qr"

	"github.com/latchsec/latch/pairing"
)

func init() {
	commands = append(commands, pairProvisionCommand)
}

var pairProvisionCommand = &command{
	name:    "pair provision",
	args:    "",
	summary: "make a device's setup code (for its label) and verification record (for the device), both 0600",
	detail: `Makes a random setup code and the device's verification record from it
(SPAKE2+ w0 and L, Argon2id salt and work factor), as the pairing package
does at manufacture. The record goes to --record FILE, to be stored on the
device; the code goes to --code FILE, two lines: the printed form with its
check digit (1234-5678-9) and the QR payload (LATCH:PAIR:1:...), for the
label only, never for the device. With --qr, a PNG of the QR code of the
payload goes to FILE as well, for the label printer. Every file is written
with mode 0600 and never overwritten; when one exists, none is written.`,
	example: `latch pair provision --device-id dev-0001 --record dev-0001.record --code dev-0001.code --qr dev-0001.png`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		record := fs.String("record", "", "write the verification record to `FILE` (required)")
		codeFile := fs.String("code", "", "write the setup code to `FILE` (required)")
		qrFile := fs.String("qr", "", "also write a PNG of the setup code's QR code to `FILE`")
		deviceID := fs.String("device-id", "", "the device's public `ID`, bound into every pairing (at most 64 bytes)")
		memory := fs.Uint("kdf-memory", uint(pairing.DefaultKDF.MemoryKiB>>10), "Argon2id memory in `MiB` (8 to 256)")
		passes := fs.Uint("kdf-time", uint(pairing.DefaultKDF.Time), "Argon2id `PASSES` (1 to 10)")
		return func(e *env, args []string) error {
			if err := nargs(args, 0, 0); err != nil {
				return err
			}
			if *record == "" || *codeFile == "" {
				return usagef("give --record FILE and --code FILE")
			}
			// NewRecord judges the work factor (ErrWorkFactor, below); this
			// only keeps the values from wrapping around in a uint32.
			if *memory > math.MaxUint32>>10 || *passes > math.MaxUint32 {
				return usagef("--kdf-memory or --kdf-time out of range")
			}
			for _, name := range []string{*record, *codeFile, *qrFile} {
				if name == "" {
					continue
				}
				if _, err := os.Lstat(name); err == nil {
					return fmt.Errorf("%s already exists; refusing to overwrite it", name)
				}
			}
			kdf := pairing.KDFParams{Time: uint32(*passes), MemoryKiB: uint32(*memory) << 10, Threads: 1}
			code := pairing.NewSetupCode()
			rec, err := pairing.NewRecord(code, *deviceID, kdf)
			if errors.Is(err, pairing.ErrWorkFactor) {
				return usagef("--kdf-memory or --kdf-time out of range")
			}
			if err != nil {
				return err
			}
			b, err := rec.MarshalBinary()
			if err != nil {
				return err
			}
			files := []struct {
				name string
				data []byte
			}{{*codeFile, []byte(code.Printed() + "\n" + code.QRPayload() + "\n")}, {*record, b}}
			if *qrFile != "" {
				img, err := setupCodePNG(code.QRPayload())
				if err != nil {
					return err
				}
				files = append(files, struct {
					name string
					data []byte
				}{*qrFile, img})
			}
			for i, f := range files {
				if err := writeNewFile(f.name, f.data, 0o600); err != nil {
					for _, done := range files[:i] {
						os.Remove(done.name)
					}
					return err
				}
			}
			_, err = fmt.Fprintf(e.stdout, "wrote %s: the verification record, for the device only\nwrote %s: the setup code, for the label only; never store it on the device\n", *record, *codeFile)
			if err == nil && *qrFile != "" {
				_, err = fmt.Fprintf(e.stdout, "wrote %s: the setup code's QR code, for the label only\n", *qrFile)
			}
			return err
		}
	},
}

// setupCodePNG draws text as a QR code (error correction level M) in a PNG, 8
// pixels a module with a light margin of four modules, as a label printer
// takes it.
func setupCodePNG(text string) ([]byte, error) {
	code, err := qr.Encode(text, qr.M, qr.AlphaNumeric)
	if err != nil {
		return nil, errors.New("cannot encode the setup code as a QR code")
	}
	const scale, quiet = 8, 4
	n := code.Bounds().Dx()
	size := (n + 2*quiet) * scale
	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{color.White, color.Black})
	for y := range n {
		for x := range n {
			if r, _, _, _ := code.At(code.Bounds().Min.X+x, code.Bounds().Min.Y+y).RGBA(); r >= 0x8000 {
				continue
			}
			for dy := range scale {
				for dx := range scale {
					img.SetColorIndex((quiet+x)*scale+dx, (quiet+y)*scale+dy, 1)
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
