package logs

import (
	"unicode/utf8"

	"github.com/opsbot/opsbot/redact"
)

// maxSignatureBytes bounds a signature (it goes into titles and
// fingerprints); longer ones are cut at a rune boundary.
const maxSignatureBytes = 240

// Normalize returns the signature form of a log message: what stays the
// same when the same error happens again. It is a pure function of its
// input, so signatures are stable across runs and versions of the data.
//
//   - timestamps (2026-11-24T09:12:33.123Z, 2026/11/24 09:12:33,
//     09:12:33.123456, with an optional zone) are dropped;
//   - UUIDs become <uuid>; 0x-prefixed hex numbers become <hex>; tokens of
//     8 or more letters and digits that mix both and are either all hex
//     or have 3 or more runs of digits (trace ids, git shas, pod-template
//     hashes, random ids, but not Http11Processor or OAuth2Client) become
//     <id>, and so does the 5-character pod suffix after such an id;
//   - every other run of digits becomes N: "1234ms" is "Nms", 10.0.0.3 is
//     N.N.N.N, exec-17 is exec-N;
//   - terminal colour escapes are dropped, control characters are spaces,
//     and runs of white space collapse to one space, trimmed.
//
// Quoted values are kept: they are as often constant (a file, a servlet)
// as variable. The result is at most 240 bytes.
func Normalize(s string) string {
	return string(normalize(nil, []byte(s)))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }
func isHex(c byte) bool   { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'
}

// redactor takes tokens out of a line before it becomes a signature, so
// that two lines differing only by a token group together (the rest is
// redacted from what the check reports, by checks.Runner).
var redactor = redact.New(redact.Options{OnlyTokens: true})

// normalize appends the signature form of text to dst (see Normalize),
// secrets redacted first.
func normalize(dst, text []byte) []byte {
	text = redactor.Bytes(text)
	base := len(dst)
	space := false // a space is due before the next output byte
	emit := func(s string) {
		if space && len(dst) > base {
			dst = append(dst, ' ')
		}
		space = false
		dst = append(dst, s...)
	}
	i := 0
	for i < len(text) && len(dst)-base < maxSignatureBytes+8 {
		c := text[i]
		switch {
		case c == 0x1b:
			i = skipANSI(text, i)
			continue
		case c < 0x20 || c == 0x7f || c == ' ':
			space = true
			i++
			continue
		}
		// A token boundary: what follows may be a timestamp, a UUID, an
		// id or a number.
		if isAlnum(c) && (i == 0 || !isAlnum(text[i-1])) {
			if n := timestampLen(text[i:]); n > 0 {
				i += n
				// A key left without its value (ts=, "time":"") goes too.
				if end := len(dst); end > base && dst[end-1] == '"' && i < len(text) && text[i] == '"' {
					dst = dropKey(dst[:end-1], base)
					i++
				} else {
					dst = dropKey(dst, base)
				}
				continue
			}
			if uuidAt(text[i:]) {
				emit("<uuid>")
				i += 36
				continue
			}
			if c == '0' && i+2 < len(text) && text[i+1]|0x20 == 'x' && isHex(text[i+2]) {
				j := i + 2
				for j < len(text) && isHex(text[j]) {
					j++
				}
				if j == len(text) || !isAlnum(text[j]) {
					emit("<hex>")
					i = j
					continue
				}
			}
			j := i
			digits, letters, runs := 0, 0, 0
			hexOnly := true
			for j < len(text) && isAlnum(text[j]) {
				if isDigit(text[j]) {
					if digits == 0 || !isDigit(text[j-1]) {
						runs++
					}
					digits++
				} else {
					letters++
					hexOnly = hexOnly && isHex(text[j])
				}
				j++
			}
			if j-i >= 8 && digits > 0 && letters > 0 && (hexOnly || runs >= 3) {
				emit("<id>")
				// A pod name's random suffix after its template hash.
				if j+6 <= len(text) && text[j] == '-' && isAlnumRun(text[j+1:j+6]) &&
					(j+6 == len(text) || !isAlnum(text[j+6])) {
					dst = append(dst, "-<id>"...)
					j += 6
				}
				i = j
				continue
			}
		}
		if isDigit(c) {
			emit("N")
			for i < len(text) && isDigit(text[i]) {
				i++
			}
			continue
		}
		if space && len(dst) > base {
			dst = append(dst, ' ')
		}
		space = false
		dst = append(dst, c)
		i++
	}
	return cutSignature(dst, base)
}

// cutSignature cuts dst[base:] to maxSignatureBytes at a rune boundary.
func cutSignature(dst []byte, base int) []byte {
	if len(dst)-base <= maxSignatureBytes {
		return dst
	}
	end := base + maxSignatureBytes
	for end > base && !utf8.RuneStart(dst[end]) {
		end--
	}
	dst = dst[:end]
	for len(dst) > base && dst[len(dst)-1] == ' ' {
		dst = dst[:len(dst)-1]
	}
	return dst
}

func isAlnumRun(b []byte) bool {
	for _, c := range b {
		if !isAlnum(c) {
			return false
		}
	}
	return true
}

// skipANSI returns the index after the escape sequence at text[i] (ESC).
func skipANSI(text []byte, i int) int {
	j := i + 1
	if j < len(text) && text[j] == '[' {
		j++
		for j < len(text) && (isDigit(text[j]) || text[j] == ';' || text[j] == '?') {
			j++
		}
		if j < len(text) && isAlpha(text[j]) {
			j++
		}
	}
	return j
}

// uuidAt reports whether b starts with a UUID (8-4-4-4-12 hex digits) not
// followed by another letter or digit.
func uuidAt(b []byte) bool {
	if len(b) < 36 {
		return false
	}
	for i := range 36 {
		switch i {
		case 8, 13, 18, 23:
			if b[i] != '-' {
				return false
			}
		default:
			if !isHex(b[i]) {
				return false
			}
		}
	}
	return len(b) == 36 || !isAlnum(b[36])
}

// digitsAt returns how many digits start b (at most max).
func digitsAt(b []byte, max int) int {
	n := 0
	for n < len(b) && n < max && isDigit(b[n]) {
		n++
	}
	return n
}

// timestampLen returns the length of the date-time, date or time at the
// start of b, or 0. Recognised: YYYY-MM-DD or YYYY/MM/DD, optionally
// followed by T or a space and a time; HH:MM:SS with optional fraction
// (. or ,); then an optional zone (Z, or +HH:MM, +HHMM, -HH).
func timestampLen(b []byte) int {
	n := 0
	if digitsAt(b, 5) == 4 && len(b) >= 10 && (b[4] == '-' || b[4] == '/') && b[7] == b[4] &&
		digitsAt(b[5:], 3) == 2 && digitsAt(b[8:], 3) == 2 {
		n = 10
		if len(b) > n+1 && (b[n] == 'T' || b[n] == ' ') && isDigit(b[n+1]) {
			if t := timeLen(b[n+1:]); t > 0 {
				n += 1 + t
			}
		}
		if n < len(b) && isAlnum(b[n]) {
			return 0
		}
		return n
	}
	if t := timeLen(b); t > 0 && (t == len(b) || !isAlnum(b[t])) {
		return t
	}
	return 0
}

// timeLen returns the length of HH:MM:SS[.frac][zone] at the start of b,
// or 0.
func timeLen(b []byte) int {
	h := digitsAt(b, 3)
	if h < 1 || h > 2 || len(b) < h+6 || b[h] != ':' || digitsAt(b[h+1:], 3) != 2 ||
		b[h+3] != ':' || digitsAt(b[h+4:], 3) != 2 {
		return 0
	}
	n := h + 6
	if n+1 < len(b) && (b[n] == '.' || b[n] == ',') && isDigit(b[n+1]) {
		n++
		n += digitsAt(b[n:], 12)
	}
	if n < len(b) {
		switch b[n] {
		case 'Z':
			n++
		case '+', '-':
			if d := digitsAt(b[n+1:], 5); d == 2 || d == 4 {
				m := n + 1 + d
				if d == 2 && m+2 < len(b) && b[m] == ':' && digitsAt(b[m+1:], 3) == 2 {
					m += 3
				}
				n = m
			}
		}
	}
	return n
}

// dropKey removes a trailing "key=" or "key:" (the key a dropped value
// belonged to) from dst[base:].
func dropKey(dst []byte, base int) []byte {
	end := len(dst)
	if end == base || (dst[end-1] != '=' && dst[end-1] != ':') {
		return dst
	}
	j := end - 1
	if j > base && dst[j-1] == '"' {
		j--
	}
	k := j
	for k > base && (isWordByte(dst[k-1]) || dst[k-1] == '.' || dst[k-1] == '@') {
		k--
	}
	if k == j {
		return dst
	}
	if k > base && dst[k-1] == '"' {
		k--
	}
	for k > base && dst[k-1] == ' ' {
		k--
	}
	return dst[:k]
}
