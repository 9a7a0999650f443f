package strictjson_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/latchsec/latch/internal/strictjson"
)

// FuzzDecode: no input panics; whatever Decode accepts is valid JSON that
// encoding/json reads to the same value, whose struct members are exactly
// the fields' names, each once; every refusal is an *Error under one of the
// package's reasons.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"url":"https://good","headers":[{"type":"a"}],"authorization":{"type":"b"}}`,
		`{"url":"a","URL":"b"}`, `{"labels":{"a":"1","A":"2"}}`, `{"any":[1,2.5e3,true,null,"\u00e9"]}`,
		`{"raw":{"k":{"k":1}}}`, `{"count":-0}`, `null`, `{"url":"\ud83d\ude00"}`, `{} `, `[]`,
	} {
		f.Add([]byte(s))
	}
	reasons := []error{strictjson.ErrSyntax, strictjson.ErrDuplicate, strictjson.ErrUnknown,
		strictjson.ErrTrailing, strictjson.ErrLimit, strictjson.ErrType}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d doc
		err := strictjson.Decode(data, &d)
		if err != nil {
			var e *strictjson.Error
			if !errors.As(err, &e) {
				t.Fatalf("not an *Error: %v", err)
			}
			known := false
			for _, r := range reasons {
				known = known || errors.Is(err, r)
			}
			if !known {
				t.Fatalf("unknown reason: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "strictjson: ") {
				t.Fatalf("message: %v", err)
			}
		} else {
			if !json.Valid(data) {
				t.Fatalf("accepted invalid JSON %q", data)
			}
			var members map[string]json.RawMessage
			if json.Unmarshal(data, &members) != nil {
				t.Fatalf("accepted a non-object for a struct: %q", data)
			}
			for name := range members {
				if strings.ToLower(name) != name && name != "NoTag" {
					t.Fatalf("accepted member %q", name)
				}
			}
			var again doc
			if err := json.Unmarshal(data, &again); err != nil {
				t.Fatalf("encoding/json refuses what Decode accepted: %v", err)
			}
		}
		var v any
		if strictjson.Decode(data, &v) == nil && strictjson.Check(data, strictjson.Limits{}) != nil {
			t.Fatalf("Decode into any and Check disagree on %q", data)
		}
	})
}
