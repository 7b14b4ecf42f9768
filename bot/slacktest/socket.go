package slacktest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Disconnect reasons Slack sends in `disconnect` frames
// (docs.slack.dev/apis/events-api/using-socket-mode#disconnect; slack-go
// reconnects on all of them without telling the app).
const (
	ReasonWarning           = "warning"
	ReasonRefreshRequested  = "refresh_requested"
	ReasonLinkDisabled      = "link_disabled"
	ReasonTooManyWebsockets = "too_many_websockets"
)

// maxAckBytes: Slack silently drops Socket Mode responses of 20 KB or more
// (slack-go's socketmode maxResponseSize, verified by its authors against
// Slack and the Node SDK).
const maxAckBytes = 20 * 1024

// approximateConnectionTime is hello.debug_info.approximate_connection_time
// when no ConnectionLifetime is configured (the value Slack reports in the
// public SDKs' recorded hello messages).
const approximateConnectionTime = 18060

// wsConn is one Socket Mode WebSocket.
type wsConn struct {
	id      int
	host    string
	ws      *websocket.Conn
	writeMu sync.Mutex
	done    chan struct{}
	once    sync.Once
	opened  time.Time
	ready   bool // hello sent; envelopes may go here (s.mu)
	closing bool // told to disconnect (s.mu)
}

func (c *wsConn) writeText(b []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	defer func() { _ = c.ws.SetWriteDeadline(time.Time{}) }()
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// closeWith sends a close frame, then closes the socket.
func (c *wsConn) closeWith(code int, text string) {
	c.once.Do(func() {
		_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
		_ = c.ws.Close()
		close(c.done)
	})
}

// drop closes the TCP connection without a close frame.
func (c *wsConn) drop() {
	c.once.Do(func() {
		_ = c.ws.NetConn().Close()
		close(c.done)
	})
}

// appsConnectionsOpen answers apps.connections.open with a single-use
// WebSocket URL (`wss://wss-primary.slack.com/link/?ticket=...&app_id=...`
// at Slack; ws://127.0.0.1 here).
func (s *Server) appsConnectionsOpen(r *apiRequest) (map[string]any, *apiError) {
	ticket := randomUUID()
	s.tickets[ticket] = true
	s.connectionOpen++
	host := strings.TrimPrefix(s.hs.URL, "http://")
	return map[string]any{"url": "ws://" + host + "/link/?ticket=" + ticket + "&app_id=" + s.opts.AppID}, nil
}

// FailConnectionsOpen makes the next n apps.connections.open calls answer
// HTTP status (429 for Slack's rate limiter) with a Retry-After header of
// retryAfter (whole seconds; none when zero) and
// {"ok":false,"error":"ratelimited"} (429) or "internal_error" (others).
func (s *Server) FailConnectionsOpen(n, status int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := "internal_error"
	if status == http.StatusTooManyRequests {
		code = "ratelimited"
	}
	for i := 0; i < n; i++ {
		f := injectedFailure{status: status, code: code, retryAfter: retryAfter}
		s.failNext["apps.connections.open"] = append(s.failNext["apps.connections.open"], f)
	}
}

var upgrader = websocket.Upgrader{
	// slack-go sends Origin: https://api.slack.com.
	CheckOrigin: func(*http.Request) bool { return true },
}

// handleLink serves the Socket Mode WebSocket.
func (s *Server) handleLink(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "closed", http.StatusServiceUnavailable)
		return
	}
	valid := s.tickets[ticket]
	delete(s.tickets, ticket)
	if valid {
		s.wg.Add(1)
	}
	s.mu.Unlock()
	if !valid {
		s.logf("websocket: unknown or used ticket")
		http.Error(w, "invalid ticket", http.StatusUnauthorized)
		return
	}
	defer s.wg.Done()

	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.logf("websocket: upgrade: %v", err)
		return
	}
	s.mu.Lock()
	s.nextConnID++
	c := &wsConn{id: s.nextConnID, host: fmt.Sprintf("applink-fake-%d", s.nextConnID), ws: ws, done: make(chan struct{}), opened: time.Now()}
	live := 0
	for _, o := range s.conns {
		if !o.closing {
			live++
		}
	}
	tooMany := live >= s.opts.MaxConnections
	closed := s.closed
	if !tooMany && !closed {
		s.conns[c.id] = c
	}
	s.mu.Unlock()

	if closed {
		c.closeWith(websocket.CloseGoingAway, "server shutting down")
		return
	}
	if tooMany {
		s.logf("websocket %d: %d connections open, refusing", c.id, live)
		_ = c.writeText(disconnectFrame(ReasonTooManyWebsockets, c.host))
		c.closeWith(websocket.CloseNormalClosure, "")
		return
	}

	lifetime := approximateConnectionTime
	if s.opts.ConnectionLifetime > 0 {
		lifetime = max(1, int(s.opts.ConnectionLifetime/time.Second))
	}
	// The connection becomes ready (eligible for envelopes) while its write
	// lock is held for the hello, so that no envelope can precede the hello
	// and none is refused once the client has read it.
	c.writeMu.Lock()
	s.mu.Lock()
	c.ready = true
	s.totalConns++
	hello := jsonCompact(map[string]any{
		"type":            "hello",
		"num_connections": live + 1,
		"debug_info": map[string]any{
			"host": c.host, "build_number": 1, "approximate_connection_time": lifetime,
		},
		"connection_info": map[string]any{"app_id": s.opts.AppID},
	})
	s.bumpLocked()
	s.mu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	err = c.ws.WriteMessage(websocket.TextMessage, hello)
	_ = c.ws.SetWriteDeadline(time.Time{})
	c.writeMu.Unlock()
	if err != nil {
		s.removeConn(c)
		c.drop()
		return
	}
	s.logf("websocket %d: connected", c.id)

	s.wg.Add(2)
	go s.pinger(c)
	go s.lifetime(c)
	s.readLoop(c)
}

func (s *Server) removeConn(c *wsConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.conns[c.id]; ok {
		delete(s.conns, c.id)
		s.bumpLocked()
	}
}

func (s *Server) readLoop(c *wsConn) {
	defer func() {
		s.removeConn(c)
		c.closeWith(websocket.CloseNormalClosure, "")
		s.logf("websocket %d: closed", c.id)
	}()
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		if typ == websocket.TextMessage {
			s.handleAck(c, data)
		}
	}
}

func (s *Server) pinger(c *wsConn) {
	defer s.wg.Done()
	if s.opts.PingInterval <= 0 {
		return
	}
	t := time.NewTicker(s.opts.PingInterval)
	defer t.Stop()
	n := 0
	for {
		select {
		case <-t.C:
			s.mu.Lock()
			on := s.pinging
			s.mu.Unlock()
			if !on {
				continue
			}
			n++
			_ = c.ws.WriteControl(websocket.PingMessage, fmt.Appendf(nil, "ping-%d", n), time.Now().Add(5*time.Second))
		case <-c.done:
			return
		case <-s.done:
			return
		}
	}
}

func (s *Server) lifetime(c *wsConn) {
	defer s.wg.Done()
	if s.opts.ConnectionLifetime <= 0 {
		return
	}
	t := time.NewTimer(s.opts.ConnectionLifetime)
	defer t.Stop()
	select {
	case <-t.C:
		s.disconnectConn(c, ReasonRefreshRequested)
	case <-c.done:
	case <-s.done:
	}
}

func disconnectFrame(reason, host string) []byte {
	return jsonCompact(map[string]any{
		"type":       "disconnect",
		"reason":     reason,
		"debug_info": map[string]any{"host": host},
	})
}

func (s *Server) disconnectConn(c *wsConn, reason string) {
	s.logf("websocket %d: disconnect %s", c.id, reason)
	if reason != ReasonWarning {
		// No envelope goes to a connection being told to go away.
		s.mu.Lock()
		c.ready, c.closing = false, true
		s.mu.Unlock()
	}
	_ = c.writeText(disconnectFrame(reason, c.host))
	if reason != ReasonWarning {
		c.closeWith(websocket.CloseNormalClosure, "")
	}
}

func (s *Server) liveConns() []*wsConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*wsConn
	for id := 1; id <= s.nextConnID; id++ {
		if c, ok := s.conns[id]; ok && c.ready {
			out = append(out, c)
		}
	}
	return out
}

// Disconnect sends Slack's `disconnect` frame with reason
// (ReasonRefreshRequested, ReasonLinkDisabled, ReasonTooManyWebsockets,
// ReasonWarning) to every open connection and, except for a warning, closes
// it. It returns the number of connections told.
func (s *Server) Disconnect(reason string) int {
	conns := s.liveConns()
	for _, c := range conns {
		s.disconnectConn(c, reason)
	}
	return len(conns)
}

// DropConnections closes every open connection abruptly: no disconnect
// frame, no WebSocket close frame. It returns the number dropped.
func (s *Server) DropConnections() int {
	conns := s.liveConns()
	for _, c := range conns {
		s.logf("websocket %d: dropped", c.id)
		s.removeConn(c)
		c.drop()
	}
	return len(conns)
}

// StopPinging stops the WebSocket pings on every connection, present and
// future, so that a client expecting pings (slack-go: OptionPingInterval)
// reconnects. ResumePinging turns them back on.
func (s *Server) StopPinging() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pinging = false
}

// ResumePinging undoes StopPinging.
func (s *Server) ResumePinging() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pinging = s.opts.PingInterval > 0
}

// Connections returns the number of open Socket Mode connections.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.conns {
		if c.ready {
			n++
		}
	}
	return n
}

// TotalConnections returns the number of Socket Mode connections accepted
// since the server started (reconnections included).
func (s *Server) TotalConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.totalConns
}

// WaitForConnections waits until at least n connections are open.
func (s *Server) WaitForConnections(ctx context.Context, n int) error {
	return s.WaitFor(ctx, func() bool { return s.Connections() >= n })
}

// pickConnLocked chooses the connection for the next envelope, round-robin
// over the open ones (Slack: "each payload may be sent to any of the
// connections").
func (s *Server) pickConnLocked(skip map[int]bool) *wsConn {
	var ids []int
	for id := 1; id <= s.nextConnID; id++ {
		if c, ok := s.conns[id]; ok && c.ready && !skip[id] {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	s.rr++
	return s.conns[ids[s.rr%len(ids)]]
}

// FrameKind is the WebSocket message type of a raw frame (SendFrame).
type FrameKind int

// The frame kinds: Slack sends text only.
const (
	TextFrame   FrameKind = websocket.TextMessage
	BinaryFrame FrameKind = websocket.BinaryMessage
)

// SendFrame writes data, unchanged, as one WebSocket message of kind to
// the next open connection (chosen as for envelopes): malformed JSON, an
// empty message, an oversized one, a binary one. Slack sends none of
// these; they test that a client survives a broken peer. It returns the
// connection's id (Envelope.ConnectionID, TotalConnections), ErrNoConnection
// when none is open, or the write's error (a client that refuses an
// oversized message may close the connection during the write).
func (s *Server) SendFrame(ctx context.Context, kind FrameKind, data []byte) (int, error) {
	if kind != TextFrame && kind != BinaryFrame {
		return 0, fmt.Errorf("slacktest: frame kind %d is neither text nor binary", kind)
	}
	s.mu.Lock()
	c := s.pickConnLocked(nil)
	s.mu.Unlock()
	if c == nil {
		return 0, ErrNoConnection
	}
	if err := ctx.Err(); err != nil {
		return c.id, err
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = c.ws.SetWriteDeadline(deadline)
	defer func() { _ = c.ws.SetWriteDeadline(time.Time{}) }()
	s.logf("websocket %d: raw %d-byte frame (kind %d)", c.id, len(data), kind)
	return c.id, c.ws.WriteMessage(int(kind), data)
}
