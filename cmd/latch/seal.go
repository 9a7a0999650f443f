package main

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/latchsec/latch/sealedbox"
	"github.com/latchsec/latch/sealedbox/e2e"
)

func init() {
	commands = append(commands, sealKeygenCommand, sealSealCommand, sealOpenCommand,
		sealWrapCommand, sealUnwrapCommand)
}

// contextFlag is --context, which must be given, even if empty.
type contextFlag struct {
	value string
	set   bool
}

func (c *contextFlag) String() string { return c.value }

func (c *contextFlag) Set(s string) error {
	c.value, c.set = s, true
	return nil
}

func defineContext(fs *flag.FlagSet) *contextFlag {
	c := new(contextFlag)
	fs.Var(c, "context", "the `CONTEXT` the envelope is bound to: what names where it is stored, such as integration/42/request/7 (required; --context= for none)")
	return c
}

// binaryOut writes binary output, or its standard base64 with a newline.
// It refuses to write raw binary to a terminal.
func (e *env) binaryOut(b []byte, b64 bool) error {
	if b64 {
		_, err := fmt.Fprintln(e.stdout, base64.StdEncoding.EncodeToString(b))
		return err
	}
	if f, ok := e.stdout.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return errors.New("refusing to write binary to a terminal; redirect standard output or use --base64")
		}
	}
	_, err := e.stdout.Write(b)
	return err
}

// binaryIn reads binary input from a file or standard input, or its
// base64 (standard or URL alphabet, padding and white space allowed).
func (e *env) binaryIn(args []string, b64 bool, what string) ([]byte, error) {
	name := "-"
	if len(args) == 1 {
		name = args[0]
	}
	b, err := e.readInput(name, what)
	if err != nil || !b64 {
		return b, err
	}
	s := strings.Join(strings.Fields(string(b)), "")
	s = strings.TrimRight(strings.NewReplacer("-", "+", "_", "/").Replace(s), "=")
	out, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s is not base64", what)
	}
	return out, nil
}

// readPublicKey reads a public key given as its text ("latch_pk_...") or
// as the name of a file holding it.
func (e *env) readPublicKey(s string) (*sealedbox.PublicKey, error) {
	text := s
	if !strings.HasPrefix(s, "latch_") {
		var err error
		if text, err = e.readSecretLine(s, "the public key"); err != nil {
			return nil, err
		}
	}
	pub, err := sealedbox.ParsePublicKey(text)
	if err != nil {
		if strings.HasPrefix(text, "latch_sk_") {
			return nil, errors.New("that is a private key; give the public key (latch_pk_...)")
		}
		return nil, err
	}
	return pub, nil
}

func (e *env) readPrivateKey(name string) (*sealedbox.PrivateKey, error) {
	text, err := e.readSecretLine(name, "the private key")
	if err != nil {
		return nil, err
	}
	priv, err := sealedbox.ParsePrivateKey(text)
	if err != nil {
		if strings.HasPrefix(text, "latch_pk_") {
			return nil, fmt.Errorf("%s holds a public key; give the private key file", name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return priv, nil
}

// e2eKey files hold an end-to-end key in its text form (latch_e2e_...,
// e2e.Key.MarshalText).
func (e *env) readE2EKey(name string) (*e2e.Key, error) {
	text, err := e.readSecretLine(name, "the end-to-end key")
	if err != nil {
		return nil, err
	}
	k, err := e2e.ParseKey(text)
	if err != nil {
		return nil, fmt.Errorf("%s is not an end-to-end key (latch_e2e_..., as latch seal keygen --e2e writes): %w", name, err)
	}
	return k, nil
}

var sealKeygenCommand = &command{
	name:    "seal keygen",
	args:    "",
	summary: "make a sealing key pair (private key file 0600, public key printed), or an end-to-end key",
	detail: `With --private, makes a key pair of the default suite, MLKEM768X25519
(hybrid post-quantum), writes the private key to FILE with mode 0600 and
prints the public key. With --e2e, makes an end-to-end key instead, the key
that wraps private keys, and writes its text form (latch_e2e_...) to FILE
with mode 0600. Existing files are never overwritten.`,
	example: `latch seal keygen --private integration.key > integration.pub
latch seal keygen --e2e e2e.key`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		private := fs.String("private", "", "write the private key to `FILE`")
		e2eFile := fs.String("e2e", "", "write a new end-to-end key to `FILE` instead")
		suite := fs.String("suite", "MLKEM768X25519", "the `SUITE`: MLKEM768X25519, or X25519 for data that stops mattering before quantum computers may exist")
		return func(e *env, args []string) error {
			if err := nargs(args, 0, 0); err != nil {
				return err
			}
			switch {
			case (*private == "") == (*e2eFile == ""):
				return usagef("give --private FILE or --e2e FILE")
			case *e2eFile != "":
				text, err := e2e.GenerateKey().MarshalText()
				if err != nil {
					return err
				}
				if err := writeNewFile(*e2eFile, append(text, '\n'), 0o600); err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "wrote %s: an end-to-end key; keep it on the person's devices only\n", *e2eFile)
				return err
			}
			var s *sealedbox.Suite
			switch strings.ToUpper(*suite) {
			case "MLKEM768X25519":
				s = sealedbox.MLKEM768X25519()
			case "X25519":
				s = sealedbox.X25519()
			default:
				return usagef("--suite %q: want MLKEM768X25519 or X25519", *suite)
			}
			priv, err := s.GenerateKey()
			if err != nil {
				return err
			}
			text, err := priv.MarshalText()
			if err != nil {
				return err
			}
			pub, err := priv.PublicKey().MarshalText()
			if err != nil {
				return err
			}
			if err := writeNewFile(*private, append(text, '\n'), 0o600); err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "%s\n", pub)
			return err
		}
	},
}

var sealSealCommand = &command{
	name:    "seal seal",
	args:    "[FILE|-]",
	summary: "seal standard input (or FILE) to a public key; the envelope goes to standard output",
	detail: `The envelope opens only with the private key and the same --context.
With --sign, the plaintext is signed (see latch sign keygen), then sealed:
the recipient learns who sealed it. Plaintexts are at most 1 MiB.`,
	example: `latch seal seal --to integration.pub --context integration/42/request/7 < request.json > request.sealed
latch seal seal --to integration.pub --sign integrator.sigk --context integration/42/request/7 < request.json > request.sealed`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		to := fs.String("to", "", "the public `KEY` (latch_pk_...) or a file holding it (required)")
		sign := fs.String("sign", "", "sign with the signing key in `FILE` before sealing")
		ctx := defineContext(fs)
		b64 := fs.Bool("base64", false, "write the envelope in base64")
		return func(e *env, args []string) error {
			if err := nargs(args, 0, 1); err != nil {
				return err
			}
			switch {
			case *to == "":
				return usagef("--to is required")
			case !ctx.set:
				return usagef("--context is required")
			}
			pub, err := e.readPublicKey(*to)
			if err != nil {
				return err
			}
			plain, err := e.binaryIn(args, false, "the plaintext")
			if err != nil {
				return err
			}
			envelope, err := e.sealMaybeSigned(pub, *sign, plain, []byte(ctx.value))
			if err != nil {
				return err
			}
			return e.binaryOut(envelope, *b64)
		}
	},
}

var sealOpenCommand = &command{
	name:    "seal open",
	args:    "[FILE|-]",
	summary: "open an envelope from standard input (or FILE) with the private key; the plaintext goes to standard output",
	detail: `Fails if the envelope was sealed to another key (the message gives both
key ids), or was altered, truncated, or sealed under another --context
(nothing more can be said then). A signed envelope opens only with
--signer, the verifying keys you trust; the key id of the one that signed
it is printed on standard error. With --signer, an unsigned envelope is
refused.`,
	example: `latch seal open --key integration.key --context integration/42/request/7 < request.sealed
latch seal open --key integration.key --signer integrator.vk --context integration/42/request/7 < request.sealed`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		key := fs.String("key", "", "the private key `FILE` (required)")
		var signers listFlag
		fs.Var(&signers, "signer", "a trusted verifying `KEY` (latch_vk_...) or a file holding it; repeat for several")
		ctx := defineContext(fs)
		b64 := fs.Bool("base64", false, "read the envelope in base64")
		return func(e *env, args []string) error {
			if err := nargs(args, 0, 1); err != nil {
				return err
			}
			switch {
			case *key == "":
				return usagef("--key is required")
			case !ctx.set:
				return usagef("--context is required")
			}
			priv, err := e.readPrivateKey(*key)
			if err != nil {
				return err
			}
			envelope, err := e.binaryIn(args, *b64, "the envelope")
			if err != nil {
				return err
			}
			plain, err := e.openMaybeSigned(priv, signers, envelope, []byte(ctx.value))
			if err != nil {
				if errors.Is(err, sealedbox.ErrWrongKey) {
					if id, idErr := sealedbox.EnvelopeKeyID(envelope); idErr == nil {
						return fmt.Errorf("%w: it is for key id %s, this key is %s", err, id, priv.KeyID())
					}
				}
				// sealedbox's message says why, or that the envelope was
				// altered or truncated, or sealed under another context.
				return err
			}
			_, err = e.stdout.Write(plain)
			return err
		}
	},
}

var sealWrapCommand = &command{
	name:    "seal wrap",
	args:    "",
	summary: "wrap a private key under an end-to-end key, for storage beside its public key",
	detail: `Prints the wrapped key's text form (latch_wk_mlkem768x25519_..., with a
checksum), for a JSON field or a file. The wrapped key is bound to the
public key: latch seal unwrap checks that the public key stored beside it
is the right one.`,
	example: `latch seal wrap --e2e e2e.key --key integration.key > integration.wrapped`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		e2eFile := fs.String("e2e", "", "the end-to-end key `FILE` (required)")
		key := fs.String("key", "", "the private key `FILE` to wrap (required)")
		return func(e *env, args []string) error {
			if err := nargs(args, 0, 0); err != nil {
				return err
			}
			if *e2eFile == "" || *key == "" {
				return usagef("--e2e and --key are required")
			}
			k, err := e.readE2EKey(*e2eFile)
			if err != nil {
				return err
			}
			priv, err := e.readPrivateKey(*key)
			if err != nil {
				return err
			}
			text, err := e2e.WrapPrivateKey(k, priv)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(e.stdout, text)
			return err
		}
	},
}

var sealUnwrapCommand = &command{
	name:    "seal unwrap",
	args:    "[WRAPPED-FILE|-]",
	summary: "unwrap a private key, checking it against the stored public key, into a new 0600 file",
	detail: `Reads the wrapped key's text form (latch_wk_..., as latch seal wrap
prints it). Fails loudly if the public key is not the wrapped key's own:
whoever stored it swapped it, perhaps for one whose private key they hold.`,
	example: `latch seal unwrap --e2e e2e.key --public integration.pub --out integration.key < integration.wrapped`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		e2eFile := fs.String("e2e", "", "the end-to-end key `FILE` (required)")
		public := fs.String("public", "", "the public `KEY` stored beside the wrapped key, or a file holding it (required)")
		out := fs.String("out", "", "write the private key to `FILE` (mode 0600, never overwritten) (required)")
		return func(e *env, args []string) error {
			if err := nargs(args, 0, 1); err != nil {
				return err
			}
			if *e2eFile == "" || *public == "" || *out == "" {
				return usagef("--e2e, --public and --out are required")
			}
			k, err := e.readE2EKey(*e2eFile)
			if err != nil {
				return err
			}
			pub, err := e.readPublicKey(*public)
			if err != nil {
				return err
			}
			name := "-"
			if len(args) == 1 {
				name = args[0]
			}
			wrappedText, err := e.readSecretLine(name, "the wrapped key")
			if err != nil {
				return err
			}
			priv, err := e2e.UnwrapPrivateKey(k, wrappedText, pub)
			switch {
			case errors.Is(err, e2e.ErrKeyMismatch):
				return fmt.Errorf("%w: the stored public key was swapped; do not seal anything to it", err)
			case errors.Is(err, e2e.ErrInvalidKey):
				return fmt.Errorf("the wrapped key is not one (latch_wk_..., as latch seal wrap prints it): %w", err)
			case err != nil:
				return err
			}
			text, err := priv.MarshalText()
			if err != nil {
				return err
			}
			if err := writeNewFile(*out, append(text, '\n'), 0o600); err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "wrote %s: the private key of %s\n", *out, priv.KeyID())
			return err
		}
	},
}
