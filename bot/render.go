package bot

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/templates"
	"github.com/opsbot/opsbot/triage"
)

// Slack's limits on a message (Block Kit reference; msg_blocks_too_long
// near 13k characters of blocks JSON).
const (
	maxMessageBlocks = 50
	maxSectionText   = 3000
	// blocksBudget is what a report's blocks may weigh, as JSON, leaving a
	// margin under Slack's undocumented ~13.2k limit.
	blocksBudget = 12000
)

// Per-field lengths (runes, before escaping) in rendered findings.
const (
	titleRunes  = 150
	objectRunes = 100
	detailRunes = 300
)

var statusEmoji = map[checks.Status]string{
	checks.OK:      ":white_check_mark:",
	checks.Warn:    ":warning:",
	checks.Unknown: ":grey_question:",
	checks.Fail:    ":red_circle:",
}

// mrkdwn is a mrkdwn text object of escaped text (Escape, Link, Mention,
// the templates). It is verbatim: Slack still renders the formatting and
// the links, mentions and dates written <like this>, but does not turn bare
// URLs, #channel names or @names into links of its own; those would come
// from untrusted text, which must stay literal (Escape).
func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, true)
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

// section is a mrkdwn section of already-escaped text, clipped to Slack's
// limit.
func section(s string) *slack.SectionBlock {
	return slack.NewSectionBlock(mrkdwn(clip(s, maxSectionText)), nil, nil)
}

func contextText(s string) *slack.ContextBlock {
	return slack.NewContextBlock("", mrkdwn(clip(s, maxSectionText)))
}

// clip shortens already-escaped text to n runes without cutting an entity
// (&amp; &lt; &gt;) in half.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n-1]
	for i := len(r) - 1; i >= 0 && i >= len(r)-5; i-- {
		if r[i] == ';' {
			break
		}
		if r[i] == '&' {
			r = r[:i]
			break
		}
	}
	return string(r) + "…"
}

// quote formats escaped text as a mrkdwn block quote.
func quote(escaped string) string {
	return "&gt;" + strings.ReplaceAll(escaped, "\n", "\n&gt;")
}

func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// progressBlocks is the checklist message while it runs: a line per check,
// done or running.
func progressBlocks(tx texts, env, askedBy string, names []string, done map[int]checks.Result) []slack.Block {
	var b strings.Builder
	b.WriteString(say(tx, templates.ChecklistRunning, templates.Running{Environment: Escape(env), Checks: len(names), AskedBy: askedBy}))
	for i, n := range names {
		b.WriteString("\n")
		if r, ok := done[i]; ok {
			fmt.Fprintf(&b, "%s *%s* — %s", statusEmoji[r.Status], Escape(n), escapeLine(r.Summary, 150))
			if len(r.Findings) > 0 {
				fmt.Fprintf(&b, " (%d)", len(r.Findings))
			}
		} else {
			b.WriteString(say(tx, templates.ChecklistCheckWaiting, templates.Check{Check: Escape(n)}))
		}
	}
	return []slack.Block{section(b.String())}
}

// reportBlocks renders a finished checklist: a title, a line per check
// with its status emoji, and its findings under it, each with an
// Investigate button whose value is "<runID>/<index>" (investigateValue:
// the stored run, and the index into its findings in report order). With
// runID 0 (the run could not be stored) the findings have no buttons and a
// line says why. A finding decided before shows what was decided last
// time and its tips under it (notes, by fingerprint: rendered lines). It
// stays within Slack's limits (50 blocks, 3,000
// characters a section, blocksBudget of JSON): findings that do not fit
// are counted in an "…and N more" line.
func reportBlocks(tx texts, rep checks.Report, runID int64, askedBy string, notes map[string]string) []slack.Block {
	title := section(say(tx, templates.ChecklistTitle, reportData(rep, askedBy)))
	checkLines := make([]slack.Block, len(rep.Results))
	for i, r := range rep.Results {
		line := fmt.Sprintf("%s *%s* — %s", statusEmoji[r.Status], Escape(r.Check), escapeLine(r.Summary, 300))
		checkLines[i] = section(line)
	}

	// What must fit whatever happens: the title, the check lines, an
	// "…and N more" line per check with findings and the truncation note.
	used := 2 + size(title)
	blocks := 1
	for i, r := range rep.Results {
		used += size(checkLines[i])
		blocks++
		if len(r.Findings) > 0 {
			used += size(contextText(say(tx, templates.ChecklistMore, templates.Count{Count: 99999})))
			blocks++
		}
	}
	note := contextText(say(tx, templates.ChecklistTruncated, templates.Env{Environment: Escape(rep.Environment)}))
	used += size(note)
	blocks++
	var cost slack.Block
	if rep.Cost != nil {
		cost = contextText(say(tx, templates.ChecklistCost, templates.RunCost{
			Took: rep.FinishedAt.Sub(rep.StartedAt).Round(100 * time.Millisecond).String(), Cost: rep.Cost.String()}))
		used += size(cost)
		blocks++
	}
	var known slack.Block
	if n := len(rep.Suppressed); n > 0 {
		known = contextText(say(tx, templates.ChecklistKnownNoise, templates.Count{Count: n}))
		used += size(known)
		blocks++
	}
	var unsaved slack.Block
	if runID <= 0 && slices.ContainsFunc(rep.Results, func(r checks.Result) bool { return len(r.Findings) > 0 }) {
		unsaved = contextText(say(tx, templates.ChecklistUnsaved, templates.NoData{}))
		used += size(unsaved)
		blocks++
	}

	// Then findings, in order, while they fit.
	type slot struct {
		blocks  []slack.Block
		omitted int
	}
	slots := make([]slot, len(rep.Results))
	full := false
	idx := 0
	for i, r := range rep.Results {
		for _, f := range r.Findings {
			n := idx
			idx++
			if full {
				slots[i].omitted++
				continue
			}
			value := ""
			if runID > 0 {
				value = investigateValue(runID, n)
			}
			fb := findingBlock(tx, f, n, value, notes[f.Fingerprint])
			cost := size(fb)
			if blocks+1 > maxMessageBlocks || used+cost > blocksBudget {
				full = true
				slots[i].omitted++
				continue
			}
			used += cost
			blocks++
			slots[i].blocks = append(slots[i].blocks, fb)
		}
	}

	out := []slack.Block{title}
	for i := range rep.Results {
		out = append(out, checkLines[i])
		out = append(out, slots[i].blocks...)
		if slots[i].omitted > 0 {
			out = append(out, contextText(say(tx, templates.ChecklistMore, templates.Count{Count: slots[i].omitted})))
		}
	}
	if full {
		out = append(out, note)
	}
	if known != nil {
		out = append(out, known)
	}
	if unsaved != nil {
		out = append(out, unsaved)
	}
	if cost != nil {
		out = append(out, cost)
	}
	return out
}

// reportData is what the texts of a finished checklist show (the title and
// the summary); askedBy is mrkdwn (escaped).
func reportData(rep checks.Report, askedBy string) templates.Report {
	return templates.Report{
		Emoji: statusEmoji[rep.Status], Environment: Escape(rep.Environment), Status: rep.Status.String(),
		Finished: fmtTime(rep.FinishedAt), Took: rep.FinishedAt.Sub(rep.StartedAt).Round(time.Second).String(),
		AskedBy: askedBy,
	}
}

// findingBlock is finding idx of a report: what, where, that it grew past
// the decision that covered it, what was decided last time (lastTime, a
// and its tips: rendered lines; "" for none), evidence, and an
// Investigate button with
// value (none when value is "").
func findingBlock(tx texts, f checks.Finding, idx int, value, notes string) slack.Block {
	var b strings.Builder
	emoji := statusEmoji[f.Severity]
	if f.Severity == checks.OK {
		// An informational finding (the grafana check's panels not
		// evaluated) is no success either.
		emoji = ":information_source:"
	}
	fmt.Fprintf(&b, "%s *%s*", emoji, escapeLine(f.Title, titleRunes))
	if f.Object != "" {
		b.WriteString(" · " + escapeLine(f.Object, objectRunes))
	}
	if f.Count > 1 {
		fmt.Fprintf(&b, " · ×%d", f.Count)
	}
	if k := f.Known; k != nil && k.Grew {
		b.WriteString("\n" + say(tx, templates.ChecklistGrew, knownNoiseData("", f, *k, "")))
	}
	if notes != "" {
		b.WriteString("\n" + notes)
	}
	if f.Detail != "" {
		b.WriteString("\n" + quote(Escape(truncate(strings.TrimSpace(f.Detail), detailRunes))))
	}
	if f.Link != "" {
		if l := Link(f.Link, "where to look"); utf8.RuneCountInString(b.String())+utf8.RuneCountInString(l) < maxSectionText-2 {
			b.WriteString("\n" + l)
		}
	}
	var acc *slack.Accessory
	if value != "" {
		acc = slack.NewAccessory(slack.NewButtonBlockElement(ActionInvestigate, value, plain("Investigate")))
	}
	s := slack.NewSectionBlock(mrkdwn(clip(b.String(), maxSectionText)), nil, acc)
	s.BlockID = "finding/" + strconv.Itoa(idx)
	return s
}

// knownNoiseData is what the texts about finding f of check, which a
// decision (k) covers or covered, show; decider is who decided, escaped.
func knownNoiseData(check string, f checks.Finding, k checks.Known, decider string) templates.KnownNoise {
	d := templates.KnownNoise{
		Check: Escape(check), Title: escapeLine(f.Title, titleRunes), ID: k.AnomalyID,
		Decision: Escape(k.Decision), DecidedBy: decider, DecidedAt: fmtTime(k.DecidedAt),
		Count: checks.FormatCount(k.Count),
	}
	if k.DecidedCount > 0 {
		d.DecidedCount = checks.FormatCount(k.DecidedCount)
	}
	return d
}

// knownNoiseMessage is the reply, in a report's thread, listing the
// findings suppressed as known noise (rep.Suppressed): its text and
// blocks, a line per finding with its anomaly and decision (deciders: who
// decided, by Slack user id, escaped), within Slack's limits; those that
// do not fit are counted in an "…and N more" line.
func knownNoiseMessage(tx texts, rep checks.Report, deciders map[string]string) (string, []slack.Block) {
	head := say(tx, templates.ChecklistKnownNoiseList, templates.Count{Count: len(rep.Suppressed)})
	blocks := []slack.Block{section(head)}
	used := size(blocks[0]) + size(contextText(say(tx, templates.ChecklistMore, templates.Count{Count: 99999})))
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			blocks = append(blocks, section(cur.String()))
			cur.Reset()
		}
	}
	omitted := 0
	for i, sp := range rep.Suppressed {
		line := say(tx, templates.ChecklistKnownNoiseLine, knownNoiseData(sp.Check, sp.Finding, sp.Known, deciders[sp.Known.DecidedBy]))
		if cur.Len() > 0 && utf8.RuneCountInString(cur.String())+1+utf8.RuneCountInString(line) > maxSectionText {
			flush()
		}
		// A line costs its JSON (escaped, so counted twice to be safe).
		cost := 2*len(line) + 2
		if cur.Len() == 0 {
			cost += size(section(""))
		}
		if used+cost > blocksBudget || len(blocks)+2 > maxMessageBlocks {
			omitted = len(rep.Suppressed) - i
			break
		}
		used += cost
		if cur.Len() > 0 {
			cur.WriteString("\n")
		}
		cur.WriteString(line)
	}
	flush()
	if omitted > 0 {
		blocks = append(blocks, contextText(say(tx, templates.ChecklistMore, templates.Count{Count: omitted})))
	}
	return head, blocks
}

// size is a block's weight in the message's blocks JSON (with a comma).
func size(b slack.Block) int {
	j, err := json.Marshal(b)
	if err != nil {
		return maxSectionText
	}
	return len(j) + 1
}

// rootView is what an anomaly's root message shows.
type rootView struct {
	Anomaly triage.Anomaly
	Opener  string // "@alice", escaped
	Decider string // who made the current decision, escaped
	// LastTime is the rendered "Last time" line of the last decision on
	// the anomaly's fingerprint before it ("" for none), and LastDecision
	// that decision, whose button is highlighted.
	LastTime     string
	LastDecision triage.Decision
	// Tips are the rendered tip lines that match its fingerprint ("" for
	// none).
	Tips string
}

// rootBlocks renders an anomaly's root message: who is looking at what, the
// evidence, the outcome so far, and the five decision buttons (they stay, so
// a decision can be changed).
func rootBlocks(tx texts, v rootView) []slack.Block {
	a := v.Anomaly
	blocks := []slack.Block{section(rootFallback(tx, v))}
	if a.Detail != "" {
		blocks = append(blocks, section(quote(Escape(truncate(a.Detail, 1000)))))
	}
	ctx := "Fingerprint: " + escapeLine(a.Fingerprint, 300)
	if a.Link != "" {
		ctx += " · " + Link(a.Link, "where to look")
	}
	blocks = append(blocks, contextText(ctx))
	if v.LastTime != "" {
		blocks = append(blocks, contextText(v.LastTime))
	}
	if v.Tips != "" {
		blocks = append(blocks, contextText(v.Tips))
	}

	outcome := say(tx, templates.TriageOutcomeNone, templates.NoData{})
	if d := a.Decision; d != nil {
		outcome = say(tx, templates.TriageOutcome, templates.Outcome{
			Decision: d.Decision.Label(), DecidedBy: v.Decider, At: fmtTime(d.DecidedAt),
		})
	}
	if !a.EscalatedAt.IsZero() {
		outcome += "\n" + say(tx, templates.TriageEscalatedNote, templates.Escalated{At: fmtTime(a.EscalatedAt)})
	}
	blocks = append(blocks, section(outcome), contextText(say(tx, templates.TriageDecidePrompt, templates.NoData{})))

	buttons := make([]slack.BlockElement, 0, len(triage.Decisions))
	for _, d := range triage.Decisions {
		btn := slack.NewButtonBlockElement(DecideActionID(d), strconv.FormatInt(a.ID, 10), plain(d.Label()))
		switch {
		case d == triage.Serious:
			btn.Style = slack.StyleDanger
		case d == v.LastDecision:
			btn.Style = slack.StylePrimary
		}
		buttons = append(buttons, btn)
	}
	blocks = append(blocks, slack.NewActionBlock("decide", buttons...))
	return blocks
}

// rootFallback is the notification text of a root message, and its first
// line.
func rootFallback(tx texts, v rootView) string {
	a := v.Anomaly
	return say(tx, templates.TriageLooking, templates.Anomaly{
		ID: a.ID, Title: escapeLine(a.Title, 200), Environment: Escape(a.Environment), OpenedBy: v.Opener,
	})
}

// The decision modal's input blocks: their block_id (and action_id) is the
// field name triage's ValidationError uses, so errors map onto them.
const (
	blockConclusion    = "conclusion"
	blockFiveWhys      = "fiveWhys"
	blockTicket        = "ticket"
	blockUsersAffected = "usersAffected"
	blockOutage        = "outage"
	blockToCollect     = "toCollect"
	blockDashboard     = "dashboard"
)

// decisionMetadata is the modal's private_metadata: "<anomaly id>:<decision>".
func decisionMetadata(id int64, d triage.Decision) string {
	return strconv.FormatInt(id, 10) + ":" + d.String()
}

func parseDecisionMetadata(s string) (int64, triage.Decision, error) {
	idText, key, ok := strings.Cut(s, ":")
	id, err := strconv.ParseInt(idText, 10, 64)
	if !ok || err != nil || id <= 0 {
		return 0, 0, fmt.Errorf("bad private_metadata %q", s)
	}
	d, err := triage.ParseDecision(key)
	if err != nil {
		return 0, 0, err
	}
	return id, d, nil
}

func textInput(block, label, hint string, multiline, optional bool, placeholder, initial string) *slack.InputBlock {
	el := slack.NewPlainTextInputBlockElement(nil, block)
	el.InitialValue = initial
	if placeholder != "" {
		el.Placeholder = plain(placeholder)
	}
	el.Multiline = multiline
	el.MaxLength = triage.MaxTextLen
	var h *slack.TextBlockObject
	if hint != "" {
		h = plain(hint)
	}
	in := slack.NewInputBlock(block, plain(label), h, el)
	in.Optional = optional
	return in
}

// decisionModal asks for what the runbook wants written down for decision
// d on anomaly a; with pre, its inputs are filled in from the last
// decision on a's fingerprint (editable), saying so.
func decisionModal(tx texts, a triage.Anomaly, d triage.Decision, pre *prefill) slack.ModalViewRequest {
	var last triage.DecisionRecord
	if pre != nil {
		last = pre.Record
	}
	hint := func(t templates.Text[templates.NoData]) string { return say(tx, t, templates.NoData{}) }
	// The title is empty when the modal is opened from the button alone
	// (handleDecideClick adds it with views.update).
	intro := say(tx, templates.TriageModalIntro, templates.DecisionForm{
		ID: a.ID, Title: escapeLine(a.Title, 200), Decision: d.Label(), Runbook: Escape(d.Runbook()),
	})
	blocks := []slack.Block{section(intro)}
	if pre != nil {
		blocks = append(blocks, contextText(pre.Note))
	}
	blocks = append(blocks,
		textInput(blockConclusion, "Conclusion", hint(templates.TriageHintConclusion), true, false, "", last.Conclusion),
		textInput(blockFiveWhys, "Five whys", hint(templates.TriageHintFiveWhys), true, true, "", last.FiveWhys),
		textInput(blockTicket, "Ticket", "", false, d != triage.Noise, "https://…", last.Ticket),
	)
	switch d {
	case triage.Serious:
		blocks = append(blocks,
			textInput(blockUsersAffected, "Users affected", hint(templates.TriageHintUsersAffected), true, false, "", last.UsersAffected))
		outage := slack.NewOptionBlockObject("outage", plain(hint(templates.TriageOptionOutage)), nil)
		box := slack.NewCheckboxGroupsBlockElement(blockOutage, outage)
		if last.Outage {
			box.InitialOptions = []*slack.OptionBlockObject{outage}
		}
		in := slack.NewInputBlock(blockOutage, plain("Outage"), nil, box)
		in.Optional = true
		blocks = append(blocks, in)
	case triage.NotEnoughInformation:
		blocks = append(blocks,
			textInput(blockToCollect, "What to collect", hint(templates.TriageHintToCollect), true, false, "", last.ToCollect))
	case triage.Noise:
		blocks = append(blocks,
			textInput(blockDashboard, "Dashboard", hint(templates.TriageHintDashboard), false, false, "https://…", last.Dashboard))
		blocks = append(blocks, silenceModalBlocks(tx, a)...)
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           plain("Record a decision"),
		Submit:          plain("Record"),
		Close:           plain("Cancel"),
		CallbackID:      CallbackDecision,
		PrivateMetadata: decisionMetadata(a.ID, d),
		Blocks:          slack.Blocks{BlockSet: blocks},
	}
}

// staleModal replaces a decision modal whose anomaly no longer exists.
func staleModal(tx texts, id int64) slack.ModalViewRequest {
	return slack.ModalViewRequest{
		Type:   slack.VTModal,
		Title:  plain("Record a decision"),
		Close:  plain("Close"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{section(say(tx, templates.TriageStale, templates.Anomaly{ID: id}))}},
	}
}

// inputBlocks lists the input block ids of decision d's modal.
func inputBlocks(d triage.Decision) map[string]bool {
	m := map[string]bool{blockConclusion: true, blockFiveWhys: true, blockTicket: true}
	switch d {
	case triage.Serious:
		m[blockUsersAffected], m[blockOutage] = true, true
	case triage.NotEnoughInformation:
		m[blockToCollect] = true
	case triage.Noise:
		m[blockDashboard] = true
	}
	return m
}

// replyFieldRunes is how much of each free-text field of a decision the
// thread reply shows; the timeline keeps the full text.
const replyFieldRunes = 1000

// cutField shortens a decision's free text for the thread reply, saying
// where the rest is.
func cutField(tx texts, s string) string {
	if utf8.RuneCountInString(s) <= replyFieldRunes {
		return s
	}
	return string([]rune(s)[:replyFieldRunes]) + say(tx, templates.TriageCut, templates.NoData{})
}

// shownRecord is rec with its free-text fields cut for the thread reply.
func shownRecord(tx texts, rec triage.DecisionRecord) triage.DecisionRecord {
	rec.Conclusion = cutField(tx, rec.Conclusion)
	rec.FiveWhys = cutField(tx, rec.FiveWhys)
	rec.UsersAffected = cutField(tx, rec.UsersAffected)
	rec.ToCollect = cutField(tx, rec.ToCollect)
	return rec
}

// decisionReplyBlocks is the thread reply to a decision: the conclusion,
// what was written down, and the runbook's follow-up (rendered from the
// templates, mrkdwn). rec's free text is cut (shownRecord) and the whole
// stays within Slack's limits (fitBlocks); extra blocks (buttons) are
// kept whole.
func decisionReplyBlocks(tx texts, rec triage.DecisionRecord, decider, followUp string, extra ...slack.Block) []slack.Block {
	rec = shownRecord(tx, rec)
	blocks := []slack.Block{section(say(tx, templates.TriageDecided, templates.Decided{
		Decision: rec.Decision.Label(), DecidedBy: decider, Conclusion: Escape(rec.Conclusion),
	}))}
	var more []string
	if rec.FiveWhys != "" {
		more = append(more, "*Five whys:*\n"+Escape(rec.FiveWhys))
	}
	if rec.UsersAffected != "" {
		more = append(more, "*Users affected:* "+Escape(rec.UsersAffected))
	}
	if rec.ToCollect != "" {
		more = append(more, "*To collect:* "+Escape(rec.ToCollect))
	}
	if rec.Dashboard != "" {
		more = append(more, "*Dashboard:* "+Link(rec.Dashboard, ""))
	}
	if rec.Ticket != "" {
		more = append(more, "*Ticket:* "+Link(rec.Ticket, ""))
	}
	for _, m := range more {
		blocks = append(blocks, section(m))
	}
	blocks = append(blocks, section(followUp))
	return fitBlocks(tx, blocks, extra, blocksBudget)
}

// fitBlocks returns blocks followed by fixed, within maxMessageBlocks and
// budget bytes of JSON: while too heavy, the longest section of blocks is
// cut (saying the full text is in the timeline); fixed blocks are never
// cut.
func fitBlocks(tx texts, blocks, fixed []slack.Block, budget int) []slack.Block {
	if n := maxMessageBlocks - len(fixed); len(blocks) > n {
		blocks = blocks[:max(n, 0)]
	}
	total := 2
	for _, b := range fixed {
		total += size(b)
	}
	for _, b := range blocks {
		total += size(b)
	}
	note := say(tx, templates.TriageCut, templates.NoData{})
	for total > budget {
		longest, n := -1, 0
		for i, b := range blocks {
			if s, ok := b.(*slack.SectionBlock); ok && s.Text != nil && s.Accessory == nil {
				if l := utf8.RuneCountInString(s.Text.Text); l > n {
					longest, n = i, l
				}
			}
		}
		if longest < 0 || n <= 200 {
			// Nothing left worth cutting: drop from the end.
			if len(blocks) <= 1 {
				break
			}
			total -= size(blocks[len(blocks)-1])
			blocks = blocks[:len(blocks)-1]
			continue
		}
		s := blocks[longest].(*slack.SectionBlock)
		before := size(s)
		// JSON may weigh a rune up to ~10 bytes (&amp; escaped as
		// \u0026amp;); cut by the excess, at least by half.
		keep := min(n-(total-budget), n/2)
		keep = max(keep, 100)
		trimmed := strings.TrimSuffix(s.Text.Text, note)
		cut := section(clip(trimmed, min(keep, utf8.RuneCountInString(trimmed))) + note)
		blocks[longest] = cut
		total += size(cut) - before
	}
	return append(blocks, fixed...)
}

// packSections packs lines into as few sections as Slack allows, within
// maxBlocks blocks and blocksBudget bytes of JSON; lines that do not fit
// are counted in a last "…and N more" line.
func packSections(tx texts, lines []string, maxBlocks int) []slack.Block {
	type chunk struct {
		text  string
		lines int
	}
	var chunks []chunk
	var cur strings.Builder
	n := 0
	flush := func() {
		if cur.Len() > 0 {
			chunks = append(chunks, chunk{cur.String(), n})
			cur.Reset()
			n = 0
		}
	}
	for _, l := range lines {
		if cur.Len()+len(l)+1 > maxSectionText {
			flush()
		}
		if cur.Len() > 0 {
			cur.WriteByte('\n')
		}
		cur.WriteString(l)
		n++
	}
	flush()

	more := func(n int) slack.Block {
		return contextText(say(tx, templates.ChecklistMore, templates.Count{Count: n}))
	}
	reserve := size(more(len(lines)))
	var out []slack.Block
	used, left := 2, len(lines)
	for i, c := range chunks {
		s := section(c.text)
		cost := size(s)
		if i < len(chunks)-1 {
			// Room for this one and an "…and N more" after it.
			if len(out)+2 > maxBlocks || used+cost+reserve > blocksBudget {
				break
			}
		} else if len(out)+1 > maxBlocks || used+cost > blocksBudget {
			break
		}
		out = append(out, s)
		used += cost
		left -= c.lines
	}
	if left > 0 && maxBlocks > 0 {
		if len(out) >= maxBlocks {
			out = out[:maxBlocks-1]
		}
		out = append(out, more(left))
	}
	return out
}
