package bot_test

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/triage"
)

// Run with: go test -run '^$' -bench . -benchtime 1x ./bot/
// Each iteration sends 1,000 envelopes, 50 at a time, through the real
// socketmode client; the figures are the fake's ack latencies (sent to
// acked) and decisions per second through the whole bot path.

const (
	benchEnvelopes   = 1000
	benchConcurrency = 50
)

// benchUsers are deciders who click at the same time (a user has one
// modal at a time).
var benchUsers = func() []string {
	var us []string
	for i := range benchConcurrency {
		us = append(us, fmt.Sprintf("U0BENCH%02d", i))
	}
	return us
}()

func benchFake(b *testing.B) *slacktest.Server {
	members := append([]string{alice, bob, carol, slacktest.DefaultBotUserID}, benchUsers...)
	users := []slacktest.User{{ID: alice, Name: "alice"}, {ID: bob, Name: "bob"}, {ID: carol, Name: "carol"}}
	for _, u := range benchUsers {
		users = append(users, slacktest.User{ID: u, Name: strings.ToLower(u)})
	}
	fs := slacktest.New(slacktest.Options{
		Users: users,
		Channels: []slacktest.Channel{
			{ID: opsChannel, Name: "ops", Members: members},
			{ID: devChannel, Name: "dev", Members: append([]string(nil), members...)},
		},
		AckTimeout: 10 * time.Second,
	})
	b.Cleanup(fs.Close)
	return fs
}

// parallel runs n calls of fn on c workers.
func parallel(n, c int, fn func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range c {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

func latencies(envs []slacktest.Envelope, typ string, from int) (p50, p99, longest time.Duration, n int) {
	var lat []time.Duration
	for _, e := range envs[from:] {
		if e.Type == typ && e.Acked {
			lat = append(lat, e.AckLatency)
		}
	}
	if len(lat) == 0 {
		return 0, 0, 0, 0
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	at := func(p int) time.Duration { return lat[max(0, (p*len(lat)+99)/100-1)] }
	return at(50), at(99), lat[len(lat)-1], len(lat)
}

func BenchmarkAckLatency(b *testing.B) {
	fs := benchFake(b)
	h := newBenchHarness(b, fs, onSQLite)
	h.start()
	h.setChecks(&fakeCheck{name: "pods", result: result(finding("pods", "Deployment shop/api", "CrashLoopBackOff"))})
	rep := h.report(alice)
	h.investigate(alice, rep, 0)

	for b.Loop() {
		from := len(fs.Envelopes())
		parallel(benchEnvelopes, benchConcurrency, func(int) {
			if _, err := fs.SendSlashCommand(h.ctx, slacktest.SlashCommand{Command: "/ops", Text: "status", UserID: alice, ChannelID: opsChannel}); err != nil {
				b.Error(err)
			}
		})
		p50, p99, mx, n := latencies(fs.Envelopes(), slacktest.TypeSlashCommands, from)
		b.ReportMetric(float64(p50.Microseconds())/1000, "slash-p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "slash-p99-ms")
		fmt.Printf("slash commands: %d acked, p50 %s, p99 %s, max %s\n", n, p50, p99, mx)

		from = len(fs.Envelopes())
		parallel(benchEnvelopes, benchConcurrency, func(int) {
			if _, err := fs.ClickButton(h.ctx, slacktest.ButtonClick{Channel: opsChannel, MessageTS: rep.TS,
				ActionID: "checklist.investigate", BlockID: "finding/0", UserID: alice}); err != nil {
				b.Error(err)
			}
		})
		p50, p99, mx, n = latencies(fs.Envelopes(), slacktest.TypeInteractive, from)
		b.ReportMetric(float64(p50.Microseconds())/1000, "click-p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "click-p99-ms")
		fmt.Printf("clicks: %d acked, p50 %s, p99 %s, max %s\n", n, p50, p99, mx)
	}
	if st := fs.AckStats(); st.Missing+st.Late > 0 {
		b.Errorf("ack stats = %+v", st)
	}
}

func BenchmarkDecisions(b *testing.B) {
	for _, kind := range []storeKind{onSQLite, onPostgres} {
		b.Run(string(kind), func(b *testing.B) {
			if kind == onPostgres && pg == nil {
				b.Skip("no PostgreSQL")
			}
			fs := benchFake(b)
			h := newBenchHarness(b, fs, kind)
			h.start()
			const anomalies = 50
			for i := range anomalies {
				h.slash(alice, fmt.Sprintf("anomaly bench %03d", i))
			}
			if err := fs.WaitFor(h.ctx, func() bool { return len(fs.Messages(devChannel)) == anomalies }); err != nil {
				b.Fatal(err)
			}
			roots := fs.Messages(devChannel)
			const decisions = 1000
			for b.Loop() {
				replies := func() int {
					n := 0
					for _, r := range roots {
						for _, m := range fs.ThreadReplies(devChannel, r.TS) {
							if strings.Contains(m.AllText(), "decided by") {
								n++
							}
						}
					}
					return n
				}
				before := replies()
				var next sync.Mutex
				queue := make([]int, decisions)
				for i := range queue {
					queue[i] = i
				}
				start := time.Now()
				var wg sync.WaitGroup
				for w := range benchConcurrency {
					user := benchUsers[w]
					wg.Go(func() {
						for {
							next.Lock()
							if len(queue) == 0 {
								next.Unlock()
								return
							}
							i := queue[0]
							queue = queue[1:]
							next.Unlock()
							root := roots[i%anomalies]
							d := []triage.Decision{triage.Undetermined, triage.Intermittent}[i%2]
							viewID := h.openModal(user, root, d)
							if _, err := fs.SubmitView(h.ctx, viewID, values("conclusion", fmt.Sprintf("decision %d", i))); err != nil {
								b.Error(err)
							}
						}
					})
				}
				wg.Wait()
				if err := fs.WaitFor(h.ctx, func() bool { return replies() >= before+decisions }); err != nil {
					b.Fatal(err)
				}
				el := time.Since(start)
				b.ReportMetric(float64(decisions)/el.Seconds(), "decisions/s")
				fmt.Printf("%s: %d decisions (click, modal, submit, store, reply, root update) in %s: %.0f/s\n",
					kind, decisions, el.Round(time.Millisecond), float64(decisions)/el.Seconds())
			}
		})
	}
}
