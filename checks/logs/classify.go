package logs

import "bytes"

// This file decides what a line is: the start of an error event (and its
// signature), a continuation of the event before it (a stack frame, a
// "Caused by"), or neither. The rules are in the package documentation.

// levelClass is what a level word says about its line.
type levelClass uint8

const (
	levelNone  levelClass = iota
	levelInfo             // INFO, NOTICE, VERBOSE
	levelWarn             // WARN, WARNING, DEBUG, TRACE: a stack trace after such a line is its own
	levelError            // ERROR, SEVERE
	levelFatal            // FATAL, CRITICAL, CRIT, PANIC
)

// levelWord classifies a word that may be a level: lower case, upper case
// or capitalised only ("eRRoR" is not a level). It also returns the
// canonical upper-case spelling used in signatures.
func levelWord(w []byte) (levelClass, string, bool) {
	n := len(w)
	if n < 4 || n > 8 {
		return levelNone, "", false
	}
	var low [8]byte
	upper, lower := true, true
	for i, c := range w {
		switch {
		case c >= 'A' && c <= 'Z':
			if i > 0 {
				lower = false
			}
			low[i] = c + 'a' - 'A'
		case c >= 'a' && c <= 'z':
			upper = false
			low[i] = c
		default:
			return levelNone, "", false
		}
	}
	if !upper && !lower {
		return levelNone, "", false
	}
	isUpper := upper && (w[1] >= 'A' && w[1] <= 'Z')
	switch string(low[:n]) {
	case "error":
		return levelError, "ERROR", isUpper
	case "severe":
		return levelError, "SEVERE", isUpper
	case "fatal":
		return levelFatal, "FATAL", isUpper
	case "critical":
		return levelFatal, "CRITICAL", isUpper
	case "crit":
		return levelFatal, "CRIT", isUpper
	case "panic":
		return levelFatal, "PANIC", isUpper
	case "info", "notice", "verbose":
		return levelInfo, "", isUpper
	case "warn", "warning", "debug", "trace":
		return levelWarn, "", isUpper
	}
	return levelNone, "", false
}

func isWordByte(c byte) bool { return isAlnum(c) || c == '_' }

// timestampPrefixLen returns the length of the leading timestamp-like
// text of a line ("2026-11-24 09:12:33.123 ", "[2026/11/24 09:12:33] ",
// "09:12:33.123 "), so that the first word of the message can be found.
func timestampPrefixLen(t []byte) int {
	i := 0
	for i < len(t) {
		c := t[i]
		switch {
		case isDigit(c), c == '-', c == ':', c == '/', c == '.', c == ',', c == '+', c == ' ', c == '\t', c == '[', c == ']':
			i++
		case (c == 'T' || c == 'Z') && i > 0 && isDigit(t[i-1]):
			i++
		default:
			return i
		}
	}
	return i
}

// lineLevel returns the level of a plain-text line: the class of its
// first level marker, and where that word is. A level marker is a level
// word (see levelWord) that is
//
//   - the value of a level key: level=error, lvl=ERROR, severity: error,
//     "level":"error" (in text that is not a JSON object), level="error";
//   - in brackets: [ERROR], [error], <error>, (Error), |ERROR|;
//   - the first word of the line after its timestamp: "Error: ...",
//     "error connecting ...", "ERROR:root:...";
//   - or in capitals anywhere: ERROR, FATAL, INFO, WARN...
//
// An error word followed by a zero value (error=0, error: nil, ERROR=none,
// err=<nil>, error=false, error="") or preceded by a negation ("no error",
// "non-fatal", "0 error", "without error", "not critical") is not a
// marker, and neither is a word inside a longer word (errors, error_count,
// ErrorHandler, Mirror).
func lineLevel(t []byte) (cls levelClass, canon string, start, end int) {
	first := timestampPrefixLen(t)
	i := 0
	for i < len(t) {
		if !isWordByte(t[i]) {
			if t[i] == 0x1b { // a colour escape: \x1b[31mERROR\x1b[0m
				i = skipANSI(t, i)
				continue
			}
			i++
			continue
		}
		s := i
		for i < len(t) && isWordByte(t[i]) {
			i++
		}
		c, name, upper := levelWord(t[s:i])
		if c == levelNone {
			continue
		}
		if !upper && !(s == first || afterLevelKey(t, s) || bracketed(t, s, i)) {
			continue
		}
		if c >= levelError && (zeroValueAfter(t, i) || negatedBefore(t, s)) {
			continue
		}
		return c, name, s, i
	}
	return levelNone, "", 0, 0
}

// afterLevelKey reports whether the word at t[s:] is the value of a level
// key (level=, lvl:, "severity":", ...).
func afterLevelKey(t []byte, s int) bool {
	j := s - 1
	if j >= 0 && (t[j] == '"' || t[j] == '\'') {
		j--
	}
	for j >= 0 && t[j] == ' ' {
		j--
	}
	if j < 0 || (t[j] != '=' && t[j] != ':') {
		return false
	}
	j--
	if j >= 0 && t[j] == '"' {
		j--
	}
	for j >= 0 && t[j] == ' ' {
		j--
	}
	e := j + 1
	for j >= 0 && (isWordByte(t[j]) || t[j] == '.' || t[j] == '@') {
		j--
	}
	key := t[j+1 : e]
	if len(key) > 16 {
		return false
	}
	var low [16]byte
	for i, c := range key {
		low[i] = c | 0x20
	}
	switch string(low[:len(key)]) {
	case "level", "lvl", "severity", "loglevel", "levelname", "log.level", "@l", "sev":
		return true
	}
	return false
}

// bracketed reports whether the word t[s:e] is enclosed in brackets,
// allowing padding spaces: [ERROR], [ERROR ], <error>, (Error), |ERROR|.
func bracketed(t []byte, s, e int) bool {
	j := s - 1
	for j >= 0 && t[j] == ' ' {
		j--
	}
	k := e
	for k < len(t) && t[k] == ' ' {
		k++
	}
	if j < 0 || k >= len(t) {
		return false
	}
	switch t[j] {
	case '[':
		return t[k] == ']'
	case '<':
		return t[k] == '>'
	case '(':
		return t[k] == ')'
	case '|':
		return t[k] == '|'
	}
	return false
}

// zeroValueAfter reports whether the word ending at t[e] is followed by a
// zero value: =0, : nil, ="", =none, =false, =<nil>, =[].
func zeroValueAfter(t []byte, e int) bool {
	k := e
	if k < len(t) && t[k] == '"' {
		k++
	}
	if k >= len(t) || (t[k] != '=' && t[k] != ':') {
		return false
	}
	k++
	for k < len(t) && t[k] == ' ' {
		k++
	}
	if k < len(t) && (t[k] == '"' || t[k] == '\'') {
		q := t[k]
		k++
		if k < len(t) && t[k] == q {
			return true // an empty string
		}
	}
	if k >= len(t) {
		return false
	}
	if t[k] == '0' && (k+1 == len(t) || !isAlnum(t[k+1]) && t[k+1] != '.') {
		return true
	}
	if bytes.HasPrefix(t[k:], []byte("<nil>")) || bytes.HasPrefix(t[k:], []byte("[]")) || bytes.HasPrefix(t[k:], []byte("{}")) {
		return true
	}
	w := k
	for w < len(t) && isAlpha(t[w]) {
		w++
	}
	if w-k < 3 || w-k > 5 || (w < len(t) && isWordByte(t[w])) {
		return false
	}
	var low [5]byte
	for i, c := range t[k:w] {
		low[i] = c | 0x20
	}
	switch string(low[:w-k]) {
	case "nil", "null", "none", "false":
		return true
	}
	return false
}

// negatedBefore reports whether the word at t[s:] follows a negation
// ("no error", "0 error", "non-fatal", "without error", "not critical").
func negatedBefore(t []byte, s int) bool {
	j := s - 1
	if j < 0 || (t[j] != ' ' && t[j] != '-') {
		return false
	}
	for j >= 0 && (t[j] == ' ' || t[j] == '-') {
		j--
	}
	e := j + 1
	for j >= 0 && isWordByte(t[j]) {
		j--
	}
	w := t[j+1 : e]
	if len(w) == 0 || len(w) > 7 {
		return false
	}
	var low [7]byte
	for i, c := range w {
		low[i] = c | 0x20
	}
	switch string(low[:len(w)]) {
	case "no", "0", "zero", "non", "not", "without":
		return true
	}
	return false
}

// messageStart returns where the message of a plain line starts, given
// its level word ending at e: after a header separator (" : " as in
// Spring Boot and Rails, " - " as in logback's and log4j's patterns) when
// everything between the level and the separator looks like a header
// (a pid, "---", [thread], a logger name), else right after the level
// word and its punctuation.
func messageStart(t []byte, e int) int {
	limit := min(len(t), e+160)
	i, fields, strong := e, 0, false
	for {
		i = skipSpaces(t, i)
		if i >= limit {
			break
		}
		if i > e && t[i-1] == ' ' && (t[i] == ':' || t[i] == '-') && (i+1 == len(t) || t[i+1] == ' ') {
			if fields > 0 && strong {
				return skipSpaces(t, i+1)
			}
			break
		}
		if fields++; fields > 6 {
			break
		}
		f := i
		if t[i] == '[' {
			k := bytes.IndexByte(t[i:limit], ']')
			if k < 0 {
				break
			}
			i += k + 1
		} else {
			for i < limit && t[i] != ' ' {
				i++
			}
		}
		if i < len(t) && t[i] != ' ' {
			break
		}
		ok, s := headerField(t[f:i])
		if !ok {
			break
		}
		strong = strong || s
	}
	return afterLevel(t, e)
}

// headerField reports whether f can be a field of a log line's header
// ([thread], a pid, "---", a logger name) and whether it is one only a
// header has (anything but a plain word).
func headerField(f []byte) (ok, strong bool) {
	switch {
	case f[0] == '[':
		return true, true
	case bytes.Count(f, []byte("-")) == len(f):
		return true, true
	}
	dotted, digits := false, true
	for _, c := range f {
		switch {
		case c == '.':
			dotted = true
		case isDigit(c):
		case isWordByte(c) || c == '$':
			digits = false
		default:
			return false, false
		}
	}
	return true, dotted || digits
}

// afterLevel skips the punctuation after a level word: "ERROR: ",
// "[ERROR] ", "level=error ".
func afterLevel(t []byte, e int) int {
	for e < len(t) {
		switch t[e] {
		case ' ', '\t', ':', ']', '>', ')', '|', '"', '\'', '-', ',':
			e++
		default:
			return e
		}
	}
	return e
}

func skipSpaces(t []byte, i int) int {
	for i < len(t) && (t[i] == ' ' || t[i] == '\t') {
		i++
	}
	return i
}

// stripKubeTimestamp removes the RFC 3339 timestamp and space that the
// kubelet puts before each line when asked for timestamps (kubectl logs
// --timestamps). A line that starts with an application's own ISO
// timestamp followed by a space loses it too, which changes nothing:
// signatures drop timestamps anyway.
func stripKubeTimestamp(line []byte) []byte {
	if len(line) < 21 || line[10] != 'T' || line[4] != '-' || !isDigit(line[0]) {
		return line
	}
	if n := timestampLen(line); n > 0 && n < len(line) && line[n] == ' ' {
		return line[n+1:]
	}
	return line
}

// klogHeader parses the header of a klog line,
// "E1124 09:12:33.123456       1 reflector.go:158] message", returning the
// severity letter and the message.
func klogHeader(t []byte) (sev byte, msg []byte, ok bool) {
	if len(t) < 22 {
		return 0, nil, false
	}
	switch t[0] {
	case 'I', 'W', 'E', 'F':
	default:
		return 0, nil, false
	}
	if digitsAt(t[1:], 5) != 4 || t[5] != ' ' || timeLen(t[6:]) == 0 {
		return 0, nil, false
	}
	end := bytes.Index(t[6:min(len(t), 120)], []byte("] "))
	if end < 0 {
		if bytes.HasSuffix(t, []byte("]")) && len(t) < 120 {
			return t[0], nil, true
		}
		return 0, nil, false
	}
	return t[0], t[6+end+2:], true
}

// exceptionHeader recognises the first line of a Java, Kotlin, Scala or
// .NET exception: a dotted class name whose last part ends in Exception,
// Error or Throwable (or contains Exception), alone or followed by ": "
// and a message, optionally after `Exception in thread "name" ` or
// `Unhandled exception. `.
func exceptionHeader(t []byte) (cls, msg []byte, ok bool) {
	if bytes.HasPrefix(t, []byte(`Exception in thread "`)) {
		q := bytes.IndexByte(t[len(`Exception in thread "`):], '"')
		if q < 0 {
			return nil, nil, false
		}
		t = bytes.TrimLeft(t[len(`Exception in thread "`)+q+1:], " ")
	} else if bytes.HasPrefix(t, []byte("Unhandled exception. ")) {
		t = t[len("Unhandled exception. "):]
	}
	if len(t) == 0 || !(isAlpha(t[0]) || t[0] == '_') {
		return nil, nil, false
	}
	i, seg, dots := 0, 0, 0
	for i < len(t) {
		c := t[i]
		if isWordByte(c) || c == '$' {
			i++
			continue
		}
		if c == '.' && i > seg && i+1 < len(t) && (isAlpha(t[i+1]) || t[i+1] == '_') {
			dots++
			i++
			seg = i
			continue
		}
		break
	}
	if dots == 0 {
		return nil, nil, false
	}
	last := t[seg:i]
	if !bytes.HasSuffix(last, []byte("Exception")) && !bytes.HasSuffix(last, []byte("Error")) &&
		!bytes.HasSuffix(last, []byte("Throwable")) && !bytes.Contains(last, []byte("Exception")) {
		return nil, nil, false
	}
	switch {
	case i == len(t):
		return t[:i], nil, true
	case t[i] == ':':
		return t[:i], bytes.TrimSpace(t[i+1:]), true
	}
	return nil, nil, false
}

// pythonException recognises the last line of a Python traceback,
// "ValueError: invalid literal" or "requests.exceptions.ConnectionError:
// ...", or a bare exception name.
func pythonException(t []byte) bool {
	if len(t) == 0 || !(isAlpha(t[0]) || t[0] == '_') {
		return false
	}
	i := 0
	for i < len(t) && (isWordByte(t[i]) || t[i] == '.') {
		i++
	}
	return i == len(t) || t[i] == ':'
}

// stackOwner reports whether a line is a log line at WARN, DEBUG or TRACE
// level: an exception after it is the stack trace it logged, not an error.
// After an INFO line (or anything else) an exception is taken for one
// printed on its own (printStackTrace, an uncaught exception).
func stackOwner(line []byte, f *jsonFields) bool {
	t := stripKubeTimestamp(trimCR(line))
	if len(t) == 0 {
		return false
	}
	if t[0] == '{' && parseJSONLine(t, f) {
		if len(f.level) > 16 || f.exception != nil {
			return false // a JSON line carries its own stack trace
		}
		var low [16]byte
		for i, c := range f.level {
			low[i] = c | 0x20
		}
		switch string(low[:len(f.level)]) {
		case "warn", "warning", "debug", "trace":
			return true
		}
		return false
	}
	if sev, _, ok := klogHeader(t); ok {
		return sev == 'W'
	}
	cls, _, _, _ := lineLevel(t)
	return cls == levelWarn
}
