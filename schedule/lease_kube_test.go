package schedule

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"go.uber.org/zap"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/opsbot/opsbot/testenv"
)

// TestLeaseElectorRealAPIServer runs two electors against a real
// kube-apiserver, as opsbot's ServiceAccount with exactly the access of
// deploy/base/role-leader.yaml: one leads, and when it stops the other
// takes over.
func TestLeaseElectorRealAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver (-short)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	k, err := testenv.StartKube(ctx, testenv.KubeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Stop() })
	admin := k.Client()

	// The namespace opsbot runs in, its ServiceAccount and the Role.
	if err := k.CreateNamespace(ctx, "opsbot"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CoreV1().ServiceAccounts("opsbot").Create(ctx,
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "opsbot"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	applyRoleLeader(t, ctx, admin)
	tr, err := admin.CoreV1().ServiceAccounts("opsbot").CreateToken(ctx, "opsbot",
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sa, err := kubernetes.NewForConfig(k.ConfigForToken(tr.Status.Token))
	if err != nil {
		t.Fatal(err)
	}
	// The Role allows that Lease only.
	if _, err := sa.CoordinationV1().Leases("opsbot").Get(ctx, "another-lease", metav1.GetOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("get another Lease as opsbot: %v, want forbidden", err)
	}

	a, err := NewLeaseElector(sa.CoordinationV1(), fastLease("replica-a"), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewLeaseElector(sa.CoordinationV1(), fastLease("replica-b"), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	stop := map[*LeaseElector]func() error{a: runElector(t, a), b: runElector(t, b)}
	eventually(t, "one replica leads", func() bool { return a.IsLeader() || b.IsLeader() })
	leader, other := a, b
	if b.IsLeader() {
		leader, other = b, a
	}
	if other.IsLeader() {
		t.Fatal("both replicas lead")
	}
	holder := func() string {
		l, err := admin.CoordinationV1().Leases("opsbot").Get(ctx, "opsbot-scheduler", metav1.GetOptions{})
		if err != nil || l.Spec.HolderIdentity == nil {
			return ""
		}
		return *l.Spec.HolderIdentity
	}
	if h := holder(); h != leader.Identity() {
		t.Errorf("lease holder = %q, want %q", h, leader.Identity())
	}

	// The leader goes away (a rollout): it releases the Lease, the other
	// takes over.
	if err := stop[leader](); err != nil {
		t.Errorf("Run = %v", err)
	}
	eventually(t, "the other replica leads", other.IsLeader)
	if leader.IsLeader() {
		t.Error("the stopped replica still leads")
	}
	if h := holder(); h != other.Identity() {
		t.Errorf("lease holder = %q, want %q", h, other.Identity())
	}
}

// applyRoleLeader creates the Role and RoleBinding of
// deploy/base/role-leader.yaml.
func applyRoleLeader(t *testing.T, ctx context.Context, cs kubernetes.Interface) {
	t.Helper()
	data, err := os.ReadFile("../deploy/base/role-leader.yaml")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, doc := range bytes.Split(data, []byte("\n---")) {
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("role-leader.yaml: %v", err)
		}
		switch o := obj.(type) {
		case *rbacv1.Role:
			_, err = cs.RbacV1().Roles(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.RoleBinding:
			_, err = cs.RbacV1().RoleBindings(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		default:
			t.Fatalf("role-leader.yaml: unexpected %T", obj)
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("role-leader.yaml: %d objects, want a Role and a RoleBinding", n)
	}
}
