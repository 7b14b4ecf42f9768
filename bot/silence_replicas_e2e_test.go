package bot_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot/schedule"
	"github.com/opsbot/opsbot/silence"
	"github.com/opsbot/opsbot/testenv"
	"github.com/opsbot/opsbot/triage"
)

// overlap holds the first call that reaches Alertmanager until a second
// one does too, or until a call finds the silence's claim held by another
// (it waits for it instead): without the claim, both calls are sure to
// look for an existing silence before either makes one.
type overlap struct {
	mu      sync.Mutex
	entered int
	open    chan struct{}
	once    sync.Once
}

func newOverlap() *overlap { return &overlap{open: make(chan struct{})} }

func (o *overlap) release() { o.once.Do(func() { close(o.open) }) }

func (o *overlap) enter(ctx context.Context) {
	o.mu.Lock()
	o.entered++
	if o.entered >= 2 {
		o.release()
	}
	o.mu.Unlock()
	select {
	case <-o.open:
	case <-ctx.Done():
	}
}

type overlapSilencer struct {
	triage.Silencer
	o *overlap
}

func (s overlapSilencer) Silence(ctx context.Context, r triage.SilenceRequest) (triage.Silence, error) {
	s.o.enter(ctx)
	return s.Silencer.Silence(ctx, r)
}

type overlapClaims struct {
	schedule.Claimer
	o *overlap
}

func (c overlapClaims) Take(ctx context.Context, key, holder string, now, until time.Time) (schedule.Claim, error) {
	got, err := c.Claimer.Take(ctx, key, holder, now, until)
	if got == schedule.Held {
		c.o.release()
	}
	return got, err
}

// replicaStore is what a replica's triage service needs of the store.
type replicaStore interface {
	triage.Store
	schedule.Claimer
}

// noThreads: making a silence tells no thread.
type noThreads struct{ triage.Threads }

// Two replicas on one store, each with its own Alertmanager client, get
// the same Noise submission at once (Slack delivered it to both): one
// silence is made in the real Alertmanager, and both answer with it.
func TestTwoReplicasMakeOneSilence(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Alertmanager (not with -short)")
	}
	am, err := testenv.StartAlertmanager(t.Context(), testenv.AlertmanagerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { am.Stop() })
	for _, kind := range []storeKind{onSQLite, onPostgres} {
		t.Run(string(kind), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			h1, h2 := sharedStores(t, kind)
			s1, s2 := h1.(replicaStore), h2.(replicaStore)
			now := time.Now()
			a := triage.ManualAnomaly("prod", "CheckoutFlaps is firing", alice, now)
			a.Labels = map[string]string{"alertname": "CheckoutFlaps", "namespace": "shop-" + string(kind)}
			a, _, err := s1.OpenAnomaly(ctx, a, "open-1")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s1.Decide(ctx, a.ID, triage.DecisionRecord{Decision: triage.Noise, Conclusion: "the canary flaps",
				FiveWhys: "1. deploys", Ticket: "https://tickets.example.com/OPS-11", Dashboard: "https://grafana.example.com/d/checkout",
				DecidedBy: alice, DecidedAt: now}, "decide-1"); err != nil {
				t.Fatal(err)
			}

			o := newOverlap()
			replica := func(st replicaStore) *triage.Service {
				sil, err := silence.New(am.URL(), silence.Options{Logger: zap.NewNop()})
				if err != nil {
					t.Fatal(err)
				}
				svc, err := triage.NewService(triage.ServiceOptions{Store: st, Threads: noThreads{},
					Silencers:     map[string]triage.Silencer{"prod": overlapSilencer{sil, o}},
					SilenceClaims: overlapClaims{st, o}})
				if err != nil {
					t.Fatal(err)
				}
				return svc
			}
			replicas := []*triage.Service{replica(s1), replica(s2)}
			order := triage.SilenceOrder{EndsAt: now.Add(2 * time.Hour), By: alice, ByName: "Alice"}
			var (
				wg   sync.WaitGroup
				ids  [2]string
				errs [2]error
			)
			for i, svc := range replicas {
				wg.Go(func() {
					_, sil, err := svc.Silence(ctx, a.ID, order, "view-1")
					ids[i], errs[i] = sil.ID, err
				})
			}
			wg.Wait()
			if errs[0] != nil || errs[1] != nil || ids[0] == "" || ids[0] != ids[1] {
				t.Fatalf("the replicas answered silences %q and %q, errors %v, %v; want one silence", ids[0], ids[1], errs[0], errs[1])
			}
			want := `alertname="CheckoutFlaps", namespace="shop-` + string(kind) + `"`
			if n := countSilences(t, ctx, am, want); n != 1 {
				t.Errorf("%d silences in Alertmanager with %s, want 1", n, want)
			}
			got, err := s2.Get(ctx, a.ID)
			if err != nil || got.Decision.Silence == nil || got.Decision.Silence.ID != ids[0] {
				t.Errorf("recorded silence %+v, %v; want %s", got.Decision, err, ids[0])
			}
		})
	}
}
