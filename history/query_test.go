package history

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/opsbot/opsbot/triage"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Query
	}{
		{"disk", Query{Words: []string{"disk"}}},
		{"  Disk-Pressure  node-7.example.com ", Query{Words: []string{"disk", "pressure", "node", "7", "example", "com"}}},
		{`"disk pressure" node`, Query{Words: []string{"node"}, Phrases: [][]string{{"disk", "pressure"}}}},
		{`“disk pressure” „evicted“ ""`, Query{Words: []string{"evicted"}, Phrases: [][]string{{"disk", "pressure"}}}},
		{"fingerprint:pods/api/ disk", Query{Words: []string{"disk"}, Fingerprint: "pods/api/"}},
		{"FINGERPRINT:Pods/API", Query{Fingerprint: "Pods/API"}},
		{"decision:noise", Query{Decision: triage.Noise}},
		{"decision:Not-Enough-Information x", Query{Words: []string{"x"}, Decision: triage.NotEnoughInformation}},
		{"decision:not_enough_information", Query{Decision: triage.NotEnoughInformation}},
		{"since:30d", Query{Since: 30 * 24 * time.Hour}},
		{"since:12H oom", Query{Words: []string{"oom"}, Since: 12 * time.Hour}},
		{"title:disk AND NOT x*", Query{Words: []string{"title", "disk", "and", "not", "x"}}},
		{"Ärger ÉTÉ 東京", Query{Words: []string{"ärger", "été", "東京"}}},
	} {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", "say what to look for"},
		{"   ", "say what to look for"},
		{"--- ***", "nothing to look for in the query: words are made of letters and digits"},
		{`"disk pressure`, "a quoted phrase is not closed"},
		{"decision:nois", "decision:nois is not a decision; use one of not_enough_information, intermittent, serious, noise, undetermined"},
		{"decision:", "decision: is not a decision; use one of"},
		{"fingerprint:", "fingerprint: needs the start of a fingerprint"},
		{"fingerprint:" + strings.Repeat("a", MaxFingerprintPrefix+1), "fingerprint: is 201 characters long; the limit is 200"},
		{"fingerprint:a\x00b", "fingerprint: has a control character; fingerprints have none"},
		{"since:30", "since:30 is not a period; write since:30d (days, 1 to 3650) or since:12h (hours, 1 to 87600)"},
		{"since:0d", "since:0d is not a period"},
		{"since:-3d", "since:-3d is not a period"},
		{"since:+3d", "since:+3d is not a period"},
		{"since:3w", "since:3w is not a period"},
		{"since:3651d", "since:3651d is not a period"},
		{"since:87601h", "since:87601h is not a period"},
		{"since:d", "since:d is not a period"},
		{"since:1d since:2d", "since: is given twice; give it once"},
		{"decision:noise Decision:serious", "decision: is given twice"},
		{strings.Repeat("a ", MaxTerms) + "b", "the query has 21 words; the limit is 20"},
		{strings.Repeat("é", MaxQueryLen+1), "the query is 501 characters long; the limit is 500"},
		{"disk \xff", "the query is not valid UTF-8"},
	} {
		_, err := Parse(tt.in)
		var qe *QueryError
		if !errors.As(err, &qe) || !strings.HasPrefix(qe.Reason, tt.want) {
			t.Errorf("Parse(%q) = %v, want a QueryError starting %q", tt.in, err, tt.want)
		}
	}
	if _, err := Parse("since:87600h"); err != nil {
		t.Errorf("since:87600h, the longest: %v", err)
	}
}

// FuzzParse: whatever the input, Parse does not panic, and what it
// accepts has only terms made of lower-case letters and digits, at most
// MaxTerms of them: nothing the stores' full-text syntaxes could read as
// an operator.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"disk", `"a b" c`, "fingerprint:x decision:noise since:3d", `NEAR(a b) title:x* ^y 'z' \ & | !`,
		"“x", "\"\"", "since:99999999999999999999d", "é\u0301", "a\x00b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			var qe *QueryError
			if !errors.As(err, &qe) || qe.Reason == "" {
				t.Fatalf("Parse(%q): an error that is not a QueryError: %v", s, err)
			}
			return
		}
		terms := q.Terms()
		if len(terms) > MaxTerms || (len(terms) == 0 && q.Fingerprint == "" && q.Decision == 0 && q.Since == 0) {
			t.Fatalf("Parse(%q) = %+v", s, q)
		}
		for _, w := range terms {
			if w == "" || strings.ToLower(w) != w {
				t.Fatalf("Parse(%q): term %q", s, w)
			}
			for _, r := range w {
				if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					t.Fatalf("Parse(%q): term %q has %q", s, w, r)
				}
			}
		}
		for _, p := range q.Phrases {
			if len(p) < 2 {
				t.Fatalf("Parse(%q): phrase %q", s, p)
			}
		}
		if strings.IndexFunc(q.Fingerprint, unicode.IsControl) >= 0 {
			t.Fatalf("Parse(%q): fingerprint %q", s, q.Fingerprint)
		}
		if q.Since < 0 || q.Since > MaxSinceDays*24*time.Hour {
			t.Fatalf("Parse(%q): since %v", s, q.Since)
		}
	})
}
