package logs

import "testing"

func TestLineLevel(t *testing.T) {
	for _, tc := range []struct {
		line string
		want levelClass
		word string // the marker's canonical spelling, for errors
	}{
		{"2026-11-24 09:12:33.123 ERROR 1 --- [main] c.e.Foo : boom", levelError, "ERROR"},
		{"09:12:33.123 [main] ERROR c.e.Foo - boom", levelError, "ERROR"},
		{"[error] 7#7: connect() failed", levelError, "ERROR"},
		{"<Error> something", levelError, "ERROR"},
		{"| FATAL | x", levelFatal, "FATAL"},
		{"level=error msg=x", levelError, "ERROR"},
		{`level="crit" msg=x`, levelFatal, "CRIT"},
		{"severity: error something", levelError, "ERROR"},
		{"Error: connect ECONNREFUSED", levelError, "ERROR"},
		{"2026/11/24 09:12:33 error: config missing", levelError, "ERROR"},
		{"panic in the disco", levelFatal, "PANIC"},
		{"something CRITICAL happened", levelFatal, "CRITICAL"},
		{"SEVERE: servlet failed", levelError, "SEVERE"},
		{"\x1b[31mERROR\x1b[0m coloured", levelError, "ERROR"},
		// Not errors.
		{"2026-11-24 INFO processed 0 errors", levelInfo, ""},
		{"INFO error_count=0", levelInfo, ""},
		{"WARN upstream said ERROR 503", levelWarn, ""},
		{"level=info msg=x error=boom", levelInfo, ""},
		{"DEBUG retry", levelWarn, ""},
		{"the error was handled", levelNone, ""},
		{"Mirror mirror", levelNone, ""},
		{"ErrorHandler registered", levelNone, ""},
		{"ERROR=0 in the last hour", levelNone, ""},
		{"error: nil", levelNone, ""},
		{"err=<nil> ERROR=none", levelNone, ""},
		{`error=""`, levelNone, ""},
		{"finished with no ERROR", levelNone, ""},
		{"a NON-FATAL condition", levelNone, ""},
		{"NOT CRITICAL", levelNone, ""},
		{"eRRoR mixed case", levelNone, ""},
	} {
		cls, word, _, _ := lineLevel([]byte(tc.line))
		if cls != tc.want || word != tc.word {
			t.Errorf("lineLevel(%q) = %d %q, want %d %q", tc.line, cls, word, tc.want, tc.word)
		}
	}
}

func TestExceptionHeader(t *testing.T) {
	for _, tc := range []struct {
		line, cls, msg string
		ok             bool
	}{
		{"java.lang.IllegalStateException: boom", "java.lang.IllegalStateException", "boom", true},
		{"java.lang.NullPointerException", "java.lang.NullPointerException", "", true},
		{`Exception in thread "main" java.lang.OutOfMemoryError: Java heap space`, "java.lang.OutOfMemoryError", "Java heap space", true},
		{"com.foo.Bar$BoomException: x", "com.foo.Bar$BoomException", "x", true},
		{"kotlin.UninitializedPropertyAccessException: lateinit", "kotlin.UninitializedPropertyAccessException", "lateinit", true},
		{"Unhandled exception. System.InvalidOperationException: nope", "System.InvalidOperationException", "nope", true},
		{"java.lang.ExceptionInInitializerError", "java.lang.ExceptionInInitializerError", "", true},
		{"IllegalStateException: not dotted", "", "", false},
		{"com.example.Foo: not an exception", "", "", false},
		{"java.lang.IllegalStateException boom", "", "", false},
		{"Caused by: java.io.IOException", "", "", false},
	} {
		cls, msg, ok := exceptionHeader([]byte(tc.line))
		if ok != tc.ok || string(cls) != tc.cls || string(msg) != tc.msg {
			t.Errorf("exceptionHeader(%q) = %q %q %v", tc.line, cls, msg, ok)
		}
	}
}

func TestMessageStart(test *testing.T) {
	for _, tc := range []struct{ line, msg string }{
		{"ERROR 1 --- [shop-api] [http-nio-8080-exec-3] c.e.shop.Foo       : boom here", "boom here"},
		{"ERROR c.e.Foo - boom - really", "boom - really"},
		{"ERROR -- : Rails message", "Rails message"},
		{"ERROR payment failed - retrying", "payment failed - retrying"},
		{"ERROR: boom", "boom"},
		{"ERROR] boom", "boom"},
	} {
		t := []byte(tc.line)
		if got := string(t[messageStart(t, 5):]); got != tc.msg {
			test.Errorf("messageStart(%q) gives %q, want %q", tc.line, got, tc.msg)
		}
	}
}
