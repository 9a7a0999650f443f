// Package strictjson reads JSON from outside strictly, for every parser of
// Latch: token headers, claims and key sets, integrator request
// definitions, the MQTT webhook's bodies, the example platform's API.
//
// encoding/json is lenient where a security boundary must not be: it matches
// member names in any case ("URL" fills the field "url"), keeps the last of
// duplicate members, and ignores unknown ones unless told. A document that
// says two things at once means one thing to a proxy or a validator and
// another to the code that acts on it: {"url":"https://good…",
// "URL":"https://evil…"} was the evil URL to integrator.ParseRequest.
//
// Decode refuses, with an *Error naming the member (never its value):
//   - anything but RFC 8259 JSON in valid UTF-8 (no lone surrogates);
//   - two members of one object with the same name after unescaping, and,
//     in an object read into a struct, names that differ only in case;
//   - in an object read into a struct, a member that is not exactly the JSON
//     name of one of its fields;
//   - data after the value, and documents over the Limits.
//
// Then it lets encoding/json fill the value, which it sets only when the
// whole document decodes. Hot-path parsers read tokens themselves with
// Reader.
package strictjson

import (
	"encoding"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// Limits bound the work a document can force. Zero fields take the
// defaults.
type Limits struct {
	MaxSize    int // bytes; default 1 MiB
	MaxDepth   int // nested objects and arrays; default 32
	MaxMembers int // members of one object or elements of one array; default 4096
}

// Defaults of Limits.
const (
	DefaultMaxSize    = 1 << 20
	DefaultMaxDepth   = 32
	DefaultMaxMembers = 4096
)

func (l Limits) withDefaults() Limits {
	if l.MaxSize <= 0 {
		l.MaxSize = DefaultMaxSize
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxMembers <= 0 {
		l.MaxMembers = DefaultMaxMembers
	}
	return l
}

// Decode reads the JSON document data into v, a non-nil pointer, under the
// default Limits. See the package doc for what it refuses. v is left as it
// was unless the whole document decodes; a struct or map it pointed to is
// replaced, not merged into.
func Decode(data []byte, v any) error { return DecodeLimits(data, v, Limits{}) }

// DecodeLimits is Decode under the given limits.
func DecodeLimits(data []byte, v any, lim Limits) error { return decode(data, v, lim, false) }

// DecodeExtensible is DecodeLimits for formats whose standard says that
// members a reader does not know must be ignored (a JWK Set and its keys,
// RFC 7517 sections 4 and 5): an object read into a struct may hold other
// members, skipped (still strictly checked), but never one whose name is a
// field's in another case ("KTY", "Kid"), nor two names that differ only in
// case.
func DecodeExtensible(data []byte, v any, lim Limits) error { return decode(data, v, lim, true) }

func decode(data []byte, v any, lim Limits, extensible bool) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		panic("strictjson: Decode needs a non-nil pointer")
	}
	d := decoder{r: NewReader(data), lim: lim.withDefaults(), extensible: extensible}
	t := rv.Type().Elem()
	if err := d.document(t); err != nil {
		return clean(err)
	}
	fresh := reflect.New(t)
	if err := json.Unmarshal(data, fresh.Interface()); err != nil {
		return clean(unmarshalError(err))
	}
	rv.Elem().Set(fresh.Elem())
	return nil
}

// Check validates a whole JSON document of any shape: syntax, exact
// duplicate members, trailing data and the limits.
func Check(data []byte, lim Limits) error {
	d := decoder{r: NewReader(data), lim: lim.withDefaults()}
	return clean(d.document(nil))
}

func clean(err error) error {
	if e, ok := err.(*Error); ok {
		e.Member = cleanName(e.Member)
	}
	return err
}

func unmarshalError(err error) error {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		// Value is "string", "number 1e9", "array"...: keep the kind only.
		kind, _, _ := strings.Cut(typ.Value, " ")
		return &Error{Reason: ErrType, Member: typ.Field, Offset: int(typ.Offset),
			detail: kind + " where " + typ.Type.String() + " is wanted"}
	}
	// The field's own UnmarshalJSON or UnmarshalText refused its value.
	return &Error{Reason: ErrType, Offset: -1, Err: err}
}

type decoder struct {
	r          Reader
	lim        Limits
	extensible bool // unknown struct members skipped (DecodeExtensible)
}

func (d *decoder) fail(reason error, member string) error {
	return &Error{Reason: reason, Member: member, Offset: d.r.i}
}

func (d *decoder) document(t reflect.Type) error {
	if len(d.r.b) > d.lim.MaxSize {
		return &Error{Reason: ErrLimit, Offset: -1, detail: "larger than " + strconv.Itoa(d.lim.MaxSize) + " bytes"}
	}
	t = schema(t)
	if t != nil && (t.Kind() == reflect.Struct || t.Kind() == reflect.Map) && d.r.ws() == 'n' {
		return &Error{Reason: ErrType, Offset: d.r.i, detail: "null where an object is wanted"}
	}
	if err := d.value(t, "", 0); err != nil {
		return err
	}
	if !d.r.End() {
		return d.fail(ErrTrailing, "")
	}
	return nil
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// schema returns the type whose shape a JSON value must have to be read
// into t: t without pointers, or nil when anything goes (an interface, a
// type that reads its own JSON or text).
func schema(t reflect.Type) reflect.Type {
	for t != nil {
		if t.Kind() == reflect.Interface ||
			t.Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(jsonUnmarshaler) ||
			t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
			return nil
		}
		if t.Kind() != reflect.Pointer {
			return t
		}
		t = t.Elem()
	}
	return nil
}

// value reads one value that is to go into t (see schema; nil: any).
func (d *decoder) value(t reflect.Type, path string, depth int) error {
	switch c := d.r.ws(); c {
	case '{', '[':
		if depth == d.lim.MaxDepth {
			return &Error{Reason: ErrLimit, Member: path, Offset: d.r.i, detail: "nested more than " + strconv.Itoa(d.lim.MaxDepth) + " deep"}
		}
		d.r.i++
		if c == '{' {
			return d.object(t, path, depth+1)
		}
		return d.array(t, path, depth+1)
	case '"':
		if _, err := d.r.Raw(); err != nil {
			return d.fail(ErrSyntax, path)
		}
	case 't', 'f', 'n':
		lit := "null"
		switch c {
		case 't':
			lit = "true"
		case 'f':
			lit = "false"
		}
		if d.r.literal(lit) != nil {
			return d.fail(ErrSyntax, path)
		}
	default:
		if d.r.number() != nil {
			return d.fail(ErrSyntax, path)
		}
	}
	return nil
}

func (d *decoder) object(t reflect.Type, path string, depth int) error {
	var fields map[string]reflect.Type
	var elem reflect.Type
	isStruct := t != nil && t.Kind() == reflect.Struct
	switch {
	case isStruct:
		fields = structFields(t)
	case t != nil && t.Kind() == reflect.Map:
		elem = schema(t.Elem())
	}
	if d.r.Consume('}') {
		return nil
	}
	var names []string
	var set map[string]struct{} // for large objects not read into a struct
	for {
		start := d.r.i
		b, err := d.r.Member()
		if err != nil {
			d.r.i = start
			return d.fail(ErrSyntax, path)
		}
		name := string(b)
		member := join(path, name)
		if isStruct {
			for _, n := range names {
				if strings.EqualFold(n, name) {
					return &Error{Reason: ErrDuplicate, Member: member, Offset: start}
				}
			}
			ft, ok := fields[name]
			switch {
			case ok:
				elem = schema(ft)
			case !d.extensible:
				return &Error{Reason: ErrUnknown, Member: member, Offset: start}
			default:
				for f := range fields {
					if strings.EqualFold(f, name) {
						return &Error{Reason: ErrUnknown, Member: member, Offset: start, detail: "a field's name in another case"}
					}
				}
				elem = nil
			}
		} else if set != nil {
			if _, dup := set[name]; dup {
				return &Error{Reason: ErrDuplicate, Member: member, Offset: start}
			}
			set[name] = struct{}{}
		} else {
			for _, n := range names {
				if n == name {
					return &Error{Reason: ErrDuplicate, Member: member, Offset: start}
				}
			}
		}
		if len(names)+len(set) == d.lim.MaxMembers {
			return &Error{Reason: ErrLimit, Member: path, Offset: start, detail: "more than " + strconv.Itoa(d.lim.MaxMembers) + " members"}
		}
		if set != nil {
			// counted in set
		} else if !isStruct && len(names) == 16 {
			set = make(map[string]struct{}, 32)
			for _, n := range names {
				set[n] = struct{}{}
			}
			set[name] = struct{}{}
			names = nil
		} else {
			names = append(names, name)
		}
		if err := d.value(elem, member, depth); err != nil {
			return err
		}
		more, err := d.r.Next('}')
		if err != nil {
			return d.fail(ErrSyntax, path)
		}
		if !more {
			return nil
		}
	}
}

func (d *decoder) array(t reflect.Type, path string, depth int) error {
	var elem reflect.Type
	if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		elem = schema(t.Elem())
	}
	if d.r.Consume(']') {
		return nil
	}
	for n := 0; ; n++ {
		if n == d.lim.MaxMembers {
			return &Error{Reason: ErrLimit, Member: path, Offset: d.r.i, detail: "more than " + strconv.Itoa(d.lim.MaxMembers) + " elements"}
		}
		if err := d.value(elem, path+"["+strconv.Itoa(n)+"]", depth); err != nil {
			return err
		}
		more, err := d.r.Next(']')
		if err != nil {
			return d.fail(ErrSyntax, path)
		}
		if !more {
			return nil
		}
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

var fieldCache sync.Map // reflect.Type -> map[string]reflect.Type

// structFields returns the JSON names of the fields encoding/json fills in
// a struct of type t, with their types: exported fields under their tag's
// name or their own, not tagged "-", and the fields of embedded structs
// without a name tag (the outer one winning a name clash).
func structFields(t reflect.Type) map[string]reflect.Type {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	fields := make(map[string]reflect.Type)
	addFields(fields, t, map[reflect.Type]bool{})
	fieldCache.Store(t, fields)
	return fields
}

func addFields(fields map[string]reflect.Type, t reflect.Type, visiting map[reflect.Type]bool) {
	if visiting[t] {
		return
	}
	visiting[t] = true
	defer delete(visiting, t)
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				embedded = append(embedded, ft)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, taken := fields[name]; !taken {
			fields[name] = f.Type
		}
	}
	for _, e := range embedded {
		addFields(fields, e, visiting)
	}
}
