package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

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
label only, never for the device. Both files are written with mode 0600
and never overwritten; when either exists, neither is written.`,
	example: `latch pair provision --device-id dev-0001 --record dev-0001.record --code dev-0001.code`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		record := fs.String("record", "", "write the verification record to `FILE` (required)")
		codeFile := fs.String("code", "", "write the setup code to `FILE` (required)")
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
			if *memory > pairing.MaxKDFMemoryKiB>>10 || *passes > pairing.MaxKDFTime {
				return usagef("--kdf-memory or --kdf-time out of range")
			}
			for _, name := range []string{*record, *codeFile} {
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
			if err := writeNewFile(*codeFile, []byte(code.Printed()+"\n"+code.QRPayload()+"\n"), 0o600); err != nil {
				return err
			}
			if err := writeNewFile(*record, b, 0o600); err != nil {
				os.Remove(*codeFile)
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "wrote %s: the verification record, for the device only\nwrote %s: the setup code, for the label only; never store it on the device\n", *record, *codeFile)
			return err
		}
	},
}
