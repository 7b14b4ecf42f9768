package bot

import (
	"net/url"
	"strings"
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

// Escape makes untrusted text safe to show in Slack mrkdwn: finding titles
// and details from logs and alerts, pod names, user names and what people
// type. It is the only way such text reaches Slack:
//
//   - "&", "<" and ">" are escaped (Slack's rules), so no mention, channel
//     link, special command (<!channel>, <!subteam^...>, <@U...>) or
//     mrkdwn link (<url|text>) can be formed;
//   - "@channel", "@here" and "@everyone" get an invisible word joiner, in
//     case a message is ever posted with link_names;
//   - bidirectional controls (embeddings, overrides, isolates: U+202A to
//     U+202E, U+2066 to U+2069) are removed, so a log line cannot make a
//     title read backwards ("gnp.exe" shown as "exe.png");
//   - invalid UTF-8 is replaced.
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
	return broadcastWords.Replace(escaper.Replace(s))
}

// isBidiControl reports the explicit directional formatting characters:
// embeddings and overrides (U+202A–U+202E) and isolates (U+2066–U+2069).
func isBidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069
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
