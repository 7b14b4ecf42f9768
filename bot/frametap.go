package bot

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// slack-go handles Slack's `disconnect` frames itself and never shows them
// to the application, but a `link_disabled` one must stop the bot rather
// than reconnect. tappedDialer returns the WebSocket dialer slack-go uses,
// with every connection wrapped so that the frames it reads are watched
// (never changed): onDisconnect is called with the reason of each
// `disconnect` frame.
//
// For wss:// the tap sits above TLS (the dialer does the handshake). Through
// an HTTP proxy, gorilla/websocket does TLS itself above the tapped
// connection; the tap then sees ciphertext, finds no frames, and
// link_disabled is handled like any other disconnect (a reconnection).
func tappedDialer(onDisconnect func(reason string)) *websocket.Dialer {
	nd := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	wrap := func(c net.Conn) net.Conn { return &tapConn{Conn: c, tap: frameTap{onDisconnect: onDisconnect}} }
	return &websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		HandshakeTimeout: 45 * time.Second,
		// Above Slack's 20 KB response limit, so acks go out as single
		// frames (as slack-go's own dialer does).
		WriteBufferSize: 32 * 1024,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := nd.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return wrap(c), nil
		},
		NetDialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			raw, err := nd.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			tc := tls.Client(raw, &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12})
			if err := tc.HandshakeContext(ctx); err != nil {
				raw.Close()
				return nil, err
			}
			return wrap(tc), nil
		},
	}
}

// tapConn feeds what is read to a frameTap.
type tapConn struct {
	net.Conn
	tap frameTap // used by the single reader goroutine only
}

func (c *tapConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.tap.feed(p[:n])
	}
	return n, err
}

// maxTappedMessage bounds what the tap keeps of one message; disconnect
// frames are about 100 bytes.
const maxTappedMessage = 4096

// frameTap parses the server-to-client WebSocket frames of RFC 6455 from a
// byte stream, just enough to find `disconnect` messages. It never fails
// the connection: on anything unexpected it stops looking.
type frameTap struct {
	onDisconnect func(reason string)

	// The HTTP upgrade response comes first: frames start after its
	// blank line. matched counts the bytes of "\r\n\r\n" seen in a row.
	upgraded bool
	matched  int

	hdr       []byte
	inPayload bool
	remaining uint64
	opcode    byte
	fin       bool
	masked    bool
	mask      [4]byte
	maskPos   int

	msg        []byte
	collecting bool // the current message is text and small enough
	broken     bool
}

func (t *frameTap) feed(p []byte) {
	for !t.upgraded && len(p) > 0 {
		if p[0] == "\r\n\r\n"[t.matched] {
			t.matched++
		} else if p[0] == '\r' {
			t.matched = 1
		} else {
			t.matched = 0
		}
		p = p[1:]
		t.upgraded = t.matched == 4
	}
	for len(p) > 0 && !t.broken {
		if !t.inPayload {
			t.hdr = append(t.hdr, p[0])
			p = p[1:]
			if !t.parseHeader() {
				continue
			}
			if t.remaining == 0 {
				t.endFrame()
			}
			continue
		}
		n := uint64(len(p))
		if n > t.remaining {
			n = t.remaining
		}
		t.payload(p[:n])
		p = p[n:]
		t.remaining -= n
		if t.remaining == 0 {
			t.endFrame()
		}
	}
}

// parseHeader reports whether t.hdr holds a whole frame header, and if so
// starts the frame.
func (t *frameTap) parseHeader() bool {
	if len(t.hdr) < 2 {
		return false
	}
	masked := t.hdr[1]&0x80 != 0
	need := 2
	switch t.hdr[1] & 0x7f {
	case 126:
		need += 2
	case 127:
		need += 8
	}
	if masked {
		need += 4
	}
	if len(t.hdr) < need {
		return false
	}
	if t.hdr[0]&0x70 != 0 { // RSV bits: an extension (compression) we do not parse
		t.broken = true
		return false
	}
	t.fin = t.hdr[0]&0x80 != 0
	t.opcode = t.hdr[0] & 0x0f
	t.masked = masked
	i := 2
	switch l := t.hdr[1] & 0x7f; l {
	case 126:
		t.remaining = uint64(t.hdr[2])<<8 | uint64(t.hdr[3])
		i = 4
	case 127:
		t.remaining = 0
		for _, b := range t.hdr[2:10] {
			t.remaining = t.remaining<<8 | uint64(b)
		}
		i = 10
	default:
		t.remaining = uint64(l)
	}
	if masked {
		copy(t.mask[:], t.hdr[i:i+4])
		t.maskPos = 0
	}
	t.hdr = t.hdr[:0]
	t.inPayload = true
	switch t.opcode {
	case 0x1: // text: a new message
		t.msg, t.collecting = t.msg[:0], true
	case 0x2: // binary
		t.msg, t.collecting = t.msg[:0], false
	case 0x0: // continuation: keep the message's state
	default: // control frames (close, ping, pong) do not touch the message
	}
	return true
}

func (t *frameTap) payload(b []byte) {
	if t.opcode >= 0x8 || !t.collecting {
		return
	}
	if len(t.msg)+len(b) > maxTappedMessage {
		t.collecting = false
		return
	}
	start := len(t.msg)
	t.msg = append(t.msg, b...)
	if t.masked {
		for i := start; i < len(t.msg); i++ {
			t.msg[i] ^= t.mask[t.maskPos%4]
			t.maskPos++
		}
	}
}

func (t *frameTap) endFrame() {
	t.inPayload = false
	if t.opcode >= 0x8 || !t.fin {
		return
	}
	if t.collecting && bytes.Contains(t.msg, []byte(`"disconnect"`)) {
		var m struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		}
		if json.Unmarshal(t.msg, &m) == nil && m.Type == "disconnect" && t.onDisconnect != nil {
			t.onDisconnect(m.Reason)
		}
	}
	t.collecting = false
	t.msg = t.msg[:0]
}
