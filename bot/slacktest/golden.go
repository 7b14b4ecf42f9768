package slacktest

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// update is the -update flag of every test binary that imports slacktest:
// `go test ./bot -run Golden -update` rewrites the golden files the tests
// compare with instead of comparing. (A test package importing slacktest
// must not define its own -update flag: the two would collide.)
var update = flag.Bool("update", false, "rewrite the golden files (testdata/*.golden) from the current output")

// Updating reports whether the tests run with -update.
func Updating() bool { return *update }

// Golden compares got with the golden file at path (relative to the test's
// package directory, "testdata/report.golden"), byte for byte. With
// -update it writes got to path first. A difference fails the test with
// the lines that differ and how to accept the change.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("golden file %s: %v (run the test with -update to create it)", path, err)
		return
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from golden file %s (run the test with -update if the change is intended):\n%s",
			path, Diff(path, want, got))
	}
}

// JSON is v as Slack reads it, for golden files: indented JSON, two spaces
// (the layout of json.MarshalIndent), ending with a newline. The JSON
// values are the ones Slack receives; only their spelling is chosen for
// reviewers (readable):
//
//   - "<", ">" and "&" are written as themselves, not as \u003c, \u003e,
//     \u0026 (which json.Marshal and slack-go's own MarshalJSON methods
//     write), so that a golden file shows the escaping the bot does: "&lt;"
//     where untrusted text had "<";
//   - invisible format characters (the word joiner Escape puts in
//     "@\u2060here") are written as \u escapes, so that they show.
func JSON(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatalf("golden JSON: %v", err)
	}
	return readable(buf.Bytes())
}

// readable respells the strings of valid JSON b as JSON says.
func readable(b []byte) []byte {
	var out bytes.Buffer
	for i := 0; i < len(b); {
		if b[i] == '\\' && i+1 < len(b) {
			if b[i+1] == 'u' && i+6 <= len(b) {
				if c, ok := htmlEscapes[strings.ToLower(string(b[i+2:i+6]))]; ok {
					out.WriteByte(c)
					i += 6
					continue
				}
			}
			out.Write(b[i : i+2]) // an escape, kept (\\ included)
			i += 2
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if unicode.Is(unicode.Cf, r) {
			if r > 0xFFFF {
				r1, r2 := utf16.EncodeRune(r)
				fmt.Fprintf(&out, `\u%04x\u%04x`, r1, r2)
			} else {
				fmt.Fprintf(&out, `\u%04x`, r)
			}
		} else {
			out.Write(b[i : i+n])
		}
		i += n
	}
	return out.Bytes()
}

var htmlEscapes = map[string]byte{"0026": '&', "003c": '<', "003e": '>'}

// MessageJSON is the golden form of a message as the fake stored it (a
// Message's or an Ephemeral's Text and Blocks): JSON of its text and
// blocks, like JSON. Blocks carry the block_ids the fake filled in (random,
// as Slack's): see RandomBlockIDs.
func MessageJSON(t testing.TB, text string, blocks json.RawMessage) []byte {
	t.Helper()
	m := struct {
		Text   string          `json:"text,omitempty"`
		Blocks json.RawMessage `json:"blocks,omitempty"`
	}{Text: text, Blocks: blocks}
	return JSON(t, m)
}

// RandomBlockID is what MessageJSON's callers may replace the block_ids the
// fake generated with (see ReplaceRandomBlockIDs).
const RandomBlockID = "(random)"

// ReplaceRandomBlockIDs replaces, in indented JSON from MessageJSON, the
// block_ids the fake made up for blocks posted without one (five letters
// or digits, like Slack's) with RandomBlockID. Ids the app chose are kept
// as long as they are not five letters or digits.
func ReplaceRandomBlockIDs(b []byte) []byte {
	const key = `"block_id": "`
	var out bytes.Buffer
	for {
		i := bytes.Index(b, []byte(key))
		if i < 0 {
			out.Write(b)
			return out.Bytes()
		}
		i += len(key)
		out.Write(b[:i])
		b = b[i:]
		if len(b) > 5 && b[5] == '"' && isRandomID(b[:5]) {
			out.WriteString(RandomBlockID)
			b = b[5:]
		}
	}
}

func isRandomID(id []byte) bool {
	for _, c := range id {
		if !strings.ContainsRune(blockIDAlphabet, rune(c)) {
			return false
		}
	}
	return true
}

// Diff is a line diff of want (the golden file, called name) and got, for
// test failures: the lines that differ, "-" from want and "+" from got,
// with two lines of context, at most maxDiffLines lines.
func Diff(name string, want, got []byte) string {
	ops := diffLines(splitLines(want), splitLines(got))
	const context = 2
	shown := make([]bool, len(ops))
	for i, op := range ops {
		if op.kind != ' ' {
			for j := max(0, i-context); j <= min(len(ops)-1, i+context); j++ {
				shown[j] = true
			}
		}
	}
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s (want)\n+++ output (got)\n", name)
	lines, prev := 0, -2
	for i, op := range ops {
		if !shown[i] {
			continue
		}
		if lines == maxDiffLines {
			out.WriteString("… (more differences)\n")
			break
		}
		if i != prev+1 {
			fmt.Fprintf(&out, "@@ golden line %d, output line %d @@\n", op.a+1, op.b+1)
		}
		line, nl := strings.CutSuffix(op.line, "\n")
		if !nl {
			line += " (no newline at the end)"
		}
		fmt.Fprintf(&out, "%c %s\n", op.kind, line)
		lines++
		prev = i
	}
	return out.String()
}

// maxDiffLines bounds Diff's output.
const maxDiffLines = 80

// splitLines splits b after each newline.
func splitLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	return strings.SplitAfter(string(b), "\n")
}

type diffOp struct {
	kind byte // ' ' (in both), '-' (want only) or '+' (got only)
	line string
	a, b int // the line's index in want and in got
}

// diffLines is a longest-common-subsequence line diff (golden files are
// small).
func diffLines(a, b []string) []diffOp {
	if len(a) > 0 && a[len(a)-1] == "" {
		a = a[:len(a)-1]
	}
	if len(b) > 0 && b[len(b)-1] == "" {
		b = b[:len(b)-1]
	}
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []diffOp
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			ops = append(ops, diffOp{' ', a[i], i, j})
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, diffOp{'-', a[i], i, j})
			i++
		default:
			ops = append(ops, diffOp{'+', b[j], i, j})
			j++
		}
	}
	return ops
}
