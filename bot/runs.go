package bot

import (
	"context"
	"strconv"
	"strings"

	"github.com/opsbot/opsbot/checks"
)

// RunStore keeps the findings of checklist runs, so that a report's
// Investigate buttons work after a restart and whichever replica Slack
// hands the click to. store.DB implements it (store/runs.go), keeping runs
// 30 days.
type RunStore interface {
	// SaveRun records a run whose report is (about to be) message
	// messageTS in channel, and returns its id (> 0).
	SaveRun(ctx context.Context, rep checks.Report, channel, messageTS string) (int64, error)
	// RunFinding returns finding idx of run runID, the findings counted
	// from 0 in report order (rep.Results[0]'s, then Results[1]'s...), and
	// the run's environment. ok is false when the run or the finding is
	// unknown or no longer kept.
	RunFinding(ctx context.Context, runID int64, idx int) (f checks.Finding, env string, ok bool, err error)
}

// investigateValue is an Investigate button's value: "<run id>/<finding
// index>", a few bytes.
func investigateValue(runID int64, idx int) string {
	return strconv.FormatInt(runID, 10) + "/" + strconv.Itoa(idx)
}

// parseInvestigateValue reads an investigateValue back. Only the canonical
// form is accepted (no sign, no leading zeros): the hexadecimal run keys of
// reports posted before runs were stored are not mistaken for run ids.
func parseInvestigateValue(v string) (runID int64, idx int, ok bool) {
	runText, idxText, found := strings.Cut(v, "/")
	if !found {
		return 0, 0, false
	}
	runID, err1 := strconv.ParseInt(runText, 10, 64)
	idx, err2 := strconv.Atoi(idxText)
	if err1 != nil || err2 != nil || runID <= 0 || idx < 0 ||
		strconv.FormatInt(runID, 10) != runText || strconv.Itoa(idx) != idxText {
		return 0, 0, false
	}
	return runID, idx, true
}
