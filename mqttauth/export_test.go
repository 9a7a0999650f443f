package mqttauth

// Limits and checks the tests reach from package mqttauth_test.
const (
	MaxIdentityLength = maxIdentityLength
	MaxRules          = maxRules
	MaxTopicLength    = maxTopicLength
	MaxTopicLevels    = maxTopicLevels
	MaxWebhookBody    = maxWebhookBody
	MaxWebhookTopics  = maxWebhookTopics
	MinBrokerSecret   = minBrokerSecret
	KeyPrefix         = keyPrefix
)

var ValidTopic = validTopic

// ValidFilter reports whether s is a valid MQTT topic filter: "+" and "#"
// only as whole levels, "#" only as the last level. A shared subscription
// ("$share/group/filter", or EMQX's "$queue/filter") is valid when its
// group has no wildcard and its filter is valid.
func ValidFilter(s string) bool {
	f, ok := stripShare(s)
	return ok && validPlainFilter(f)
}
