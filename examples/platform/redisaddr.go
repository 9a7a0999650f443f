package platform

import (
	"errors"
	"net"
	"strings"

	"github.com/redis/go-redis/v9"
)

// ParseRedisAddress reads the address of the Redis that a fleet shares,
// in one of three forms:
//
//	host:port                                a single server
//	sentinel://host:port,host:port/name      the primary the Sentinels at these addresses know as name
//	cluster://host:port,host:port            a Cluster, reached through any of these nodes
//
// It returns options for Config.Redis. Passwords do not belong in the
// address (it lands in shell history and process lists): set
// UniversalOptions.Password from a secret store.
func ParseRedisAddress(s string) (*redis.UniversalOptions, error) {
	rest, sentinel := strings.CutPrefix(s, "sentinel://")
	cluster := false
	if !sentinel {
		rest, cluster = strings.CutPrefix(s, "cluster://")
	}
	name := ""
	if sentinel {
		var ok bool
		if rest, name, ok = strings.Cut(rest, "/"); !ok || name == "" || strings.ContainsAny(name, "/ ") {
			return nil, errors.New("platform: a Sentinel address ends with /name, the name the Sentinels know the primary by")
		}
	}
	if !sentinel && !cluster && strings.Contains(s, "://") {
		return nil, errors.New("platform: a Redis address is host:port, sentinel://host:port[,host:port]/name or cluster://host:port[,host:port]")
	}
	addrs := strings.Split(rest, ",")
	if !sentinel && !cluster && len(addrs) > 1 {
		return nil, errors.New("platform: several Redis addresses need sentinel:// or cluster://")
	}
	for _, a := range addrs {
		host, port, err := net.SplitHostPort(a)
		if err != nil || host == "" || port == "" || strings.ContainsAny(a, "@/?# ") {
			return nil, errors.New("platform: a Redis address is host:port, sentinel://host:port[,host:port]/name or cluster://host:port[,host:port]")
		}
	}
	return &redis.UniversalOptions{Addrs: addrs, MasterName: name, IsClusterMode: cluster}, nil
}
