package bot

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzEscape: whatever the input, Escape's output is valid UTF-8 with no
// raw "<" or ">" (no mention, command or link can be formed), no
// unescaped "&", no broadcast word, no bidirectional control.
func FuzzEscape(f *testing.F) {
	for _, seed := range []string{
		"", "plain", "<!channel>", "<@U0123|alice>", "<https://evil.example|click>", "&amp; &lt;",
		"@channel @here @everyone @Here", "*bold* _it_ ~strike~ `code`", "gnp\u202Eexe.png", "\u2066isolated\u2069",
		"bad utf8 \xff\xfe", "&&<<>>", "@\u2060channel",
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
	})
}
