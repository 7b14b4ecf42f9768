package schedule

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// Elector tells whether this replica is the leader, the one that runs the
// schedule. Run campaigns (and keeps the leadership) until ctx is done; it
// runs as its own actor beside the Scheduler.
type Elector interface {
	IsLeader() bool
	Run(ctx context.Context) error
}

// AlwaysLeader is the Elector of a single replica (or the terminal): always
// the leader.
type AlwaysLeader struct{}

// IsLeader returns true.
func (AlwaysLeader) IsLeader() bool { return true }

// Run blocks until ctx is done and returns nil.
func (AlwaysLeader) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// serviceAccountNamespaceFile is where Kubernetes mounts the pod's
// namespace.
const serviceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// InClusterNamespace returns the namespace opsbot runs in: $POD_NAMESPACE
// (set it from the downward API), else the service account's namespace
// file.
func InClusterNamespace() (string, error) {
	if ns := strings.TrimSpace(os.Getenv("POD_NAMESPACE")); ns != "" {
		return ns, nil
	}
	b, err := os.ReadFile(serviceAccountNamespaceFile)
	if err != nil {
		return "", errors.New("not running in a cluster: set leaderElection.namespace or $POD_NAMESPACE")
	}
	if ns := strings.TrimSpace(string(b)); ns != "" {
		return ns, nil
	}
	return "", fmt.Errorf("%s is empty: set leaderElection.namespace", serviceAccountNamespaceFile)
}

// DefaultIdentity is a replica's identity in the Lease: the host name (the
// pod's name) and a random suffix, so that a restarted pod with the same
// name is a new candidate.
func DefaultIdentity() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "opsbot"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return host + "_" + hex.EncodeToString(b[:])
}

// LeaseElector elects a leader among the replicas with a
// coordination.k8s.io Lease, using client-go's leaderelection. It needs
// get, create and update on leases in its namespace
// (deploy/base/role-leader.yaml). When Run's context ends it releases the
// lease, so that another replica takes over at once.
type LeaseElector struct {
	cfg      LeaderElectionConfig
	client   coordinationv1.LeasesGetter
	identity string
	logger   *zap.Logger

	leading atomic.Bool
	mu      sync.Mutex
	current *leaderelection.LeaderElector
}

// NewLeaseElector returns an elector for the Lease cfg names, through client
// (clientset.CoordinationV1()). An empty cfg.Namespace is found with
// InClusterNamespace; an empty cfg.Identity is DefaultIdentity(). cfg is
// defaulted and validated.
func NewLeaseElector(client coordinationv1.LeasesGetter, cfg LeaderElectionConfig, logger *zap.Logger) (*LeaseElector, error) {
	if client == nil {
		return nil, errors.New("leader election: nil Kubernetes client")
	}
	cfg.SetDefaults()
	if cfg.Namespace == "" {
		ns, err := InClusterNamespace()
		if err != nil {
			return nil, fmt.Errorf("leaderElection.namespace: %w", err)
		}
		cfg.Namespace = ns
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("leaderElection.%w", err)
	}
	if cfg.Identity == "" {
		cfg.Identity = DefaultIdentity()
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	e := &LeaseElector{
		cfg:      cfg,
		client:   client,
		identity: cfg.Identity,
		logger: logger.With(zap.String("lease", cfg.Namespace+"/"+cfg.LeaseName),
			zap.String("identity", cfg.Identity)),
	}
	// Check the timings now rather than at the first Run.
	if _, err := e.newLeaderElector(); err != nil {
		return nil, fmt.Errorf("leader election: %w", err)
	}
	return e, nil
}

// Identity returns this replica's identity in the Lease.
func (e *LeaseElector) Identity() string { return e.identity }

// IsLeader reports whether this replica holds the lease: it started leading
// and has not stopped, and the last lease record it saw names it.
func (e *LeaseElector) IsLeader() bool {
	if !e.leading.Load() {
		return false
	}
	e.mu.Lock()
	le := e.current
	e.mu.Unlock()
	return le != nil && le.IsLeader()
}

// Run campaigns for the lease and, once leader, renews it, until ctx is
// done; it then releases the lease and returns nil. A replica that loses
// the lease (it could not renew within renewDeadline) stops being the
// leader at once and campaigns again.
func (e *LeaseElector) Run(ctx context.Context) error {
	for {
		le, err := e.newLeaderElector()
		if err != nil {
			return err // validated in NewLeaseElector: not expected
		}
		e.mu.Lock()
		e.current = le
		e.mu.Unlock()
		le.Run(ctx)
		if ctx.Err() != nil {
			return nil
		}
		e.logger.Warn("lost the scheduler lease; campaigning again")
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Duration(e.cfg.RetryPeriod)):
		}
	}
}

func (e *LeaseElector) newLeaderElector() (*leaderelection.LeaderElector, error) {
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: e.cfg.Namespace, Name: e.cfg.LeaseName},
		Client:     e.client,
		LockConfig: resourcelock.ResourceLockConfig{Identity: e.identity},
	}
	return leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   time.Duration(e.cfg.LeaseDuration),
		RenewDeadline:   time.Duration(e.cfg.RenewDeadline),
		RetryPeriod:     time.Duration(e.cfg.RetryPeriod),
		ReleaseOnCancel: true,
		Name:            e.cfg.LeaseName,
		Callbacks: leaderelection.LeaderCallbacks{
			// Called in a goroutine: a late call after the leadership
			// ended (its ctx is then done) must not set leading.
			OnStartedLeading: func(ctx context.Context) {
				if ctx.Err() == nil {
					e.leading.Store(true)
					e.logger.Info("became the scheduler leader")
				}
			},
			OnStoppedLeading: func() {
				if e.leading.Swap(false) {
					e.logger.Info("stopped being the scheduler leader")
				}
			},
			OnNewLeader: func(id string) {
				if id != e.identity {
					e.logger.Info("the scheduler leader is another replica", zap.String("leader", id))
				}
			},
		},
	})
}
