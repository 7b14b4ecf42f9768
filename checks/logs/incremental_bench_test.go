package logs_test

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/checks/logs"
	"github.com/opsbot/opsbot/redact"
	"github.com/opsbot/opsbot/testenv"
)

// kubeletStreamer serves logs in process as the stub kubelet does
// (sinceSeconds, sinceTime in whole seconds, timestamps), counting bytes.
type kubeletStreamer struct {
	logs  *testenv.Logs
	bytes atomic.Int64
}

func (s *kubeletStreamer) Stream(ctx context.Context, ns, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error) {
	req := testenv.LogRequest{Namespace: ns, Pod: pod, Container: opts.Container, SinceSeconds: opts.SinceSeconds,
		Timestamps: opts.Timestamps, Previous: opts.Previous}
	if opts.SinceTime != nil {
		t := opts.SinceTime.Truncate(time.Second)
		req.SinceTime = &t
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(s.logs.WriteLogs(ctx, req, pw)) }()
	return &countingBody{pr, &s.bytes}, nil
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// BenchmarkRepeatRun: the logs check over 20 containers with a day of
// logs each (a line every 5 seconds, 1 in 10 an error): read in full
// without a state (full), with a state store but nothing saved yet (first:
// timestamps cost bytes), and an hour after a first run, from its state
// (repeat). The logs are served in process with the stub kubelet's
// semantics, so the time includes the stub filtering a day of lines.
func BenchmarkRepeatRun(b *testing.B) {
	const containers = 20
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	later := t0.Add(time.Hour)
	var pods []runtime.Object
	lg := testenv.NewLogs()
	all := make(map[string][]testenv.LogLine)
	for i := range containers {
		name := fmt.Sprintf("api-%d", i)
		var lines []testenv.LogLine
		for t, n := t0.Add(-24*time.Hour), 0; !t.After(later); t, n = t.Add(5*time.Second), n+1 {
			text := fmt.Sprintf("2026-12-01 INFO 1 --- [exec-%d] c.e.shop.Cart : cart %d updated in %dms", n%8, n, n%97)
			if n%10 == 0 {
				text = fmt.Sprintf("2026-12-01 ERROR 1 --- [exec-%d] c.e.shop.Payment : payment %d timed out after %dms", n%8, n, n%997)
			}
			lines = append(lines, testenv.LogLine{Time: t, Text: text})
		}
		all[name] = lines
		pods = append(pods, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{
				Name: "app", ContainerID: "containerd://" + name, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}},
		})
	}
	kube := fake.NewClientset(pods...)
	cfg := logs.Config{Window: model.Duration(24 * time.Hour)}
	run := func(b *testing.B, now time.Time, st logs.StateStore) (checks.Result, int64) {
		s := &kubeletStreamer{logs: lg}
		var opts []logs.Option
		opts = append(opts, logs.WithStreamer(s))
		if st != nil {
			opts = append(opts, logs.WithState(st, "prod", redact.Redactor{}))
		}
		res := logs.New(kube, []string{"shop"}, cfg, func() time.Time { return now }, nil, opts...).Run(context.Background())
		if res.Status == checks.Unknown {
			b.Fatal(res.Summary)
		}
		return res, s.bytes.Load()
	}
	// The first run's state, an hour before, on the logs written by then.
	lg.SetClock(func() time.Time { return t0 })
	for name, lines := range all {
		n := 0
		for n < len(lines) && !lines[n].Time.After(t0) {
			n++
		}
		lg.SetLines("shop", name, "app", lines[:n]...)
	}
	primed := &memState{}
	run(b, t0, primed)
	saved := primed.docs["prod"]
	lg.SetClock(func() time.Time { return later })
	for name, lines := range all {
		lg.SetLines("shop", name, "app", lines...)
	}
	full, _ := run(b, later, nil)
	repeat, _ := run(b, later, &memState{docs: map[string][]byte{"prod": saved}})
	if !reflect.DeepEqual(full.Findings, repeat.Findings) {
		b.Fatalf("the repeat run's findings differ from a full read's:\n%+v\n%+v", repeat.Findings, full.Findings)
	}

	b.Run("full", func(b *testing.B) {
		var n int64
		for b.Loop() {
			_, n = run(b, later, nil)
		}
		b.ReportMetric(float64(n), "logbytes/op")
	})
	b.Run("first", func(b *testing.B) { // with a state store, none saved yet
		var n int64
		for b.Loop() {
			_, n = run(b, later, &memState{})
		}
		b.ReportMetric(float64(n), "logbytes/op")
	})
	b.Run("repeat", func(b *testing.B) {
		var n int64
		for b.Loop() {
			st := &memState{docs: map[string][]byte{"prod": saved}}
			_, n = run(b, later, st)
		}
		b.ReportMetric(float64(n), "logbytes/op")
	})
}
