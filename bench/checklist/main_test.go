package main

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

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
		{spread{Median: 17.74, Min: 17.1, Max: 18.26}, "s", 1, "17.7 s (17.1–18.3)"},
		{spread{Median: 1954, Min: 1954, Max: 1954}, "", 0, "1,954"},
		{spread{Median: 58.2, Min: 57.9, Max: 58.4}, "MB", 0, "58 MB"},
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
	if b := img.Bounds(); b.Dx() != 1800 || b.Dy() != 450 {
		t.Errorf("chart is %v, want 1800×450", b)
	}
}

// replay redraws the chart from a -json file, and says so when the file
// has no growth series to draw.
func TestReplay(t *testing.T) {
	dir := t.TempDir()
	s := sample{Wall: 3 * time.Second, CPU: time.Second, MaxRSSKB: 70 << 10, ServerCPU: map[string]time.Duration{"kube-apiserver": 2 * time.Second}}
	write := func(name string, res results) string {
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	chart := filepath.Join(dir, "scale.png")
	withScale := write("scale.json", results{Scale: []point{{Size: size{2000, 1}, Runs: []sample{s}}, {Size: size{5000, 1}, Runs: []sample{s}}}})
	if err := replay(withScale, chart); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(chart); err != nil || fi.Size() == 0 {
		t.Errorf("no chart drawn: %v", err)
	}
	without := write("comparison.json", results{Comparison: comparison{Size: size{2000, 1}, Full: []sample{s}}})
	if err := replay(without, filepath.Join(dir, "none.png")); err == nil || !strings.Contains(err.Error(), "no growth series") {
		t.Errorf("replay without a series: %v", err)
	}
}

// TestFloors: the servers' CPU during a run, over the cores, is the least
// wall time a client could take; by hand's time over it the most it could
// reach.
func TestFloors(t *testing.T) {
	run := func(wall, apiserver, etcd time.Duration) sample {
		return sample{Wall: wall, ServerCPU: map[string]time.Duration{"kube-apiserver": apiserver, "etcd": etcd}}
	}
	c := comparison{
		Full:   []sample{run(3*time.Second, 3*time.Second, time.Second), run(2*time.Second, 3*time.Second, time.Second)},
		Repeat: []sample{run(1500*time.Millisecond, 1500*time.Millisecond, 500*time.Millisecond)},
		ByHand: []sample{run(150*time.Second, 10*time.Second, 5*time.Second)},
		Cores:  2,
	}
	got := floors(c)
	want := []floor{
		{kind: "full run", serversCPU: 4, wall: 2, atMost: 75, measured: 60},
		{kind: "repeat run", serversCPU: 2, wall: 1, atMost: 150, measured: 100},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("floors = %+v\nwant %+v", got, want)
	}
	c.Cores = 0 // a file from before the cores were recorded
	if got := floors(c); got != nil {
		t.Errorf("floors without the cores = %+v, want none", got)
	}
}
