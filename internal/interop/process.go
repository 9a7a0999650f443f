package interop

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Process is a peer program that a test started and talks to through its
// standard input and output. It is stopped when the test ends: its
// standard input is closed, and it is killed if it has not exited by then.
type Process struct {
	name   string
	once   sync.Once
	err    error
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr strings.Builder
}

// StartNode starts a Node script (an .mjs file, copied into NodeDir so that
// its imports resolve to the npm peers) with args.
func StartNode(t testing.TB, scriptFile string, args ...string) *Process {
	t.Helper()
	node := Node(t)
	src, err := os.ReadFile(scriptFile)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(NodeDir(), ".latch-test-*.mjs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(f.Name()) })
	if _, err := f.Write(src); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return Start(t, node, append([]string{f.Name()}, args...)...)
}

// Start starts a peer program.
func Start(t testing.TB, name string, args ...string) *Process {
	t.Helper()
	p := &Process{cmd: exec.Command(name, args...)}
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdout = bufio.NewReader(out)
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.name = filepath.Base(name)
	t.Cleanup(func() {
		if err := p.Stop(); err != nil && !t.Failed() {
			t.Logf("%s exited: %v", p.name, err)
		}
	})
	return p
}

// Line reads one line of the program's standard output, without its
// newline. It fails the test, showing standard error, if the program ends
// first.
func (p *Process) Line(t testing.TB) string {
	t.Helper()
	line, err := p.stdout.ReadString('\n')
	if err != nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
		t.Fatalf("peer ended before writing a line: %v\nstderr:\n%s", err, p.stderr.String())
	}
	return strings.TrimSuffix(line, "\n")
}

// Stderr is what the program wrote to standard error; call it after Stop.
func (p *Process) Stderr() string { return p.stderr.String() }

// Stop closes the program's standard input and waits for it to exit,
// killing it if it has not exited within 30 seconds. It returns how it
// exited; calling it again returns the same.
func (p *Process) Stop() error {
	p.once.Do(func() {
		p.stdin.Close()
		done := make(chan error, 1)
		go func() {
			_, _ = io.Copy(io.Discard, p.stdout)
			done <- p.cmd.Wait()
		}()
		select {
		case p.err = <-done:
		case <-time.After(30 * time.Second): // a safety net, not a wait
			_ = p.cmd.Process.Kill()
			p.err = <-done
		}
	})
	return p.err
}
