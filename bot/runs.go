package bot

import (
	"strconv"
	"strings"
)

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
