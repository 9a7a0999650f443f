package redisrevoke

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchsec/latch/internal/reason"
	"github.com/latchsec/latch/token"
)

// Migrate copies a list kept in the layout of earlier versions (one key
// prefix:id:<jti> per ID and the hash prefix:subjects, which a Cluster
// cannot serve) into the current layout, publishing every entry to the
// running Lists, then deletes the old keys. prefix is the Lists'
// Config.Prefix ("" for the default). It returns how many IDs and
// subjects it copied. Running it again copies nothing twice; run it once
// every server runs this version (see the package doc).
func Migrate(ctx context.Context, rdb redis.UniversalClient, prefix string) (int, error) {
	st, err := newStore(rdb, prefix, nil, 0, 0)
	if err != nil {
		return 0, err
	}
	oldIDPrefix, oldSubjects := st.prefix+":id:", st.prefix+":subjects"
	copied := 0
	migrate := func(ctx context.Context, node redis.Cmdable) error {
		var cursor uint64
		for {
			keys, next, err := node.Scan(ctx, cursor, oldIDPrefix+"*", 1000).Result()
			if err != nil {
				return err
			}
			if len(keys) > 0 {
				gets := make([]*redis.StringCmd, len(keys))
				if _, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
					for i, k := range keys {
						gets[i] = p.Get(ctx, k)
					}
					return nil
				}); err != nil && err != redis.Nil {
					return err
				}
				// token refuses what is not a token ID and drops the
				// entries of expired tokens.
				found := &token.MemoryRevocations{Now: st.now}
				for i, g := range gets {
					exp, err := strconv.ParseInt(g.Val(), 10, 64)
					if g.Err() == nil && err == nil && exp >= 0 {
						expires := time.Time{}
						if exp > 0 {
							expires = time.Unix(exp, 0)
						}
						_ = found.RevokeID(ctx, strings.TrimPrefix(keys[i], oldIDPrefix), expires)
					}
				}
				var ents []entry
				(&token.MemoryRevocations{Now: st.now}).Merge(found, func(jti string, expires time.Time) {
					if e, ok := entryOf(jti, expires); ok {
						ents = append(ents, e)
					}
				}, nil)
				if err := st.writeIDs(ctx, ents); err != nil {
					return err
				}
				copied += len(ents)
				if err := node.Del(ctx, keys...).Err(); err != nil {
					return err
				}
			}
			if cursor = next; cursor == 0 {
				return nil
			}
		}
	}
	if cluster, ok := rdb.(*redis.ClusterClient); ok {
		// Old keys are spread over the slots: visit every primary, one
		// at a time (ForEachMaster calls concurrently).
		var mu sync.Mutex
		err = cluster.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			return migrate(ctx, node)
		})
	} else {
		err = migrate(ctx, rdb)
	}
	if err != nil {
		return copied, reason.Wrap(errMigrate, nil, err)
	}
	subs, err := rdb.HGetAll(ctx, oldSubjects).Result()
	if err != nil {
		return copied, reason.Wrap(errMigrate, nil, err)
	}
	found := &token.MemoryRevocations{Now: st.now}
	for s, v := range subs {
		if b, err := strconv.ParseInt(v, 10, 64); err == nil {
			_ = found.RevokeSubject(ctx, s, time.Unix(b, 0)) // token refuses what is not a subject
		}
	}
	var entries []subjectEntry
	(&token.MemoryRevocations{Now: st.now}).Merge(found, nil, func(s string, before time.Time) {
		entries = append(entries, subjectEntry{s, before.Unix()})
	})
	if err := st.writeSubjects(ctx, entries); err != nil {
		return copied, reason.Wrap(errMigrate, nil, err)
	}
	if err := rdb.Del(ctx, oldSubjects).Err(); err != nil {
		return copied, reason.Wrap(errMigrate, nil, err)
	}
	return copied + len(entries), nil
}
