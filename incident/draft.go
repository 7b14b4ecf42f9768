package incident

import (
	"strings"

	"github.com/opsbot/opsbot"
)

// Draft is the announcement a Serious decision suggests for its anomaly:
// What is the anomaly's title on one line, followed by the decider's
// conclusion when there is one ("payments API 502s: the provider times
// out"); UserImpact is how many users the decider said are affected. Both
// are cut to their limits (MaxWhatLen, MaxUserImpactLen). The announcer
// reads and edits them before anything is posted.
func Draft(title, conclusion, usersAffected string) (what, userImpact string) {
	what = oneLine(title)
	if c := oneLine(conclusion); c != "" {
		what += ": " + c
	}
	return opsbot.Truncate(what, MaxWhatLen), opsbot.Truncate(strings.TrimSpace(usersAffected), MaxUserImpactLen)
}
