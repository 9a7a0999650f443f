package interop

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRedisStartStopRestart(t *testing.T) {
	r := StartRedis(t)
	ping := func() error {
		c, err := net.Dial("tcp", r.Addr())
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := c.Write([]byte("PING\r\n")); err != nil {
			return err
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			return err
		}
		require.Equal(t, "+PONG", strings.TrimSpace(line))
		return nil
	}
	require.NoError(t, ping())
	r.Stop()
	require.Error(t, ping(), "a stopped server still answers")
	r.Restart()
	require.NoError(t, ping())
}

func TestNodeRuns(t *testing.T) {
	out := RunNode(t, `import * as jose from "jose"; console.log(typeof jose.compactDecrypt);`, nil)
	require.Equal(t, "function", strings.TrimSpace(string(out)))
}

func TestPythonModules(t *testing.T) {
	py := Python(t, []string{"pyotp", "jwcrypto"}, "python3-pyotp", "python3-jwcrypto")
	out := Run(t, nil, py, "-c", "print(1+1)")
	require.Equal(t, "2", strings.TrimSpace(string(out)))
}

// fakeTB records how a helper ended a test: Skip and Fatal stop the calling
// goroutine as the testing package's do.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Helper()          {}
func (f *fakeTB) Cleanup(func())   {}
func (f *fakeTB) Skip(args ...any) { f.skipped, f.msg = true, fmt.Sprint(args...); runtime.Goexit() }
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Fatal(args ...any) { f.failed, f.msg = true, fmt.Sprint(args...); runtime.Goexit() }

// runFake runs fn with a fakeTB on a goroutine of its own and returns how it
// ended.
func runFake(fn func(testing.TB)) *fakeTB {
	f := new(fakeTB)
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}

// TestNodeMissingPackages: on a fresh clone the npm peers are listed in
// package.json but not installed; a Node test must then skip with the
// missing-peer message (fail under LATCH_INTEROP=require), not run node
// and fail on "Cannot find package".
func TestNodeMissingPackages(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: Node() skips before looking at packages")
	}
	pkg, err := os.ReadFile(filepath.Join(NodeDir(), "package.json"))
	require.NoError(t, err)
	fresh := t.TempDir() // package.json, no node_modules
	require.NoError(t, os.WriteFile(filepath.Join(fresh, "package.json"), pkg, 0o644))
	empty := t.TempDir() // not even package.json
	for name, dir := range map[string]string{"fresh clone": fresh, "empty dir": empty} {
		t.Run(name, func(t *testing.T) {
			old := nodeDir
			nodeDir = func() string { return dir }
			t.Cleanup(func() { nodeDir = old })
			script := `import * as jose from "jose"; console.log(typeof jose.compactDecrypt);`

			t.Setenv(EnvRequire, "")
			got := runFake(func(tb testing.TB) { RunNode(tb, script, nil) })
			require.True(t, got.skipped, "not skipped: %+v", got)
			require.Contains(t, got.msg, "interop peer missing: npm package")

			t.Setenv(EnvRequire, "require")
			got = runFake(func(tb testing.TB) { RunNode(tb, script, nil) })
			require.True(t, got.failed, "not failed under require: %+v", got)
			require.Contains(t, got.msg, "interop peer missing: npm package")
		})
	}
}
