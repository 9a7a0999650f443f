package integrator

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
)

// exactObject reads data as exactly one JSON object whose member names are
// among names, each at most once and spelled exactly (encoding/json alone
// would match names case-insensitively and keep the last of repeated
// ones), followed by nothing but white space. It returns the members' raw
// values; the caller decodes each into its type. Its errors name no value.
func exactObject(data []byte, names ...string) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	members := map[string]json.RawMessage{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, errors.New("not a JSON object")
		}
		name, _ := t.(string)
		if !slices.Contains(names, name) {
			return nil, errors.New("unknown field " + quoteName(name))
		}
		if _, ok := members[name]; ok {
			return nil, errors.New("repeated field " + quoteName(name))
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, errors.New("not a JSON object")
		}
		members[name] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, errors.New("not a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the object")
	}
	return members, nil
}

// field decodes the member name of an object read by exactObject into v,
// which must be present.
func field(members map[string]json.RawMessage, name string, v any) error {
	raw, ok := members[name]
	if !ok {
		return errors.New(name + ": missing")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return errors.New(name + ": wrong type or format")
	}
	return nil
}

// quoteName quotes a field name for an error message, cut short.
func quoteName(s string) string {
	if len(s) > 32 {
		s = s[:32] + "…"
	}
	b, _ := json.Marshal(s)
	return string(b)
}
