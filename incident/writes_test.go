package incident_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/incident"
	"github.com/opsbot/opsbot/store"
	"github.com/opsbot/opsbot/store/sqlite"
	"github.com/opsbot/opsbot/templates"
)

// errDown is the store's failure in these tests.
var errDown = errors.New("database is down")

// downEnv is a Service (no status page) on a SQLite store whose writes of
// the operation in down fail before COMMIT, as when the database goes
// away.
type downEnv struct {
	svc   *incident.Service
	store *store.Incidents
	slack *fakeSlack
	down  atomic.Pointer[string]
}

func newDownEnv(t *testing.T) *downEnv {
	t.Helper()
	e := &downEnv{slack: &fakeSlack{}}
	c := &clock{now: t0.Add(5 * time.Minute)}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "opsbot.db"), zap.NewNop(), store.WithClock(c.Now),
		store.WithBeforeCommit(func(_ context.Context, op string) error {
			if d := e.down.Load(); d != nil && *d == op {
				return errDown
			}
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tmpl, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	e.store = db.Incidents()
	e.svc, err = incident.NewService(incident.Options{Store: e.store, Slack: e.slack, Templates: tmpl, Escape: escape, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *downEnv) fail(op string) { e.down.Store(&op) }
func (e *downEnv) recover()       { e.down.Store(nil) }

// The store fails to record the incident: nothing is posted, and the
// error says nothing was recorded.
func TestAnnounceStoreDownPostsNothing(t *testing.T) {
	e := newDownEnv(t)
	e.fail(store.OpAnnounce)
	inc, _, err := e.svc.Announce(context.Background(), announcement(), "announce:V1")
	if !errors.Is(err, opsbot.ErrNotRecorded) || inc.ID != 0 {
		t.Fatalf("Announce = %+v, %v; want no incident and ErrNotRecorded", inc, err)
	}
	if c := e.slack.Calls(""); len(c) != 0 {
		t.Errorf("Slack calls for an incident not recorded: %+v", c)
	}
}

// The announcement is posted, then its record fails: the post is deleted
// again (no announcement without its incident knowing it), the incident
// lags, and the retry posts the one announcement.
func TestAnnouncementNotRecordedIsDeleted(t *testing.T) {
	ctx := context.Background()
	e := newDownEnv(t)
	e.fail(store.OpSetMessage)
	inc, created, err := e.svc.Announce(ctx, announcement(), "announce:V1")
	if !errors.Is(err, opsbot.ErrNotRecorded) || !created || inc.ID == 0 || !inc.AnnouncementLags() {
		t.Fatalf("Announce = %+v, %v, %v; want the incident, lagging, and ErrNotRecorded", inc, created, err)
	}
	posts, deletes := e.slack.Calls("post"), e.slack.Calls("delete")
	if len(posts) != 1 || len(deletes) != 1 || deletes[0].TS != posts[0].TS || deletes[0].Channel != posts[0].Channel {
		t.Fatalf("posts %+v, deletes %+v: the announcement outlived its failed record", posts, deletes)
	}

	e.recover()
	out, err := e.svc.Finish(ctx, inc.ID)
	if err != nil || out.StepErr != nil || !out.Finished.Posted {
		t.Fatalf("Finish = %+v, %v", out, err)
	}
	posts = e.slack.Calls("post")
	if len(posts) != 2 || out.Incident.MessageTS != posts[1].TS || len(e.slack.Calls("delete")) != 1 {
		t.Errorf("after the retry: posts %+v, incident message %s", posts, out.Incident.MessageTS)
	}
	wantKinds(t, e.store, inc.ID, incident.KindAnnounced, incident.KindMessagePosted)
}
