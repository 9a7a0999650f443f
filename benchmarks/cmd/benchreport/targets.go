package main

// target is a bound from an issue: the median of impl's unit, divided by the
// median of base's in the same run, is at most max. With base empty, the
// median itself is at most max.
type target struct {
	op, impl, base, unit string
	max                  float64
}

// targets are the speed and memory targets the issues set.
var targets = []target{
	{op: "TLSHandshake", impl: "pinleaf", base: "cacheck", unit: "ns/op", max: 0.95},
	{op: "TLSHandshake", impl: "pinintermediate", base: "cacheck", unit: "ns/op", max: 1.0},
}

// baselines names, for operations that have no "latch" implementation
// against peers, the implementation the others are compared with.
var baselines = map[string]string{
	"TLSHandshake": "cacheck",
}
