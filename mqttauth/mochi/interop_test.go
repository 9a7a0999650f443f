package mochi_test

import (
	"bufio"
	"errors"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/internal/interop"
	"github.com/latchsec/latch/mqttauth"
)

// mosquittoVersions are the protocol versions mosquitto's clients speak,
// with what Debian's mosquitto-clients 2.0.11 does on a refusal.
var mosquittoVersions = []struct {
	name, flag string
	subDenied  string // SUBACK reason printed by -d for a denied filter
	badExit    int    // exit code for refused credentials: CONNACK 0x86 (v5), 0x05 (v3.1.1)
}{
	{"v5", "mqttv5", "135", 134},
	{"v3.1.1", "mqttv311", "128", 5},
}

func (b *broker) mosquittoArgs(version string, cred *mqttauth.Credential, clientID string) []string {
	return []string{"-h", "127.0.0.1", "-p", b.port, "--cafile", b.caFile, "-V", version,
		"-i", clientID, "-u", cred.Key, "-P", cred.Secret}
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestMosquittoClients(t *testing.T) {
	sub := interop.Program(t, "mosquitto_sub", "mosquitto-clients")
	pub := interop.Program(t, "mosquitto_pub", "mosquitto-clients")
	for _, v := range mosquittoVersions {
		t.Run(v.name, func(t *testing.T) {
			b := startBroker(t)
			svcCred := b.issue(t, "app-1", "", "mqtt:service")
			svc := b.mustConnect(t, svcCred)
			require.Equal(t, byte(1), svc.subscribe(t, "apps/app-1/#"))
			a := b.issue(t, "app-1", "dev-a")
			other := b.issue(t, "app-1", "dev-b")

			t.Run("refused credentials", func(t *testing.T) {
				for _, args := range [][]string{
					b.mosquittoArgs(v.flag, &mqttauth.Credential{Key: a.Key, Secret: other.Secret}, "app-1:dev-a"),
					b.mosquittoArgs(v.flag, &mqttauth.Credential{Key: other.Key, Secret: a.Secret}, "app-1:dev-b"),
					b.mosquittoArgs(v.flag, a, "app-1:dev-b"), // another device's client id
				} {
					out, stderr, err := interop.RunErr(nil, sub, append(args, "-t", "apps/app-1/devices/dev-a/command/+", "-C", "1")...)
					require.Equal(t, v.badExit, exitCode(err), "stdout %s\nstderr %s", out, stderr)
				}
			})

			t.Run("denied subscription", func(t *testing.T) {
				out, stderr, err := interop.RunErr(nil, sub, append(b.mosquittoArgs(v.flag, a, "app-1:dev-a"),
					"-d", "-t", "apps/app-1/devices/dev-a/command/#", "-C", "1")...)
				// mosquitto_sub 2.0 exits 0 when every subscription is
				// denied; the reason code is in its debug output.
				require.NoError(t, err, "stderr %s", stderr)
				require.Contains(t, string(out), "Subscribed (mid: 1): "+v.subDenied)
			})

			t.Run("allowed subscription receives", func(t *testing.T) {
				cmd := exec.Command(sub, append(b.mosquittoArgs(v.flag, a, "app-1:dev-a"),
					"-d", "-q", "1", "-t", "apps/app-1/devices/dev-a/command/+", "-C", "1", "-W", "60")...)
				stdout, err := cmd.StdoutPipe()
				require.NoError(t, err)
				b.forgetSubscribed()
				require.NoError(t, cmd.Start())
				t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
				lines := bufio.NewScanner(stdout)
				// mosquitto_sub's output is block-buffered on a pipe: wait
				// for the broker to have handled its SUBSCRIBE instead.
				b.waitSubscribed(t, "app-1:dev-a")
				require.NoError(t, svc.publish(t, "apps/app-1/devices/dev-a/command/reboot", 1, "reboot-now"))
				var rest []string
				for lines.Scan() {
					t.Logf("mosquitto_sub: %s", lines.Text())
					rest = append(rest, lines.Text())
				}
				require.NoError(t, cmd.Wait())
				require.Contains(t, rest, "reboot-now")
				// The service, subscribed to the whole application, saw it too.
				require.Equal(t, "apps/app-1/devices/dev-a/command/reboot", svc.next(t).Topic())
			})

			t.Run("publish", func(t *testing.T) {
				// Denied at QoS 1: MQTT 5 answers PUBACK 0x87, MQTT
				// 3.1.1 closes the connection. Either way the message
				// is not delivered, and mosquitto_pub has waited for
				// the broker's answer before the next publish.
				out, stderr, err := interop.RunErr(nil, pub, append(b.mosquittoArgs(v.flag, a, "app-1:dev-a"),
					"-q", "1", "-t", "apps/app-1/devices/dev-b/state", "-m", "forged")...)
				if v.flag == "mqttv5" {
					require.NoError(t, err)
					require.Contains(t, string(stderr), "Publish 1 failed: Not authorized")
				} else {
					require.Error(t, err, "stdout %s", out)
				}
				// $SYS at QoS 0: mochi drops any publish to $SYS before
				// asking hooks, without a PUBACK even at QoS 1.
				_, stderr, err = interop.RunErr(nil, pub, append(b.mosquittoArgs(v.flag, a, "app-1:dev-a"),
					"-q", "0", "-t", "$SYS/broker/uptime", "-m", "forged")...)
				require.NoError(t, err, "stderr %s", stderr)
				_, stderr, err = interop.RunErr(nil, pub, append(b.mosquittoArgs(v.flag, a, "app-1:dev-a"),
					"-q", "1", "-t", "apps/app-1/devices/dev-a/state", "-m", "fine")...)
				require.NoError(t, err, "stderr %s", stderr)
				m := svc.next(t)
				require.Equal(t, "apps/app-1/devices/dev-a/state", m.Topic())
				require.Equal(t, "fine", string(m.Payload()))
			})

			t.Run("will topic", func(t *testing.T) {
				_, _, err := interop.RunErr(nil, pub, append(b.mosquittoArgs(v.flag, a, "app-1:dev-a"),
					"--will-topic", "apps/app-1/devices/dev-b/will", "--will-payload", "x",
					"-q", "1", "-t", "apps/app-1/devices/dev-a/state", "-m", "with-will")...)
				// CONNACK 0x87 not authorized (MQTT 5), 0x05 (3.1.1).
				want := map[string]int{"mqttv5": 135, "mqttv311": 5}[v.flag]
				require.Equal(t, want, exitCode(err))
				_, stderr, err := interop.RunErr(nil, pub, append(b.mosquittoArgs(v.flag, a, "app-1:dev-a"),
					"--will-topic", "apps/app-1/devices/dev-a/will", "--will-payload", "x",
					"-q", "1", "-t", "apps/app-1/devices/dev-a/state", "-m", "with-own-will")...)
				require.NoError(t, err, "stderr %s", stderr)
				require.Equal(t, "with-own-will", string(svc.next(t).Payload()))
			})
		})
	}
}
