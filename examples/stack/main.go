// Command stack runs the whole Latch story in one process on 127.0.0.1:
// the platform, the integrator Acme Doors, Alice's phone app and her front
// door controller, and narrates each step.
//
//	go run ./examples/stack            # the story, in a temporary directory
//	go run ./examples/stack -state DIR # keep the state in DIR
//	go run ./examples/stack -serve     # then keep the platform running
//	go run ./examples/stack -redis 127.0.0.1:6379 # revocations and TOTP on Redis
//	go run ./examples/stack -redis sentinel://10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379/latch
//	go run ./examples/stack -redis cluster://10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379
//
// The -redis address is host:port for one server, sentinel://host:port,…/name
// for the primary that the Sentinels at those addresses know as name, or
// cluster://host:port,… for a Redis Cluster reached through those nodes
// (see platform.ParseRedisAddress).
//
// It exits non-zero if any step fails, and leaves nothing running.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/latchsec/latch/examples/internal/story"
	"github.com/latchsec/latch/examples/platform"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command; with -serve it returns when ctx is done (an
// interrupt).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("stack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stateDir := fs.String("state", "", "keep the platform's state in `DIR`, a new or empty directory (default: a temporary directory, removed at exit)")
	serve := fs.Bool("serve", false, "keep the platform running after the story, until interrupted")
	redisAddr := fs.String("redis", "", "keep the revocation list and TOTP records on Redis at `ADDRESS`: host:port (one server), sentinel://host:port,host:port/name (the primary the Sentinels know as name) or cluster://host:port,host:port (a Cluster)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	keep := *stateDir != ""
	if !keep {
		dir, err := os.MkdirTemp("", "latch-stack-")
		if err != nil {
			fmt.Fprintln(stderr, "stack:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		*stateDir = dir
	} else if err := os.MkdirAll(*stateDir, 0o700); err != nil {
		fmt.Fprintln(stderr, "stack:", err)
		return 1
	}
	auditPath := filepath.Join(*stateDir, "audit.log")
	audit, err := os.OpenFile(auditPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		fmt.Fprintln(stderr, "stack:", err)
		return 1
	}
	defer audit.Close()
	partyLog, err := os.OpenFile(filepath.Join(*stateDir, "parties.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		fmt.Fprintln(stderr, "stack:", err)
		return 1
	}
	defer partyLog.Close()

	runCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()

	start := time.Now()
	opts := story.Options{Out: stdout, StateDir: *stateDir, Audit: audit, Log: partyLog}
	if *redisAddr != "" {
		if opts.Redis, err = platform.ParseRedisAddress(*redisAddr); err != nil {
			fmt.Fprintln(stderr, "stack: -redis:", err)
			return 2
		}
	}
	res, err := story.Run(runCtx, opts)
	if err != nil {
		fmt.Fprintln(stderr, "stack: the story failed:", err)
		return 1
	}
	defer res.Platform.Close()
	fmt.Fprintf(stdout, "(%.1f s)\n", time.Since(start).Seconds())
	if keep {
		fmt.Fprintf(stdout, "The state is in %s: platform.db, the platform's audit log audit.log, the device's and Acme's log parties.log, the device's flash.\n", *stateDir)
	}
	if !*serve {
		return 0
	}
	fmt.Fprintf(stdout, "\nThe platform keeps running. Its web console: %s\n", res.Platform.ConsoleURL())
	fmt.Fprintln(stdout, "(Its certificate is self-signed, made at start and trusted by nobody else: your browser will warn.)")
	fmt.Fprintf(stdout, "Demo account: %s, password %q. Add its TOTP key to your authenticator app:\n  %s\n",
		story.Email, story.Password, res.TOTPKey.URI())
	fmt.Fprintln(stdout, "(The story signed Alice out everywhere; signing in again makes a new session.)")
	fmt.Fprintln(stdout, "Press Ctrl-C to stop.")
	<-ctx.Done()
	return 0
}
