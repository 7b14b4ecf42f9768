package logs

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// jsonFields are the raw values of the fields of a JSON log line the
// scanner uses: slices of the line, strings still escaped and without
// their quotes. Nothing is decoded or allocated until the level says the
// line is an error.
type jsonFields struct {
	level     []byte
	levelNum  bool // level is a JSON number (pino, bunyan)
	msg       []byte
	err       []byte
	errType   []byte
	exception []byte
}

func (f *jsonFields) reset() { *f = jsonFields{} }

// The keys looked at, by role. Keys are matched exactly (JSON keys are
// case-sensitive; these are the spellings of the common libraries: zap,
// logrus, slog, pino, bunyan, logstash-logback-encoder, ECS, Serilog
// compact, python-json-logger, Google Cloud structured logging).
func jsonRole(key []byte, nested string) int {
	switch nested {
	case "log":
		if string(key) == "level" {
			return roleLevel
		}
		return roleNone
	case "error":
		switch string(key) {
		case "message":
			return roleErr
		case "type":
			return roleErrType
		case "stack_trace", "stack", "stacktrace":
			return roleException
		}
		return roleNone
	}
	switch string(key) {
	case "level", "lvl", "severity", "levelname", "loglevel", "log.level", "@l":
		return roleLevel
	case "msg", "message", "@m", "@mt":
		return roleMsg
	case "error", "err", "error.message":
		return roleErr
	case "error.type":
		return roleErrType
	case "exception", "stack_trace", "stacktrace", "stack", "error.stack", "error.stack_trace", "@x", "exc_info":
		return roleException
	case "log":
		return roleNestedLog
	}
	return roleNone
}

const (
	roleNone = iota
	roleLevel
	roleMsg
	roleErr
	roleErrType
	roleException
	roleNestedLog
)

// parseJSONLine fills f from the object in line. It reports false when
// the line is not a well-formed JSON object (a truncated line, say): the
// caller then treats it as plain text. The first occurrence of each role
// wins.
func parseJSONLine(line []byte, f *jsonFields) bool {
	f.reset()
	i := skipWS(line, 0)
	if i >= len(line) || line[i] != '{' {
		return false
	}
	end, ok := parseObject(line, i, f, "")
	// Anything but white space after the object: not one JSON object.
	return ok && skipWS(line, end) == len(line)
}

// parseObject reads the object at b[i] ('{'), recording the fields of
// interest, and returns the index after it.
func parseObject(b []byte, i int, f *jsonFields, nested string) (int, bool) {
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, false
		}
		key, j, ok := jsonString(b, i)
		if !ok {
			return 0, false
		}
		i = skipWS(b, j)
		if i >= len(b) || b[i] != ':' {
			return 0, false
		}
		i = skipWS(b, i+1)
		if i >= len(b) {
			return 0, false
		}
		role := jsonRole(key, nested)
		switch {
		case b[i] == '"':
			v, j, ok := jsonString(b, i)
			if !ok {
				return 0, false
			}
			f.set(role, v, false)
			i = j
		case b[i] == '{' && nested == "" && (role == roleNestedLog || string(key) == "error"):
			name := "log"
			if role != roleNestedLog {
				name = "error"
			}
			j, ok := parseObject(b, i, f, name)
			if !ok {
				return 0, false
			}
			i = j
		default:
			start := i
			j, ok := skipValue(b, i)
			if !ok {
				return 0, false
			}
			if role == roleLevel && (isDigit(b[start]) || b[start] == '-') {
				f.set(role, b[start:j], true)
			}
			i = j
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return 0, false
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return i + 1, true
		default:
			return 0, false
		}
	}
}

func (f *jsonFields) set(role int, v []byte, num bool) {
	switch role {
	case roleLevel:
		if f.level == nil {
			f.level, f.levelNum = v, num
		}
	case roleMsg:
		if f.msg == nil {
			f.msg = v
		}
	case roleErr:
		if f.err == nil {
			f.err = v
		}
	case roleErrType:
		if f.errType == nil {
			f.errType = v
		}
	case roleException:
		if f.exception == nil {
			f.exception = v
		}
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// jsonString returns the raw contents of the string at b[i] ('"') and the
// index after its closing quote: the first quote not escaped by an odd
// number of backslashes.
func jsonString(b []byte, i int) ([]byte, int, bool) {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return nil, 0, false
		}
		q := j + k
		n := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return b[i+1 : q], q + 1, true
		}
		j = q + 1
	}
}

// quietJSON reports whether a JSON line is cheaply seen not to be an
// error: its "level" is a string naming a level below error. Such lines
// (most of the candidates of a JSON log: an INFO line whose message says
// "error") are not parsed at all.
func quietJSON(line []byte) bool {
	i := bytes.Index(line, []byte(`"level":"`))
	if i < 0 {
		return false
	}
	v := line[i+len(`"level":"`):]
	e := bytes.IndexByte(v, '"')
	if e < 4 || e > 7 {
		return false
	}
	var low [7]byte
	for k, c := range v[:e] {
		low[k] = c | 0x20
	}
	switch string(low[:e]) {
	case "info", "warn", "warning", "debug", "trace", "notice":
		return true
	}
	return false
}

// skipValue returns the index after the JSON value at b[i].
func skipValue(b []byte, i int) (int, bool) {
	switch b[i] {
	case '"':
		_, j, ok := jsonString(b, i)
		return j, ok
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				_, k, ok := jsonString(b, j)
				if !ok {
					return 0, false
				}
				j = k - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			}
		}
		return 0, false
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && !isSpace(b[j]) {
		j++
	}
	return j, j > i
}

// unescapeJSON appends the decoded form of the raw JSON string contents s
// to dst, stopping once dst has grown by max bytes.
func unescapeJSON(dst, s []byte, max int) []byte {
	limit := len(dst) + max
	for i := 0; i < len(s) && len(dst) < limit; i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			dst = append(dst, c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			dst = append(dst, '\n')
		case 't':
			dst = append(dst, '\t')
		case 'r':
			dst = append(dst, '\r')
		case 'b', 'f':
			dst = append(dst, ' ')
		case 'u':
			if i+4 < len(s) {
				if v, err := strconv.ParseUint(string(s[i+1:i+5]), 16, 32); err == nil {
					r := rune(v)
					if r >= 0xd800 && r < 0xdc00 && i+10 < len(s) && s[i+5] == '\\' && s[i+6] == 'u' {
						if lo, err := strconv.ParseUint(string(s[i+7:i+11]), 16, 32); err == nil && lo >= 0xdc00 && lo < 0xe000 {
							r = (r-0xd800)<<10 + (rune(lo) - 0xdc00) + 0x10000
							i += 6
						}
					}
					dst = utf8.AppendRune(dst, r)
					i += 4
					continue
				}
			}
			dst = append(dst, '\\', 'u')
		default: // \" \\ \/
			dst = append(dst, s[i])
		}
	}
	return dst
}

// jsonLevel classifies a JSON level value: error, fatal, or neither.
func jsonLevel(v []byte, num bool) (isErr, fatal bool) {
	if num {
		// pino and bunyan: 50 error, 60 fatal.
		n, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return false, false
		}
		return n >= 50 && n < 100, n >= 60 && n < 100
	}
	if len(v) > 16 {
		return false, false
	}
	var low [16]byte
	for i, c := range v {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		low[i] = c
	}
	switch string(low[:len(v)]) {
	case "error", "err", "eror", "severe":
		return true, false
	case "fatal", "critical", "crit", "panic", "dpanic", "alert", "emerg", "emergency":
		return true, true
	}
	return false, false
}
