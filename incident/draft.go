package incident

import (
	"strings"
	"unicode/utf8"
)

// Draft is the announcement a Serious decision suggests for its anomaly:
// What is the anomaly's title on one line, followed by the decider's
// conclusion when there is one ("payments API 502s: the provider times
// out"); UserImpact is how many users the decider said are affected. Both
// are cut to their limits (MaxWhatLen, MaxUserImpactLen). The announcer
// reads and edits them before anything is posted.
func Draft(title, conclusion, usersAffected string) (what, userImpact string) {
	what = oneLine(title)
	if c := oneLine(conclusion); c != "" {
		what += ": " + c
	}
	return cut(what, MaxWhatLen), cut(strings.TrimSpace(usersAffected), MaxUserImpactLen)
}

// cut shortens s to at most n runes, ending in "…" without white space
// before it.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return "…"
	}
	r := []rune(s)
	return strings.TrimRightFunc(string(r[:n-1]), func(r rune) bool { return r == ' ' || r == '\n' }) + "…"
}
