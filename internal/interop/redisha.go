package interop

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// haTimeout bounds every wait of the helpers below for a server to reach
// a state (replication up, failover done): the servers decide when, and
// the helpers poll them, never sleep for a guessed time.
const haTimeout = time.Minute

// SentinelGroup is a primary, its replicas and three Sentinels
// (redis-sentinel), started by a test on 127.0.0.1 and stopped when it
// ends. The Sentinels use short timeouts (a primary silent for 500 ms is
// down), so a failover takes a few seconds.
type SentinelGroup struct {
	// Name is the name the Sentinels monitor the primary under.
	Name string
	// Servers are the redis-servers: Servers[0] is the first primary,
	// the others its replicas.
	Servers []*Redis
	// Sentinels are the three redis-sentinels.
	Sentinels []*Redis
	cli       string
}

// StartSentinelGroup starts a primary with the given number of replicas
// (at least one) and three Sentinels with a quorum of two, and returns
// once the replicas are in sync and every Sentinel knows the replicas and
// the other Sentinels.
func StartSentinelGroup(t testing.TB, replicas int) *SentinelGroup {
	t.Helper()
	Program(t, "redis-sentinel", "redis-sentinel")
	g := &SentinelGroup{Name: "latch", cli: Program(t, "redis-cli", "redis-tools")}
	primary := startRedis(t, "redis-server", serverArgs)
	g.Servers = append(g.Servers, primary)
	for range replicas {
		g.Servers = append(g.Servers, startRedis(t, "redis-server", func(r *Redis) []string {
			return append(serverArgs(r), "--replicaof", "127.0.0.1", strconv.Itoa(primary.port))
		}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), haTimeout)
	defer cancel()
	if err := g.waitReplicas(ctx, primary, replicas); err != nil {
		t.Fatalf("interop: replicas not in sync: %v", err)
	}
	for range 3 {
		g.Sentinels = append(g.Sentinels, startRedis(t, "redis-sentinel", func(r *Redis) []string {
			conf := filepath.Join(r.dir, "sentinel.conf")
			text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\ndaemonize no\nsentinel resolve-hostnames no\n"+
				"sentinel monitor %s 127.0.0.1 %d 2\n"+
				"sentinel down-after-milliseconds %s 500\n"+
				"sentinel failover-timeout %s 3000\n"+
				"sentinel parallel-syncs %s 1\n",
				r.port, r.dir, g.Name, primary.port, g.Name, g.Name, g.Name)
			// Sentinel rewrites its configuration file, so it gets one
			// of its own; a port taken meanwhile gets the retry a new one.
			_ = os.WriteFile(conf, []byte(text), 0o600)
			return []string{conf}
		}))
	}
	for _, s := range g.Sentinels {
		if err := poll(ctx, func() (bool, error) {
			m, err := g.fields(ctx, s.port, "SENTINEL", "MASTER", g.Name)
			return err == nil && m["num-slaves"] == strconv.Itoa(replicas) && m["num-other-sentinels"] == "2", err
		}); err != nil {
			t.Fatalf("interop: sentinel %s does not see the group: %v", s.Addr(), err)
		}
	}
	return g
}

// SentinelAddrs are the Sentinels' host:port addresses.
func (g *SentinelGroup) SentinelAddrs() []string {
	var a []string
	for _, s := range g.Sentinels {
		a = append(a, s.Addr())
	}
	return a
}

// Primary asks the Sentinels which server is the primary now.
func (g *SentinelGroup) Primary(ctx context.Context) (*Redis, error) {
	for _, s := range g.Sentinels {
		out, err := g.run(ctx, s.port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", g.Name)
		if err != nil {
			continue
		}
		f := strings.Fields(out)
		if len(f) != 2 {
			continue
		}
		for _, r := range g.Servers {
			if r.Addr() == net.JoinHostPort(f[0], f[1]) {
				return r, nil
			}
		}
	}
	return nil, fmt.Errorf("interop: no sentinel names a primary of %s", g.Name)
}

// WaitFailover waits until every Sentinel names a primary other than old
// and that server answers as a primary.
func (g *SentinelGroup) WaitFailover(ctx context.Context, old *Redis) (*Redis, error) {
	var next *Redis
	err := poll(ctx, func() (bool, error) {
		var addr string
		for _, s := range g.Sentinels {
			if !s.running() {
				continue
			}
			out, err := g.run(ctx, s.port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", g.Name)
			f := strings.Fields(out)
			if err != nil || len(f) != 2 {
				return false, err
			}
			a := net.JoinHostPort(f[0], f[1])
			if a == old.Addr() || (addr != "" && a != addr) {
				return false, nil
			}
			addr = a
		}
		for _, r := range g.Servers {
			if r.Addr() == addr {
				role, err := g.run(ctx, r.port, "ROLE")
				if err == nil && strings.HasPrefix(role, "master") {
					next = r
					return true, nil
				}
			}
		}
		return false, nil
	})
	return next, err
}

func (g *SentinelGroup) waitReplicas(ctx context.Context, primary *Redis, n int) error {
	return poll(ctx, func() (bool, error) {
		info, err := g.fields(ctx, primary.port, "INFO", "replication")
		if err != nil {
			return false, err
		}
		online := 0
		for k, v := range info {
			if strings.HasPrefix(k, "slave") && strings.Contains(v, "state=online") {
				online++
			}
		}
		return online == n, nil
	})
}

// run runs redis-cli against the server at port.
func (g *SentinelGroup) run(ctx context.Context, port int, args ...string) (string, error) {
	return redisCLI(ctx, g.cli, port, args...)
}

func (g *SentinelGroup) fields(ctx context.Context, port int, args ...string) (map[string]string, error) {
	out, err := g.run(ctx, port, args...)
	if err != nil {
		return nil, err
	}
	return parseFields(out), nil
}

// redisCLI runs one command with redis-cli and returns its raw output.
func redisCLI(ctx context.Context, cli string, port int, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli, append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(port)}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("redis-cli %s: %w", strings.Join(args, " "), err)
	}
	if s := string(out); strings.HasPrefix(s, "ERR") || strings.HasPrefix(s, "(error)") {
		return "", fmt.Errorf("redis-cli %s: %s", strings.Join(args, " "), strings.TrimSpace(s))
	}
	return string(out), nil
}

// parseFields reads "key:value" lines (INFO) or alternating key and value
// lines (SENTINEL MASTER).
func parseFields(out string) map[string]string {
	m := map[string]string{}
	lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(out, "\r", "")), "\n")
	if len(lines) > 0 && !strings.Contains(out, ":") {
		for i := 0; i+1 < len(lines); i += 2 {
			m[lines[i]] = lines[i+1]
		}
		return m
	}
	for _, l := range lines {
		if k, v, ok := strings.Cut(l, ":"); ok {
			m[k] = v
		}
	}
	return m
}

// poll calls check every 50 ms until it reports done or ctx ends. It is
// for waiting on servers whose state changes by itself (a replica
// syncing, a failover).
func poll(ctx context.Context, check func() (bool, error)) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		done, err := check()
		if done {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Cluster is a Redis Cluster started by a test on 127.0.0.1: primaries
// that share the 16384 slots, each with its replicas, with a node timeout
// of one second, so that a replica replaces a dead primary within a few
// seconds. It is stopped when the test ends.
type Cluster struct {
	Nodes []*Redis
	cli   string
}

// StartCluster starts primaries × (1 + replicas) redis-servers with
// cluster-enabled, joins them with redis-cli --cluster create, and
// returns once every node reports the cluster ok and every replica is in
// sync.
func StartCluster(t testing.TB, primaries, replicas int) *Cluster {
	t.Helper()
	c := &Cluster{cli: Program(t, "redis-cli", "redis-tools")}
	for range primaries * (1 + replicas) {
		c.Nodes = append(c.Nodes, startRedis(t, "redis-server", func(r *Redis) []string {
			// The cluster bus needs a port too; port+10000 may be taken or
			// out of range, so choose it.
			bus, _ := freePort()
			return append(serverArgs(r), "--cluster-enabled", "yes",
				"--cluster-config-file", filepath.Join(r.dir, "nodes.conf"),
				"--cluster-node-timeout", "1000", "--cluster-port", strconv.Itoa(bus))
		}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), haTimeout)
	defer cancel()
	args := []string{"--cluster", "create"}
	args = append(args, c.Addrs()...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	if out, err := exec.CommandContext(ctx, c.cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("interop: redis-cli --cluster create: %v\n%s", err, out)
	}
	if err := c.WaitHealthy(ctx, primaries); err != nil {
		t.Fatalf("interop: cluster not ready: %v", err)
	}
	return c
}

// Addrs are the nodes' host:port addresses.
func (c *Cluster) Addrs() []string {
	var a []string
	for _, n := range c.Nodes {
		a = append(a, n.Addr())
	}
	return a
}

// ClusterNode is a node as CLUSTER NODES describes it.
type ClusterNode struct {
	Addr    string
	Primary bool
	Failed  bool
	Slots   []string // ranges as "0-5460"
}

// Topology asks a running node for CLUSTER NODES.
func (c *Cluster) Topology(ctx context.Context) ([]ClusterNode, error) {
	var last error
	for _, n := range c.Nodes {
		if !n.running() {
			continue
		}
		out, err := redisCLI(ctx, c.cli, n.port, "CLUSTER", "NODES")
		if err != nil {
			last = err
			continue
		}
		var nodes []ClusterNode
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			f := strings.Fields(line)
			if len(f) < 8 {
				continue
			}
			addr, _, _ := strings.Cut(f[1], "@")
			flags := strings.Split(f[2], ",")
			nodes = append(nodes, ClusterNode{
				Addr:    addr,
				Primary: slices.Contains(flags, "master"),
				Failed:  slices.Contains(flags, "fail") || slices.Contains(flags, "fail?"),
				Slots:   f[8:],
			})
		}
		return nodes, nil
	}
	return nil, fmt.Errorf("interop: no cluster node answers: %v", last)
}

// Node returns the running Redis at addr.
func (c *Cluster) Node(addr string) *Redis {
	for _, n := range c.Nodes {
		if n.Addr() == addr {
			return n
		}
	}
	return nil
}

// WaitHealthy waits until every running node reports cluster_state:ok,
// there are the given number of primaries, none failed and each holding
// slots, and every running replica's link to its primary is up.
func (c *Cluster) WaitHealthy(ctx context.Context, primaries int) error {
	return poll(ctx, func() (bool, error) {
		for _, n := range c.Nodes {
			if !n.running() {
				continue
			}
			info, err := redisCLI(ctx, c.cli, n.port, "CLUSTER", "INFO")
			if err != nil || !strings.Contains(info, "cluster_state:ok") {
				return false, err
			}
			repl, err := redisCLI(ctx, c.cli, n.port, "INFO", "replication")
			if err != nil {
				return false, err
			}
			f := parseFields(repl)
			if f["role"] == "slave" && f["master_link_status"] != "up" {
				return false, nil
			}
		}
		nodes, err := c.Topology(ctx)
		if err != nil {
			return false, err
		}
		live := 0
		for _, n := range nodes {
			if n.Primary && !n.Failed && len(n.Slots) > 0 {
				live++
			}
		}
		return live == primaries, nil
	})
}

// PollUntil calls done every 50 ms until it reports true or ctx ends, and
// returns ctx's error then. It is for waiting on servers whose state
// changes by themselves (a client finding a new primary after a failover).
func PollUntil(ctx context.Context, done func() bool) error {
	return poll(ctx, func() (bool, error) { return done(), nil })
}
