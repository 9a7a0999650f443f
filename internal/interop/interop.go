// Package interop finds the peer programs that Latch's interop tests run
// against: implementations nobody here wrote (openssl, oathtool, Python's
// pyotp and jwcrypto, Node's jose and hpke, redis-server, redis-sentinel,
// mosquitto clients, zbarimg), and starts the servers among them on
// 127.0.0.1: a Redis ([StartRedis]), a primary with replicas and three
// Sentinels ([StartSentinelGroup]), a Redis Cluster ([StartCluster]). Every
// server is stopped when its test ends, and killed by the kernel if the
// test process dies first (Linux).
//
// When a peer is missing, the test is skipped with a message naming the
// package that provides it, unless the environment variable LATCH_INTEROP is
// "require", in which case the test fails. scripts/test installs every peer
// and always sets LATCH_INTEROP=require, so in CI no interop test can
// silently skip.
//
// This package is for tests only.
package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// EnvRequire is the environment variable that turns a missing peer from a
// skip into a failure when it is set to "require".
const EnvRequire = "LATCH_INTEROP"

// Required reports whether missing peers fail tests instead of skipping them.
func Required() bool { return os.Getenv(EnvRequire) == "require" }

// Missing skips the test, or fails it when peers are required, with a
// message that names what is missing and how to install it.
func Missing(t testing.TB, what, install string) {
	t.Helper()
	msg := fmt.Sprintf("interop peer missing: %s (install: %s; ./scripts/test installs every peer)", what, install)
	if Required() {
		t.Fatalf("%s; %s=require", msg, EnvRequire)
	}
	t.Skip(msg)
}

// Program returns the absolute path of the executable name, provided by the
// Debian package debPkg, or skips (fails under LATCH_INTEROP=require).
func Program(t testing.TB, name, debPkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name, "apt-get install "+debPkg)
	}
	return p
}

// SystemPython is the interpreter that Debian's python3-* packages install
// their modules for. The python3 first on PATH may be another one.
const SystemPython = "/usr/bin/python3"

// Python returns the path of Debian's python3 after checking that each module
// imports; debPkgs names the Debian packages that provide them, for the
// message.
func Python(t testing.TB, modules []string, debPkgs ...string) string {
	t.Helper()
	if _, err := os.Stat(SystemPython); err != nil {
		Missing(t, SystemPython, "apt-get install python3")
	}
	for _, m := range modules {
		cmd := exec.Command(SystemPython, "-c", "import "+m)
		if out, err := cmd.CombinedOutput(); err != nil {
			Missing(t, "python module "+m+" ("+strings.TrimSpace(lastLine(out))+")", "apt-get install "+strings.Join(debPkgs, " "))
		}
	}
	return SystemPython
}

// NodeDir is the folder holding package.json and node_modules of the npm
// peers, installed there by `npm ci`.
func NodeDir() string { return nodeDir() }

// nodeDir is NodeDir's implementation; tests point it elsewhere.
var nodeDir = func() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	return filepath.Join(filepath.Dir(file), "node")
}

// Node returns the path of node after checking that each npm package is
// installed in NodeDir; with no packages named, every dependency of
// NodeDir's package.json (what RunNode and StartNode scripts may import). On
// a fresh clone, before `npm ci`, the packages are listed but not installed:
// the test skips (fails under LATCH_INTEROP=require) instead of running node
// into "Cannot find package".
func Node(t testing.TB, packages ...string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		Missing(t, "node", "Node.js 20 with npm")
	}
	dir := NodeDir()
	install := "npm ci --prefix " + dir
	if len(packages) == 0 {
		var manifest struct {
			Dependencies map[string]string `json:"dependencies"`
		}
		b, err := os.ReadFile(filepath.Join(dir, "package.json"))
		if err == nil {
			err = json.Unmarshal(b, &manifest)
		}
		if err != nil || len(manifest.Dependencies) == 0 {
			Missing(t, "npm packages (no package.json listing them in "+dir+")", install)
		}
		packages = slices.Sorted(maps.Keys(manifest.Dependencies))
	}
	for _, p := range packages {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", filepath.FromSlash(p), "package.json")); err != nil {
			Missing(t, "npm package "+p, install)
		}
	}
	return node
}

// Run runs a peer program with the given standard input and returns its
// standard output. It fails the test, showing standard error, when the
// program does not exit 0 within a minute.
func Run(t testing.TB, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	out, stderr, err := RunErr(stdin, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\nstderr:\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr)
	}
	return out
}

// RunErr is Run for callers that expect the peer to fail: it returns the
// standard output, the standard error and the error.
func RunErr(stdin []byte, name string, args ...string) (stdout, stderr []byte, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.Bytes(), e.Bytes(), err
}

// RunNode runs a Node script (ES module source) with the npm peers of
// NodeDir resolvable, passing args, and returns its standard output.
func RunNode(t testing.TB, script string, stdin []byte, args ...string) []byte {
	t.Helper()
	node := Node(t)
	// The script lives in NodeDir so that its imports resolve to
	// NodeDir/node_modules.
	f, err := os.CreateTemp(NodeDir(), ".latch-test-*.mjs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(f.Name()) })
	if _, err := f.WriteString(script); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return Run(t, stdin, node, append([]string{f.Name()}, args...)...)
}

func lastLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
