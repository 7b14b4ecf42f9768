package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// The figures of a sample, by name.
var (
	wallS = func(s sample) float64 { return s.Wall.Seconds() }
	// totalCPU is the run's CPU time in every process: opsbot's and the
	// servers' (the stub kubelet's included).
	totalCPU = func(s sample) float64 {
		t := s.CPU
		for _, d := range s.ServerCPU {
			t += d
		}
		return t.Seconds()
	}
	cpuS         = func(s sample) float64 { return s.CPU.Seconds() }
	rssMB        = func(s sample) float64 { return float64(s.MaxRSSKB) / 1024 }
	logMB        = func(s sample) float64 { return float64(s.LogBytes) / (1 << 20) }
	apiReqs      = func(s sample) float64 { return float64(s.APIServer) }
	kubelet      = func(s sample) float64 { return float64(s.Kubelet) }
	kubeletConns = func(s sample) float64 { return float64(s.KubeletConns) }
	amReqs       = func(s sample) float64 { return float64(s.AM) }
	prom         = func(s sample) float64 { return float64(s.Prom) }
	server       = func(name string) func(sample) float64 {
		return func(s sample) float64 { return s.ServerCPU[name].Seconds() }
	}
)

// cell prints a spread: the median, and the range when the runs differ.
func cell(sp spread, unit string, digits int) string {
	v := func(f float64) string {
		if digits == 0 {
			return thousands(int64(f + 0.5))
		}
		return strconv.FormatFloat(f, 'f', digits, 64)
	}
	out := v(sp.Median)
	if unit != "" {
		out += " " + unit
	}
	if v(sp.Min) != v(sp.Max) {
		out += " (" + v(sp.Min) + "–" + v(sp.Max) + ")"
	}
	return out
}

// ratio says how many times b's median is a's.
func ratio(a, b spread) string {
	if a.Median == 0 || b.Median == 0 {
		return ""
	}
	return times(b.Median / a.Median)
}

type row struct {
	name   string
	f      func(sample) float64
	unit   string
	digits int
}

var rows = []row{
	{"wall time", wallS, "s", 1},
	{"CPU time (user+sys)", cpuS, "s", 1},
	{"peak RSS (largest process)", rssMB, "MB", 0},
	{"kube-apiserver requests", apiReqs, "", 0},
	{"kubelet log requests", kubelet, "", 0},
	{"kubelet connections (from kube-apiserver)", kubeletConns, "", 0},
	{"log MB served", logMB, "MB", 1},
	{"Alertmanager requests", amReqs, "", 0},
	{"Prometheus requests", prom, "", 0},
}

func printComparison(c comparison) {
	runs := len(c.Full)
	fmt.Printf("\n%s, %d MB of logs, %d alerts, %d queries; medians of %d interleaved rounds, range in brackets.\n\n",
		c.Size, c.LogMB, c.Alerts, c.Queries, runs)
	if len(c.ByHand) > 0 {
		fmt.Printf("| full run | opsbot checklist | by hand (baseline.sh) | by hand / opsbot |\n|---|---|---|---|\n")
		for _, r := range rows {
			a, b := figure(c.Full, r.f), figure(c.ByHand, r.f)
			fmt.Printf("| %s | %s | %s | %s |\n", r.name, cell(a, r.unit, r.digits), cell(b, r.unit, r.digits), ratio(a, b))
		}
	} else {
		fmt.Printf("| full run | opsbot checklist |\n|---|---|\n")
		for _, r := range rows {
			fmt.Printf("| %s | %s |\n", r.name, cell(figure(c.Full, r.f), r.unit, r.digits))
		}
	}
	if len(c.Repeat) > 0 {
		fmt.Printf("\n| with --state | first run of the day | repeat run an hour later |")
		sep := "|---|---|---|"
		if len(c.ByHand) > 0 {
			fmt.Printf(" by hand | by hand / repeat |")
			sep += "---|---|"
		}
		fmt.Printf("\n%s\n", sep)
		for _, r := range rows {
			a, b := figure(c.First, r.f), figure(c.Repeat, r.f)
			fmt.Printf("| %s | %s | %s |", r.name, cell(a, r.unit, r.digits), cell(b, r.unit, r.digits))
			if len(c.ByHand) > 0 {
				h := figure(c.ByHand, r.f)
				fmt.Printf(" %s | %s |", cell(h, r.unit, r.digits), ratio(b, h))
			}
			fmt.Println()
		}
	}
	// Where the CPU goes: the servers' CPU seconds during each kind of run.
	kinds := []struct {
		name string
		ss   []sample
	}{{"opsbot checklist", c.Full}, {"by hand", c.ByHand}, {"first run (state)", c.First}, {"repeat run", c.Repeat}}
	names := serverNames(c.Full)
	fmt.Printf("\n| CPU seconds during the run (medians) | the program measured |")
	for _, n := range names {
		fmt.Printf(" %s |", n)
	}
	fmt.Printf(" total | CPU ms per MB of logs (the program) |\n|---|---|%s---|---|\n", strings.Repeat("---|", len(names)))
	for _, k := range kinds {
		if len(k.ss) == 0 {
			continue
		}
		own := figure(k.ss, cpuS).Median
		total := own
		fmt.Printf("| %s | %.1f |", k.name, own)
		for _, n := range names {
			v := figure(k.ss, server(n)).Median
			total += v
			fmt.Printf(" %.1f |", v)
		}
		perMB := ""
		if mb := figure(k.ss, logMB).Median; mb > 0 {
			perMB = fmt.Sprintf("%.0f", own*1000/mb)
		}
		fmt.Printf(" %.1f | %s |\n", total, perMB)
	}
	printFloors(c)
}

// floor is what the servers alone cost one kind of run: their CPU seconds
// during it, spread over every core at best, are a wall time no client can
// go below on this machine; the by-hand time over that is the largest ratio
// any client could reach here.
type floor struct {
	kind       string
	serversCPU float64 // seconds, medians summed over the servers
	wall       float64 // serversCPU / cores: the least wall time
	atMost     float64 // by hand's wall time / wall
	measured   float64 // by hand's wall time / the run's
}

// floors are the servers' floors of the full and the repeat runs; none
// without the by-hand runs or the number of cores.
func floors(c comparison) []floor {
	if len(c.ByHand) == 0 || c.Cores == 0 {
		return nil
	}
	hand := figure(c.ByHand, wallS).Median
	names := serverNames(c.Full)
	var out []floor
	for _, k := range []struct {
		name string
		ss   []sample
	}{{"full run", c.Full}, {"repeat run", c.Repeat}} {
		if len(k.ss) == 0 {
			continue
		}
		f := floor{kind: k.name, measured: hand / figure(k.ss, wallS).Median, serversCPU: serversCPU(k.ss, names)}
		f.wall = f.serversCPU / float64(c.Cores)
		if f.wall > 0 {
			f.atMost = hand / f.wall
		}
		out = append(out, f)
	}
	return out
}

func printFloors(c comparison) {
	fs := floors(c)
	if len(fs) == 0 {
		return
	}
	fmt.Printf("\n| the servers' floor, %d cores | the servers' CPU | the least wall time it leaves | by hand / that: the most any client could reach | by hand / opsbot, measured |\n|---|---|---|---|---|\n", c.Cores)
	for _, f := range fs {
		fmt.Printf("| %s | %.1f s | %.2f s | %s | %s |\n", f.kind, f.serversCPU, f.wall, times(f.atMost), times(f.measured))
	}
}

// times writes a ratio as ratio does.
func times(r float64) string {
	if r >= 100 {
		return fmt.Sprintf("%.0f×", r)
	}
	return fmt.Sprintf("%.1f×", r)
}

// serversCPU is the sum of the servers' median CPU seconds over ss.
func serversCPU(ss []sample, names []string) float64 {
	var sum float64
	for _, n := range names {
		sum += figure(ss, server(n)).Median
	}
	return sum
}

// serverNames are the processes sampled, the busiest first.
func serverNames(ss []sample) []string {
	if len(ss) == 0 {
		return nil
	}
	var names []string
	for n := range ss[0].ServerCPU {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := figure(ss, server(names[i])).Median, figure(ss, server(names[j])).Median
		if a != b {
			return a > b
		}
		return names[i] < names[j]
	})
	return names
}

func printScan(r scanResult) {
	fmt.Printf("\n| log scanning, %d MB generated log file (medians of interleaved runs) | MB/s |\n|---|---|\n", r.Bytes>>20)
	fmt.Printf("| opsbot scanner | %s |\n", cell(r.Scanner, "", 0))
	fmt.Printf("| grep -c -i -E 'error\\|fatal\\|exception' | %s |\n", cell(r.Grep, "", 0))
	fmt.Printf("| scanner / grep | %.2f |\n", r.Scanner.Median/r.Grep.Median)
}

func printScale(ps []point) {
	fmt.Printf("\n| pods | namespaces | log MB | planted in | wall time | opsbot CPU | peak RSS | kube-apiserver requests | kubelet requests | CPU, all processes | per 1,000 pods: wall, CPU |\n")
	fmt.Printf("|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, p := range ps {
		w, all := figure(p.Runs, wallS), figure(p.Runs, totalCPU)
		per := func(v float64) float64 { return v * 1000 / float64(p.Size.Pods) }
		fmt.Printf("| %s | %d | %s | %.0f s | %s | %s | %s | %s | %s | %s | %.2f s, %.2f s |\n",
			thousands(int64(p.Size.Pods)), p.Size.Namespaces, thousands(p.LogMB), p.PlantedIn,
			cell(w, "s", 1), cell(figure(p.Runs, cpuS), "s", 1), cell(figure(p.Runs, rssMB), "MB", 0),
			cell(figure(p.Runs, apiReqs), "", 0), cell(figure(p.Runs, kubelet), "", 0),
			cell(all, "s", 1), per(w.Median), per(all.Median))
	}
}

// thousands formats n with thousands separators: 10,000.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
