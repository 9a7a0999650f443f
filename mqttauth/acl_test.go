package mqttauth_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/mqttauth"
)

// principalWith connects a device "dev-1" of "app-1" under rules.
func principalWith(t testing.TB, rules ...mqttauth.Rule) *mqttauth.Principal {
	t.Helper()
	e := newEnv(t, mqttauth.ACLConfig{Rules: rules, ClientIDs: []string{"{app}:{device}"}})
	return e.connect(t, e.issue(t, mqttauth.KeyRequest{App: "app-1", Device: "dev-1"}))
}

func sub(topic string) mqttauth.Rule { return mqttauth.Rule{Topic: topic, Access: mqttauth.Subscribe} }
func pub(topic string) mqttauth.Rule { return mqttauth.Rule{Topic: topic, Access: mqttauth.Publish} }

// The subscription cases: a filter is allowed only if every topic it can
// match is allowed.
func TestSubscribeSubsumption(t *testing.T) {
	tests := []struct {
		rules   []string
		filter  string
		allowed bool
	}{
		{[]string{"a/+"}, "a/+", true},
		{[]string{"a/+"}, "a/b", true},
		{[]string{"a/+"}, "a/#", false}, // "#" widening a "+" rule: a, a/b/c
		{[]string{"a/+"}, "a", false},
		{[]string{"a/+"}, "a/b/c", false},
		{[]string{"a/+"}, "a/", true}, // an empty level is a level
		{[]string{"a/+"}, "+/b", false},
		{[]string{"a/#"}, "a", true}, // "#" matches the parent level
		{[]string{"a/#"}, "a/#", true},
		{[]string{"a/#"}, "a/+/+/c", true},
		{[]string{"a/#"}, "ab", false}, // a rule is not a string prefix
		{[]string{"a/#"}, "a/b/#", true},
		{[]string{"a/b"}, "a/b/c", false}, // a shorter rule is not a prefix
		{[]string{"a/b"}, "a/b/#", false},
		{[]string{"a/b", "a/b/#"}, "a/b/#", true},
		{[]string{"a/+/#"}, "a/#", false},     // "a" is not matched by the rule
		{[]string{"a", "a/+/#"}, "a/#", true}, // ...but together with "a" it is
		{[]string{"a/+", "a/+/+/#"}, "a/+/#", true},
		{[]string{"a/+", "a/+/+/#"}, "a/#", false},
		{[]string{"a/x", "a/+/b"}, "a/+/b", true},
		{[]string{"a/x/b"}, "a/+/b", false}, // literals never cover "+"
		{[]string{"+/+"}, "a/+", true},
		{[]string{"#"}, "#", true},
		{[]string{"#"}, "+/+/#", true},
		{[]string{"+/#"}, "#", true},
		{[]string{"+"}, "#", false},
		{[]string{"+", "+/+"}, "#", false},
		{[]string{"+", "+/+", "+/+/+/#"}, "#", true},
		// Wildcard-first rules never match "$" topics.
		{[]string{"#"}, "$SYS/#", false},
		{[]string{"#"}, "$SYS/broker/uptime", false},
		{[]string{"+/#"}, "$SYS/x", false},
		{[]string{"+/x"}, "$SYS/x", false},
		{[]string{"$SYS/#"}, "$SYS/broker/uptime", true},
		{[]string{"$SYS/#"}, "#", false},
		{[]string{"a/#"}, "a/$x", true}, // "$" only matters at the first level
		{[]string{"a/$share"}, "a/$share", true},
		{[]string{"a/$share"}, "a/", false},
		{[]string{"a/$queue/b"}, "a/$queue/b", true},
		// Shared subscriptions are checked by their filter.
		{[]string{"a/+"}, "$share/g/a/b", true},
		{[]string{"a/+"}, "$share/g/a/#", false},
		{[]string{"a/+"}, "$SHARE/g/a/b", true},
		{[]string{"a/+"}, "$queue/a/b", true},
		{[]string{"a/+"}, "$queue/a/#", false},
		{[]string{"#"}, "$share/g/$SYS/#", false},
		{[]string{"$share/#"}, "$share/g/x", false}, // compile refuses $share rules; see below
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.rules, ",")+"~"+tt.filter, func(t *testing.T) {
			var rules []mqttauth.Rule
			for _, r := range tt.rules {
				if strings.HasPrefix(r, "$share") {
					return
				}
				rules = append(rules, sub(r))
			}
			p := principalWith(t, rules...)
			err := p.CheckSubscribe(tt.filter)
			if tt.allowed {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, mqttauth.ErrDenied)
				require.ErrorIs(t, err, mqttauth.ErrNoRule)
			}
			// A publish rule never allows a subscription.
			var pubs []mqttauth.Rule
			for _, r := range tt.rules {
				pubs = append(pubs, pub(r))
			}
			require.ErrorIs(t, principalWith(t, pubs...).CheckSubscribe(tt.filter), mqttauth.ErrNoRule)
		})
	}
}

func TestPublish(t *testing.T) {
	p := principalWith(t,
		pub("apps/{app}/devices/{device}/state"),
		pub("apps/{app}/devices/{device}/events/#"),
		pub("#"),
		sub("apps/{app}/devices/{device}/command"),
	)
	for _, topic := range []string{
		"apps/app-1/devices/dev-1/state",
		"apps/app-1/devices/dev-1/events",
		"apps/app-1/devices/dev-1/events/a/b",
		"anything/else", // the "#" rule
	} {
		require.NoError(t, p.CheckPublish(topic), topic)
	}
	for _, tt := range []struct {
		topic  string
		reason error
	}{
		{"$SYS/broker/x", mqttauth.ErrReservedTopic},
		{"$SYS", mqttauth.ErrReservedTopic},
		{"$sys/x", mqttauth.ErrReservedTopic},
		{"$aws/x", mqttauth.ErrNoRule}, // "#" does not match "$" topics
		{"", mqttauth.ErrInvalidTopic},
		{"a/+", mqttauth.ErrInvalidTopic},
		{"a/#", mqttauth.ErrInvalidTopic},
		{"a/b+", mqttauth.ErrInvalidTopic},
		{"a\x00b", mqttauth.ErrInvalidTopic},
		{"a\x01b", mqttauth.ErrInvalidTopic},
		{"a\u0085b", mqttauth.ErrInvalidTopic},
		{"a/\xff", mqttauth.ErrInvalidTopic},
		{"a/\xed\xa0\x80", mqttauth.ErrInvalidTopic}, // a UTF-16 surrogate in UTF-8
		{strings.Repeat("a", mqttauth.MaxTopicLength+1), mqttauth.ErrInvalidTopic},
		{strings.Repeat("a/", mqttauth.MaxTopicLevels), mqttauth.ErrInvalidTopic},
	} {
		err := p.CheckPublish(tt.topic)
		require.ErrorIs(t, err, mqttauth.ErrDenied, "%q", tt.topic)
		require.ErrorIs(t, err, tt.reason, "%q", tt.topic)
	}
	// The subscribe rule does not allow publishing, and publish rules do
	// not allow receiving.
	q := principalWith(t, sub("apps/{app}/devices/{device}/command"))
	require.ErrorIs(t, q.CheckPublish("apps/app-1/devices/dev-1/command"), mqttauth.ErrNoRule)
	require.NoError(t, q.CheckSubscribe("apps/app-1/devices/dev-1/command"))
	require.ErrorIs(t, p.CheckSubscribe("apps/app-1/devices/dev-1/state"), mqttauth.ErrNoRule)
}

func TestInvalidFilters(t *testing.T) {
	p := principalWith(t, sub("#"))
	for _, f := range []string{
		"", "a/#/b", "a#", "a/b#", "+a", "a/+b", "#/", "a\x00", "a/\xff", "a\nb",
		"$share", "$share/", "$share/g", "$share/g/", "$share//a", "$share/g+/a", "$share/#/a", "$share/g/a/#/b", "$share/\xe8/a", "$share/g\x00/a",
		"$queue", "$queue/", "$queue/a#",
		strings.Repeat("a", mqttauth.MaxTopicLength+1),
		strings.Repeat("+/", mqttauth.MaxTopicLevels) + "#",
	} {
		err := p.CheckSubscribe(f)
		require.ErrorIs(t, err, mqttauth.ErrInvalidTopic, "%q", f)
		require.False(t, mqttauth.ValidFilter(f), "%q", f)
	}
	for _, f := range []string{"#", "+", "/", "//", "a//b", "+/+", "a/+/#", "$share/g/#", "$queue/+"} {
		require.True(t, mqttauth.ValidFilter(f), f)
		require.NoError(t, p.CheckSubscribe(f), f)
	}
	require.True(t, mqttauth.ValidTopic("/"))
	require.True(t, mqttauth.ValidTopic(strings.Repeat("a/", mqttauth.MaxTopicLevels-1)+"a"))
}

// The CVE-2017-7650 class: identities with wildcards or separators would
// widen a rule. They are refused at CONNECT, before any template sees them;
// the same values inside a topic are plain characters of a level.
func TestWildcardIdentitiesNeverReachTemplates(t *testing.T) {
	e := newEnv(t, mqttauth.ACLConfig{
		Rules:     []mqttauth.Rule{{Topic: "clients/{clientid}/#", Access: mqttauth.PublishSubscribe}},
		ClientIDs: []string{"{key}", "{app}:{device}"},
	})
	ctx := context.Background()
	c := e.issue(t, mqttauth.KeyRequest{App: "app-1", Device: "dev-1"})
	for _, id := range []string{"#", "+", "a/#", "a/+/b", "a\x00", "\xff", "$SYS"} {
		_, err := e.guard.Authenticate(ctx, id, c.Key, c.Secret)
		require.ErrorIs(t, err, mqttauth.ErrInvalidIdentity, "%q", id)
	}
	for _, dev := range []string{"#", "+", "a/b", "a\x00", "\xff", "$x"} {
		_, err := e.provisioner.Issue(ctx, mqttauth.KeyRequest{App: "app-1", Device: dev})
		require.ErrorIs(t, err, mqttauth.ErrIssue, "%q", dev)
	}
	p, err := e.guard.Authenticate(ctx, c.Key, c.Key, c.Secret)
	require.NoError(t, err)
	require.NoError(t, p.CheckSubscribe("clients/"+c.Key+"/#"))
	require.ErrorIs(t, p.CheckSubscribe("clients/#"), mqttauth.ErrNoRule)
	require.ErrorIs(t, p.CheckSubscribe("clients/+/#"), mqttauth.ErrNoRule)
}

func TestCompileRefusals(t *testing.T) {
	for _, p := range []mqttauth.ACLConfig{
		{Rules: []mqttauth.Rule{{Topic: "a/{app", Access: mqttauth.Publish}}},
		{Rules: []mqttauth.Rule{{Topic: "a/app}", Access: mqttauth.Publish}}},
		{Rules: []mqttauth.Rule{{Topic: "a/{user}", Access: mqttauth.Publish}}},
		{Rules: []mqttauth.Rule{{Topic: "a/{app}+", Access: mqttauth.Publish}}},
		{Rules: []mqttauth.Rule{{Topic: "a/#{app}", Access: mqttauth.Publish}}},
		{Rules: []mqttauth.Rule{{Topic: "a/#/b", Access: mqttauth.Publish}}},
		{Rules: []mqttauth.Rule{{Topic: "", Access: mqttauth.Publish}}},
		{Rules: []mqttauth.Rule{{Topic: "$share/g/a", Access: mqttauth.Subscribe}}},
		{Rules: []mqttauth.Rule{{Topic: "a\x00", Access: mqttauth.Subscribe}}},
		{Rules: []mqttauth.Rule{{Topic: "a", Access: 0}}},
		{Rules: []mqttauth.Rule{{Topic: "a", Access: 8}}},
		{Rules: []mqttauth.Rule{{Topic: "a", Access: mqttauth.Publish, Permission: "admin"}}},
		{Rules: make([]mqttauth.Rule, mqttauth.MaxRules+1)},
		{ClientIDs: []string{"{clientid}"}},
		{ClientIDs: []string{"{app}/{device}"}},
		{ClientIDs: []string{"#"}},
		{ClientIDs: []string{""}},
		{ClientIDs: []string{"$x{key}"}},
	} {
		_, err := mqttauth.Compile(p)
		require.ErrorIs(t, err, mqttauth.ErrConfig, "%+v", p)
	}
}

func TestZeroACLConfigDeniesEverything(t *testing.T) {
	e := newEnv(t, mqttauth.ACLConfig{})
	c := e.issue(t, mqttauth.KeyRequest{App: "app-1", Device: "dev-1"})
	p, err := e.guard.Authenticate(context.Background(), c.Key, c.Key, c.Secret) // default binding: {key}
	require.NoError(t, err)
	require.ErrorIs(t, p.CheckPublish("a"), mqttauth.ErrNoRule)
	require.ErrorIs(t, p.CheckSubscribe("#"), mqttauth.ErrNoRule)
	_, err = e.guard.Authenticate(context.Background(), "app-1:dev-1", c.Key, c.Secret)
	require.ErrorIs(t, err, mqttauth.ErrClientID)

	// A Guard without an ACL: the same.
	e.guard.ACL = nil
	p, err = e.guard.Authenticate(context.Background(), c.Key, c.Key, c.Secret)
	require.NoError(t, err)
	require.ErrorIs(t, p.CheckSubscribe("#"), mqttauth.ErrNoRule)
}

func TestACLAllocatesNothing(t *testing.T) {
	p := principalWith(t, deviceACL.Rules...)
	n := testing.AllocsPerRun(100, func() {
		_ = p.CheckPublish("apps/app-1/devices/dev-1/events/a/b")
		_ = p.CheckPublish("apps/app-2/devices/dev-1/state")
		_ = p.CheckSubscribe("$share/g/apps/app-1/devices/dev-1/command/+")
		_ = p.CheckSubscribe("apps/app-1/#")
		_ = p.CheckSubscribe("apps/app-1/broadcast/x")
	})
	require.Zero(t, n)
}

// matches is the specification's topic matching, written the plain way, as
// the reference the ACL is checked against.
func matches(filter, topic string) bool {
	f, tl := strings.Split(filter, "/"), strings.Split(topic, "/")
	if strings.HasPrefix(topic, "$") && (f[0] == "+" || f[0] == "#") {
		return false
	}
	for i, l := range f {
		if l == "#" {
			return true
		}
		if i >= len(tl) || (l != "+" && l != tl[i]) {
			return false
		}
	}
	return len(f) == len(tl)
}

// allTopics lists every topic of 1 to depth levels over alphabet.
func allTopics(alphabet []string, depth int) []string {
	var out []string
	level := []string{""}
	for d := 1; d <= depth; d++ {
		var next []string
		for _, prefix := range level {
			for _, a := range alphabet {
				t := a
				if d > 1 {
					t = prefix + "/" + a
				}
				next = append(next, t)
			}
		}
		out = append(out, next...)
		level = next
	}
	return out
}

// refAllowed decides by enumeration: every topic that filter matches is
// matched by a rule. The alphabet holds every literal of the rules and the
// filter, a fresh one, an empty level and a "$" level; topics are one level
// deeper than the longest filter, which is as deep as matching can see.
func refAllowed(rules []string, filter string, topics []string) bool {
	for _, topic := range topics {
		if !matches(filter, topic) {
			continue
		}
		ok := false
		for _, r := range rules {
			if matches(r, topic) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// TestSubsumptionAgainstEnumeration compares CheckSubscribe with enumeration
// on random rule sets and filters over a small alphabet.
func TestSubsumptionAgainstEnumeration(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	levels := []string{"a", "b", "$s", "", "+", "#"}
	alphabet := []string{"a", "b", "$s", "", "z"}
	var topics []string
	for _, t := range allTopics(alphabet, 5) {
		if t != "" { // "" is no topic
			topics = append(topics, t)
		}
	}
	randFilter := func() string {
		n := 1 + r.IntN(4)
		var ls []string
		for i := 0; i < n; i++ {
			l := levels[r.IntN(len(levels))]
			if l == "#" && i != n-1 {
				l = "+"
			}
			ls = append(ls, l)
		}
		if f := strings.Join(ls, "/"); f != "" {
			return f
		}
		return "a"
	}
	for range 600 {
		var rules []string
		var rs []mqttauth.Rule
		for range 1 + r.IntN(3) {
			f := randFilter()
			rules = append(rules, f)
			rs = append(rs, sub(f))
		}
		p := principalWith(t, rs...)
		for range 10 {
			f := randFilter()
			want := refAllowed(rules, f, topics)
			got := p.CheckSubscribe(f) == nil
			require.Equal(t, want, got, "rules %q filter %q", rules, f)
		}
	}
}
