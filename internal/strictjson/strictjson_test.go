package strictjson_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/latchsec/latch/internal/strictjson"
	"github.com/stretchr/testify/require"
)

type inner struct {
	Type  string `json:"type"`
	Token string `json:"tokenUrl,omitempty"`
}

type Embedded struct {
	Extra string `json:"extra"`
}

type doc struct {
	URL     string            `json:"url"`
	Headers []inner           `json:"headers"`
	Auth    inner             `json:"authorization"`
	Labels  map[string]string `json:"labels"`
	Any     any               `json:"any"`
	Raw     json.RawMessage   `json:"raw"`
	Count   int               `json:"count"`
	Ptr     *inner            `json:"ptr"`
	Skipped string            `json:"-"`
	NoTag   string
	Embedded
	//lint:ignore U1000 an unexported field, which a document must not fill
	hidden string
}

func TestDecodeAccepts(t *testing.T) {
	in := `{"url":"https://good.example","headers":[{"type":"a"}],"authorization":{"type":"b","tokenUrl":"https://t"},
		"labels":{"a":"1","A":"2"},"any":{"X":1,"x":2},"raw":{"k":[1,2]},"count":3,"ptr":{"type":"p"},"NoTag":"n","extra":"e"}`
	var d doc
	require.NoError(t, strictjson.Decode([]byte(in), &d))
	require.Equal(t, "https://good.example", d.URL)
	require.Equal(t, "b", d.Auth.Type)
	require.Equal(t, map[string]string{"a": "1", "A": "2"}, d.Labels, "map keys are data: case matters, both kept")
	require.Equal(t, "p", d.Ptr.Type)
	require.Equal(t, "e", d.Extra)
	require.Equal(t, "n", d.NoTag)
}

// TestDecodeRefuses is the attack table: each document would be accepted
// by encoding/json (most of them silently meaning something else).
func TestDecodeRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, in, member string
		reason           error
	}{
		{"case-insensitive duplicate", `{"url":"https://good","URL":"https://evil"}`, "URL", strictjson.ErrDuplicate},
		{"exact duplicate", `{"url":"https://good","url":"https://evil"}`, "url", strictjson.ErrDuplicate},
		{"escaped duplicate", `{"url":"https://good","\u0075rl":"https://evil"}`, "url", strictjson.ErrDuplicate},
		{"nested duplicate", `{"authorization":{"type":"a","Type":"b"}}`, "authorization.Type", strictjson.ErrDuplicate},
		{"duplicate in a map", `{"labels":{"a":"1","a":"2"}}`, "labels.a", strictjson.ErrDuplicate},
		{"duplicate in any", `{"any":{"k":1,"k":2}}`, "any.k", strictjson.ErrDuplicate},
		{"duplicate in raw", `{"raw":{"k":1,"k":2}}`, "raw.k", strictjson.ErrDuplicate},
		{"duplicate in array element", `{"headers":[{"type":"a"},{"type":"a","TYPE":"b"}]}`, "headers[1].TYPE", strictjson.ErrDuplicate},
		{"other case only", `{"URL":"https://evil"}`, "URL", strictjson.ErrUnknown},
		{"kelvin sign", `{"authorization":{"type":"a","to\u212aenUrl":"x"}}`, `authorization.to\u212aenUrl`, strictjson.ErrUnknown},
		{"unknown", `{"url":"x","proxy":"y"}`, "proxy", strictjson.ErrUnknown},
		{"skipped field", `{"Skipped":"y"}`, "Skipped", strictjson.ErrUnknown},
		{"unexported field", `{"hidden":"y"}`, "hidden", strictjson.ErrUnknown},
		{"unknown nested", `{"ptr":{"kind":"p"}}`, "ptr.kind", strictjson.ErrUnknown},
		{"trailing object", `{"url":"a"}{"url":"b"}`, "", strictjson.ErrTrailing},
		{"trailing garbage", `{"url":"a"} x`, "", strictjson.ErrTrailing},
		{"wrong type", `{"count":"3"}`, "count", strictjson.ErrType},
		{"null document", `null`, "", strictjson.ErrType},
		{"syntax", `{"url":"a",}`, "", strictjson.ErrSyntax},
		{"invalid utf-8", "{\"url\":\"\xff\"}", "url", strictjson.ErrSyntax},
		{"lone surrogate", `{"url":"\ud800"}`, "url", strictjson.ErrSyntax},
		{"leading zero", `{"count":01}`, "count", strictjson.ErrSyntax},
		{"deep", `{"any":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, ("any" + strings.Repeat("[0]", 31))[:64] + "...", strictjson.ErrLimit},
		{"empty", ``, "", strictjson.ErrSyntax},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := doc{URL: "before"}
			err := strictjson.Decode([]byte(tc.in), &d)
			require.ErrorIs(t, err, tc.reason)
			var e *strictjson.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, tc.member, e.Member)
			require.Equal(t, "before", d.URL, "half-written")
			require.True(t, strings.HasPrefix(err.Error(), "strictjson: "), err.Error())
			require.NotContains(t, err.Error(), "evil", "an error must not quote a value")
		})
	}
}

func TestDecodeLimits(t *testing.T) {
	var v any
	err := strictjson.DecodeLimits([]byte(`[1,2,3]`), &v, strictjson.Limits{MaxMembers: 2})
	require.ErrorIs(t, err, strictjson.ErrLimit)
	err = strictjson.DecodeLimits([]byte(`"abcdef"`), &v, strictjson.Limits{MaxSize: 4})
	require.ErrorIs(t, err, strictjson.ErrLimit)
	// Many members in a map go through the set, duplicates still caught.
	var m map[string]int
	var b strings.Builder
	b.WriteString("{")
	for i := range 100 {
		b.WriteString(`"k` + strings.Repeat("x", i) + `":1,`)
	}
	b.WriteString(`"kxxxxx":2}`)
	require.ErrorIs(t, strictjson.Decode([]byte(b.String()), &m), strictjson.ErrDuplicate)
}

// TestErrorNeverQuotesValues: member names are shown cut and escaped; a
// field's own error comes through under ErrType.
func TestErrorMessages(t *testing.T) {
	var d doc
	long := strings.Repeat("n", 500) + `\n`
	err := strictjson.Decode([]byte(`{"`+long+`":1}`), &d)
	require.ErrorIs(t, err, strictjson.ErrUnknown)
	require.Less(t, len(err.Error()), 120)
	var e *strictjson.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, strings.Repeat("n", 64)+"...", e.Member)
	require.NotContains(t, err.Error(), "\n")

	var lvl struct {
		L level `json:"l"`
	}
	err = strictjson.Decode([]byte(`{"l":"secret-value"}`), &lvl)
	require.ErrorIs(t, err, strictjson.ErrType)
	require.ErrorIs(t, err, errLevel)
}

var errLevel = errors.New("level: unknown")

type level int

func (l *level) UnmarshalText([]byte) error { return errLevel }

func TestCheck(t *testing.T) {
	require.NoError(t, strictjson.Check([]byte(` {"a":[1,{"b":null}],"A":true} `), strictjson.Limits{}))
	require.ErrorIs(t, strictjson.Check([]byte(`{"a":1,"a":2}`), strictjson.Limits{}), strictjson.ErrDuplicate)
	require.ErrorIs(t, strictjson.Check([]byte(`[[[]]]`), strictjson.Limits{MaxDepth: 2}), strictjson.ErrLimit)
}

func TestDecodeExtensible(t *testing.T) {
	var k struct {
		Kty string `json:"kty"`
	}
	require.NoError(t, strictjson.DecodeExtensible([]byte(`{"kty":"oct","ext":true,"x":{"y":1}}`), &k, strictjson.Limits{}))
	require.Equal(t, "oct", k.Kty)
	for _, in := range []string{`{"KTY":"RSA"}`, `{"kty":"oct","Kty":"RSA"}`, `{"ext":1,"EXT":2}`, `{"x":{"y":1,"y":2}}`} {
		err := strictjson.DecodeExtensible([]byte(in), &k, strictjson.Limits{})
		require.Error(t, err, in)
	}
	require.ErrorIs(t, strictjson.Decode([]byte(`{"kty":"oct","ext":true}`), &k), strictjson.ErrUnknown)
}
