package mqttauth

import "unicode/utf8"

// maxIdentityLength caps client ids, user names and device ids, in bytes.
const maxIdentityLength = 128

// ValidIdentity reports whether s may be used as a client id or device id:
// 1 to 128 bytes of valid UTF-8 without "+", "#", "/", NUL
// or any other control character (C0, DEL, C1), and not starting with "$".
//
// Identities are substituted into topic templates. An identity holding a
// wildcard or a level separator would change what a rule matches: a client
// id "#" would turn the rule "clients/{clientid}/#" into "clients/#/#",
// which is mosquitto's CVE-2017-7650. One starting with "$" would reach the
// broker's reserved topics.
func ValidIdentity(s string) bool {
	if len(s) == 0 || len(s) > maxIdentityLength || s[0] == '$' {
		return false
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f || c == '+' || c == '#' || c == '/' {
				return false
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
	return true
}
