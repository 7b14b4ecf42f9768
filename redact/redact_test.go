package redact

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	r := New(Options{})
	for _, tt := range []struct{ in, want string }{
		{"plain line, nothing secret", "plain line, nothing secret"},
		{"posting with xoxb-1234567890-abcdefGHIJ failed", "posting with [redacted:slack-token] failed"},
		{"app token xapp-1-A0123-456-abc", "app token [redacted:slack-token]"},
		{"Authorization: Bearer abc.def-ghi_jkl123", "Authorization: Bearer [redacted:bearer]"},
		{"token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-nature_x rejected", "token [redacted:jwt] rejected"},
		{"key AKIAIOSFODNN7EXAMPLE in use", "key [redacted:aws-key] in use"},
		{"connect password=hunter2 user=app", "connect password=[redacted:secret] user=app"},
		{`{"client_secret": "s3cr3t", "ok": true}`, `{"client_secret": [redacted:secret], "ok": true}`},
		{"api_key: 'abc123'", "api_key: [redacted:secret]"},
		{"dial postgres://app:pa55@db:5432/shop", "dial postgres://[redacted:credentials]@db:5432/shop"},
		{"mail to alice@example.com bounced", "mail to [redacted:email] bounced"},
		{"-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY----- loaded", "[redacted:private-key] loaded"},
		{"a token=, then nothing", "a token=, then nothing"},
	} {
		if got := r.Text(tt.in); got != tt.want {
			t.Errorf("Text(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
	if got := New(Options{KeepEmails: true}).Text("alice@example.com"); got != "alice@example.com" {
		t.Errorf("KeepEmails: %q", got)
	}
}

func FuzzText(f *testing.F) {
	for _, s := range []string{"xoxb-1234567890-abc", "password=x", "Bearer abcdefghij", "a@b.io", "https://u:p@h/"} {
		f.Add(s)
	}
	r := New(Options{})
	f.Fuzz(func(t *testing.T, in string) {
		out := r.Text(in)
		// Redacting again changes nothing more, and no Slack token
		// survives.
		if again := r.Text(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, out, again)
		}
		if rules[1].re.MatchString(out) {
			t.Fatalf("a Slack token survived: %q -> %q", in, out)
		}
		if !strings.Contains(in, "[redacted:") && strings.Count(out, "[redacted:") == 0 && out != in {
			t.Fatalf("changed without redacting: %q -> %q", in, out)
		}
	})
}

// TestHinted: the one-pass search of the hints says the same as searching
// each hint of each rule applied, for every combination of Options, on
// text made of the hints in mixed case, pieces of them and other bytes.
func TestHinted(t *testing.T) {
	var pieces []string
	for _, rl := range rules {
		for _, h := range rl.hints {
			pieces = append(pieces, h, strings.ToUpper(h), h[:len(h)-1], strings.ToUpper(h[len(h)-1:]))
		}
	}
	pieces = append(pieces, " ", "x", "E", "\xff", "[", "`", "{", "-")
	rnd := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		var b strings.Builder
		for n := rnd.IntN(8); n > 0; n-- {
			b.WriteString(pieces[rnd.IntN(len(pieces))])
		}
		s := b.String()
		for _, o := range []Options{{}, {KeepEmails: true}, {OnlyTokens: true}, {KeepEmails: true, OnlyTokens: true}} {
			r := New(o)
			want := false
			for _, rl := range rules {
				if !r.skip(rl) && anyHint(s, rl.hints) {
					want = true
				}
			}
			if got := hinted(r, s); got != want {
				t.Fatalf("%+v: hinted(%q) = %v, want %v", o, s, got, want)
			}
			if got := hinted(r, []byte(s)); got != want {
				t.Fatalf("%+v: hinted([]byte(%q)) = %v, want %v", o, s, got, want)
			}
		}
	}
}
