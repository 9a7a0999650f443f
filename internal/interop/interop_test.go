package interop

import (
	"bufio"
	"net"
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
