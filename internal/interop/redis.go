package interop

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Redis is a redis-server started by a test on 127.0.0.1, with persistence
// off and its files in a temporary folder. It is stopped when the test ends.
type Redis struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	args func() []string // the command line after the program's name

	mu      sync.Mutex
	cmd     *exec.Cmd
	drained chan struct{} // closed once the server's output is read to the end
}

// StartRedis starts redis-server (Debian package redis-server) on 127.0.0.1
// at a free port and returns once it accepts connections.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	return startRedis(t, "redis-server", serverArgs)
}

// serverArgs is redis-server's command line: no persistence, files in the
// Redis's folder.
func serverArgs(r *Redis) []string {
	return []string{
		"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir,
		"--daemonize", "no", "--loglevel", "notice"}
}

// startRedis starts program (redis-server or redis-sentinel) with the
// command line that args returns for the Redis once its port is chosen.
func startRedis(t testing.TB, program string, args func(r *Redis) []string) *Redis {
	t.Helper()
	r := &Redis{t: t, bin: Program(t, program, program), dir: t.TempDir()}
	r.args = func() []string { return args(r) }
	// redis-server cannot listen on port 0 (it means "no TCP"), so pick a
	// free port and retry if another process takes it first.
	var err error
	for range 5 {
		if r.port, err = freePort(); err != nil {
			continue
		}
		if err = r.start(); err == nil {
			t.Cleanup(r.Stop)
			return r
		}
	}
	t.Fatalf("interop: %s did not start: %v", program, err)
	return nil
}

// Port is the server's TCP port.
func (r *Redis) Port() int { return r.port }

// Addr is the server's host:port.
func (r *Redis) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }

// Stop ends the server (SIGTERM) and waits for it to exit. Stopping a
// stopped server does nothing.
func (r *Redis) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGCONT) // if paused
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	<-r.drained // os/exec: every read from the pipe ends before Wait
	_ = r.cmd.Wait()
	r.cmd = nil
}

// Kill ends the server at once (SIGKILL), as a crash would, and waits for
// it to exit. Killing a stopped server does nothing.
func (r *Redis) Kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	<-r.drained
	_ = r.cmd.Wait()
	r.cmd = nil
}

// running reports whether the server was started and not stopped.
func (r *Redis) running() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cmd != nil
}

// Pause freezes the server (SIGSTOP): it keeps its connections but
// answers nothing until Resume.
func (r *Redis) Pause() { r.signal(syscall.SIGSTOP) }

// Resume continues a paused server (SIGCONT).
func (r *Redis) Resume() { r.signal(syscall.SIGCONT) }

func (r *Redis) signal(sig syscall.Signal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		_ = r.cmd.Process.Signal(sig)
	}
}

// Restart starts the server again on the same port after Stop. Its data is
// gone: persistence is off, as a crashed cache would lose it.
func (r *Redis) Restart() {
	r.t.Helper()
	r.Stop()
	if err := r.start(); err != nil {
		r.t.Fatalf("interop: redis-server did not restart: %v", err)
	}
}

func (r *Redis) start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.Command(r.bin, r.args()...)
	dieWithParent(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return err
	}
	// Wait for the log line that says the server is listening, rather than
	// polling the port.
	ready := make(chan error, 1)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		var tail []string
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			// redis-sentinel never says it is ready; it says its ID once
			// it listens.
			if strings.Contains(line, "Ready to accept connections") || strings.Contains(line, "Sentinel ID is") {
				ready <- nil
				_, _ = io.Copy(io.Discard, out)
				return
			}
			if tail = append(tail, line); len(tail) > 20 {
				tail = tail[1:]
			}
		}
		ready <- fmt.Errorf("exited before ready: %s", strings.Join(tail, " | "))
	}()
	select {
	case err = <-ready:
	case <-ctx.Done():
		err = errors.New("not ready within 30s")
	}
	if err != nil {
		_ = cmd.Process.Kill()
		<-drained
		_ = cmd.Wait()
		return err
	}
	r.cmd, r.drained = cmd, drained
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
