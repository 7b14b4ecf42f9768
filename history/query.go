package history

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/opsbot/opsbot/triage"
)

// Limits of a query.
const (
	// MaxQueryLen is the longest query, in characters.
	MaxQueryLen = 500
	// MaxTerms is how many words (those of phrases included) a query may
	// have.
	MaxTerms = 20
	// MaxFingerprintPrefix is the longest fingerprint: prefix, in characters.
	MaxFingerprintPrefix = 200
	// MaxSinceDays is the longest since: period, in days (as hours, 24
	// times that).
	MaxSinceDays = 3650
)

// Query is a parsed search: every Word and every Phrase must occur in an
// anomaly's text (its title, conclusion, five whys, ticket and the texts
// of its incidents), and the anomaly must pass every filter that is set.
//
// Words are terms as the store indexes them: runs of letters and digits,
// in lower case. Nothing else ever reaches the store's full-text syntax.
type Query struct {
	// Words must each occur, anywhere in the text.
	Words []string `json:"words,omitempty"`
	// Phrases must each occur as consecutive words (each has two or more).
	Phrases [][]string `json:"phrases,omitempty"`
	// Fingerprint, when set, is a prefix the anomaly's fingerprint starts
	// with (fingerprint:<prefix>).
	Fingerprint string `json:"fingerprint,omitempty"`
	// Decision, when set, is the anomaly's current decision
	// (decision:<name>).
	Decision triage.Decision `json:"decision,omitempty"`
	// Since, when set, keeps the anomalies decided (or, undecided, opened)
	// within that long before now (since:<N>d or since:<N>h).
	Since time.Duration `json:"since,omitempty"`
}

// HasText reports whether the query has words or phrases (and not only
// filters): then the store ranks by relevance.
func (q Query) HasText() bool { return len(q.Words) > 0 || len(q.Phrases) > 0 }

// Terms returns every word of the query, those of phrases included.
func (q Query) Terms() []string {
	out := append([]string(nil), q.Words...)
	for _, p := range q.Phrases {
		out = append(out, p...)
	}
	return out
}

// Tokens splits s into terms as the store indexes text: runs of letters
// and digits, in lower case. Everything else separates them.
func Tokens(s string) []string {
	fields := strings.FieldsFunc(s, func(r rune) bool { return !isTermRune(r) })
	for i, f := range fields {
		fields[i] = strings.ToLower(f)
	}
	return fields
}

// isTermRune reports whether r is part of a term: a letter or a digit.
func isTermRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// QueryError is a query that cannot be run, with the reason for its
// author.
type QueryError struct{ Reason string }

func (e *QueryError) Error() string { return e.Reason }

func bad(format string, args ...any) error { return &QueryError{Reason: fmt.Sprintf(format, args...)} }

// Filter names.
const (
	filterFingerprint = "fingerprint:"
	filterDecision    = "decision:"
	filterSince       = "since:"
)

// DecisionNames lists the names decision: accepts, in the runbook's order.
func DecisionNames() []string {
	out := make([]string, len(triage.Decisions))
	for i, d := range triage.Decisions {
		out[i] = d.String()
	}
	return out
}

// Parse reads a query: words, "quoted phrases" and the filters
// fingerprint:<prefix>, decision:<name> and since:<N>d or since:<N>h. It
// returns a *QueryError saying what is wrong when the query cannot be
// run.
func Parse(s string) (Query, error) {
	var q Query
	if !utf8.ValidString(s) {
		return q, bad("the query is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > MaxQueryLen {
		return q, bad("the query is %d characters long; the limit is %d", n, MaxQueryLen)
	}
	items, err := split(s)
	if err != nil {
		return q, err
	}
	var seen = map[string]bool{}
	for _, it := range items {
		if it.quoted {
			switch words := Tokens(it.text); len(words) {
			case 0:
			case 1:
				q.Words = append(q.Words, words[0])
			default:
				q.Phrases = append(q.Phrases, words)
			}
			continue
		}
		name, value, isFilter := filterOf(it.text)
		if !isFilter {
			q.Words = append(q.Words, Tokens(it.text)...)
			continue
		}
		if seen[name] {
			return Query{}, bad("%s is given twice; give it once", name)
		}
		seen[name] = true
		if err := q.setFilter(name, value); err != nil {
			return Query{}, err
		}
	}
	if n := len(q.Terms()); n > MaxTerms {
		return Query{}, bad("the query has %d words; the limit is %d", n, MaxTerms)
	}
	if !q.HasText() && len(seen) == 0 {
		if strings.TrimSpace(s) == "" {
			return Query{}, bad("say what to look for: words of a title, conclusion, five whys, ticket or incident")
		}
		return Query{}, bad("nothing to look for in the query: words are made of letters and digits")
	}
	return q, nil
}

// item is a word or a quoted phrase of a query.
type item struct {
	text   string
	quoted bool
}

// openQuotes and closeQuotes pair the quotation marks a phrase may be
// written with (Slack clients may turn " into “ and ”).
var closeQuotes = map[rune]rune{'"': '"', '“': '”', '”': '”', '„': '“'}

// split cuts s into words and quoted phrases.
func split(s string) ([]item, error) {
	var (
		out []item
		cur strings.Builder
	)
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, item{text: cur.String()})
			cur.Reset()
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch closing, isQuote := closeQuotes[r]; {
		case isQuote:
			flush()
			end := strings.IndexFunc(s[i:], func(c rune) bool { return c == closing || c == '"' })
			if end < 0 {
				return nil, bad("a quoted phrase is not closed: add the closing quote")
			}
			out = append(out, item{text: s[i : i+end], quoted: true})
			_, csize := utf8.DecodeRuneInString(s[i+end:])
			i += end + csize
		case unicode.IsSpace(r):
			flush()
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return out, nil
}

// filterOf splits a word that is a filter into its name and value.
func filterOf(word string) (name, value string, ok bool) {
	lower := strings.ToLower(word)
	for _, f := range []string{filterFingerprint, filterDecision, filterSince} {
		if strings.HasPrefix(lower, f) {
			return f, word[len(f):], true
		}
	}
	return "", "", false
}

func (q *Query) setFilter(name, value string) error {
	switch name {
	case filterFingerprint:
		if value == "" {
			return bad("fingerprint: needs the start of a fingerprint, such as fingerprint:pods/")
		}
		if n := utf8.RuneCountInString(value); n > MaxFingerprintPrefix {
			return bad("fingerprint: is %d characters long; the limit is %d", n, MaxFingerprintPrefix)
		}
		if strings.IndexFunc(value, unicode.IsControl) >= 0 {
			return bad("fingerprint: has a control character; fingerprints have none")
		}
		q.Fingerprint = value
	case filterDecision:
		for _, d := range triage.Decisions {
			if strings.EqualFold(value, d.String()) || strings.EqualFold(value, strings.ReplaceAll(d.String(), "_", "-")) {
				q.Decision = d
				return nil
			}
		}
		return bad("decision:%s is not a decision; use one of %s", value, strings.Join(DecisionNames(), ", "))
	case filterSince:
		d, err := parseSince(value)
		if err != nil {
			return err
		}
		q.Since = d
	}
	return nil
}

// parseSince reads the value of since:, N days ("30d") or N hours ("12h").
func parseSince(value string) (time.Duration, error) {
	problem := func() error {
		return bad("since:%s is not a period; write since:30d (days, 1 to %d) or since:12h (hours, 1 to %d)",
			value, MaxSinceDays, 24*MaxSinceDays)
	}
	if len(value) < 2 {
		return 0, problem()
	}
	num, unit := value[:len(value)-1], strings.ToLower(value[len(value)-1:])
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || strings.HasPrefix(num, "+") {
		return 0, problem()
	}
	switch {
	case unit == "d" && n <= MaxSinceDays:
		return time.Duration(n) * 24 * time.Hour, nil
	case unit == "h" && n <= 24*MaxSinceDays:
		return time.Duration(n) * time.Hour, nil
	}
	return 0, problem()
}
