package logs

import (
	"bytes"
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzNormalize: a signature is a fixed point (normalising it again
// changes nothing, so signatures from different versions of a line stay
// equal), at most maxSignatureBytes long, and the same whichever Slack
// token or JWT the line carried.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"timeout after 1234ms talking to 10.0.0.3 id=5f3c9a2b1e7d4c60",
		"2026-11-24T09:12:33.123456Z request failed",
		"order 550e8400-e29b-41d4-a716-446655440000 not found",
		"bad pointer 0x7ffd5c3a9e10 and 0xDEADbeef",
		"pod api-7d9f8c6b5-x2x9q not ready",
		"\x1b[31mERROR\x1b[0m colour",
		"auth failed for token xoxb-1234567890-abcdefghij",
		strings.Repeat("é", 200),
		"",
	} {
		f.Add(s, "xoxb-1111111111-aaaaaa")
	}
	f.Fuzz(func(t *testing.T, line, token string) {
		sig := Normalize(line)
		if len(sig) > maxSignatureBytes {
			t.Fatalf("Normalize(%q) is %d bytes, more than %d", line, len(sig), maxSignatureBytes)
		}
		if utf8.ValidString(line) && !utf8.ValidString(sig) {
			t.Fatalf("Normalize(%q) = %q: invalid UTF-8 from valid input", line, sig)
		}
		if again := Normalize(sig); again != sig {
			t.Fatalf("not a fixed point: %q -> %q -> %q", line, sig, again)
		}
		// Two tokens in the same place: one signature.
		a := Normalize("login failed " + "xoxb-1234567890-abcdef" + " " + line)
		b := Normalize("login failed " + "xoxp-9876543210-zyxwvu-" + strings.Map(alnumOnly, token) + " " + line)
		if a != b {
			t.Fatalf("signatures differ by token: %q vs %q", a, b)
		}
	})
}

// alnumOnly keeps letters and digits: what a token's tail is made of.
func alnumOnly(r rune) rune {
	if r < utf8.RuneSelf && isAlnum(byte(r)) {
		return r
	}
	return -1
}

// FuzzLineLevel: the level marker found in a line is a word of the line
// that levelWord recognises.
func FuzzLineLevel(f *testing.F) {
	for _, s := range []string{
		"2026-11-24T09:12:33Z ERROR payment failed", "level=error msg=x", "[warn] slow", "no error here",
		"error=0", "E1124 09:12:33.123456 1 main.go:42] boom", "\x1b[31mERROR\x1b[0m", "Mirror errors ErrorHandler",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		cls, canon, s, e := lineLevel(line)
		if cls == levelNone {
			if canon != "" || s != 0 || e != 0 {
				t.Fatalf("lineLevel(%q): no level, but %q at [%d:%d]", line, canon, s, e)
			}
			return
		}
		if s < 0 || e > len(line) || s >= e {
			t.Fatalf("lineLevel(%q): marker at [%d:%d] outside the line", line, s, e)
		}
		if c, name, _ := levelWord(line[s:e]); c != cls || name != canon {
			t.Fatalf("lineLevel(%q) = %v %q at %q, which levelWord reads as %v %q", line, cls, canon, line[s:e], c, name)
		}
		if s > 0 && isWordByte(line[s-1]) && !afterANSI(line, s) || e < len(line) && isWordByte(line[e]) {
			t.Fatalf("lineLevel(%q): the marker %q is part of a longer word", line, line[s:e])
		}
	})
}

// FuzzScan: whatever the log, the scanner's groups add up to its events,
// each signature is within its bound and carries no Slack token, each
// sample is within its bound, and the signatures do not depend on which
// token a line carried (a token-only difference groups together).
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		"2026-11-24T09:12:33Z ERROR payment failed order=1234\n2026-11-24T09:12:34Z INFO ok\n",
		"Exception in thread \"main\" java.lang.NullPointerException: x\n\tat a.b.C.d(C.java:1)\nCaused by: java.io.IOException\n",
		"panic: runtime error: index out of range\n\ngoroutine 1 [running]:\nmain.main()\n\t/app/main.go:12 +0x1d\n",
		"Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\nValueError: bad\n",
		`{"level":"error","msg":"db down","error":{"message":"dial tcp: refused","type":"net.OpError"}}` + "\n",
		`{"level":50,"msg":"pino error token xoxb-1234567890-abcdef"}` + "\n",
		"E1124 09:12:33.123456       1 main.go:42] boom\n",
		"ERROR no newline at the end",
	} {
		f.Add([]byte(s))
	}
	scan := func(t *testing.T, log []byte) map[string]int64 {
		sc := NewScanner(ScannerConfig{MaxSignatures: 4, MaxSampleRunes: 50})
		if err := sc.Scan(bytes.NewReader(log)); err != nil {
			t.Fatalf("Scan: %v", err)
		}
		groups := map[string]int64{}
		var sum int64
		for _, g := range sc.Aggregate().Top(1 << 20) {
			sum += g.Count
			groups[g.Signature] += g.Count
			if g.Count <= 0 {
				t.Fatalf("a group of %d events: %+v", g.Count, g)
			}
			if len(g.Signature) > maxSignatureBytes {
				t.Fatalf("signature of %d bytes: %q", len(g.Signature), g.Signature)
			}
			if strings.Contains(g.Signature, "xoxb-1") || strings.Contains(g.Signature, "xoxp-2") {
				t.Fatalf("a token in signature %q", g.Signature)
			}
			if n := utf8.RuneCountInString(g.Sample); n > 50 {
				t.Fatalf("sample of %d runes: %q", n, g.Sample)
			}
		}
		if st := sc.Stats(); sum != st.Events {
			t.Fatalf("groups count %d events, stats %d", sum, st.Events)
		}
		return groups
	}
	f.Fuzz(func(t *testing.T, log []byte) {
		scan(t, log)
		a := scan(t, append([]byte("ERROR auth failed with xoxb-1111111111-aaaaaa\n"), log...))
		b := scan(t, append([]byte("ERROR auth failed with xoxp-2222222222-bbbbbbbbbb\n"), log...))
		if !maps.Equal(a, b) {
			t.Fatalf("signatures depend on the token:\n%v\n%v", a, b)
		}
	})
}

// FuzzParseJSONLine: every JSON object encoding/json accepts is read (a
// line is never mistaken for plain text because of its spelling), what
// is read are slices of the line, and a line with more than one object
// is never read as one.
func FuzzParseJSONLine(f *testing.F) {
	for _, s := range []string{
		`{"level":"error","msg":"x"}`, `{"lvl":50,"message":"pino"}`, `{"log":{"level":"ERROR"},"message":"ecs"}`,
		`{"error":{"message":"m","type":"T","stack_trace":"at x"}}`, `{"@l":"Error","@mt":"serilog {X}","@x":"ex"}`,
		`{"msg":"esc \" \\ \u00e9 \ud83d\ude00"}`, `{"level":"error","msg":"trunc`, `{}`, ` {"a":[1,{"b":null}],"c":true} `,
		`not json`, `{"a":1,}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var fl jsonFields
		ok := parseJSONLine(line, &fl)
		trimmed := bytes.TrimSpace(line)
		isObject := json.Valid(line) && len(trimmed) > 0 && trimmed[0] == '{'
		if isObject && !ok {
			t.Fatalf("parseJSONLine(%q): a valid JSON object not read", line)
		}
		// The parser skips the values it does not use without checking
		// them (00 passes), but never reads past one object.
		if ok && (trimmed[0] != '{' || trimmed[len(trimmed)-1] != '}') {
			t.Fatalf("parseJSONLine(%q): read as an object, but it is not one object", line)
		}
		for _, v := range [][]byte{fl.level, fl.msg, fl.err, fl.errType, fl.exception} {
			if len(v) > 0 && !bytes.Contains(line, v) {
				t.Fatalf("parseJSONLine(%q): %q is not a slice of the line", line, v)
			}
		}
	})
}

// afterANSI reports whether line[:s] ends with a terminal escape sequence
// ("\x1b[31m"), which ends a word as a space would.
func afterANSI(line []byte, s int) bool {
	esc := bytes.LastIndexByte(line[:s], 0x1b)
	return esc >= 0 && skipANSI(line, esc) == s
}
