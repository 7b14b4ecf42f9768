package incident

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDraft(t *testing.T) {
	for _, tt := range []struct {
		name                     string
		title, conclusion, users string
		wantWhat, wantImpact     string
	}{
		{"title only", "payments API\n502s", "", "", "payments API 502s", ""},
		{"with the conclusion", "payments API 502s", " the provider\ntimes out ", " about 30% of checkouts\n",
			"payments API 502s: the provider times out", "about 30% of checkouts"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			what, impact := Draft(tt.title, tt.conclusion, tt.users)
			if what != tt.wantWhat || impact != tt.wantImpact {
				t.Errorf("Draft = %q, %q; want %q, %q", what, impact, tt.wantWhat, tt.wantImpact)
			}
		})
	}
	what, impact := Draft(strings.Repeat("x", MaxWhatLen), "because", strings.Repeat("é", MaxUserImpactLen+5))
	if n := utf8.RuneCountInString(what); n != MaxWhatLen || !strings.HasSuffix(what, "…") {
		t.Errorf("a long What is %d runes (%q…), want %d ending in …", n, what[:10], MaxWhatLen)
	}
	if n := utf8.RuneCountInString(impact); n != MaxUserImpactLen {
		t.Errorf("a long User impact is %d runes, want %d", n, MaxUserImpactLen)
	}
}
