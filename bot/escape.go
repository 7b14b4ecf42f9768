package bot

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/opsbot/opsbot"
)

// escaper implements Slack's escaping rules for mrkdwn text: "&", "<" and
// ">" become entities, so `<!channel>`, `<@U123>`, `<!subteam^S1>` and
// `<https://evil|click>` stay text.
var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// broadcastWords would become @-mentions if a message were ever posted
// with link_names; a word joiner after the "@" keeps them text.
var broadcastWords = strings.NewReplacer(
	"@channel", "@\u2060channel", "@here", "@\u2060here", "@everyone", "@\u2060everyone",
	"@Channel", "@\u2060Channel", "@Here", "@\u2060Here", "@Everyone", "@\u2060Everyone",
)

// Look-alikes of mrkdwn's formatting characters, shown in their place in
// untrusted text.
const (
	asteriskLookalike   = '\u2217' // ∗ ASTERISK OPERATOR, for *
	underscoreLookalike = '\u02CD' // ˍ MODIFIER LETTER LOW MACRON, for _
	tildeLookalike      = '\u223C' // ∼ TILDE OPERATOR, for ~
	backtickLookalike   = '\u02CB' // ˋ MODIFIER LETTER GRAVE ACCENT, for `
	// quoteBreaker goes before a ">" that starts a line: a soft hyphen,
	// invisible, so the line is no longer a block quote.
	quoteBreaker = '\u00AD'
)

// Escape makes untrusted text literal in Slack mrkdwn: finding titles and
// details from logs and alerts, pod names, user names and what people
// type. It is the only way such text reaches Slack, and what it returns
// shows the text as it is: no mention, link, formatting or change of
// direction can come out of it.
//
//   - "&", "<" and ">" are escaped (Slack's rules), so no mention, channel
//     link, special command (<!channel>, <!subteam^...>, <@U...>) or
//     mrkdwn link (<url|text>) can be formed;
//   - "@channel", "@here" and "@everyone" get an invisible word joiner, in
//     case a message is ever posted with link_names;
//   - mrkdwn's formatting characters cannot format: "*", "~" and "`" are
//     replaced with look-alikes (∗ ∼ ˋ), and so is "_" unless it is inside
//     a word (request_id, john_doe), where Slack never reads it as italics;
//     a line that starts with ">" (or its full-width form) gets an
//     invisible soft hyphen first, so it is not a block quote. A log line's
//     "*x* _y_ ~z~" or code fence thus neither formats nor merges with
//     opsbot's own "*title*" around it;
//   - bidirectional controls (embeddings, overrides, isolates, marks:
//     U+202A to U+202E, U+2066 to U+2069, U+200E, U+200F, U+061C) are
//     removed, so a log line cannot make a title read backwards ("gnp.exe"
//     shown as "exe.png");
//   - invalid UTF-8 is replaced.
//
// Why look-alikes: mrkdwn has no escape for its formatting characters (no
// backslash; only &, < and > have entities, per Slack's "Formatting text
// for app surfaces"). The alternatives do not hold: a plain_text object
// cannot carry opsbot's own formatting and links beside the untrusted text,
// a code span ends at the first backtick of the text it quotes, and
// invisible characters beside "*" rely on undocumented details of Slack's
// parser (whether a zero-width character counts as a word boundary), which
// may change. A look-alike is not a formatting character whatever the
// parser does. The price is that text copied from Slack has ∗ for *; the
// store and the timeline keep the text as it was typed or logged.
//
// The mrkdwn text objects the bot builds are also verbatim (see mrkdwn),
// so Slack does not turn a bare URL or #channel in untrusted text into a
// link.
func Escape(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.ContainsFunc(s, isBidiControl) {
		s = strings.Map(func(r rune) rune {
			if isBidiControl(r) {
				return -1
			}
			return r
		}, s)
	}
	return neutralize(broadcastWords.Replace(escaper.Replace(s)))
}

// neutralize replaces mrkdwn's formatting characters in escaped text with
// look-alikes, and breaks block quotes (see Escape).
func neutralize(s string) string {
	if !strings.ContainsAny(s, "*_~`&\uFF1E") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	lineStart, prev := true, rune(0)
	for i, r := range s {
		switch r {
		case '*':
			b.WriteRune(asteriskLookalike)
		case '~':
			b.WriteRune(tildeLookalike)
		case '`':
			b.WriteRune(backtickLookalike)
		case '_':
			next, _ := utf8.DecodeRuneInString(s[i+1:])
			if isWordRune(prev) && isWordRune(next) {
				b.WriteByte('_')
			} else {
				b.WriteRune(underscoreLookalike)
			}
		case '&':
			// "&gt;" is the escaped ">": a quote when it starts a line.
			if lineStart && strings.HasPrefix(s[i:], "&gt;") {
				b.WriteRune(quoteBreaker)
			}
			b.WriteByte('&')
		case '\uFF1E':
			if lineStart {
				b.WriteRune(quoteBreaker)
			}
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
		switch {
		case r == '\n':
			lineStart = true
		case r != ' ' && r != '\t':
			lineStart = false
		}
		prev = r
	}
	return b.String()
}

// isWordRune reports a letter or a digit: an "_" between two of them is
// inside a word.
func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// isBidiControl reports the characters that change the direction of text:
// the explicit embeddings and overrides (U+202A–U+202E), isolates
// (U+2066–U+2069) and the implicit marks (U+200E LEFT-TO-RIGHT MARK, U+200F
// RIGHT-TO-LEFT MARK, U+061C ARABIC LETTER MARK). Escape removes them;
// commands refuse them.
func isBidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 || r == 0x200E || r == 0x200F || r == 0x061C
}

// truncate shortens s to at most n runes, ending with "…" when cut. It is
// applied before Escape, so an entity is never cut in half.
func truncate(s string, n int) string { return opsbot.Truncate(s, n) }

// escapeLine is Escape for one line: newlines become spaces first.
func escapeLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	return Escape(truncate(s, n))
}

// Link formats a mrkdwn link to an untrusted URL with an untrusted label.
// URLs that are not absolute http(s) are shown as escaped text, never as a
// link; "|" and ">" in the URL are percent-encoded so the URL cannot end
// the link early.
func Link(rawURL, label string) string {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		if label == "" {
			return Escape(rawURL)
		}
		return Escape(label) + " (" + Escape(rawURL) + ")"
	}
	s := u.String()
	s = strings.NewReplacer("|", "%7C", "<", "%3C", ">", "%3E", " ", "%20").Replace(s)
	s = strings.ReplaceAll(s, "&", "&amp;")
	if label == "" {
		return "<" + s + ">"
	}
	// In a label, "|" is harmless after the first one, but keep it plain.
	return "<" + s + "|" + Escape(strings.ReplaceAll(label, "|", "¦")) + ">"
}

// Mention is the one mention opsbot emits: the ops user group's, built
// from configuration (a usergroup id, checked at start-up), never from
// untrusted text. It is empty when no group is configured.
func Mention(groupID string) string {
	if !validSlackID(groupID, "S") {
		return ""
	}
	return "<!subteam^" + groupID + ">"
}

// validSlackID reports whether id looks like a Slack id with one of the
// prefixes: upper-case letters and digits.
func validSlackID(id string, prefixes ...string) bool {
	if len(id) < 2 || len(id) > 32 {
		return false
	}
	ok := false
	for _, p := range prefixes {
		if strings.HasPrefix(id, p) {
			ok = true
		}
	}
	if !ok {
		return false
	}
	for _, r := range id {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
