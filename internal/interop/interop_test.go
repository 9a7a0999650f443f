package interop

import (
	"bufio"
	"net"
	"strings"
	"testing"
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
		if strings.TrimSpace(line) != "+PONG" {
			t.Fatalf("PING answered %q", line)
		}
		return nil
	}
	if err := ping(); err != nil {
		t.Fatal(err)
	}
	r.Stop()
	if err := ping(); err == nil {
		t.Fatal("stopped server still answers")
	}
	r.Restart()
	if err := ping(); err != nil {
		t.Fatal(err)
	}
}

func TestNodeRuns(t *testing.T) {
	out := RunNode(t, `import * as jose from "jose"; console.log(typeof jose.compactDecrypt);`, nil)
	if strings.TrimSpace(string(out)) != "function" {
		t.Fatalf("node printed %q", out)
	}
}

func TestPythonModules(t *testing.T) {
	py := Python(t, []string{"pyotp", "jwcrypto"}, "python3-pyotp", "python3-jwcrypto")
	out := Run(t, nil, py, "-c", "print(1+1)")
	if strings.TrimSpace(string(out)) != "2" {
		t.Fatalf("python printed %q", out)
	}
}
