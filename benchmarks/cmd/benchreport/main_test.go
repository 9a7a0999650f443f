package main

import (
	"strings"
	"testing"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/latchsec/latch/benchmarks
cpu: Test CPU
BenchmarkTLSHandshake/cacheck-2         	     300	    700 ns/op	   100 B/op	     10 allocs/op
BenchmarkTLSHandshake/cacheck-2         	     300	    900 ns/op	   100 B/op	     10 allocs/op
BenchmarkTLSHandshake/cacheck-2         	     300	    800 ns/op	   100 B/op	     10 allocs/op
BenchmarkTLSHandshake/pinleaf-2         	     300	    400 ns/op	    50 B/op	      5 allocs/op
BenchmarkTLSHandshake/pinleaf-2         	     300	    600 ns/op	    50 B/op	      5 allocs/op
BenchmarkTLSHandshake/pinleaf-2         	     300	    500 ns/op	    50 B/op	      5 allocs/op
BenchmarkTLSHandshake/pinintermediate-2 	     300	    900 ns/op	    80 B/op	      8 allocs/op
BenchmarkTokenVerify/latch-2            	    1000	    100 ns/op	   900 bytes/token	     1 allocs/op
BenchmarkTokenVerify/jwx-2              	    1000	    800 ns/op	  1000 bytes/token	    40 allocs/op
BenchmarkDeviceBinary/latch-2           	 2000000	   6000000 bytes/binary	   272 B/op	     2 allocs/op
BenchmarkDeviceBinary/nethttp-2         	 2000000	   4000000 bytes/binary	   272 B/op	     2 allocs/op
PASS
`

func TestParseAndRender(t *testing.T) {
	r, err := parse(sample)
	if err != nil {
		t.Fatal(err)
	}
	if r.cpu != "Test CPU" || len(r.results) != 7 {
		t.Fatalf("parsed %q with %d results", r.cpu, len(r.results))
	}
	if m, _ := r.find("TLSHandshake", "cacheck").median("ns/op"); m != 800 {
		t.Fatalf("median %v, want 800", m)
	}
	var out strings.Builder
	missed := render(&out, r, []target{
		{op: "TLSHandshake", impl: "pinleaf", base: "cacheck", unit: "ns/op", max: 0.95},
		{op: "TLSHandshake", impl: "pinintermediate", base: "cacheck", unit: "ns/op", max: 1.0},
		{op: "TokenVerify", impl: "latch", unit: "allocs/op", max: 20},
		{op: "Missing", impl: "latch", base: "peer", unit: "ns/op", max: 1},
		{op: "DeviceBinary", impl: "latch", base: "nethttp", unit: "bytes/binary", max: 1.3},
	})
	if missed != 3 {
		t.Errorf("missed %d targets, want 3 (pinintermediate at 1.12x, the unmeasured one, the binary at 1.5x)\n%s", missed, out.String())
	}
	for _, want := range []string{
		"| TLSHandshake/pinleaf ÷ TLSHandshake/cacheck (ns/op) | 0.62× | ≤ 0.95× | yes |",
		"| TLSHandshake/pinintermediate ÷ TLSHandshake/cacheck (ns/op) | 1.12× | ≤ 1.00× | **no** |",
		"| TokenVerify/latch allocs/op | 1 | ≤ 20 | yes |",
		"| TokenVerify | latch | jwx | 0.12× | – | 0.03× | bytes/token 0.90× |",
		"| TLSHandshake | pinleaf | cacheck | 0.62× | 0.50× | 0.50× | – |",
		"| DeviceBinary | latch | nethttp | – | 1.00× | 1.00× | bytes/binary 1.50× |",
		"| DeviceBinary/latch ÷ DeviceBinary/nethttp (bytes/binary) | 1.50× | ≤ 1.30× | **no** |",
		"| benchmark | ns/op | B/op | allocs/op | bytes/binary | bytes/token |",
		"| DeviceBinary/latch |  | 272 | 2 | 6000000 |  |",
		"| TokenVerify/jwx | 800 |  | 40 |  | 1000 |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q\n%s", want, out.String())
		}
	}
}

func TestParseRefusesBadNames(t *testing.T) {
	if _, err := parse("BenchmarkNoImpl-2 10 5 ns/op\n"); err == nil {
		t.Fatal("a benchmark without /impl was accepted")
	}
	if _, err := parse("PASS\n"); err == nil {
		t.Fatal("input without results was accepted")
	}
}

func TestGrowthTable(t *testing.T) {
	r, err := parse(`BenchmarkMQTTACL/latch-2 1000 150 ns/op
BenchmarkMQTTFanOut/latch-1000-2 10 5000000 ns/op 0.99 vs-allowall 0.95 cpu-vs-allowall 280 hook-cpu-ns/delivery
BenchmarkMQTTFanOut/latch-1000-2 10 5000000 ns/op 0.97 vs-allowall 0.96 cpu-vs-allowall 320 hook-cpu-ns/delivery
BenchmarkMQTTFanOut/latch-1000-2 10 5000000 ns/op 1.01 vs-allowall 0.97 cpu-vs-allowall 300 hook-cpu-ns/delivery
`)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	missed := render(&out, r, []target{
		{op: "MQTTACL", impl: "latch", base: "ledger", unit: "ns/op", max: 0.5},
		{growth: "subscribers: 1,000", op: "MQTTFanOut", impl: "latch-1000", unit: "vs-allowall", max: 0.98, atLeast: true},
		{growth: "subscribers: 1,000", op: "MQTTFanOut", impl: "latch-1000", unit: "cpu-vs-allowall", max: 0.98, atLeast: true, note: "why it is missed"},
		{growth: "subscribers: 1,000", op: "MQTTFanOut", impl: "latch-1000", unit: "vs-allowall", max: 0.9, atLeast: true, note: "never shown: met"},
		{growth: "subscribers: 1,000", op: "MQTTFanOut", impl: "latch-1000", unit: "hook-cpu-ns/delivery", baseOp: "MQTTACL", base: "latch", baseUnit: "ns/op", max: 2},
		{growth: "subscribers: 1,000", op: "MQTTFanOut", impl: "latch-1000", unit: "hook-ns/delivery", info: true},
	})
	if missed != 2 {
		t.Errorf("missed %d targets, want 2 (the unmeasured ledger, cpu-vs-allowall at 0.96)\n%s", missed, out.String())
	}
	for _, want := range []string{
		"## How costs grow",
		"| subscribers: 1,000 | MQTTFanOut/latch-1000 vs-allowall | 0.99 | ≥ 0.98 | yes |",
		"| subscribers: 1,000 | MQTTFanOut/latch-1000 cpu-vs-allowall | 0.96 | ≥ 0.98 | **no** (note 1) |",
		"Note 1. why it is missed",
		"| subscribers: 1,000 | MQTTFanOut/latch-1000 hook-cpu-ns/delivery ÷ MQTTACL/latch ns/op | 2.00× | ≤ 2.00× | yes |",
		"| subscribers: 1,000 | MQTTFanOut/latch-1000 hook-ns/delivery | not measured | – | – |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "never shown") {
		t.Error("the note of a met target is shown")
	}
	if strings.Contains(out.String(), "\n| MQTTFanOut/latch-1000 vs-allowall |") {
		t.Error("a growth target is in the main table too")
	}
}
