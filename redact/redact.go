// Package redact takes secrets and personal data out of untrusted text
// (log lines, alert annotations, pod messages) before opsbot stores, shows
// or posts it: Slack tokens, bearer tokens and JWTs, AWS access keys,
// password/secret/token pairs, private key blocks, credentials in URLs and
// email addresses, each replaced with a visible "[redacted:kind]".
package redact

import (
	"regexp"
)

// A rule finds one kind of secret. hints are cheap substrings one of which
// every match contains (case-insensitive), so that text without them is
// not searched at all.
type rule struct {
	kind  string
	hints []string
	re    *regexp.Regexp
	// repl is the replacement ($1... refer to re's groups); default
	// "[redacted:kind]".
	repl string
}

var rules = []rule{
	{kind: "private-key", hints: []string{"private key"},
		re: regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)`)},
	{kind: "slack-token", hints: []string{"xox", "xapp-"},
		re: regexp.MustCompile(`\b(?:xox[abposr]|xapp)-[A-Za-z0-9-]{6,}`)},
	{kind: "jwt", hints: []string{"eyj"},
		re: regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)},
	{kind: "bearer", hints: []string{"bearer"},
		re: regexp.MustCompile(`(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}`), repl: "${1}[redacted:bearer]"},
	{kind: "aws-key", hints: []string{"akia", "asia"},
		re: regexp.MustCompile(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{kind: "credentials", hints: []string{"://"},
		re: regexp.MustCompile(`(\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@`), repl: "${1}[redacted:credentials]@"},
	{kind: "secret", hints: []string{"pass", "pwd", "secret", "token", "key"},
		re:   regexp.MustCompile(`(?i)(\b(?:password|passwd|pwd|secret|client_secret|token|access_token|api[_-]?key)\b["']?\s*[=:]\s*)("[^"]*"[^\s&,;"']*|'[^']*'[^\s&,;"']*|[^\s&,;"']+)`),
		repl: "${1}[redacted:secret]"},
	{kind: "email", hints: []string{"@"},
		re: regexp.MustCompile(`\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b`)},
}

// Options say what is redacted besides secrets.
type Options struct {
	// KeepEmails leaves email addresses (some teams want them shown).
	KeepEmails bool
	// OnlyTokens redacts credentials that differ from line to line
	// (Slack tokens, JWTs, bearer tokens, AWS keys) and nothing else: for
	// the log scanner's signatures, where the rest is redacted later.
	OnlyTokens bool
}

// tokenKinds are the kinds OnlyTokens keeps.
var tokenKinds = map[string]bool{"slack-token": true, "jwt": true, "bearer": true, "aws-key": true}

// skip reports whether r leaves rl's kind alone.
func (r Redactor) skip(rl rule) bool {
	return (rl.kind == "email" && r.opts.KeepEmails) || (r.opts.OnlyTokens && !tokenKinds[rl.kind])
}

// Redactor redacts text. The zero Redactor redacts everything, emails
// included.
type Redactor struct{ opts Options }

// New returns a Redactor with o.
func New(o Options) Redactor { return Redactor{opts: o} }

// Text returns s with every secret (and email, unless kept) replaced by
// "[redacted:kind]". Text without any rule's hint is returned as is,
// without a regular expression run or an allocation.
func (r Redactor) Text(s string) string {
	if !hinted(r, s) {
		return s
	}
	for _, rl := range rules {
		if r.skip(rl) {
			continue
		}
		if !anyHint(s, rl.hints) {
			continue
		}
		repl := rl.repl
		if repl == "" {
			repl = "[redacted:" + rl.kind + "]"
		}
		s = rl.re.ReplaceAllString(s, repl)
	}
	return s
}

// Bytes is Text for a byte slice (log lines); it returns b itself, without
// allocating, when nothing in it is to be redacted.
func (r Redactor) Bytes(b []byte) []byte {
	if !hinted(r, b) {
		return b
	}
	for _, rl := range rules {
		if r.skip(rl) {
			continue
		}
		if anyHint(b, rl.hints) && rl.re.Match(b) {
			return []byte(r.Text(string(b)))
		}
	}
	return b
}

// hinted reports whether any rule r applies has a hint in s.
func hinted[T ~string | ~[]byte](r Redactor, s T) bool {
	return anyHintIn(&hintSets[r.hintSet()], s)
}

// hintSet is the hints of the rules one set of Options applies, indexed
// by their first byte, so that a text is searched for all of them in one
// pass (a table lookup per byte) instead of one pass per hint.
type hintSet struct {
	// first is true for the bytes that begin a hint, in either case.
	first [256]bool
	// hints lists the hints by their first byte (lower-case ASCII).
	hints [256][]string
}

// hintSets are the hintSets of the four combinations of Options, indexed
// by Redactor.hintSet.
var hintSets = func() (sets [4]hintSet) {
	for i := range sets {
		r := New(Options{KeepEmails: i&1 != 0, OnlyTokens: i&2 != 0})
		for _, rl := range rules {
			if r.skip(rl) {
				continue
			}
			for _, h := range rl.hints {
				sets[i].hints[h[0]] = append(sets[i].hints[h[0]], h)
				sets[i].first[h[0]] = true
				if 'a' <= h[0] && h[0] <= 'z' {
					sets[i].first[h[0]-'a'+'A'] = true
				}
			}
		}
	}
	return sets
}()

// hintSet returns the index in hintSets of r's options.
func (r Redactor) hintSet() int {
	i := 0
	if r.opts.KeepEmails {
		i |= 1
	}
	if r.opts.OnlyTokens {
		i |= 2
	}
	return i
}

// anyHintIn reports whether s contains one of hs's hints, ignoring ASCII
// case: containsFold at each position where one may begin.
func anyHintIn[T ~string | ~[]byte](hs *hintSet, s T) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !hs.first[c] {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		for _, h := range hs.hints[c] {
			if hasPrefixFold(s[i:], h) {
				return true
			}
		}
	}
	return false
}

// hasPrefixFold reports whether s begins with h (lower-case ASCII),
// ignoring ASCII case.
func hasPrefixFold[T ~string | ~[]byte](s T, h string) bool {
	if len(s) < len(h) {
		return false
	}
	for j := 0; j < len(h); j++ {
		c := s[j]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != h[j] {
			return false
		}
	}
	return true
}

// anyHint reports whether s contains one of hints (lower-case ASCII),
// ignoring ASCII case.
func anyHint[T ~string | ~[]byte](s T, hints []string) bool {
	for _, h := range hints {
		if containsFold(s, h) {
			return true
		}
	}
	return false
}

// containsFold reports whether s contains h (lower-case ASCII), ignoring
// ASCII case, without allocating.
func containsFold[T ~string | ~[]byte](s T, h string) bool {
	n := len(h)
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for ; j < n; j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != h[j] {
				break
			}
		}
		if j == n {
			return true
		}
	}
	return false
}
