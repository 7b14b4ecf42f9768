// Package schedule runs the daily checklist on a schedule: a small cron
// parser (five fields, ranges, lists, steps, month and weekday names) whose
// Next is correct across daylight saving transitions, and a Scheduler that
// runs a job at each occurrence, only on the elected leader of the
// replicas (a coordination.k8s.io Lease, through client-go's
// leaderelection) and only once per occurrence (a Claimer, which the store
// implements for all replicas).
//
// The package embeds the IANA time zone database (time/tzdata), so
// Europe/London is known in a distroless image.
package schedule

import _ "time/tzdata" // Europe/London without /usr/share/zoneinfo
