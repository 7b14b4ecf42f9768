package schedule

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"go.uber.org/zap"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// Short timings so that a handover takes well under a second (the real
// defaults are 15s/10s/2s).
func fastLease(identity string) LeaderElectionConfig {
	return LeaderElectionConfig{
		Namespace:     "opsbot",
		LeaseName:     "opsbot-scheduler",
		LeaseDuration: model.Duration(3 * time.Second),
		RenewDeadline: model.Duration(2 * time.Second),
		RetryPeriod:   model.Duration(100 * time.Millisecond),
		Identity:      identity,
	}
}

// eventually waits (polling, without a fixed sleep) until cond holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		<-tick.C
	}
}

// runElector runs e until the test ends. wait cancels it and returns what
// Run returned.
func runElector(t *testing.T, e *LeaseElector) (wait func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		err = e.Run(ctx)
	}()
	wait = func() error {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
		return err
	}
	t.Cleanup(func() { _ = wait() })
	return wait
}

func TestLeaseElectorHandover(t *testing.T) {
	cs := fake.NewClientset()
	leases := cs.CoordinationV1()
	a, err := NewLeaseElector(leases, fastLease("replica-a"), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewLeaseElector(leases, fastLease("replica-b"), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if a.IsLeader() {
		t.Fatal("leader before Run")
	}

	stopA := runElector(t, a)
	eventually(t, "a leads", a.IsLeader)
	holder := func() string {
		l, err := leases.Leases("opsbot").Get(context.Background(), "opsbot-scheduler", metav1.GetOptions{})
		if err != nil || l.Spec.HolderIdentity == nil {
			return ""
		}
		return *l.Spec.HolderIdentity
	}
	if h := holder(); h != "replica-a" {
		t.Errorf("lease holder = %q, want replica-a", h)
	}

	runElector(t, b)
	// b has tried at least once when it has observed a's record; it must
	// not lead while a renews.
	eventually(t, "b observes a's lease", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.current != nil && b.current.GetLeader() == "replica-a"
	})
	if b.IsLeader() {
		t.Error("b leads while a holds the lease")
	}

	// a shuts down: it releases the lease and b takes over.
	if err := stopA(); err != nil {
		t.Errorf("a.Run = %v, want nil", err)
	}
	if a.IsLeader() {
		t.Error("a still leads after its Run returned")
	}
	eventually(t, "b leads", b.IsLeader)
	if h := holder(); h != "replica-b" {
		t.Errorf("lease holder = %q, want replica-b", h)
	}
}

func TestLeaseElectorWithScheduler(t *testing.T) {
	// The elector plugs into the scheduler: only the leader's IsLeader is
	// true, which is all the scheduler asks.
	cs := fake.NewClientset()
	e, err := NewLeaseElector(cs.CoordinationV1(), fastLease("only"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var _ Elector = e
	runElector(t, e)
	eventually(t, "it leads", e.IsLeader)
	if e.Identity() != "only" {
		t.Errorf("Identity = %q", e.Identity())
	}
}

func TestNewLeaseElectorErrors(t *testing.T) {
	leases := fake.NewClientset().CoordinationV1()
	if _, err := NewLeaseElector(nil, fastLease("x"), nil); err == nil {
		t.Error("nil client: no error")
	}
	cfg := fastLease("x")
	cfg.RenewDeadline = cfg.LeaseDuration
	_, err := NewLeaseElector(leases, cfg, nil)
	if err == nil || err.Error() != "leaderElection.leaseDuration: must be more than renewDeadline (3s), got 3s" {
		t.Errorf("bad timings: %v", err)
	}
	cfg = fastLease("")
	e, err := NewLeaseElector(leases, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.Identity(), "_") {
		t.Errorf("default identity %q, want host_suffix", e.Identity())
	}
}

func TestInClusterNamespace(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "opsbot-prod")
	ns, err := InClusterNamespace()
	if err != nil || ns != "opsbot-prod" {
		t.Errorf("InClusterNamespace = %q, %v", ns, err)
	}
	t.Setenv("POD_NAMESPACE", "")
	cfg := fastLease("x")
	cfg.Namespace = ""
	// Outside a cluster (no service account file on test machines) the
	// error names the key to set.
	if _, err := InClusterNamespace(); err == nil {
		t.Skip("running inside a pod: the service account namespace file exists")
	}
	_, err = NewLeaseElector(fake.NewClientset().CoordinationV1(), cfg, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "leaderElection.namespace: not running in a cluster") {
		t.Errorf("no namespace: %v", err)
	}
}

func TestAlwaysLeader(t *testing.T) {
	var e Elector = AlwaysLeader{}
	if !e.IsLeader() {
		t.Error("AlwaysLeader is not the leader")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Run(ctx); err != nil {
		t.Errorf("Run = %v", err)
	}
}
