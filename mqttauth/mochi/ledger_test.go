package mochi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/mqttauth"
	"github.com/latchsec/latch/token"
)

// The ACL pitfall table, decided by Latch and by mochi's own hooks/auth
// Ledger with the same rule. Latch must give the answer of the MQTT
// specification; where the Ledger gives another, the test output says so
// (go test -v -run TestLedgerDecisionTable ./mqttauth/mochi).
func TestLedgerDecisionTable(t *testing.T) {
	now := func() time.Time { return t0 }
	keys := token.NewKeyring()
	revs := &token.MemoryRevocations{Now: now}
	provisioner := &mqttauth.Provisioner{Tokens: &token.Issuer{Config: token.Config{Keys: keys, Issuer: "p", Audience: "mqtt", Now: now}}}
	cred, err := provisioner.Issue(context.Background(), mqttauth.KeyRequest{App: "app-1", Device: "dev-1"})
	require.NoError(t, err)
	tokens := &token.Verifier{Config: token.Config{Keys: keys, Issuer: "p", Audience: "mqtt", Revocations: revs, Now: now}}

	rows := []struct {
		pitfall string
		rule    string // "" for no rule at all
		write   bool
		topic   string // a topic name (write) or a filter (read)
		spec    bool   // what the MQTT specification's matching says
	}{
		{"'#' widening a '+' rule", "a/+", false, "a/#", false},
		{"'+' rule, same filter", "a/+", false, "a/+", true},
		{"'+' rule, one topic", "a/+", false, "a/b", true},
		{"shorter rule is not a prefix", "a/b", false, "a/b/c", false},
		{"shorter rule is not a prefix (publish)", "a/b", true, "a/b/c", false},
		{"'a/#' covers 'a'", "a/#", false, "a", true},
		{"'a/#' covers 'a' (publish)", "a/#", true, "a", true},
		{"'#' rule and $SYS", "#", false, "$SYS/broker/uptime", false},
		{"'+/#' rule and $SYS", "+/#", false, "$SYS/#", false},
		{"'#' rule, publish to a $ topic", "#", true, "$aws/things/x", false},
		{"no rule matches: deny by default", "other/topic", false, "a/b", false},
		{"no rule matches (publish)", "other/topic", true, "a/b", false},
		{"$share prefix stripped and checked", "a/+", false, "$share/g/a/#", false},
		{"$share prefix stripped, allowed filter", "a/+", false, "$share/g/a/b", true},
		{"$queue prefix stripped and checked", "a/+", false, "$queue/a/#", false},
		{"wildcard-only filter", "a/+", false, "#", false},
	}
	var table strings.Builder
	fmt.Fprintf(&table, "%-42s %-12s %-6s %-22s %-5s %-5s %-6s %-6s\n", "pitfall", "rule", "access", "topic/filter", "spec", "latch", "ledger", "+deny#")
	differ := 0
	for _, r := range rows {
		access := mqttauth.Subscribe
		ledgerAccess := auth.ReadOnly
		if r.write {
			access, ledgerAccess = mqttauth.Publish, auth.WriteOnly
		}
		acl, err := mqttauth.Compile(mqttauth.ACLConfig{Rules: []mqttauth.Rule{{Topic: r.rule, Access: access}}})
		require.NoError(t, err)
		p, err := (&mqttauth.Guard{Tokens: tokens, ACL: acl}).Authenticate(context.Background(), cred.Key, cred.Key, cred.Secret)
		require.NoError(t, err)
		var latch bool
		if r.write {
			latch = p.CheckPublish(r.topic) == nil
		} else {
			latch = p.CheckSubscribe(r.topic) == nil
		}
		require.Equal(t, r.spec, latch, r.pitfall)

		ledger := &auth.Ledger{ACL: auth.ACLRules{{
			Username: auth.RString(cred.Key),
			Filters:  auth.Filters{auth.RString(r.rule): ledgerAccess},
		}}}
		cl := &mqtt.Client{ID: cred.Key, Properties: mqtt.ClientProperties{Username: []byte(cred.Key)}}
		_, ledgerOK := ledger.ACLOk(cl, r.topic, r.write)
		// The same with a catch-all "#" Deny filter, which separates the
		// Ledger's matching from its allow-when-nothing-matches default.
		strict := &auth.Ledger{ACL: auth.ACLRules{{
			Username: auth.RString(cred.Key),
			Filters:  auth.Filters{auth.RString(r.rule): ledgerAccess, "#": auth.Deny},
		}}}
		_, strictOK := strict.ACLOk(cl, r.topic, r.write)
		strictCol := fmt.Sprint(strictOK)
		if r.rule == "#" { // the rule is the catch-all itself
			strictOK, strictCol = ledgerOK, "n/a"
		}
		mark := ""
		if ledgerOK != r.spec || strictOK != r.spec {
			mark = "  <- differs from the specification"
			differ++
		}
		what := "sub"
		if r.write {
			what = "pub"
		}
		fmt.Fprintf(&table, "%-42s %-12s %-6s %-22s %-5v %-5v %-6v %-6s%s\n", r.pitfall, r.rule, what, r.topic, r.spec, latch, ledgerOK, strictCol, mark)
	}
	t.Logf("mochi-mqtt v2.7.9 hooks/auth Ledger against the same rules (%d of %d rows differ from the specification; Latch differs in none):\n%s", differ, len(rows), table.String())
	require.NotZero(t, differ, "the Ledger now follows the specification everywhere; update the documentation")
}
