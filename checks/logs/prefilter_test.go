package logs

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/opsbot/opsbot/checks/logs/logstest"
)

// prefilterLines returns the starts of the lines of text that the
// prefilter's search finds, walking text as Scanner.region does.
func prefilterLines(f *prefilter, text []byte) []int {
	var got []int
	f.begin()
	for i := 0; i < len(text); {
		p := f.find(text, 0, i, len(text))
		if p >= len(text) {
			break
		}
		ls := lastNewline(text, i, p) + 1
		ls = max(ls, i)
		got = append(got, ls)
		le := bytes.IndexByte(text[p:], '\n')
		if le < 0 {
			break
		}
		i = p + le + 1
	}
	return got
}

// naiveLines returns the starts of the lines of text that contain a
// pattern, one line at a time.
func naiveLines(f *prefilter, text []byte) []int {
	var want []int
	for ls := 0; ls < len(text); {
		le := bytes.IndexByte(text[ls:], '\n')
		if le < 0 {
			le = len(text) - ls
		}
		if f.line(text[ls : ls+le]) {
			want = append(want, ls)
		}
		ls += le + 1
	}
	return want
}

// checkPrefilter compares the search, with and without tripleScan, with
// the line-at-a-time reference.
func checkPrefilter(t *testing.T, text []byte, numeric bool) {
	t.Helper()
	var f prefilter
	f.reset()
	if numeric {
		f.addNumericLevels()
	}
	want := naiveLines(&f, text)
	if got := prefilterLines(&f, text); !slices.Equal(got, want) {
		t.Fatalf("prefilter finds the lines at %v, want %v, in %q", got, want, text)
	}
	if tripleScan == nil {
		return
	}
	scan := tripleScan
	tripleScan = nil
	defer func() { tripleScan = scan }()
	if got := prefilterLines(&f, text); !slices.Equal(got, want) {
		t.Fatalf("prefilter without tripleScan finds the lines at %v, want %v, in %q", got, want, text)
	}
}

// prefilterPieces make up the texts of the tests: whole patterns and
// parts of them, in every case, close to each other and to newlines.
var prefilterPieces = func() []string {
	p := []string{"\n", " ", "e", "r", "rro", "ro", "ERRO", "rr", "a", "t", "ta", "ata", "ni", "an", "ani", "cri",
		"Cri", "ve", "er", "vere", "x", "xcep", "ception", "Trace", "back", "ack", `"level":`, "5", "6", "level",
		"INFO", "2026-11-24T09:12:33.123Z", "\t", "é"}
	for _, pat := range append(slices.Clone(prefilterPatterns), numericLevelPatterns...) {
		p = append(p, pat, pat[:len(pat)-1], pat[1:])
	}
	return p
}()

// TestPrefilterFindsEveryLine: the buffer-at-a-time search finds exactly
// the lines that contain a pattern, wherever the patterns fall against
// the blocks of 16 and 32 bytes it reads.
func TestPrefilterFindsEveryLine(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b []byte
		for n := rnd.IntN(80); n > 0; n-- {
			b = append(b, prefilterPieces[rnd.IntN(len(prefilterPieces))]...)
		}
		checkPrefilter(t, b, rnd.IntN(2) == 0)
	}
	// Each pattern at every offset of a long line.
	for _, pat := range append(slices.Clone(prefilterPatterns), numericLevelPatterns...) {
		for off := range 100 {
			for _, tail := range []int{0, 1, 30, 70} {
				text := []byte(strings.Repeat(".", off) + pat + strings.Repeat(".", tail) + "\nabc\n")
				checkPrefilter(t, text, true)
				checkPrefilter(t, text[:off+len(pat)], true)
			}
		}
	}
}

// FuzzPrefilter: the same, on any text.
func FuzzPrefilter(f *testing.F) {
	f.Add([]byte("2026-11-24 INFO ok\n2026-11-24 ERROR failed\nat x\n"), false)
	f.Add([]byte(`{"level":50,"msg":"x"}`+"\nSevere\n"), true)
	f.Fuzz(func(t *testing.T, text []byte, numeric bool) {
		checkPrefilter(t, text, numeric)
	})
}

// TestScannerSameWithoutTripleScan: the scanner reports the same groups,
// counts and samples whether or not tripleScan skips the text.
func TestScannerSameWithoutTripleScan(t *testing.T) {
	if tripleScan == nil {
		t.Skip("no tripleScan on this processor")
	}
	for _, format := range []logstest.Format{logstest.Plain, logstest.JSON, logstest.Klog} {
		var buf bytes.Buffer
		if _, err := logstest.GenerateWith(&buf, logstest.Options{Format: format, Size: 4 << 20, Seed: 7, ErrorRatio: 0.05}); err != nil {
			t.Fatal(err)
		}
		scan := func() ([]Group, Stats) {
			sc := NewScanner(ScannerConfig{})
			if err := sc.Scan(bytes.NewReader(buf.Bytes())); err != nil {
				t.Fatal(err)
			}
			return sc.Top(0), sc.Stats()
		}
		groups, stats := scan()
		ts := tripleScan
		tripleScan = nil
		plainGroups, plainStats := scan()
		tripleScan = ts
		if !slices.Equal(groups, plainGroups) || stats != plainStats {
			t.Errorf("%v: with tripleScan %d groups, %+v; without %d groups, %+v", format, len(groups), stats, len(plainGroups), plainStats)
		}
		if len(groups) == 0 {
			t.Errorf("%v: no groups", format)
		}
	}
}

// TestTripleScan compares tripleScan with a byte-by-byte search for the
// triples of pairPatterns (each byte ORed with 0x20), on text made of the
// triples' bytes in both cases, the bytes that equal them once ORed with
// 0x20 or differ from them by one nibble, and bytes above 0x7f.
func TestTripleScan(t *testing.T) {
	if tripleScan == nil {
		t.Skip("no tripleScan on this processor")
	}
	var trs [][]byte
	alphabet := []byte{0x00, 0x7f, 0x80, 0xff, '\n', ' ', '@', '`', '.'}
	for _, pp := range pairPatterns {
		tr := []byte(strings.ToLower(pp.pat[pp.triple : pp.triple+3]))
		trs = append(trs, tr)
		for _, c := range tr {
			alphabet = append(alphabet, c, c&^0x20, c^0x01, c^0x10, c^0x40, c^0x80, c+0x10)
		}
	}
	// want is the first position of a triple in s, or -1.
	want := func(s []byte) int {
		for k := 0; k+3 <= len(s); k++ {
			for _, tr := range trs {
				if s[k]|0x20 == tr[0] && s[k+1]|0x20 == tr[1] && s[k+2]|0x20 == tr[2] {
					return k
				}
			}
		}
		return -1
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		s := make([]byte, rnd.IntN(200))
		for k := range s {
			s[k] = alphabet[rnd.IntN(len(alphabet))]
		}
		if rnd.IntN(2) == 0 && len(s) >= 3 {
			tr := trs[rnd.IntN(len(trs))]
			k := rnd.IntN(len(s) - 2)
			for j, c := range tr {
				s[k+j] = c &^ (byte(rnd.IntN(2)) << 5)
			}
		}
		w := want(s)
		c, found := tripleScan(s)
		switch {
		case found && c != w:
			t.Fatalf("tripleScan(%q) = %d, true; the first triple is at %d", s, c, w)
		case !found && w >= 0 && w < c:
			t.Fatalf("tripleScan(%q) looked at %d positions and found nothing; a triple is at %d", s, c, w)
		case !found && (c%32 != 0 || c > 0 && c+2 > len(s) || len(s) >= 64 && c < 32):
			t.Fatalf("tripleScan(%q) looked at %d positions", s, c)
		}
	}
}
