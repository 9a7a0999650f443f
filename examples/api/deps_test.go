package api_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/latchsec/latch/"

// clients are the example's parties other than the platform: they talk to
// it over HTTPS and MQTT, and link none of its code.
var clients = []string{
	module + "examples/api",
	module + "examples/app",
	module + "examples/device",
	module + "examples/integrator",
}

// serverOnly are import path prefixes of the platform and what it alone
// needs: its database, its broker, its Redis client.
var serverOnly = []string{
	module + "examples/platform",
	"database/sql",
	"modernc.org/sqlite",
	"github.com/mochi-mqtt/",
	"github.com/redis/go-redis/",
}

// deps returns the dependencies of each package (tests left out), as go
// list -deps finds them.
func deps(t *testing.T, pkgs ...string) map[string][]string {
	t.Helper()
	goCmd, err := exec.LookPath("go") // go test puts GOROOT/bin first in PATH
	require.NoError(t, err)
	cmd := exec.Command(goCmd, append([]string{"list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`}, pkgs...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "go list: %s", stderr.String())
	m := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		m[f[0]] = f[1:]
	}
	require.Len(t, m, len(pkgs))
	return m
}

func forbidden(deps []string) []string {
	var bad []string
	for _, d := range deps {
		for _, s := range serverOnly {
			if strings.HasPrefix(d, s) {
				bad = append(bad, d)
			}
		}
	}
	return bad
}

// TestClientsImportNoServer checks that the phone app, the device and the
// integrator (and this package) link no server code: the wire types they
// share with the platform are here, not in examples/platform.
func TestClientsImportNoServer(t *testing.T) {
	all := deps(t, append(clients, module+"examples/platform")...)
	for _, pkg := range clients {
		require.Empty(t, forbidden(all[pkg]), "%s imports server code", pkg)
	}
	// The check sees server code where there is some.
	bad := forbidden(all[module+"examples/platform"])
	for _, want := range []string{"modernc.org/sqlite", "github.com/mochi-mqtt/server/v2", "github.com/redis/go-redis/v9", "database/sql"} {
		require.Contains(t, bad, want)
	}
}
