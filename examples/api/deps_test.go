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

// otherParty are, for each client, import path prefixes of another
// party's code that it does not link either: the phone app talks to the
// device only through the pairing link and the platform's relay, so it
// links neither the firmware nor its MQTT client; the device links neither
// the app nor the example integrator (Acme); the integrator links neither
// the app nor the device; this package links no party at all.
var otherParty = map[string][]string{
	module + "examples/api":        {module + "examples/", paho},
	module + "examples/app":        {module + "examples/device", module + "examples/integrator", paho},
	module + "examples/device":     {module + "examples/app", module + "examples/integrator"},
	module + "examples/integrator": {module + "examples/app", module + "examples/device", paho},
}

// paho is the device's MQTT client.
const paho = "github.com/eclipse/paho.mqtt.golang"

func forbidden(deps, prefixes []string) []string {
	var bad []string
	for _, d := range deps {
		for _, s := range prefixes {
			if strings.HasPrefix(d, s) {
				bad = append(bad, d)
			}
		}
	}
	return bad
}

// TestClientsImportNoServer checks that the phone app, the device and the
// integrator (and this package) link no server code: the wire types they
// share with the platform are here, not in examples/platform. It checks
// too that the app links no device code (the types the app and the device
// share are here, not in examples/device), and the integrator neither.
func TestClientsImportNoServer(t *testing.T) {
	all := deps(t, append(clients, module+"examples/platform")...)
	for _, pkg := range clients {
		require.Empty(t, forbidden(all[pkg], serverOnly), "%s imports server code", pkg)
		require.Empty(t, forbidden(all[pkg], otherParty[pkg]), "%s imports another party's code", pkg)
	}
	// The checks see server code and device code where there is some.
	bad := forbidden(all[module+"examples/platform"], serverOnly)
	for _, want := range []string{"modernc.org/sqlite", "github.com/mochi-mqtt/server/v2", "github.com/redis/go-redis/v9", "database/sql"} {
		require.Contains(t, bad, want)
	}
	require.Contains(t, forbidden(all[module+"examples/device"], otherParty[module+"examples/app"]), paho)
}
