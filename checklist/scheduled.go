package checklist

import (
	"context"
	"strings"
	"time"

	"github.com/opsbot/opsbot/schedule"
)

// RunLog is where the scheduled checklist's finished runs are recorded:
// one claim per run whose report was posted, shared by the replicas
// (store.DB).
type RunLog interface {
	Claim(ctx context.Context, key string) (bool, error)
	// LastClaim returns the latest claim whose key starts with prefix.
	LastClaim(ctx context.Context, prefix string) (key string, claimedAt time.Time, err error)
}

// RecordScheduledRun records that the scheduled checklist of env for the
// occurrence at was reported: the next run's "since the last checklist"
// (LastScheduledRun) starts there.
func RecordScheduledRun(ctx context.Context, log RunLog, env string, at time.Time) error {
	_, err := log.Claim(ctx, schedule.ClaimKey(donePrefix(env), at))
	return err
}

// LastScheduledRun returns a function telling when the scheduled checklist
// of env last ran (the time of its occurrence), zero if it never did: the
// alertschannel check's "since the last checklist". Only scheduled runs
// whose report was posted count; `/ops checklist` and `opsbot checklist`
// read from there without moving it.
func LastScheduledRun(log RunLog, env string) func(ctx context.Context) (time.Time, error) {
	prefix := donePrefix(env) + "/"
	return func(ctx context.Context) (time.Time, error) {
		key, claimedAt, err := log.LastClaim(ctx, prefix)
		if err != nil || key == "" {
			return time.Time{}, err
		}
		if at, err := time.Parse(claimKeyLayout, strings.TrimPrefix(key, prefix)); err == nil {
			return at, nil
		}
		return claimedAt, nil
	}
}

// donePrefix prefixes the claims of env's finished runs:
// "checklist-done/prod/2026-11-24T09:30Z".
func donePrefix(env string) string { return "checklist-done/" + env }

// claimKeyLayout is schedule.ClaimKey's time format.
const claimKeyLayout = "2006-01-02T15:04Z"
