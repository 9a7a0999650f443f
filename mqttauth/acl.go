package mqttauth

import (
	"fmt"
	"math/bits"
	"strings"

	"github.com/latchsec/latch/internal/reason"
	"github.com/latchsec/latch/token"
)

// Access is what a rule allows: publishing, subscribing, or both.
type Access uint8

const (
	Publish          Access = 1 << iota // PUBLISH to matching topics (and a Will on them)
	Subscribe                           // SUBSCRIBE with filters whose every topic matches, and receive from them
	PublishSubscribe = Publish | Subscribe
)

// maxRules caps the rules of an ACL: a check's cost is bounded by
// maxTopicLevels times maxRules, and a principal's rules are bits of a
// uint64.
const maxRules = 64

// A Rule allows a principal to publish to, or subscribe to, the topics that
// its Topic matches.
//
// Topic is an MQTT topic filter ("+" and "#" as whole levels, "#" last) in
// which a level may also hold placeholders, replaced by the principal's
// values when it connects:
//
//	{app}       the application id of the credential
//	{key}       the application key (the user name)
//	{device}    the device id of the credential; a rule using it does not
//	            apply to credentials without a device
//	{clientid}  the client id of the connection
//
// For example "apps/{app}/devices/{device}/state" or
// "apps/{app}/devices/{device}/command/#". Other text in braces is an error.
// Placeholder values never contain "/", "+", "#" or NUL and never start with
// "$" (see [ValidIdentity]), so a value can never change a rule's levels.
// Two placeholders in one level must be separated by a character that the
// first cannot contain, or two principals could share a topic.
type Rule struct {
	Topic  string
	Access Access
	// Permission, when set, limits the rule to credentials whose secret
	// carries this scope (see [KeyRequest.Permissions]).
	Permission string
}

// An ACLConfig is what the [Guard] allows: the rules of the ACL, and the
// client ids each credential may use. Compile it with [Compile]. The zero
// ACLConfig allows no topic and binds each credential to the client id
// "{key}".
type ACLConfig struct {
	// Rules allow topics. Whatever no rule allows is denied.
	Rules []Rule
	// ClientIDs are templates (placeholders as in Rule, except
	// {clientid}; no "/", "+" or "#") of the client ids a credential may
	// connect with. A template using {device} does not apply to
	// credentials without one. Empty means ["{key}"]: every credential
	// has a client id of its own, so no device can take over another's
	// session. "{app}:{device}" is a good choice for devices (an
	// application id cannot contain ":").
	ClientIDs []string
}

// An ACL is a compiled [ACLConfig]; make one with [Compile]. It is immutable
// and safe for concurrent use.
type ACL struct {
	rules     []compiledRule
	clientIDs []template
}

type compiledRule struct {
	levels     []template // the topic template, level by level
	access     Access
	permission string
}

// Compile checks an ACL's configuration and compiles it for the [Guard].
// Errors are under [ErrConfig] and name the rule or template.
func Compile(p ACLConfig) (*ACL, error) {
	if len(p.Rules) > maxRules {
		return nil, reason.Newf(ErrConfig, nil, fmt.Sprintf("ACLConfig.Rules: more than %d rules", maxRules))
	}
	acl := &ACL{}
	for i, r := range p.Rules {
		if r.Access&^PublishSubscribe != 0 || r.Access == 0 {
			return nil, reason.Newf(ErrConfig, nil, fmt.Sprintf("ACLConfig.Rules[%d]: invalid access %d", i, r.Access))
		}
		if r.Permission != "" && !token.ValidScope(r.Permission) {
			return nil, reason.Newf(ErrConfig, nil, fmt.Sprintf("ACLConfig.Rules[%d]: permission %q is not a scope (resource:action, as token.ValidScope accepts)", i, r.Permission))
		}
		if _, err := parseTemplate(r.Topic, true); err != nil {
			return nil, reason.Newf(ErrConfig, nil, fmt.Sprintf("ACLConfig.Rules[%d]: %v", i, err))
		}
		// Placeholder values hold no "/", so the levels of the template
		// are the levels of every expansion.
		var levels []template
		for _, l := range strings.Split(r.Topic, "/") {
			t, _, _ := parseParts(l, true)
			if len(t) == 0 {
				t = template{{lit: ""}} // an empty level
			}
			levels = append(levels, t)
		}
		acl.rules = append(acl.rules, compiledRule{levels: levels, access: r.Access, permission: r.Permission})
	}
	ids := p.ClientIDs
	if len(ids) == 0 {
		ids = []string{"{key}"}
	}
	for i, s := range ids {
		t, err := parseTemplate(s, false)
		if err != nil {
			return nil, reason.Newf(ErrConfig, nil, fmt.Sprintf("ACLConfig.ClientIDs[%d]: %v", i, err))
		}
		acl.clientIDs = append(acl.clientIDs, t)
	}
	return acl, nil
}

type placeholder uint8

const (
	literal placeholder = iota
	phApp
	phKey
	phDevice
	phClientID
)

var placeholders = map[string]placeholder{
	"{app}": phApp, "{key}": phKey, "{device}": phDevice, "{clientid}": phClientID,
}

type part struct {
	lit string
	ph  placeholder
}

type template []part

// parseTemplate reads and checks a rule topic template (topic true) or a
// client id template.
func parseTemplate(s string, topic bool) (template, error) {
	t, x, err := parseParts(s, topic)
	if err != nil {
		return nil, err
	}
	if topic {
		if !validPlainFilter(x) {
			return nil, fmt.Errorf("%q is not a valid topic filter", s)
		}
		if f, _ := stripShare(x); f != x {
			return nil, fmt.Errorf("%q: a rule cannot be a shared subscription", s)
		}
		// A level with a placeholder is a literal level: "+x" or "x#"
		// are already refused by validPlainFilter.
		return t, nil
	}
	if !ValidIdentity(x) {
		return nil, fmt.Errorf("%q is not a valid client id template", s)
	}
	return t, nil
}

// parseParts splits a template into literal text and placeholders, and
// returns it with each placeholder replaced by "x", for checking.
func parseParts(s string, topic bool) (template, string, error) {
	var t template
	var sample strings.Builder // s with each placeholder as "x"
	for rest := s; rest != ""; {
		i := strings.IndexAny(rest, "{}")
		if i < 0 {
			t = append(t, part{lit: rest})
			sample.WriteString(rest)
			break
		}
		if i > 0 {
			t = append(t, part{lit: rest[:i]})
			sample.WriteString(rest[:i])
			rest = rest[i:]
		}
		j := strings.IndexByte(rest, '}')
		if rest[0] != '{' || j < 0 {
			return nil, "", fmt.Errorf("unmatched brace in %q", s)
		}
		ph, ok := placeholders[rest[:j+1]]
		if !ok || (!topic && ph == phClientID) {
			return nil, "", fmt.Errorf("unknown placeholder %q", rest[:j+1])
		}
		t = append(t, part{ph: ph})
		sample.WriteString("x")
		rest = rest[j+1:]
	}
	return t, sample.String(), nil
}

// value returns the principal's value of a part: its literal text or a
// placeholder's value ("" for a device the credential does not have).
func (pt part) value(p *Principal) string {
	switch pt.ph {
	case phApp:
		return p.App
	case phKey:
		return p.Key
	case phDevice:
		return p.Device
	case phClientID:
		return p.ClientID
	}
	return pt.lit
}

// expand returns the template with the principal's values, or false when a
// placeholder has no value (a {device} for a credential without a device).
// A template of one part allocates nothing.
func (t template) expand(p *Principal) (string, bool) {
	if len(t) == 1 {
		v := t[0].value(p)
		return v, v != "" || t[0].ph == literal
	}
	n := 0
	for _, pt := range t {
		v := pt.value(p)
		if pt.ph != literal && v == "" {
			return "", false
		}
		n += len(v)
	}
	var b strings.Builder
	b.Grow(n)
	for _, pt := range t {
		b.WriteString(pt.value(p))
	}
	return b.String(), true
}

// matches reports whether id is the template's expansion for p, without
// building it.
func (t template) matches(p *Principal, id string) bool {
	for _, pt := range t {
		v := pt.value(p)
		if (pt.ph != literal && v == "") || !strings.HasPrefix(id, v) {
			return false
		}
		id = id[len(v):]
	}
	return id == ""
}

// bind expands the ACL for a principal whose identity fields are set and
// checked.
func (a *ACL) bind(p *Principal) {
	if a == nil {
		return
	}
	// One backing array for every level of every rule.
	total := 0
	for _, r := range a.rules {
		total += len(r.levels)
	}
	all := make([]string, 0, total)
	p.rules = make([][]string, 0, len(a.rules))
rules:
	for _, r := range a.rules {
		if r.permission != "" && !p.HasPermission(r.permission) {
			continue
		}
		start := len(all)
		for _, l := range r.levels {
			v, ok := l.expand(p)
			if !ok {
				all = all[:start]
				continue rules
			}
			all = append(all, v)
		}
		bit := uint64(1) << len(p.rules)
		p.rules = append(p.rules, all[start:len(all):len(all)])
		if r.access&Publish != 0 {
			p.pub |= bit
		}
		if r.access&Subscribe != 0 {
			p.sub |= bit
		}
	}
}

// clientIDAllowed reports whether id is one of the client ids the
// principal's credential may use.
func (a *ACL) clientIDAllowed(p *Principal, id string) bool {
	ids := defaultClientIDs
	if a != nil {
		ids = a.clientIDs
	}
	for _, t := range ids {
		if t.matches(p, id) {
			return true
		}
	}
	return false
}

var defaultClientIDs = []template{{{ph: phKey}}}

// covers reports whether the rules in mask (bits of p.rules) together match
// every topic that the valid filter f matches. A topic name is a filter
// without wildcards, so the same walk decides publishes.
//
// The rules are walked level by level alongside f, keeping the set of rules
// that match so far. A "+" of f stands for any level: a level that no
// literal rule names is the hardest case (only wildcard rules match it),
// and if the rules cover that one they cover every level. A "#" of f stands
// for the topic ending at its parent level and for any level followed by
// "#" again, so it is unrolled until no rule is left or one ends in "#".
// Rules that start with a wildcard do not match topics starting with "$"
// (MQTT-4.7.2-1), and filters that start with a wildcard match none.
func (p *Principal) covers(mask uint64, f string) bool {
	alive := mask
	for i, pos := 0, 0; ; i++ {
		lvl := f[pos:]
		last := true
		if j := strings.IndexByte(lvl, '/'); j >= 0 {
			lvl, last = lvl[:j], false
			pos += j + 1
		}
		var next uint64
		switch lvl {
		case "#":
			// pos is where "#" is; f[:pos-1] its parent topic, unless
			// that is empty ("#" or "/#"), which is no topic.
			noParent := pos <= 1
			for ; alive != 0; i++ {
				endsHere := noParent
				noParent = false
				next = 0
				for m := alive; m != 0; m &= m - 1 {
					b := bits.TrailingZeros64(m)
					r := p.rules[b]
					switch {
					case len(r) == i:
						endsHere = true
					case r[i] == "#":
						return true
					case r[i] == "+":
						next |= 1 << b
					}
				}
				if !endsHere {
					return false
				}
				alive = next
			}
			return false
		case "+":
			for m := alive; m != 0; m &= m - 1 {
				b := bits.TrailingZeros64(m)
				r := p.rules[b]
				if len(r) > i {
					switch r[i] {
					case "#":
						return true
					case "+":
						next |= 1 << b
					}
				}
			}
		default:
			dollar := i == 0 && len(lvl) > 0 && lvl[0] == '$'
			for m := alive; m != 0; m &= m - 1 {
				b := bits.TrailingZeros64(m)
				r := p.rules[b]
				if len(r) > i {
					switch r[i] {
					case "#":
						if !dollar {
							return true
						}
					case "+":
						if !dollar {
							next |= 1 << b
						}
					case lvl:
						next |= 1 << b
					}
				}
			}
		}
		alive = next
		if last {
			for m := alive; m != 0; m &= m - 1 {
				r := p.rules[bits.TrailingZeros64(m)]
				if len(r) == i+1 || (len(r) > i+1 && r[i+1] == "#") {
					return true
				}
			}
			return false
		}
		if alive == 0 {
			return false
		}
	}
}
