package main

import (
	"bufio"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"
)

func TestSpreadOf(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want spread
	}{
		{nil, spread{}},
		{[]float64{3}, spread{3, 3, 3}},
		{[]float64{9, 1, 5}, spread{5, 1, 9}},
		{[]float64{4, 1, 2, 10}, spread{3, 1, 10}},
	} {
		if got := spreadOf(tc.in); got != tc.want {
			t.Errorf("spreadOf(%v) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestSizes(t *testing.T) {
	got, err := sizes("2000,5000", "1,10")
	if err != nil {
		t.Fatal(err)
	}
	want := []size{{2000, 1}, {5000, 1}, {2000, 10}, {5000, 10}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sizes = %v, want %v", got, want)
	}
	for _, bad := range [][2]string{{"2000,x", "1"}, {"0", "1"}, {"2000", "-1"}, {"100", "10"}} {
		if _, err := sizes(bad[0], bad[1]); err == nil {
			t.Errorf("sizes(%q, %q): no error", bad[0], bad[1])
		}
	}
	if got, err := sizes("", "1"); got != nil || err != nil {
		t.Errorf(`sizes("") = %v, %v; want nothing`, got, err)
	}
}

func TestCell(t *testing.T) {
	for _, tc := range []struct {
		sp     spread
		unit   string
		digits int
		want   string
	}{
		{spread{17.74, 17.1, 18.26}, "s", 1, "17.7 s (17.1–18.3)"},
		{spread{1954, 1954, 1954}, "", 0, "1,954"},
		{spread{58.2, 57.9, 58.4}, "MB", 0, "58 MB"},
	} {
		if got := cell(tc.sp, tc.unit, tc.digits); got != tc.want {
			t.Errorf("cell(%+v) = %q, want %q", tc.sp, got, tc.want)
		}
	}
	if got := ratio(spread{Median: 2}, spread{Median: 300}); got != "150×" {
		t.Errorf("ratio = %q", got)
	}
	if got := ratio(spread{Median: 17.7}, spread{Median: 137.2}); got != "7.8×" {
		t.Errorf("ratio = %q", got)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 10000: "10,000", 1234567: "1,234,567", -2000: "-2,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// processCPU reads a child's CPU time as the kernel accounts it: a child
// that spun a loop has used some, no more than the wall time it lived on
// this machine's cores, and no more than the kernel's total once reaped.
func TestProcessCPU(t *testing.T) {
	cmd := exec.Command("sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo spun; read x; exit 0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "spun\n" {
		t.Fatalf("child said %q, %v", line, err)
	}
	got, err := processCPU(cmd.Process.Pid)
	lived := time.Since(started)
	in.Close()
	if werr := cmd.Wait(); werr != nil {
		t.Fatal(werr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if got <= 0 || got > lived*time.Duration(runtime.NumCPU()) {
		t.Errorf("processCPU = %v after %v of wall time", got, lived)
	}
	if kernel := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(); got > kernel+clockTick {
		t.Errorf("processCPU = %v while it was waiting, the kernel's total at exit is %v", got, kernel)
	}
	if _, err := processCPU(1 << 30); err == nil {
		t.Error("processCPU of a process that does not exist: no error")
	}
}

func TestDrawScale(t *testing.T) {
	run := func(wall float64, rss int64, reqs int64) []sample {
		return []sample{{Wall: time.Duration(wall * float64(time.Second)), MaxRSSKB: rss << 10, APIServer: reqs, Kubelet: reqs}}
	}
	ps := []point{
		{Size: size{2000, 1}, Runs: run(18, 60, 2000)},
		{Size: size{5000, 1}, Runs: run(45, 80, 5000)},
		{Size: size{2000, 10}, Runs: run(19, 61, 2010)},
		{Size: size{5000, 10}, Runs: run(46, 82, 5010)},
	}
	path := filepath.Join(t.TempDir(), "scale.png")
	if err := drawScale(path, ps); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1500 || b.Dy() != 450 {
		t.Errorf("chart is %v, want 1500×450", b)
	}
}
