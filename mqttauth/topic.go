package mqttauth

import (
	"strings"
	"unicode/utf8"
)

// Limits on topic names and filters. MQTT allows 65,535 bytes; the level
// cap bounds the work a filter can make the ACL do.
const (
	maxTopicLength = 65535 // bytes of a topic name or filter, share prefix included
	maxTopicLevels = 64    // levels of a topic name or filter, after any share prefix
)

// checkTopicText checks what topic names and filters have in common:
// length, UTF-8 without NUL or control characters (MQTT-1.5.4-1/2: the
// server may refuse U+0001..U+001F and U+007F..U+009F, and this package
// does), and the level count.
func checkTopicText(s string) bool {
	if len(s) == 0 || len(s) > maxTopicLength {
		return false
	}
	levels := 1
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			if c == '/' {
				levels++
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || (r >= 0x80 && r <= 0x9f) {
			return false
		}
		i += n
	}
	return levels <= maxTopicLevels
}

// validTopic reports whether s is a valid MQTT topic name to publish to:
// see [ErrInvalidTopic]. Topics under "$share" and "$queue" are refused
// too: no filter could subscribe to them, since brokers read such filters
// as shared subscriptions. It does not say whether anyone may publish to it.
func validTopic(s string) bool {
	if !checkTopicText(s) || strings.IndexByte(s, '+') >= 0 || strings.IndexByte(s, '#') >= 0 {
		return false
	}
	first, _, _ := strings.Cut(s, "/")
	return !strings.EqualFold(first, "$share") && !strings.EqualFold(first, "$queue")
}

// validPlainFilter reports whether s, without any share prefix (see
// stripShare), is a valid MQTT topic filter: "+" and "#" only as whole
// levels, "#" only as the last level.
func validPlainFilter(s string) bool {
	if !checkTopicText(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '+':
			if (i > 0 && s[i-1] != '/') || (i+1 < len(s) && s[i+1] != '/') {
				return false
			}
		case '#':
			if (i > 0 && s[i-1] != '/') || i+1 != len(s) {
				return false
			}
		}
	}
	return true
}

// stripShare removes a "$share/group/" or "$queue/" prefix (in any case, as
// mochi-mqtt and EMQX read it) and returns the filter that decides what the
// subscription receives. ok is false for a malformed shared subscription.
// The text length is checked on the whole filter first.
func stripShare(s string) (filter string, ok bool) {
	if len(s) > maxTopicLength {
		return "", false
	}
	first, rest, found := strings.Cut(s, "/")
	switch {
	case strings.EqualFold(first, "$share"):
		if !found {
			return "", false
		}
		group, f, found := strings.Cut(rest, "/")
		if !found || !checkTopicText(group) || strings.ContainsAny(group, "+#") || f == "" {
			return "", false
		}
		return f, true
	case strings.EqualFold(first, "$queue"):
		if !found || rest == "" {
			return "", false
		}
		return rest, true
	}
	return s, true
}

// isSys reports whether topic is in the broker's $SYS tree (any case:
// mochi-mqtt compares case-insensitively).
func isSys(topic string) bool {
	first, _, _ := strings.Cut(topic, "/")
	return strings.EqualFold(first, "$SYS")
}
