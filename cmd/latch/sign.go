package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/latchsec/latch/integrator"
	"github.com/latchsec/latch/sealedbox"
)

func init() {
	commands = append(commands, signKeygenCommand, signKeysetCommand, signRequestCommand)
}

var signKeygenCommand = &command{
	name:    "sign keygen",
	args:    "",
	summary: "make a signing key (file 0600) for signed sealing; the verifying key is printed",
	detail: `Makes a signing key of the default scheme, MLDSA65Ed25519 (ML-DSA-65 and
Ed25519, both of which must verify), writes it to FILE with mode 0600 and
prints the verifying key (latch_vk_...), which the signer publishes and
recipients pass to latch seal open --signer. Existing files are never
overwritten.`,
	example: `latch sign keygen --private integrator.sigk > integrator.vk`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		private := fs.String("private", "", "write the signing key to `FILE` (required)")
		scheme := fs.String("scheme", "MLDSA65Ed25519", "the `SCHEME`: MLDSA65Ed25519, or Ed25519 alone where 3 KiB per envelope is too much")
		return func(e *env, args []string) error {
			if err := nargs(args, 0, 0); err != nil {
				return err
			}
			if *private == "" {
				return usagef("--private is required")
			}
			var s *sealedbox.SignatureScheme
			switch strings.ToUpper(*scheme) {
			case "MLDSA65ED25519":
				s = sealedbox.MLDSA65Ed25519()
			case "ED25519":
				s = sealedbox.Ed25519()
			default:
				return usagef("--scheme %q: want MLDSA65Ed25519 or Ed25519", *scheme)
			}
			k, err := s.GenerateSigningKey()
			if err != nil {
				return err
			}
			text, err := k.MarshalText()
			if err != nil {
				return err
			}
			if err := writeNewFile(*private, append(text, '\n'), 0o600); err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "%s\n", k.VerifyingKey())
			return err
		}
	},
}

var signKeysetCommand = &command{
	name:    "sign keyset",
	args:    "",
	summary: "print the key set an integrator serves at https://<host>/.well-known/latch-integrator-keys",
	detail: `Prints the JSON key set of the given verifying keys, each valid from --now
for --valid. Serve it at /.well-known/latch-integrator-keys on the host the
person will see; to rotate, publish a set with the new key beside the old
one until every request is signed with the new key.`,
	example: `latch sign keyset --key integrator.vk --valid 365d > latch-integrator-keys`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		var keys listFlag
		fs.Var(&keys, "key", "a verifying `KEY` (latch_vk_...) or a file holding it; repeat for several (required)")
		valid := fs.String("valid", "365d", "how long the keys are valid: a `DURATION` such as 720h or 365d")
		clk := nowFlag(fs)
		return func(e *env, args []string) error {
			if err := nargs(args, 0, 0); err != nil {
				return err
			}
			if len(keys) == 0 {
				return usagef("--key is required")
			}
			d, err := parseExpiry(*valid)
			if err != nil || d <= 0 {
				return usagef("--valid %q: want a duration such as 720h or 365d", *valid)
			}
			now, err := clk.now()
			if err != nil {
				return err
			}
			vks, err := e.readVerifyingKeys(keys)
			if err != nil {
				return err
			}
			var published []integrator.PublishedKey
			for _, k := range vks {
				published = append(published, integrator.PublishedKey{Key: k, NotBefore: now.UTC().Truncate(time.Second), NotAfter: now.UTC().Truncate(time.Second).Add(d)})
			}
			doc, err := integrator.MarshalKeySet(published)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "%s\n", doc)
			return err
		}
	},
}

var signRequestCommand = &command{
	name:    "sign request",
	args:    "[FILE|-]",
	summary: "sign and seal an integrator request definition (standard input or FILE) for the app; the envelope goes to standard output",
	detail: `Checks the definition, signs the statement (the definition, --integration,
--request and --version) with the signing key and seals it to the app's
public key, bound to the integration and request: what an integrator
uploads so that the platform can neither read, forge, move nor roll back
the request. Give each new definition of a request a higher --version.`,
	example: `latch sign request --to integration.pub --sign integrator.sigk --integration in_7 --request rq_42 --version 3 < request.json > request.sealed`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		to := fs.String("to", "", "the app's public `KEY` (latch_pk_...) or a file holding it (required)")
		sign := fs.String("sign", "", "the signing key `FILE` (required)")
		in := fs.String("integration", "", "the integration `ID` (required)")
		rq := fs.String("request", "", "the request `ID` (required)")
		version := fs.Uint64("version", 0, "the statement's `VERSION`, 1 or more, higher for each new definition (required)")
		b64 := fs.Bool("base64", false, "write the envelope in base64")
		return func(e *env, args []string) error {
			if err := nargs(args, 0, 1); err != nil {
				return err
			}
			if *to == "" || *sign == "" || *in == "" || *rq == "" || *version == 0 {
				return usagef("--to, --sign, --integration, --request and --version are required")
			}
			pub, err := e.readPublicKey(*to)
			if err != nil {
				return err
			}
			k, err := e.readSigningKey(*sign)
			if err != nil {
				return err
			}
			data, err := e.binaryIn(args, false, "the definition")
			if err != nil {
				return err
			}
			def, err := integrator.ParseRequest(data)
			if err != nil {
				return err
			}
			statement := &integrator.Statement{IntegrationID: *in, RequestID: *rq, Version: *version, Definition: def}
			env, err := statement.Seal(pub, k)
			if err != nil {
				return err
			}
			return e.binaryOut(env, *b64)
		}
	},
}

func (e *env) readSigningKey(name string) (*sealedbox.SigningKey, error) {
	text, err := e.readSecretLine(name, "the signing key")
	if err != nil {
		return nil, err
	}
	k, err := sealedbox.ParseSigningKey(text)
	if err != nil {
		if strings.HasPrefix(text, "latch_vk_") {
			return nil, fmt.Errorf("%s holds a verifying key; give the signing key file", name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return k, nil
}

// readVerifyingKeys reads verifying keys, each given as its text
// ("latch_vk_...") or as the name of a file holding it.
func (e *env) readVerifyingKeys(list []string) ([]*sealedbox.VerifyingKey, error) {
	var keys []*sealedbox.VerifyingKey
	for _, s := range list {
		text := s
		if !strings.HasPrefix(s, "latch_") {
			var err error
			if text, err = e.readSecretLine(s, "the verifying key"); err != nil {
				return nil, err
			}
		}
		k, err := sealedbox.ParseVerifyingKey(text)
		if err != nil {
			if strings.HasPrefix(text, "latch_sigk_") {
				return nil, errors.New("that is a signing key; give the verifying key (latch_vk_...)")
			}
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// sealMaybeSigned seals plain to pub, signed with the key in signFile if
// it is not empty.
func (e *env) sealMaybeSigned(pub *sealedbox.PublicKey, signFile string, plain, context []byte) ([]byte, error) {
	if signFile == "" {
		return sealedbox.Seal(pub, plain, context)
	}
	k, err := e.readSigningKey(signFile)
	if err != nil {
		return nil, err
	}
	return sealedbox.SealSigned(pub, k, plain, context)
}

// openMaybeSigned opens a signed envelope with the trusted signers and
// reports the signer on standard error, or an unsigned one if no signer is
// given. A signed envelope without --signer, or an unsigned one with it, is
// refused.
func (e *env) openMaybeSigned(priv *sealedbox.PrivateKey, signers []string, envelope, context []byte) ([]byte, error) {
	if len(signers) == 0 {
		if sealedbox.IsSigned(envelope) {
			return nil, usagef("the envelope is signed; give --signer with the verifying keys you trust")
		}
		return sealedbox.Open(priv, envelope, context)
	}
	keys, err := e.readVerifyingKeys(signers)
	if err != nil {
		return nil, err
	}
	plain, signer, err := sealedbox.OpenSigned(priv, keys, envelope, context)
	switch {
	case errors.Is(err, sealedbox.ErrUnsigned):
		return nil, fmt.Errorf("%w: whoever stored it may have replaced a signed envelope", err)
	case errors.Is(err, sealedbox.ErrUnknownSigner):
		return nil, fmt.Errorf("%w: none of the --signer keys signed it", err)
	case errors.Is(err, sealedbox.ErrBadSignature):
		return nil, fmt.Errorf("%w: it was altered, moved to another --context or re-sealed by its recipient", err)
	case err != nil:
		return nil, err
	}
	fmt.Fprintf(e.stderr, "signed by key id %s\n", signer)
	return plain, nil
}
