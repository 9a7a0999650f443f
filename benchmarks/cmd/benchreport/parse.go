package main

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// result is every measurement of one benchmark, by unit ("ns/op", "B/op",
// "allocs/op", or a custom unit from b.ReportMetric).
type result struct {
	op, impl string
	values   map[string][]float64
}

type run struct {
	cpu, goos, goarch        string
	date, machine, goVersion string
	results                  []*result // in order of first appearance
}

var procSuffix = regexp.MustCompile(`-\d+$`)

// parse reads benchmark lines: "BenchmarkOp/impl-N  iters  v unit  v unit ...".
func parse(text string) (*run, error) {
	r := &run{}
	byName := map[string]*result{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "cpu: "):
			r.cpu = strings.TrimPrefix(line, "cpu: ")
		case strings.HasPrefix(line, "goos: "):
			r.goos = strings.TrimPrefix(line, "goos: ")
		case strings.HasPrefix(line, "goarch: "):
			r.goarch = strings.TrimPrefix(line, "goarch: ")
		case strings.HasPrefix(line, "Benchmark"):
			f := strings.Fields(line)
			if len(f) < 4 || len(f)%2 != 0 {
				continue // a benchmark's name printed alone, or a log line
			}
			if _, err := strconv.Atoi(f[1]); err != nil {
				continue
			}
			name := procSuffix.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), "")
			op, impl, ok := strings.Cut(name, "/")
			if !ok {
				return nil, fmt.Errorf("benchmark %q is not named Benchmark<Op>/<impl>", f[0])
			}
			res := byName[name]
			if res == nil {
				res = &result{op: op, impl: impl, values: map[string][]float64{}}
				byName[name] = res
				r.results = append(r.results, res)
			}
			for i := 2; i+1 < len(f); i += 2 {
				v, err := strconv.ParseFloat(f[i], 64)
				if err != nil {
					return nil, fmt.Errorf("%s: bad value %q", f[0], f[i])
				}
				res.values[f[i+1]] = append(res.values[f[i+1]], v)
			}
		}
	}
	if len(r.results) == 0 {
		return nil, errors.New("no benchmark results in the input")
	}
	return r, nil
}

// median of the measurements of unit, and whether there are any.
func (res *result) median(unit string) (float64, bool) {
	v := slices.Clone(res.values[unit])
	if len(v) == 0 {
		return 0, false
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2], true
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2, true
}

func (r *run) find(op, impl string) *result {
	for _, res := range r.results {
		if res.op == op && res.impl == impl {
			return res
		}
	}
	return nil
}

// ops lists the operations in order of first appearance.
func (r *run) ops() []string {
	var ops []string
	for _, res := range r.results {
		if !slices.Contains(ops, res.op) {
			ops = append(ops, res.op)
		}
	}
	return ops
}
