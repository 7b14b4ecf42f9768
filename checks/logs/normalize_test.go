package logs

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"timeout after 1234ms talking to 10.0.0.3 id=5f3c9a2b1e7d4c60", "timeout after Nms talking to N.N.N.N id=<id>"},
		{"timeout after 87ms talking to 10.2.11.250 id=0a1b2c3d4e5f6071", "timeout after Nms talking to N.N.N.N id=<id>"},
		{"2026-11-24T09:12:33.123456Z request failed", "request failed"},
		{"at 2026/11/24 09:12:33 request failed", "at request failed"},
		{"[09:12:33,123] failed at 2026-11-24 09:12:33+01:00 here", "[] failed at here"},
		{"order 550e8400-e29b-41d4-a716-446655440000 not found", "order <uuid> not found"},
		{"bad pointer 0x7ffd5c3a9e10 and 0xDEADbeef", "bad pointer <hex> and <hex>"},
		{"commit a3f9c2e81b7d ok", "commit <id> ok"},
		{"pod api-7d9f8c6b5-x2x9q not ready", "pod api-<id>-<id> not ready"},
		{"pod api-5b9c7hj4k-k8s7d not ready", "pod api-<id>-<id> not ready"},
		{"org.apache.coyote.http11.Http11Processor.service", "org.apache.coyote.httpN.HttpNProcessor.service"},
		{"OAuth2Client failed; sha256 mismatch", "OAuthNClient failed; shaN mismatch"},
		{"took 1.5s (retry 3/5) at exec-17", "took N.Ns (retry N/N) at exec-N"},
		{"  many   spaces\tand\ttabs  ", "many spaces and tabs"},
		{"\x1b[31mERROR\x1b[0m colour", "ERROR colour"},
		{"ctrl\x00chars\x07here", "ctrl chars here"},
		{`quoted "value 12" stays`, `quoted "value N" stays`},
		{"deadbeef is a word; decade too", "deadbeef is a word; decade too"},
		{"", ""},
	} {
		if got := Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestNormalizeGroupsVariants(t *testing.T) {
	lines := []string{
		"timeout after 1234ms talking to 10.0.0.3:8443 requestId=5f56b8d7-fb8d-4208-ce3a-2e8bfe2b9b5a",
		"timeout after 5ms talking to 192.168.100.254:8443 requestId=68342290-afa9-4562-e0b4-035f74a5f7a4",
		"timeout   after 99999ms talking to 10.0.0.1:8443 requestId=00000000-0000-0000-0000-000000000000 ",
	}
	want := Normalize(lines[0])
	for _, l := range lines[1:] {
		if got := Normalize(l); got != want {
			t.Errorf("Normalize(%q) = %q, want the same as the first line: %q", l, got, want)
		}
	}
}

func TestNormalizeBounded(t *testing.T) {
	long := strings.Repeat("é word ", 200)
	got := Normalize(long)
	if len(got) > maxSignatureBytes {
		t.Errorf("len = %d, want at most %d", len(got), maxSignatureBytes)
	}
	if !utf8.ValidString(got) {
		t.Errorf("cut inside a rune: %q", got)
	}
	if Normalize(long) != got {
		t.Error("not deterministic")
	}
}

// TestSignaturesAfterRedaction: two lines differing only by a secret are
// one signature, which shows no secret.
func TestSignaturesAfterRedaction(t *testing.T) {
	a := Normalize("ERROR posting to Slack failed with token xoxb-1111111111-aaaaaaaa (Bearer abcdefgh12345678)")
	b := Normalize("ERROR posting to Slack failed with token xoxb-2222222222-bbbbbbbb (Bearer zyxwvuts98765432)")
	if a != b {
		t.Errorf("signatures differ:\n%s\n%s", a, b)
	}
	if strings.Contains(a, "xoxb") || strings.Contains(a, "abcdefgh") || !strings.Contains(a, "[redacted:slack-token]") {
		t.Errorf("signature %q", a)
	}
}
