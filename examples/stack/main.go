// Command stack runs the whole Latch story in one process on 127.0.0.1:
// the platform, the integrator Acme Doors, Alice's phone app and her front
// door controller, and narrates each step.
//
//	go run ./examples/stack            # the story, in a temporary directory
//	go run ./examples/stack -state DIR # keep the state in DIR
//	go run ./examples/stack -serve     # then keep the platform running
//	go run ./examples/stack -redis 127.0.0.1:6379 # revocations and TOTP on Redis
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

	"github.com/redis/go-redis/v9"

	"github.com/latchsec/latch/examples/internal/story"
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
	redisAddr := fs.String("redis", "", "keep the revocation list and TOTP records on the Redis server at `HOST:PORT`")
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

	runCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()

	start := time.Now()
	opts := story.Options{Out: stdout, StateDir: *stateDir, Audit: audit}
	if *redisAddr != "" {
		opts.Redis = &redis.Options{Addr: *redisAddr}
	}
	res, err := story.Run(runCtx, opts)
	if err != nil {
		fmt.Fprintln(stderr, "stack: the story failed:", err)
		return 1
	}
	defer res.Platform.Close()
	fmt.Fprintf(stdout, "(%.1f s)\n", time.Since(start).Seconds())
	if keep {
		fmt.Fprintf(stdout, "The state is in %s: platform.db, the platform's audit log audit.log, the device's flash.\n", *stateDir)
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
