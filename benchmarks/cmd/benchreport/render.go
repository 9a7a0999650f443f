package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// render writes the report and returns how many targets were missed.
func render(w io.Writer, r *run, targets []target) (missed int) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("# Benchmarks\n\n")
	p("Side-by-side benchmarks of Latch and the libraries a user would otherwise pick, in a Go module of\n")
	p("their own so that the peers never enter Latch's go.mod. Each benchmark is named\n")
	p("`Benchmark<Op>/<impl>`, where `<impl>` is `latch` (or a Latch variant) or the peer's short name.\n\n")
	p("Run `benchmarks/run` to measure again and rewrite this file. Absolute times are noise on a shared\n")
	p("machine; the figures to quote are the ratios between implementations measured in the same run.\n")
	p("Where a benchmark reports `cpu-ns/op`, that is the process's CPU time per operation over the\n")
	p("loop (getrusage: user and system, garbage collector included). Unlike ns/op it does not count time\n")
	p("spent waiting for a CPU that other processes hold, so when the machine is busy and the two\n")
	p("disagree, the cpu-ns/op ratios are the ones to trust; the speed targets are checked on both.\n")
	p("What each implementation does in a benchmark, and where the implementations differ, is written at\n")
	p("the top of the benchmark's `*_test.go` file.\n\n")
	p("Sizes that would make a `-benchtime=1x` run slow are smaller by default and set by environment\n")
	p("variables: `BenchmarkRevocationSync` synchronizes a `token/redisrevoke` List with 100,000 revoked\n")
	p("IDs; `LATCH_BENCH_REVOCATIONS=1000000 benchmarks/run RevocationSync` measures the 1,000,000 of\n")
	p("issue 18 (its targets are per revoked ID, so both sizes check them).\n\n")

	p("## This run\n\n")
	p("- date: %s\n", orDash(r.date))
	p("- machine: %s\n", orDash(r.machine))
	p("- cpu: %s\n", orDash(r.cpu))
	p("- platform: %s/%s, %s\n", orDash(r.goos), orDash(r.goarch), orDash(r.goVersion))
	p("- medians of %d runs of each benchmark, in rounds that take every benchmark in turn, with `-benchmem`\n\n", r.maxCount())

	var main, growth []target
	for _, t := range targets {
		if t.growth != "" {
			growth = append(growth, t)
		} else {
			main = append(main, t)
		}
	}
	if len(main) > 0 {
		p("## Targets\n\n")
		p("| op | measured | target | met |\n|---|---|---|---|\n")
		for _, t := range main {
			what, measured, bound, met := r.checkTarget(t)
			if met != "yes" && !t.info {
				missed++
			}
			p("| %s | %s | %s | %s |\n", what, measured, bound, met)
		}
		p("\n")
	}
	if len(growth) > 0 {
		p("## How costs grow\n\n")
		p("The same operation with more of the work it grows with: revoked tokens in the list a\n")
		p("verification consults, subscribers a PUBLISH is delivered to, clients connecting or connected\n")
		p("at once. Each broker benchmark runs the Latch hook and allow-all side by side, alternating,\n")
		p("and reports their ratio (vs-allowall: the Latch broker's rate over allow-all's, so above 1 is\n")
		p("faster). Rows without a target show a figure the issue asked to measure.\n\n")
		p("| grows | figure | measured | target | met |\n|---|---|---|---|---|\n")
		var notes []string
		for _, t := range growth {
			what, measured, bound, met := r.checkTarget(t)
			if met != "yes" && !t.info {
				missed++
				if t.note != "" {
					i := slices.Index(notes, t.note)
					if i < 0 {
						notes, i = append(notes, t.note), len(notes)
					}
					met += fmt.Sprintf(" (note %d)", i+1)
				}
			}
			p("| %s | %s | %s | %s | %s |\n", t.growth, what, measured, bound, met)
		}
		p("\n")
		for i, n := range notes {
			p("Note %d. %s\n\n", i+1, n)
		}
	}

	p("## Ratios\n\n")
	p("Each row divides the first implementation's median by the second's (below 1 means the first is\n")
	p("faster or smaller). \"other\" divides the custom metrics that both report.\n\n")
	p("| op | impl | vs | time | B/op | allocs/op | other |\n|---|---|---|---|---|---|---|\n")
	for _, op := range r.ops() {
		for _, pair := range r.pairs(op) {
			a, b := r.find(op, pair[0]), r.find(op, pair[1])
			p("| %s | %s | %s | %s | %s | %s | %s |\n", op, pair[0], pair[1],
				ratio(a, b, "ns/op"), ratio(a, b, "B/op"), ratio(a, b, "allocs/op"), customRatios(a, b))
		}
	}
	p("\n")

	p("## Medians\n\n")
	units := r.units()
	p("| benchmark | %s |\n|---|%s\n", strings.Join(units, " | "), strings.Repeat("---|", len(units)))
	for _, res := range r.results {
		var cells []string
		for _, u := range units {
			if v, ok := res.median(u); ok {
				cells = append(cells, num(v))
			} else {
				cells = append(cells, "")
			}
		}
		p("| %s/%s | %s |\n", res.op, res.impl, strings.Join(cells, " | "))
	}
	return missed
}

// pairs lists the comparisons shown for op: every other implementation
// against the op's baseline if it has one, else every Latch implementation
// against every peer.
func (r *run) pairs(op string) [][2]string {
	var impls []string
	for _, res := range r.results {
		if res.op == op {
			impls = append(impls, res.impl)
		}
	}
	var out [][2]string
	if base, ok := baselines[op]; ok {
		for _, i := range impls {
			if i != base {
				out = append(out, [2]string{i, base})
			}
		}
		return out
	}
	for _, a := range impls {
		if !isLatch(a) {
			continue
		}
		for _, b := range impls {
			if !isLatch(b) {
				out = append(out, [2]string{a, b})
			}
		}
	}
	return out
}

func isLatch(impl string) bool { return impl == "latch" || strings.HasPrefix(impl, "latch-") }

// checkTarget returns a target's row: what it bounds, the value measured,
// the bound, and whether it is met ("yes", "**no**", "no" when not
// measured, "–" for a figure without a bound).
func (r *run) checkTarget(t target) (what, measured, bound, met string) {
	value, ok := r.targetValue(t)
	what = fmt.Sprintf("%s/%s %s", t.op, t.impl, t.unit)
	cmp := "≤"
	if t.atLeast {
		cmp = "≥"
	}
	bound = fmt.Sprintf("%s %s", cmp, num(t.max))
	if t.base != "" {
		what = fmt.Sprintf("%s/%s %s ÷ %s/%s %s", t.op, t.impl, t.unit, t.baseOpOf(), t.base, t.baseUnitOf())
		if t.baseUnitOf() == t.unit {
			what = fmt.Sprintf("%s/%s ÷ %s/%s (%s)", t.op, t.impl, t.baseOpOf(), t.base, t.unit)
		}
		bound = fmt.Sprintf("%s %.2f×", cmp, t.max)
	} else if t.atLeast || t.max != float64(int64(t.max)) {
		bound = fmt.Sprintf("%s %.2f", cmp, t.max)
	}
	measured = "not measured"
	if ok {
		measured = ratioOrNum(t, value)
	}
	switch {
	case t.info:
		bound, met = "–", "–"
	case !ok:
		met = "no"
	case t.met(value):
		met = "yes"
	default:
		met = "**no**"
	}
	return what, measured, bound, met
}

func (r *run) targetValue(t target) (float64, bool) {
	a := r.find(t.op, t.impl)
	if a == nil {
		return 0, false
	}
	av, ok := a.median(t.unit)
	if !ok {
		return 0, false
	}
	if t.base == "" {
		return av, true
	}
	b := r.find(t.baseOpOf(), t.base)
	if b == nil {
		return 0, false
	}
	bv, ok := b.median(t.baseUnitOf())
	if !ok || bv == 0 {
		return 0, false
	}
	return av / bv, true
}

func (r *run) maxCount() int {
	n := 0
	for _, res := range r.results {
		n = max(n, len(res.values["ns/op"]))
	}
	return n
}

// units lists ns/op, B/op and allocs/op first, then custom units.
func (r *run) units() []string {
	units := []string{"ns/op", "B/op", "allocs/op"}
	var custom []string
	for _, res := range r.results {
		for u := range res.values {
			if !slices.Contains(units, u) && !slices.Contains(custom, u) {
				custom = append(custom, u)
			}
		}
	}
	slices.Sort(custom)
	return append(units, custom...)
}

func ratio(a, b *result, unit string) string {
	av, ok1 := a.median(unit)
	bv, ok2 := b.median(unit)
	if !ok1 || !ok2 || bv == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", av/bv)
}

// customRatios lists the ratios of the custom metrics (units other than
// ns/op, B/op and allocs/op) that both a and b report, by unit.
func customRatios(a, b *result) string {
	var units []string
	for u := range a.values {
		if _, ok := b.values[u]; ok && u != "ns/op" && u != "B/op" && u != "allocs/op" {
			units = append(units, u)
		}
	}
	if len(units) == 0 {
		return "–"
	}
	slices.Sort(units)
	cells := make([]string, len(units))
	for i, u := range units {
		cells[i] = u + " " + ratio(a, b, u)
	}
	return strings.Join(cells, ", ")
}

func ratioOrNum(t target, v float64) string {
	if t.base != "" {
		return fmt.Sprintf("%.2f×", v)
	}
	if v != float64(int64(v)) && v < 10 {
		return fmt.Sprintf("%.2f", v) // a ratio such as vs-allowall
	}
	return num(v)
}

func num(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.1f", v)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
