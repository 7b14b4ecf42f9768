package bot

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzEscape: whatever the input, Escape's output is valid UTF-8 with no
// raw "<" or ">" (no mention, command or link can be formed), no
// unescaped "&", no broadcast word, no bidirectional control, no mrkdwn
// formatting character ("*", "~", "`"; "_" only inside a word) and no line
// that starts a block quote.
func FuzzEscape(f *testing.F) {
	for _, seed := range []string{
		"", "plain", "<!channel>", "<@U0123|alice>", "<https://evil.example|click>", "&amp; &lt;",
		"@channel @here @everyone @Here", "*bold* _it_ ~strike~ `code`", "gnp\u202Eexe.png", "\u2066isolated\u2069",
		"bad utf8 \xff\xfe", "&&<<>>", "@\u2060channel", "```\ncode\n```", "> quote\n  > again", "\uFF1E wide",
		"snake_case _it_", "\u200Emark\u200F\u061C",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Escape(in)
		if !utf8.ValidString(out) {
			t.Fatalf("Escape(%q) = %q: invalid UTF-8", in, out)
		}
		if strings.ContainsAny(out, "<>") {
			t.Fatalf("Escape(%q) = %q: a raw < or >", in, out)
		}
		for i := 0; i < len(out); i++ {
			if out[i] != '&' {
				continue
			}
			rest := out[i:]
			if !strings.HasPrefix(rest, "&amp;") && !strings.HasPrefix(rest, "&lt;") && !strings.HasPrefix(rest, "&gt;") {
				t.Fatalf("Escape(%q) = %q: an unescaped &", in, out)
			}
		}
		for _, w := range []string{"@channel", "@here", "@everyone", "@Channel", "@Here", "@Everyone"} {
			if strings.Contains(out, w) {
				t.Fatalf("Escape(%q) = %q: a broadcast word %s", in, out, w)
			}
		}
		if strings.ContainsFunc(out, isBidiControl) {
			t.Fatalf("Escape(%q) = %q: a bidirectional control", in, out)
		}
		if strings.ContainsAny(out, "*~`") {
			t.Fatalf("Escape(%q) = %q: a mrkdwn formatting character", in, out)
		}
		for i := strings.IndexByte(out, '_'); i >= 0; i = next(out, '_', i) {
			before, _ := utf8.DecodeLastRuneInString(out[:i])
			after, _ := utf8.DecodeRuneInString(out[i+1:])
			if !isWordRune(before) || !isWordRune(after) {
				t.Fatalf("Escape(%q) = %q: an _ at the edge of a word", in, out)
			}
		}
		for _, line := range strings.Split(out, "\n") {
			line = strings.TrimLeft(line, " \t")
			if strings.HasPrefix(line, "&gt;") || strings.HasPrefix(line, "\uFF1E") {
				t.Fatalf("Escape(%q) = %q: a line starts a block quote", in, out)
			}
		}
	})
}

// next returns the index of the next c in s after i, or -1.
func next(s string, c byte, i int) int {
	j := strings.IndexByte(s[i+1:], c)
	if j < 0 {
		return -1
	}
	return i + 1 + j
}
