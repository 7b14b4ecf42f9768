// Package version says which opsbot this is.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is set at build time with
// -ldflags "-X github.com/opsbot/opsbot/internal/version.Version=v1.2.3".
var Version = "dev"

// String is the one-line version shown by `opsbot version`: the version, the
// VCS revision when the binary knows it, and the Go version.
func String() string {
	rev := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = " (" + s.Value[:12] + ")"
			}
		}
	}
	return fmt.Sprintf("opsbot %s%s %s %s/%s", Version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// UserAgent identifies opsbot to the APIs it calls.
func UserAgent() string { return "opsbot/" + Version }
