package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/templates"
	"github.com/opsbot/opsbot/triage"
)

// handleDecideClick opens the decision modal for the clicked decision.
// The trigger_id lives 3 s: after the authorization (group lists are
// cached), views.open comes first, with what the button says (the anomaly
// id and the decision); the anomaly is then read and the modal updated
// with its title and, when its fingerprint was decided before, filled in
// from that decision (prefillFor). The submission is checked against the
// store anyway.
func (b *Bot) handleDecideClick(ctx context.Context, r *request) error {
	if err := b.authorize(ctx, r, "record decisions"); err != nil {
		return err
	}
	d, err := triage.ParseDecision(strings.TrimPrefix(r.action.ActionID, ActionDecidePrefix))
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.action.Value, 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("decision button value %q: %w", r.action.Value, errors.Join(err, errBadValue))
	}
	tx := b.texts()
	v, err := b.api.OpenViewContext(ctx, r.triggerID, decisionModal(tx, triage.Anomaly{ID: id}, d, nil))
	if err != nil {
		var sr slack.SlackErrorResponse
		if errors.As(err, &sr) && (sr.Err == "expired_trigger_id" || sr.Err == "exchanged_trigger_id") {
			return userErr(say(tx, templates.TriageModalExpired, templates.NoData{}))
		}
		return fmt.Errorf("views.open: %w", err)
	}
	a, err := b.triage.Get(ctx, id)
	if errors.Is(err, triage.ErrNotFound) {
		if _, uerr := b.api.UpdateViewContext(ctx, staleModal(tx, id), "", v.Hash, v.ID); uerr != nil {
			b.log.Info("could not mark a decision modal stale", zap.Int64("anomaly", id), zap.Error(uerr))
		}
		return userErr(say(tx, templates.TriageStale, templates.Anomaly{ID: id}))
	}
	if err != nil {
		// The modal is open and usable; the title is only a courtesy.
		b.log.Warn("could not read the anomaly of an open decision modal", zap.Int64("anomaly", id), zap.Error(err))
		return nil
	}
	// The hash makes this a no-op when the user already submitted.
	if _, err := b.api.UpdateViewContext(ctx, decisionModal(tx, a, d, b.prefillFor(ctx, tx, a)), "", v.Hash, v.ID); err != nil {
		b.log.Info("could not add the title to a decision modal", zap.Int64("anomaly", id), zap.Error(err))
	}
	return nil
}

var errBadValue = errors.New("not an anomaly id")

// prefillFor is what anomaly a's decision modal is filled in with: the
// last decision on its fingerprint (its own current one, when it has
// one), or nil. A history that cannot be read leaves the form empty.
func (b *Bot) prefillFor(ctx context.Context, tx texts, a triage.Anomaly) *prefill {
	hs, err := b.triage.History(ctx, a.Environment, []string{a.Fingerprint}, 0)
	if err != nil {
		b.log.Warn("could not read the last decision to fill in a decision modal", zap.Int64("anomaly", a.ID), zap.Error(err))
		return nil
	}
	h, ok := hs[a.Fingerprint]
	if !ok {
		return nil
	}
	return b.modalPrefill(ctx, tx, &h)
}

// handleDecisionSubmit validates a decision modal (the errors go back in
// the ack, on the fields' blocks) and, when valid, records the decision
// after the ack: Decide (idempotent on the view id), a reply in the thread
// with the conclusion and the follow-up, and the root message updated.
// A Noise decision whose modal asked for a silence is then silenced
// (Bot.silence); the decision stands whatever comes of that.
func (b *Bot) handleDecisionSubmit(ctx context.Context, r *request) (any, handlerFunc, error) {
	view := r.cb.View
	id, d, err := parseDecisionMetadata(view.PrivateMetadata)
	if err != nil {
		return nil, nil, err
	}
	if err := b.authorize(ctx, r, "record decisions"); err != nil {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blockConclusion: err.Error()}), nil, nil
	}
	rec := recordFromState(view.State, d)
	rec.DecidedBy, rec.DecidedAt = r.userID, b.opts.Now()
	if err := rec.Validate(); err != nil {
		var ve *opsbot.ValidationError
		if !errors.As(err, &ve) {
			return nil, nil, err
		}
		return slack.NewErrorsViewSubmissionResponse(fieldErrors(ve, inputBlocks(d))), nil, nil
	}
	var sc silenceChoice
	if d == triage.Noise {
		var problems map[string]string
		sc, problems = silenceChoiceFromState(view.State, b.opts.Now(), b.opts.Location, b.opts.MaxSilence)
		if problems != nil {
			return slack.NewErrorsViewSubmissionResponse(problems), nil, nil
		}
	}
	return nil, func(ctx context.Context, r *request) error {
		if b.seen.check("decide:" + view.ID) {
			return nil // the same submission, delivered again
		}
		if err := b.decide(ctx, id, rec, view.ID); err != nil || sc.none() {
			return err
		}
		// The decision is recorded: a silence that cannot be made is
		// said in the thread, with Retry, and leaves it as it is.
		return b.silence(ctx, r, id, sc, view.ID)
	}, nil
}

// decide records rec on anomaly id and tells the thread
// (triage.Service.Decide); key is the modal's view id.
func (b *Bot) decide(ctx context.Context, id int64, rec triage.DecisionRecord, key string) error {
	_, first, err := b.triage.Decide(ctx, id, rec, key)
	if first {
		b.opts.Metrics.Decision(rec.Decision.String())
	}
	switch {
	case errors.Is(err, triage.ErrNotFound):
		return userErr(say(b.texts(), templates.TriageStale, templates.Anomaly{ID: id}))
	case errors.Is(err, opsbot.ErrConflict):
		return userErr(say(b.texts(), templates.TriageDecisionConflict, templates.Anomaly{ID: id}))
	case errors.Is(err, opsbot.ErrNotRecorded):
		b.log.Error("a decision was not recorded: the store failed", zap.Int64("anomaly", id), zap.String("key", key), zap.Error(err))
		return userErr(say(b.texts(), templates.TriageDecisionNotRecorded, templates.Anomaly{ID: id}))
	}
	return err
}

// decisionTexts renders a decision's reply in its thread: the templates,
// and whether a Serious decision gets the Announce incident button (the
// incident procedure is set up).
type decisionTexts struct {
	tmpl     *templates.Set
	log      *zap.Logger
	announce bool
}

// tx is what the reply's texts are rendered with.
func (d decisionTexts) tx() texts { return texts{set: d.tmpl, log: d.log} }

// decisionReply is the thread reply to decision rec on anomaly id, decided
// by decider (escaped): its fallback text and blocks, the follow-up from
// the templates and, after a Serious decision, the Announce button.
func (d decisionTexts) decisionReply(id int64, rec triage.DecisionRecord, decider string) (string, []slack.Block) {
	tx := d.tx()
	blocks := decisionReplyBlocks(tx, rec, decider, d.followUpText(shownRecord(tx, rec), decider),
		d.decisionExtraBlocks(id, rec.Decision)...)
	fallback := say(tx, templates.TriageDecided, templates.Decided{
		Decision: rec.Decision.Label(), DecidedBy: decider, Conclusion: escapeLine(rec.Conclusion, 200),
	})
	return fallback, blocks
}

// recordFromState reads the modal's inputs.
func recordFromState(st *slack.ViewState, d triage.Decision) triage.DecisionRecord {
	rec := triage.DecisionRecord{Decision: d}
	if st == nil {
		return rec
	}
	val := func(block string) string {
		if a, ok := st.Values[block][block]; ok {
			return a.Value
		}
		return ""
	}
	rec.Conclusion = val(blockConclusion)
	rec.FiveWhys = val(blockFiveWhys)
	rec.Ticket = strings.TrimSpace(val(blockTicket))
	rec.UsersAffected = strings.TrimSpace(val(blockUsersAffected))
	rec.ToCollect = strings.TrimSpace(val(blockToCollect))
	rec.Dashboard = strings.TrimSpace(val(blockDashboard))
	if a, ok := st.Values[blockOutage][blockOutage]; ok && len(a.SelectedOptions) > 0 {
		rec.Outage = true
	}
	return rec
}

// fieldErrors maps a ValidationError onto the modal's input blocks; a
// problem with a field the modal does not show goes under the conclusion.
func fieldErrors(ve *opsbot.ValidationError, blocks map[string]bool) map[string]string {
	out := map[string]string{}
	for _, p := range ve.Problems {
		block := p.Field
		msg := p.Problem
		if !blocks[block] {
			block, msg = blockConclusion, p.Field+": "+p.Problem
		}
		if prev, ok := out[block]; ok {
			msg = prev + "; " + msg
		}
		out[block] = truncate(msg, 2000)
	}
	return out
}
