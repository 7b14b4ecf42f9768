package security

import (
	"fmt"

	"github.com/opsbot/opsbot/checks"
)

// summaryOf is a finding in one line, for comparing.
func summaryOf(f checks.Finding) string {
	return fmt.Sprintf("%s | %s | %s", f.Severity, f.Object, f.Title)
}
