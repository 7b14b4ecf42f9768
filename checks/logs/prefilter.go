package logs

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"slices"
)

// The prefilter finds the lines worth looking at. Every line that can
// start an error event (outside klog streams, whose severity is in the
// first byte) contains one of these byte strings: the level words in their
// three cases, Java's Exception (Error classes contain "rror"), Python's
// Traceback. Lines without any are never looked at one by one.
var prefilterPatterns = []string{
	"rror", "RROR", // error, Error, ERROR, OutOfMemoryError
	"atal", "ATAL", // fatal, Fatal, FATAL
	"anic", "ANIC", // panic, Panic, PANIC
	"crit", "Crit", "CRIT", // crit, critical
	"vere", "VERE", // severe, Severe, SEVERE
	"xception", // Exception
	"Traceback",
}

// numericLevelPatterns are added for JSON streams with numeric levels
// (pino, bunyan: 50 error, 60 fatal).
var numericLevelPatterns = []string{`"level":5`, `"level":6`}

// How the patterns are searched. The prefilterPatterns are found by pairs
// of bytes (see pairFind): one pass over the text, with a table lookup
// every other byte. numericLevelPatterns, added for some streams only,
// have a rare byte, found with bytes.IndexByte (SIMD), one pass per anchor
// byte whose patterns are all compared at each hit. Both beat bytes.Index
// per pattern by far: it calls IndexByte on the pattern's first byte, and
// 'r', 'c', 'a' come every few dozen bytes in log text.

// pairPatterns are found by pairs: each with two consecutive pairs of its
// bytes, the rarer ones in log text. Every other position of the text is
// looked up in a bit set of the pairs; as any two consecutive positions
// include one looked at, every occurrence is found. "vere" has no rare
// pair: its "er" is common, but only costs a comparison where it is.
var pairPatterns = []struct {
	pat   string
	pairs [2]int // offsets of the two consecutive pairs (the second is the first + 1)
	// triple is the offset of the three bytes that tripleScan looks
	// for, rare in log text in any case.
	triple int
}{
	{"rror", [2]int{0, 1}, 0}, // rr, ro; rro
	{"RROR", [2]int{0, 1}, 0},
	{"crit", [2]int{0, 1}, 0}, // cr, ri; cri
	{"Crit", [2]int{0, 1}, 0},
	{"CRIT", [2]int{0, 1}, 0},
	{"anic", [2]int{0, 1}, 1}, // an, ni; nic
	{"ANIC", [2]int{0, 1}, 1},
	{"atal", [2]int{1, 2}, 1}, // ta, al; tal
	{"ATAL", [2]int{1, 2}, 1},
	{"vere", [2]int{0, 1}, 1}, // ve, er; ere
	{"VERE", [2]int{0, 1}, 1},
	{"xception", [2]int{2, 3}, 0},  // ep, pt; xce
	{"Traceback", [2]int{4, 5}, 3}, // eb, ba; ceb
}

// pairAt is a pattern found by one of its pairs at offset off.
type pairAt struct {
	pat string
	off int
}

// pairTable is the lookup structure of pairPatterns (built once, read
// only).
type pairTable struct {
	// set has a bit for each pair (as a little-endian uint16).
	set [1 << 16 / 64]uint64
	// index maps a pair to its patterns: lists[index[v]-1].
	index [1 << 16]uint8
	lists [][]pairAt
}

var pairs = func() *pairTable {
	t := new(pairTable)
	for _, pp := range pairPatterns {
		for _, off := range pp.pairs {
			v := uint16(pp.pat[off]) | uint16(pp.pat[off+1])<<8
			t.set[v>>6] |= 1 << (v & 63)
			if t.index[v] == 0 {
				t.lists = append(t.lists, nil)
				t.index[v] = uint8(len(t.lists))
			}
			t.lists[t.index[v]-1] = append(t.lists[t.index[v]-1], pairAt{pp.pat, off})
		}
	}
	return t
}()

// anchoredPat is a pattern and where its anchor byte is in it.
type anchoredPat struct {
	pat   []byte
	off   int
	head4 uint32 // the first four bytes, little-endian
}

type anchorGroup struct {
	anchor byte
	pats   []anchoredPat
}

// prefilter searches the patterns of one stream: pairPatterns, and the
// anchor groups added for it.
type prefilter struct {
	groups []anchorGroup
	flat   [][]byte // every pattern, for a line at a time
	// next is, per group and then for pairFind, the next match found at
	// or after the search position, -1 if not searched yet.
	next []int
}

func newAnchored(p string, anchor byte) anchoredPat {
	return anchoredPat{pat: []byte(p), off: bytes.IndexByte([]byte(p), anchor), head4: binary.LittleEndian.Uint32([]byte(p))}
}

// reset prepares the prefilter for a new stream.
func (f *prefilter) reset() {
	f.groups = f.groups[:0]
	f.flat = append(f.flat[:0], flatPatterns...)
}

// flatPatterns are prefilterPatterns as byte slices.
var flatPatterns = func() [][]byte {
	var out [][]byte
	for _, p := range prefilterPatterns {
		out = append(out, []byte(p))
	}
	return out
}()

// numericGroup finds numericLevelPatterns by their 'v'.
var numericGroup = func() anchorGroup {
	g := anchorGroup{anchor: 'v'}
	for _, p := range numericLevelPatterns {
		g.pats = append(g.pats, newAnchored(p, 'v'))
	}
	return g
}()

// addNumericLevels adds the patterns of numeric JSON levels.
func (f *prefilter) addNumericLevels() {
	f.groups = append(f.groups, numericGroup)
	for _, p := range numericGroup.pats {
		f.flat = append(f.flat, p.pat)
	}
}

// tripleTable is what tripleScan looks for: up to eight triples of bytes,
// ORed with 0x20 (lower case for letters), each a bit of a mask, as
// nibble tables (the "Teddy" method of Hyperscan): row 2k has, at the
// low nibble n, the mask of the triples whose byte k has n as its low
// nibble; row 2k+1 the same for the high nibble. A byte x is byte k of a
// triple if the triple's bit is in both the row 2k entry of its low nibble
// and the row 2k+1 entry of its high nibble: so that x|0x20 matches, the
// high nibble with and without 0x20 is accepted. Each row is 16 entries
// twice, once per 128-bit lane. The bytes must be ASCII (a byte above
// 0x7f looks up 0 in the low table).
type tripleTable [2 * 3][32]byte

// triples is the tripleTable of pairPatterns, and maxTripleOff the
// largest offset of a triple in its pattern.
var triples, maxTripleOff = func() (*tripleTable, int) {
	t := new(tripleTable)
	var seen []string
	maxOff := 0
	for _, pp := range pairPatterns {
		tr := []byte(pp.pat[pp.triple : pp.triple+3])
		for k := range tr {
			tr[k] |= 0x20
		}
		maxOff = max(maxOff, pp.triple)
		if slices.Contains(seen, string(tr)) {
			continue
		}
		if len(seen) == 8 {
			panic("logs: more than eight prefilter triples")
		}
		bit := byte(1) << len(seen)
		for k, c := range tr {
			if c >= 0x80 {
				panic("logs: a prefilter triple is not ASCII")
			}
			for lane := range 2 {
				t[2*k][16*lane+int(c&15)] |= bit
				t[2*k+1][16*lane+int(c>>4)] |= bit
				t[2*k+1][16*lane+int(c>>4)&^2] |= bit
			}
		}
		seen = append(seen, string(tr))
	}
	return t, maxOff
}()

// maxPatternLen is the length of the longest pattern of pairPatterns.
var maxPatternLen = func() int {
	n := 0
	for _, pp := range pairPatterns {
		n = max(n, len(pp.pat))
	}
	return n
}()

// tripleScan, where the processor has a way to compare 32 bytes at once
// (amd64 with AVX2, unless built with the purego tag), looks for the
// triples of pairPatterns in s (in any case): it returns the first
// position where one starts and true, or the number of positions looked
// at, at least 32 if len(s) >= 64, and false. It is nil elsewhere.
var tripleScan func(s []byte) (int, bool)

// findPatterns returns the position of the first match at or after i of
// pairPatterns, or to, as pairFind does. With tripleScan it skips, 32
// bytes at a time, the text where no pattern's triple is, and runs
// pairFind only around the triples it finds.
func findPatterns(buf []byte, from, i, to int) int {
	if tripleScan == nil {
		return pairFind(buf, from, i, to)
	}
	for to-i >= 64 {
		c, found := tripleScan(buf[i:to])
		if !found {
			// A pattern starting at or after i with its triple past
			// the positions looked at starts at i+c-maxTripleOff or
			// later.
			i += c - maxTripleOff
			continue
		}
		// No pattern starting at or after i has its triple before i+c:
		// look from i+c-maxTripleOff for the patterns that start in the
		// next 32 bytes.
		s, e := i+max(c-maxTripleOff, 0), min(to, i+c+32)
		if p := pairFind(buf, from, s, e); p < e {
			return p
		}
		if e == to {
			return to
		}
		// The patterns starting before e-maxPatternLen+1 ended before e.
		i = e - maxPatternLen + 1
	}
	return pairFind(buf, from, i, to)
}

func pairHit(v uint16) bool { return pairs.set[v>>6]&(1<<(v&63)) != 0 }

// pairBit is 1 if the pair at byte k of w (k even, at most 6) is one of
// pairs.set, else 0.
func pairBit(w uint64, k uint) uint64 {
	v := uint16(w >> (8 * k))
	return pairs.set[v>>6] >> (v & 63) & 1
}

// pairFind returns the position of the first match at or after i of the
// patterns found by pairs, or to. It looks up the pairs starting at i,
// i+2, i+4...: eight per two 64-bit loads, without a branch, and then
// compares the patterns only at the pairs found.
func pairFind(buf []byte, from, i, to int) int {
	for i+16 <= to {
		w0 := binary.LittleEndian.Uint64(buf[i:])
		w1 := binary.LittleEndian.Uint64(buf[i+8:])
		// Bit j of m: the pair at i+2j is in the set.
		m := pairBit(w0, 0) | pairBit(w0, 2)<<1 | pairBit(w0, 4)<<2 | pairBit(w0, 6)<<3 |
			pairBit(w1, 0)<<4 | pairBit(w1, 2)<<5 | pairBit(w1, 4)<<6 | pairBit(w1, 6)<<7
		for m != 0 {
			p := i + 2*bits.TrailingZeros64(m)
			if pairMatch(buf, from, p, to, uint16(buf[p])|uint16(buf[p+1])<<8) {
				return p
			}
			m &= m - 1
		}
		i += 16
	}
	for ; i+1 < to; i += 2 {
		if v := uint16(buf[i]) | uint16(buf[i+1])<<8; pairHit(v) && pairMatch(buf, from, i, to, v) {
			return i
		}
	}
	return to
}

// pairMatch reports whether a pattern with the pair v is at position p.
func pairMatch(buf []byte, from, p, to int, v uint16) bool {
	for _, pa := range pairs.lists[pairs.index[v]-1] {
		st := p - pa.off
		if st >= from && st+len(pa.pat) <= to && string(buf[st:st+len(pa.pat)]) == pa.pat {
			return true
		}
	}
	return false
}

// line reports whether a line contains a pattern.
func (f *prefilter) line(line []byte) bool {
	for _, p := range f.flat {
		if bytes.Contains(line, p) {
			return true
		}
	}
	return false
}

// begin starts the search of a region.
func (f *prefilter) begin() {
	f.next = f.next[:0]
	for range len(f.groups) + 1 {
		f.next = append(f.next, -1)
	}
}

// find returns the position of the next match at or after i in buf[:to]
// (any position inside the matching line), or to. buf[from] is where the
// region starts: no pattern starts before it.
func (f *prefilter) find(buf []byte, from, i, to int) int {
	p := to
	for k := range f.groups {
		if f.next[k] < i {
			f.next[k] = f.groups[k].find(buf, from, i, to)
		}
		p = min(p, f.next[k])
	}
	k := len(f.groups)
	if f.next[k] < i {
		f.next[k] = findPatterns(buf, from, i, to)
	}
	return min(p, f.next[k])
}

// find returns the anchor position of the first match of the group at or
// after i, or to.
func (g *anchorGroup) find(buf []byte, from, i, to int) int {
	for {
		j := bytes.IndexByte(buf[i:to], g.anchor)
		if j < 0 {
			return to
		}
		p := i + j
		for k := range g.pats {
			ap := &g.pats[k]
			st := p - ap.off
			if st >= from && st+len(ap.pat) <= to &&
				binary.LittleEndian.Uint32(buf[st:]) == ap.head4 &&
				(len(ap.pat) == 4 || bytes.Equal(buf[st:st+len(ap.pat)], ap.pat)) {
				return p
			}
		}
		i = p + 1
	}
}

// SWAR (SIMD within a register) constants: a byte of ones, the high bit
// of each byte.
const (
	lo8 = 0x0101010101010101
	hi8 = 0x8080808080808080
)

// lastNewline returns the index of the last '\n' in buf[lo:hi], or -1.
// bytes.LastIndexByte looks at one byte at a time; this looks at eight.
func lastNewline(buf []byte, lo, hi int) int {
	j := hi
	for j-8 >= lo {
		w := binary.LittleEndian.Uint64(buf[j-8:]) ^ (lo8 * '\n')
		// The high bit of each zero byte, exactly: no borrow tricks.
		m := ^(((w & ^uint64(hi8)) + ^uint64(hi8)) | w | ^uint64(hi8))
		if m != 0 {
			return j - 8 + (63-bits.LeadingZeros64(m))>>3
		}
		j -= 8
	}
	for j--; j >= lo; j-- {
		if buf[j] == '\n' {
			return j
		}
	}
	return -1
}
