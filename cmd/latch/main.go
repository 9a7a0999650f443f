package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"time"
)

// Exit codes.
const (
	exitOK      = 0 // the command did what was asked
	exitFailure = 1 // it could not: a file, a key, a server or a check failed
	exitUsage   = 2 // the command line is wrong
)

// maxInput caps what a command reads from a file or standard input.
const maxInput = 4 << 20

// A command is one leaf of the command tree, such as "tls pin".
type command struct {
	name    string // "tls pin"
	args    string // what follows the flags, as shown in the usage line
	summary string // one line
	detail  string // paragraphs shown by --help, may be empty
	example string // one or more command lines, shown by --help
	// setup defines the command's flags and returns the function that
	// runs it with the positional arguments, once the flags are parsed.
	setup func(fs *flag.FlagSet) func(e *env, args []string) error
}

// commands is filled by the init functions of tls.go, token.go, seal.go,
// totp.go and pair.go, in the order shown by latch --help.
var commands []*command

// groups are the first words of commands, in the order of the overview.
var groups = []struct{ name, summary string }{
	{"tls", "find the certificate to pin for an API, and check a transport policy"},
	{"token", "make and rotate token keys; issue, inspect, verify and revoke API tokens"},
	{"seal", "make sealing keys; seal and open envelopes; wrap and unwrap private keys"},
	{"sign", "make signing keys and key sets; sign and seal integrator requests"},
	{"totp", "enroll a TOTP key (URI and QR code); compute and check codes"},
	{"pair", "make a device's setup code and pairing verification record"},
}

// env is what a command runs with.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	cmd            *command
}

// usageError is a mistake on the command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run runs the command line args and returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	// Every message of run goes through redact (see redact.go).
	errorf := func(format string, a ...any) { io.WriteString(stderr, redact(fmt.Sprintf(format, a...), args)) }
	if len(args) == 0 || isHelp(args[0]) || args[0] == "help" {
		if len(args) > 1 && args[0] == "help" {
			return run(append(args[1:], "--help"), stdin, stdout, stderr)
		}
		printOverview(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if isVersion(args[0]) {
		if len(args) > 1 {
			errorf("latch: unexpected argument %q after %s\n", args[1], args[0])
			return exitUsage
		}
		fmt.Fprintf(stdout, "latch %s\n", version())
		return exitOK
	}
	cmd, rest := lookup(args)
	if cmd == nil {
		group := args[0]
		if !knownGroup(group) {
			errorf("latch: unknown command %q; run 'latch --help'\n", group)
			return exitUsage
		}
		if len(args) > 1 && !isHelp(args[1]) {
			errorf("latch %s: unknown command %q; run 'latch %s --help'\n", group, args[1], group)
			return exitUsage
		}
		printGroup(stdout, group)
		if len(args) == 1 {
			return exitUsage
		}
		return exitOK
	}
	e.cmd = cmd
	fs := flag.NewFlagSet("latch "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	runCmd := cmd.setup(fs)
	addShortFlags(cmd, fs)
	positional, err := parseFlags(fs, rest)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(stdout, cmd, fs)
			return exitOK
		}
		errorf("latch %s: %s; run 'latch %s --help'\n", cmd.name, oneLine(err.Error()), cmd.name)
		return exitUsage
	}
	err = runCmd(e, positional)
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		errorf("latch %s: %s; run 'latch %s --help'\n", cmd.name, oneLine(err.Error()), cmd.name)
		return exitUsage
	default:
		errorf("latch %s: %s\n", cmd.name, oneLine(err.Error()))
		return exitFailure
	}
}

func isHelp(s string) bool { return s == "-h" || s == "-help" || s == "--help" }

func isVersion(s string) bool { return s == "--version" || s == "-version" || s == "version" }

// version is the module version latch was built from: the tag or
// pseudo-version go install stamps, or "(devel)" for a build whose version
// is unknown (go run, or a build from a checkout without version control
// information).
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" {
		return "(devel)"
	}
	return bi.Main.Version
}

// parseFlags parses args into fs and returns the positional arguments.
// Flags may come before, between and after them, as in
// "latch token verify TOKEN --keys k.json"; after "--", every argument is
// positional (for one that begins with "-"). A lone "-" (standard input)
// is positional.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var flags, positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		// A flag that takes a value takes the next argument, whatever
		// it looks like, as package flag does.
		if f := fs.Lookup(name); f != nil && !isBoolFlag(f) && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	if err := fs.Parse(flags); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 { // cannot happen: every argument in flags is a flag or a flag's value
		return nil, usagef("unexpected argument %q", fs.Arg(0))
	}
	return positional, nil
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// shortFlags are the one-letter forms of the flags that age users type
// most: -o for the output file, -r for the recipient, -i for the identity
// (the private key that opens), -a for armor (base64). A short form exists
// in a command that has its long flag (and, where only is set, only in
// that command).
var shortFlags = []struct{ short, long, only string }{
	{"a", "base64", ""},
	{"i", "key", "seal open"},
	{"o", "out", ""},
	{"r", "to", ""},
}

// addShortFlags defines, in fs, the short forms of cmd's flags.
func addShortFlags(cmd *command, fs *flag.FlagSet) {
	for _, s := range shortFlags {
		if f := fs.Lookup(s.long); f != nil && (s.only == "" || s.only == cmd.name) {
			fs.Var(f.Value, s.short, "short for --"+s.long)
		}
	}
}

// shortFor returns the short form of long in fs, or "".
func shortFor(fs *flag.FlagSet, long string) string {
	for _, s := range shortFlags {
		if f := fs.Lookup(s.short); f != nil && f.Value == fs.Lookup(long).Value {
			return s.short
		}
	}
	return ""
}

func knownGroup(name string) bool {
	for _, g := range groups {
		if g.name == name {
			return true
		}
	}
	return false
}

// lookup finds the command named by the first one or two words of args.
func lookup(args []string) (*command, []string) {
	if len(args) >= 2 {
		for _, c := range commands {
			if c.name == args[0]+" "+args[1] {
				return c, args[2:]
			}
		}
	}
	return nil, nil
}

func printOverview(w io.Writer) {
	fmt.Fprint(w, `latch is the command-line tool of the Latch security SDK.

Usage: latch <group> <command> [flags] [arguments]

`)
	for _, g := range groups {
		fmt.Fprintf(w, "  %-6s %s\n", g.name, g.summary)
	}
	fmt.Fprint(w, `
Commands:
`)
	for _, g := range groups {
		for _, c := range commands {
			if strings.HasPrefix(c.name, g.name+" ") {
				fmt.Fprintf(w, "  latch %-14s %s\n", c.name, c.summary)
			}
		}
	}
	fmt.Fprint(w, `
Every command takes --help and shows an example; flags may come before or
after the arguments. latch --version prints the version. Exit codes: 0 done,
1 failed (the reason on standard error, in one line), 2 wrong usage.
Secrets (keys, tokens, TOTP keys) are read from files or standard input,
never from flags.
`)
}

func printGroup(w io.Writer, group string) {
	fmt.Fprintf(w, "Usage: latch %s <command> [flags] [arguments]\n\nCommands:\n", group)
	for _, c := range commands {
		if strings.HasPrefix(c.name, group+" ") {
			fmt.Fprintf(w, "  latch %-14s %s\n", c.name, c.summary)
		}
	}
	fmt.Fprintf(w, "\nRun 'latch %s <command> --help' for its flags and an example.\n", group)
}

func printHelp(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", strings.TrimSpace("latch "+c.name+" [flags] "+c.args), c.summary)
	if c.detail != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.detail))
	}
	var names []string
	fs.VisitAll(func(f *flag.Flag) {
		if len(f.Name) > 1 { // short forms are shown beside their long flag
			names = append(names, f.Name)
		}
	})
	if len(names) > 0 {
		sort.Strings(names)
		fmt.Fprint(w, "\nFlags:\n")
		for _, n := range names {
			f := fs.Lookup(n)
			arg, usage := flag.UnquoteUsage(f)
			if arg != "" {
				arg = " " + arg
			}
			def := ""
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
				def = fmt.Sprintf(" (default %s)", f.DefValue)
			}
			short := ""
			if s := shortFor(fs, n); s != "" {
				short = ", -" + s
			}
			fmt.Fprintf(w, "  --%s%s%s\n      %s%s\n", n, short, arg, usage, def)
		}
	}
	fmt.Fprintf(w, "\nExample:\n")
	for _, line := range strings.Split(strings.TrimSpace(c.example), "\n") {
		fmt.Fprintf(w, "  %s\n", line)
	}
}

// oneLine keeps an error message on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

// nargs checks the number of positional arguments.
func nargs(args []string, min, max int) error {
	switch {
	case len(args) < min:
		return usagef("missing argument")
	case len(args) > max:
		return usagef("unexpected argument %q", args[max])
	}
	return nil
}

// readInput reads a file, or standard input when name is "-", up to
// maxInput bytes. what names the content for error messages.
func (e *env) readInput(name, what string) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		r = e.stdin
		if f, ok := e.stdin.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				fmt.Fprintf(e.stderr, "latch %s: reading %s from the terminal; end with Ctrl-D\n", e.cmd.name, what)
			}
		}
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", what, pathError(err))
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", what, pathError(err))
	}
	if len(b) > maxInput {
		return nil, fmt.Errorf("%s is larger than %d MiB", what, maxInput>>20)
	}
	return b, nil
}

// pathError makes *os.PathError read "open keys.json: no such file or
// directory" as "keys.json: no such file or directory".
func pathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

// printJSON writes v as indented JSON and a newline.
func (e *env) printJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "%s\n", b)
	return err
}

// clock is the --now flag: the time at which a command judges validity
// periods, expiries and TOTP steps. It exists so that tests, and anyone
// reproducing a past judgement, get the same output every time.
type clock struct{ s string }

func nowFlag(fs *flag.FlagSet) *clock {
	c := new(clock)
	fs.StringVar(&c.s, "now", "", "judge times as if it were `TIME` (RFC 3339), not the clock's time; for tests and for reproducing a past result")
	return c
}

// now returns the time given by --now, or the clock's.
func (c *clock) now() (time.Time, error) {
	if c.s == "" {
		return time.Now(), nil
	}
	t, err := time.Parse(time.RFC3339, c.s)
	if err != nil {
		return time.Time{}, usagef("--now: not an RFC 3339 time such as 2026-06-01T12:00:00Z")
	}
	return t, nil
}
