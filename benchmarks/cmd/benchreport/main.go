// Command benchreport turns the output of `go test -bench -count=N
// -benchmem` into benchmarks/README.md: the machine, the date, the median
// of every benchmark, and for each operation the ratios of Latch to the
// peers measured in the same run, checked against the targets in targets.go.
//
// Usage: go test -run='^$' -bench=. -count=5 -benchmem ./... | go run ./cmd/benchreport -date 2026-11-26 > README.md
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	date := flag.String("date", "", "date of the run, for the report")
	machine := flag.String("machine", "", "description of the machine, for the report")
	goVersion := flag.String("go", "", "Go version, for the report")
	flag.Parse()
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
	run, err := parse(string(in))
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
	run.date, run.machine, run.goVersion = *date, *machine, *goVersion
	missed := render(os.Stdout, run, append(targets, growthTargets...))
	if missed > 0 {
		fmt.Fprintf(os.Stderr, "benchreport: %d target(s) not met in this run\n", missed)
	}
}
