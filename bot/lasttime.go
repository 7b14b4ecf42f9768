package bot

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/opsbot/opsbot/checklist"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/templates"
	"github.com/opsbot/opsbot/triage"
)

// lastTimeConclusionRunes is how much of the last decision's conclusion
// the "Last time" line shows; the thread it links has the rest.
const lastTimeConclusionRunes = 120

// lastTimeData is what the "Last time" texts show of lt; decider is who
// decided ("@bob", escaped), permalink the link of its thread ("" when
// not known).
func lastTimeData(lt checks.LastTime, decider, permalink string) templates.LastTime {
	d := templates.LastTime{
		ID: lt.AnomalyID, When: lt.DecidedAt.UTC().Format("2 Jan 2006"), DecidedBy: decider,
		Decision: Escape(lt.Decision), Conclusion: escapeLine(lt.Conclusion, lastTimeConclusionRunes),
		Seen: lt.Seen, Days: int(triage.HistoryWindow / (24 * time.Hour)),
	}
	if lt.Ticket != "" {
		d.Ticket = Link(lt.Ticket, ticketName(lt.Ticket))
	}
	if permalink != "" {
		d.Thread = Link(permalink, "thread")
	}
	return d
}

// ticketName is what a ticket's link says: the last part of its URL's
// path ("OPS-123" for https://jira.example.com/browse/OPS-123), else its
// host.
func ticketName(ticket string) string {
	u, err := url.Parse(ticket)
	if err != nil {
		return ticket
	}
	parts := strings.FieldsFunc(u.Path, func(r rune) bool { return r == '/' })
	if len(parts) == 0 {
		return u.Host
	}
	return truncate(parts[len(parts)-1], 40)
}

// lastTimeLine renders lt's "Last time" line, looking up who decided and
// its thread's link (both cached by the Slack client).
func (s *Slack) lastTimeLine(ctx context.Context, tx texts, lt checks.LastTime) string {
	link := ""
	if lt.Channel != "" && lt.ThreadTS != "" {
		link = s.permalink(ctx, lt.Channel, lt.ThreadTS)
	}
	return say(tx, templates.TriageLastTime, lastTimeData(lt, s.names.display(ctx, lt.DecidedBy), link))
}

// findingNotes renders, by fingerprint, what each of rep's findings
// shows of the rotation's memory: its "Last time" line and its tips, one
// a line.
func (s *Slack) findingNotes(ctx context.Context, tx texts, rep checks.Report) map[string]string {
	notes := map[string]string{}
	for _, r := range rep.Results {
		for _, f := range r.Findings {
			if _, done := notes[f.Fingerprint]; done || (f.LastTime == nil && len(f.Tips) == 0) {
				continue
			}
			var lines []string
			if f.LastTime != nil {
				lines = append(lines, s.lastTimeLine(ctx, tx, *f.LastTime))
			}
			if len(f.Tips) > 0 {
				lines = append(lines, s.tipLines(ctx, tx, f.Tips))
			}
			notes[f.Fingerprint] = strings.Join(lines, "\n")
		}
	}
	return notes
}

// rootMemory is what an anomaly's root message shows of m: the last
// decision on its fingerprint before it, and its tips.
func (s *Slack) rootMemory(ctx context.Context, tx texts, v *rootView, m triage.Memory) {
	if h := m.Last; h != nil {
		v.LastTime = s.lastTimeLine(ctx, tx, *checklist.LastTimeOf(*h))
		v.LastDecision = h.Decision.Decision
	}
	tips := make([]checks.Tip, len(m.Tips))
	for i, t := range m.Tips {
		tips[i] = checklist.TipOf(t)
	}
	v.Tips = s.tipLines(ctx, tx, tips)
}

// prefill is what a decision modal is filled in with: the last decision
// on the anomaly's fingerprint, and the line saying so.
type prefill struct {
	Record triage.DecisionRecord
	Note   string
}

// modalPrefill is the prefill of a decision modal from h (nil: none).
func (s *Slack) modalPrefill(ctx context.Context, tx texts, h *triage.History) *prefill {
	if h == nil {
		return nil
	}
	lt := checklist.LastTimeOf(*h)
	return &prefill{Record: h.Decision,
		Note: say(tx, templates.TriageModalPrefilled, lastTimeData(*lt, s.names.display(ctx, lt.DecidedBy), ""))}
}
