package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/latchsec/latch/token"
	"github.com/latchsec/latch/token/redisrevoke"
	"github.com/redis/go-redis/v9"
)

// revocationFlags say where the revocation list is: a file that the CLI
// keeps (token.MemoryRevocations in its JSON form), or the Redis list that a
// fleet of servers shares (token/redisrevoke).
type revocationFlags struct {
	file, redisURL, redisPasswordFile, redisPrefix string
}

func (f *revocationFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.file, "revocations", "", "the revocation list `FILE` that latch token revoke keeps")
	fs.StringVar(&f.redisURL, "redis", "", "use the fleet's revocation list in Redis at `URL` (redis://host:port/db or rediss://...), instead of a file")
	fs.StringVar(&f.redisPasswordFile, "redis-password-file", "", "read the Redis password from `FILE`")
	fs.StringVar(&f.redisPrefix, "redis-prefix", "", "the `PREFIX` of the list's Redis keys, as the servers' redisrevoke.Config.Prefix (default latch:revoke)")
}

// revocationList is an open revocation list and what to do when done with
// it: save the file, or close the Redis connection.
type revocationList struct {
	token.Revocations
	done func() error
}

// open opens the list. When neither a file nor Redis is given, it is an
// empty list if emptyOK, or a usage error. A missing file is an error, or
// an empty list that done creates when createMissing is set.
func (f *revocationFlags) open(e *env, t time.Time, emptyOK, createMissing bool) (*revocationList, error) {
	clock := func() time.Time { return t }
	switch {
	case f.file != "" && f.redisURL != "":
		return nil, usagef("--revocations and --redis exclude each other")
	case f.redisURL == "" && (f.redisPasswordFile != "" || f.redisPrefix != ""):
		return nil, usagef("--redis-password-file and --redis-prefix go with --redis")
	case f.redisURL != "":
		return f.openRedis(e, clock)
	case f.file == "":
		if !emptyOK {
			return nil, usagef("--revocations FILE or --redis URL is required")
		}
		return &revocationList{&token.MemoryRevocations{Now: clock}, func() error { return nil }}, nil
	}

	revs := &token.MemoryRevocations{Now: clock}
	_, statErr := os.Stat(f.file)
	exists := !errors.Is(statErr, os.ErrNotExist)
	if exists || !createMissing {
		b, err := e.readInput(f.file, "the revocation list")
		if err != nil {
			return nil, err
		}
		if err := revs.UnmarshalJSON(b); err != nil {
			return nil, fmt.Errorf("%s: %v", f.file, err)
		}
	}
	save := func() error {
		b, err := revs.MarshalJSON()
		if err != nil {
			return err
		}
		b = append(b, '\n')
		if exists {
			return replaceFile(f.file, b)
		}
		// The list holds token ids, subjects and times, no secret.
		return writeNewFile(f.file, b, 0o644)
	}
	return &revocationList{revs, save}, nil
}

func (f *revocationFlags) openRedis(e *env, clock func() time.Time) (*revocationList, error) {
	opts, err := redis.ParseURL(f.redisURL)
	if err != nil {
		return nil, usagef("--redis: %v", err)
	}
	if opts.Password != "" {
		return nil, usagef("--redis: put the password in --redis-password-file, not in the URL, which lands in shell history")
	}
	if f.redisPasswordFile != "" {
		if opts.Password, err = e.readSecretLine(f.redisPasswordFile, "the Redis password"); err != nil {
			return nil, err
		}
	}
	opts.DialTimeout = 5 * time.Second
	client := redis.NewClient(opts)
	list, err := redisrevoke.New(redisrevoke.Config{Client: client, Prefix: f.redisPrefix, Now: clock})
	if err != nil {
		client.Close()
		return nil, err
	}
	// Sync retries until the mirror is current; a CLI waits 5 s at most.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := list.Sync(ctx); err != nil {
		list.Close()
		client.Close()
		return nil, fmt.Errorf("cannot read the revocation list from Redis at %s: %v", opts.Addr, err)
	}
	done := func() error {
		err := list.Close()
		if cerr := client.Close(); err == nil {
			err = cerr
		}
		return err
	}
	return &revocationList{list, done}, nil
}
