package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/latchsec/latch/totp"
)

func init() {
	commands = append(commands, totpEnrollCommand, totpCodeCommand, totpVerifyCommand)
}

// authenticator is a totp.Authenticator on a store that lives as long as
// the command: the CLI keeps no state between runs. now is nil for the
// clock's time.
func authenticator(issuer string, alg totp.Algorithm, digits, window int, now func() time.Time) (*totp.Authenticator, error) {
	encryptionKey := make([]byte, 32)
	if _, err := rand.Read(encryptionKey); err != nil {
		return nil, err
	}
	return totp.New(totp.Config{
		Issuer:         issuer,
		Store:          &totp.MemoryStore{},
		EncryptionKeys: []totp.EncryptionKey{{ID: "latch-cli", Key: encryptionKey}},
		Algorithm:      alg,
		Digits:         digits,
		Window:         window,
		Now:            now,
	})
}

func parseAlgorithm(s string) (totp.Algorithm, error) {
	for _, a := range []totp.Algorithm{totp.SHA1, totp.SHA256, totp.SHA512} {
		if strings.EqualFold(s, a.String()) {
			return a, nil
		}
	}
	return 0, usagef("--algorithm %q: want SHA1, SHA256 or SHA512", s)
}

// qrText draws a QR code with Unicode half blocks, two rows of modules per
// line, inside a quiet zone of four modules. Light modules are drawn as
// blocks, so that on a terminal with light text on a dark background the
// code shows dark on light, as readers expect; invert is for terminals
// with dark text on a light background.
func qrText(w io.Writer, rows [][]bool, invert bool) {
	const quiet = 4
	n := len(rows)
	dark := func(x, y int) bool {
		x, y = x-quiet, y-quiet
		d := x >= 0 && y >= 0 && x < n && y < n && rows[y][x]
		return d != invert
	}
	size := n + 2*quiet
	var b strings.Builder
	for y := 0; y < size; y += 2 {
		for x := range size {
			top, bottom := !dark(x, y), y+1 < size && !dark(x, y+1)
			switch {
			case top && bottom:
				b.WriteString("█")
			case top:
				b.WriteString("▀")
			case bottom:
				b.WriteString("▄")
			default:
				b.WriteString(" ")
			}
		}
		b.WriteString("\n")
	}
	io.WriteString(w, b.String())
}

var totpEnrollCommand = &command{
	name:    "totp enroll",
	args:    "",
	summary: "make a TOTP key: print its otpauth URI and QR code, write it to a file, a PNG on request",
	detail: `Makes a new random key (160 bits for SHA1) and shows what an authenticator
app needs: the QR code drawn in the terminal, the otpauth:// URI and the
secret in groups of four for typing. --out keeps the URI in a new 0600 file
for latch totp code and latch totp verify; --png writes the QR code as an
image (0600: it holds the secret). The output holds the secret: show it to
its owner only.`,
	example: `latch totp enroll --issuer Acme --account alice@example.com --out alice.totp --png alice.png`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		issuer := fs.String("issuer", "", "the service `NAME` apps show, without a colon (required)")
		account := fs.String("account", "", "the account `NAME` apps show, such as an e-mail address (required)")
		alg := fs.String("algorithm", "SHA1", "the HMAC `HASH`: SHA1 (every app), SHA256 or SHA512")
		digits := fs.Int("digits", 6, "code length, 6 or 8")
		out := fs.String("out", "", "write the key URI to the new `FILE` (mode 0600)")
		png := fs.String("png", "", "write the QR code as a PNG image to the new `FILE` (mode 0600)")
		size := fs.Int("size", 256, "the PNG's width and height in `PIXELS`, 64 to 2048")
		noQR := fs.Bool("no-qr", false, "do not draw the QR code in the terminal")
		invert := fs.Bool("invert", false, "draw the QR code for a terminal with dark text on a light background")
		jsonOut := fs.Bool("json", false, "print the URI and the names as JSON, without the QR code")
		return func(e *env, args []string) error {
			if err := nargs(args, 0, 0); err != nil {
				return err
			}
			if *issuer == "" || *account == "" {
				return usagef("--issuer and --account are required")
			}
			a, err := parseAlgorithm(*alg)
			if err != nil {
				return err
			}
			auth, err := authenticator(*issuer, a, *digits, 0, nil)
			if err != nil {
				return err
			}
			key, err := auth.Enroll(context.Background(), "account", *account)
			if err != nil {
				return err
			}
			var image []byte
			if *png != "" {
				if image, err = key.QRCode(*size); err != nil {
					return err
				}
			}
			if *out != "" {
				if err := writeNewFile(*out, []byte(key.URI()+"\n"), 0o600); err != nil {
					return err
				}
			}
			if *png != "" {
				if err := writeNewFile(*png, image, 0o600); err != nil {
					return err
				}
			}
			if *jsonOut {
				return e.printJSON(struct {
					URI       string `json:"uri"`
					Issuer    string `json:"issuer"`
					Account   string `json:"account"`
					Algorithm string `json:"algorithm"`
					Digits    int    `json:"digits"`
				}{key.URI(), key.Issuer(), key.Account(), key.Algorithm().String(), key.Digits()})
			}
			if !*noQR {
				rows, err := key.QRModules()
				if err != nil {
					return err
				}
				qrText(e.stdout, rows, *invert)
				fmt.Fprintln(e.stdout)
			}
			fmt.Fprintf(e.stdout, "uri:    %s\nsecret: %s\n", key.URI(), key.SecretBase32())
			return nil
		}
	},
}

// readTOTPKey reads a key URI from a file or standard input.
func (e *env) readTOTPKey(name string) (totp.Key, error) {
	if name != "-" && bareBase32(name) {
		if _, err := os.Stat(name); errors.Is(err, os.ErrNotExist) {
			return totp.Key{}, errors.New("--key takes a FILE holding an otpauth:// key URI, not the secret itself; " + wantURI)
		}
	}
	uri, err := e.readSecretLine(name, "the key")
	if err != nil {
		return totp.Key{}, err
	}
	k, err := totp.ParseKeyURI(uri)
	if err != nil {
		if bareBase32(uri) {
			err = errors.New("the key is a bare base32 secret; " + wantURI)
		}
		// The message of ParseKeyURI never holds the secret.
		if name == "-" {
			return totp.Key{}, err
		}
		return totp.Key{}, fmt.Errorf("%s: %w", name, err)
	}
	return k, nil
}

// wantURI says what a key file holds.
const wantURI = "the key must be an otpauth://totp/ key URI, which holds the secret with its issuer and settings, as latch totp enroll --out writes"

// bareBase32 reports whether s looks like a base32 secret as apps and
// services show them: 16 or more characters of A-Z 2-7 (any case, spaces
// between groups allowed), optionally padded.
func bareBase32(s string) bool {
	s = strings.TrimRight(strings.ReplaceAll(s, " ", ""), "=")
	if len(s) < 16 {
		return false
	}
	upper := strings.ToUpper(s)
	if upper != s && strings.ToLower(s) != s {
		return false // mixed case: a file name, not a secret
	}
	for i := 0; i < len(upper); i++ {
		if c := upper[i]; !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

var totpCodeCommand = &command{
	name:    "totp code",
	args:    "",
	summary: "print the code an authenticator app shows now for a key",
	detail:  `Stands in for the app, for tests and for accounts that a script signs in.`,
	example: `latch totp code --key alice.totp`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		keyFile := fs.String("key", "-", "the `FILE` holding the otpauth:// key URI; - for standard input")
		clock := nowFlag(fs)
		return func(e *env, args []string) error {
			if err := nargs(args, 0, 0); err != nil {
				return err
			}
			t, err := clock.now()
			if err != nil {
				return err
			}
			k, err := e.readTOTPKey(*keyFile)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(e.stdout, k.Code(t))
			return err
		}
	},
}

var totpVerifyCommand = &command{
	name:    "totp verify",
	args:    "",
	summary: "check a code (from standard input) against a key, as a server would",
	detail: `Checks the code with the totp package's verification: the key's number of
digits, the current 30-second step and --window steps either side, in
constant time. The command keeps no state, so it cannot refuse a code
that was already used; a server's Store does.`,
	example: `echo 287082 | latch totp verify --key alice.totp`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		keyFile := fs.String("key", "", "the `FILE` holding the otpauth:// key URI (required)")
		window := fs.Int("window", 1, "accept `N` steps of 30 s either side of the current one, 1 to 4")
		clock := nowFlag(fs)
		return func(e *env, args []string) error {
			if err := nargs(args, 0, 0); err != nil {
				return err
			}
			if *keyFile == "" || *keyFile == "-" {
				return usagef("--key FILE is required (the code comes on standard input)")
			}
			if *window < 1 || *window > 4 {
				return usagef("--window %d: want 1 to 4", *window)
			}
			t, err := clock.now()
			if err != nil {
				return err
			}
			k, err := e.readTOTPKey(*keyFile)
			if err != nil {
				return err
			}
			code, err := e.readSecretLine("-", "the code")
			if err != nil {
				return err
			}
			issuer := k.Issuer()
			if issuer == "" {
				issuer = "latch" // a key URI without an issuer; the name plays no part in codes
			}
			auth, err := authenticator(issuer, k.Algorithm(), k.Digits(), *window, func() time.Time { return t })
			if err != nil {
				return err
			}
			ctx := context.Background()
			if err := auth.EnrollKey(ctx, "account", k); err != nil {
				return err
			}
			if err := auth.Confirm(ctx, "account", code); err != nil {
				var refused *totp.RefusedError
				if errors.As(err, &refused) && refused.Reason != nil {
					return fmt.Errorf("refused: %v", refused.Reason)
				}
				return fmt.Errorf("refused: %w", err)
			}
			_, err = fmt.Fprintln(e.stdout, "valid")
			return err
		}
	},
}
