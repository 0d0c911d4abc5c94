package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/creachadair/jrpc2"
	"github.com/creachadair/jrpc2/server"

	"github.com/ledger-node/ledger/chain/types"
)

// wsCloseWait bounds how long Close waits for the WebSocket connections
// to finish their close handshakes (the library bounds each at 5 s for
// the frame and 5 s for the answer).
const wsCloseWait = 12 * time.Second

// wsConn is one WebSocket connection. Its reader goroutine (run) reads a
// message, answers it through the connection's own jrpc2 server, queues
// the answer and waits until the answer is written before it reads the
// next message; its writer goroutine (writeLoop) writes the queue; the
// chain's and the pool's goroutines queue notifications (offer). So a
// connection holds at most one answer, however many requests the client
// sends without reading, and its notifications are bounded by count
// (WSQueue) and estimated bytes (WSQueueBytes). Nothing ever blocks on a
// full queue: offer drops the connection instead.
type wsConn struct {
	s *Server
	// ws is set once, under mu, after the upgrade; the reader and writer
	// goroutines start after that and read it freely.
	ws     *websocket.Conn
	ctx    context.Context // ends when the connection does
	cancel context.CancelFunc
	// wake holds a token when the queue may have items for the writer.
	wake chan struct{}
	// written receives a token from the writer once it has written the
	// queued answer; the reader waits for it before reading on.
	written chan struct{}

	mu sync.Mutex
	// subs are the active subscriptions by id. Guarded by mu.
	subs map[string]subKind
	// pending are subscriptions made by the message being answered: they
	// become active once its answer is queued, so that no notification
	// precedes the id. Guarded by mu.
	pending map[string]subKind
	// queue is the outgoing queue, in order: notifications (at most
	// WSQueue, offer sees to it) and at most one answer. A slice, not a
	// channel of that capacity, so that an idle connection holds no room
	// for thousands of items. Guarded by mu.
	queue []outMsg
	// dropped: the notifications overflowed; nothing more is queued.
	// Guarded by mu.
	dropped bool
	// notes and noteBytes are the notifications queued and not yet
	// written: their number and their estimated encoded size
	// (noteSize). Guarded by mu.
	notes, noteBytes int
	// answerBytes is the size of the queued answer not yet written, 0 if
	// none (a sum, so that the one-in-flight rule shows in it). Guarded
	// by mu.
	answerBytes int
	// peakBytes is the most noteBytes+answerBytes has been, for tests and
	// logs. Guarded by mu.
	peakBytes int
}

// outMsg is one queued item: a raw message (an answer) or an event with
// the subscriptions it goes to and the estimated bytes of its
// notifications (size, counted in noteBytes).
type outMsg struct {
	raw  []byte
	ev   any // *headEvent or *txEvent
	kind subKind
	ids  []string
	size int
}

// newWSConn makes the state of a connection (not yet upgraded).
func newWSConn(s *Server, ctx context.Context, cancel context.CancelFunc) *wsConn {
	return &wsConn{s: s, ctx: ctx, cancel: cancel, wake: make(chan struct{}, 1), written: make(chan struct{}, 1),
		subs: map[string]subKind{}, pending: map[string]subKind{}}
}

// pushLocked queues m for the writer; c.mu is held. It never blocks.
func (c *wsConn) pushLocked(m outMsg) {
	c.queue = append(c.queue, m)
	select {
	case c.wake <- struct{}{}:
	default: // a token is already there
	}
}

// pop takes the oldest queued item; false if there is none.
func (c *wsConn) pop() (outMsg, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 {
		c.queue = nil // let a burst's backing array go
		return outMsg{}, false
	}
	m := c.queue[0]
	c.queue[0] = outMsg{}
	c.queue = c.queue[1:]
	return m, true
}

// serveWS authenticates the upgrade, checks the origin and the connection
// limit, upgrades and serves the connection until it ends.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ledger"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	opts := &websocket.AcceptOptions{}
	if len(s.cfg.CORSOrigins) > 0 {
		// The configured origins decide, as for HTTP (the library's
		// patterns would treat them as globs); without any, the library
		// refuses every cross-origin browser upgrade.
		if !s.wsOriginAllowed(r) {
			http.Error(w, "origin not allowed", http.StatusForbidden)
			return
		}
		opts.InsecureSkipVerify = true
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := newWSConn(s, ctx, cancel)
	if !s.hub.add(c, s.cfg.MaxWSConns) {
		cancel()
		http.Error(w, "too many WebSocket connections", http.StatusServiceUnavailable)
		return
	}
	defer s.hub.drop(c)
	defer cancel()
	// The deadlines Start's http.Server sets for plain requests do not
	// reach the WebSocket: net/http clears them when Accept hijacks the
	// connection (TestWSOutlivesRequestTimeout).
	ws, err := websocket.Accept(w, r, opts)
	if err != nil {
		// Accept has answered (400, 403, 426...).
		return
	}
	defer ws.CloseNow()
	ws.SetReadLimit(s.cfg.MaxBody)
	c.mu.Lock()
	c.ws = ws
	c.mu.Unlock()
	c.run()
}

// wsOriginAllowed: a request without Origin (not a browser), from the
// same host, or from a configured origin.
func (s *Server) wsOriginAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || s.originAllowed(origin) {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// run serves the connection: one message at a time, the next read only
// once the previous answer is written, so a client cannot queue unbounded
// work nor make the server hold more than one answer for it by not
// reading (batches still run concurrently). A client that does not read
// at all stalls its own connection until a write takes longer than
// Timeout, which ends it.
func (c *wsConn) run() {
	local := newLocalServer(c)
	var writer sync.WaitGroup
	writer.Add(1)
	go func() { defer writer.Done(); c.writeLoop() }()
	defer func() {
		c.cancel()
		local.Close()
		writer.Wait()
	}()
	for {
		_, msg, err := c.ws.Read(c.ctx)
		if err != nil {
			return
		}
		answer, err := c.answer(local.Client, msg)
		if err != nil {
			return
		}
		queued, ok := c.reply(answer)
		if !ok {
			return
		}
		if queued {
			select {
			case <-c.written:
			case <-c.ctx.Done():
				return
			}
		}
	}
}

// newLocalServer is the connection's own jrpc2 server and a client to
// it: the same methods as HTTP (each with the request deadline
// withDeadline gives it), with the connection in every call's context
// (for the subscription methods).
func newLocalServer(c *wsConn) server.Local {
	return server.NewLocal(assigner{c.s.methods}, &server.LocalOptions{
		Server: &jrpc2.ServerOptions{
			DisableBuiltin: true,
			NewContext: func() context.Context {
				return context.WithValue(c.ctx, wsConnKey{}, c)
			},
		},
	})
}

// answer handles one message (a call, a notification or a batch) with the
// limits of HTTP and returns the answer, nil when there is none (only
// notifications). An error means the connection is ending.
func (c *wsConn) answer(cli *jrpc2.Client, msg []byte) ([]byte, error) {
	reqs, code, text := c.s.parseCalls(msg)
	if code != 0 {
		return errorResponse(code, text), nil
	}
	// As jhttp.Bridge does: statically invalid requests are answered here,
	// the rest go to the connection's server with ids of the client's
	// choosing, and the answers get the caller's ids back.
	var (
		results   []json.RawMessage
		specs     []jrpc2.Spec
		inboundID []string
	)
	for _, r := range reqs {
		if r.Error != nil {
			id := r.ID
			if id == "" {
				id = "null"
			}
			e, _ := json.Marshal(r.Error)
			results = append(results, json.RawMessage(fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"error":%s}`, id, e)))
			continue
		}
		specs = append(specs, jrpc2.Spec{Method: r.Method, Params: r.Params, Notify: r.ID == ""})
		if r.ID != "" {
			inboundID = append(inboundID, r.ID)
		}
	}
	if len(specs) > 0 {
		rsps, err := cli.Batch(c.ctx, specs)
		if err != nil {
			return nil, err
		}
		for i, rsp := range rsps {
			rsp.SetID(inboundID[i])
			b, err := json.Marshal(rsp)
			if err != nil {
				return nil, err
			}
			results = append(results, b)
		}
	}
	switch {
	case len(results) == 0:
		return nil, nil
	case len(results) == 1 && !reqs[0].Batch:
		return results[0], nil
	}
	return json.Marshal(results)
}

// reply queues the answer (if any) and activates the subscriptions the
// message made, in one step under mu: notifications queued later come
// after the answer, and none is missed in between. queued says an answer
// was queued (the caller then waits for written); ok is false when the
// connection is ending.
func (c *wsConn) reply(answer []byte) (queued, ok bool) {
	c.mu.Lock()
	if c.dropped {
		c.mu.Unlock()
		return false, false
	}
	if answer != nil {
		c.pushLocked(outMsg{raw: answer})
		c.answerBytes += len(answer)
		c.notePeakLocked()
	}
	for id, k := range c.pending {
		c.subs[id] = k
	}
	clear(c.pending)
	c.mu.Unlock()
	return answer != nil, true
}

func (c *wsConn) notePeakLocked() {
	c.peakBytes = max(c.peakBytes, c.noteBytes+c.answerBytes)
}

// addPending makes a subscription, active once the answer is queued.
func (c *wsConn) addPending(kind subKind) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.subs)+len(c.pending) >= c.s.cfg.MaxSubscriptions {
		return "", appError(CodeRefused, ReasonTooManySubscriptions,
			"at most %d subscriptions per connection", c.s.cfg.MaxSubscriptions)
	}
	id := newSubID()
	c.pending[id] = kind
	return id, nil
}

// remove ends subscription id of kind; false if there was none.
func (c *wsConn) remove(kind subKind, id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subs[id] == kind {
		delete(c.subs, id)
		return true
	}
	if c.pending[id] == kind {
		delete(c.pending, id)
		return true
	}
	return false
}

// offer queues ev for the connection's subscriptions of kind without
// blocking; false if its notifications would exceed WSQueue messages or
// WSQueueBytes estimated bytes, in which case the connection is dropped.
// A notification always fits an empty queue, however big. Called with
// hub.mu held, on the chain's or the pool's goroutine: it must not log
// (the caller does, after unlocking).
func (c *wsConn) offer(kind subKind, ev any) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dropped || c.ctx.Err() != nil {
		return true // ending: its writer is gone
	}
	var ids []string
	for id, k := range c.subs {
		if k == kind {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return true
	}
	size := len(ids) * c.s.noteSize(ev)
	if c.notes >= c.s.cfg.WSQueue || (c.notes > 0 && c.noteBytes+size > c.s.cfg.WSQueueBytes) {
		c.dropLocked()
		return false
	}
	c.pushLocked(outMsg{ev: ev, kind: kind, ids: ids, size: size})
	c.notes++
	c.noteBytes += size
	c.notePeakLocked()
	return true
}

// noteSize estimates the encoded size of one notification of ev, erring
// high (TestWSNoteSizeEstimate): the JSON-RPC envelope, the subscription
// id and the event's fields at their longest (two addresses for a
// transaction).
func (s *Server) noteSize(ev any) int {
	switch e := ev.(type) {
	case *headEvent:
		return 384 + len(e.removed)*(2*types.HashSize+3)
	case *txEvent:
		return 512 + 2*len(s.cfg.Chain.Params().AddressPrefix) + 2*len(e.tx.Memo)
	}
	return 512
}

// dropLocked ends a connection whose queue is full: a client that does not
// keep up is disconnected rather than silently missing events, and must
// resubscribe and catch up (chain_head). Cancelling the context closes
// the connection at once, without a close frame: the peer is not reading.
// c.mu is held; the caller logs once it has released its locks
// (logSlowDrops).
func (c *wsConn) dropLocked() {
	c.dropped = true
	c.cancel()
}

// logSlowDrops logs connections dropped for not keeping up. Called with
// no lock held: a log handler may block on its output.
func (s *Server) logSlowDrops(n int) {
	if n > 0 {
		s.log.Info("rpc: dropped WebSocket clients that do not keep up", "clients", n,
			"queue", s.cfg.WSQueue, "queueBytes", s.cfg.WSQueueBytes)
	}
}

// active reports whether subscription id is still active, so that no
// notification is written after the unsubscribe's answer.
func (c *wsConn) active(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.subs[id]
	return ok
}

// writeLoop writes the queue until the connection ends; a write that
// fails or takes longer than Timeout ends it. An item counts in the
// connection's queued bytes until it is written.
func (c *wsConn) writeLoop() {
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.wake:
		}
		for {
			m, ok := c.pop()
			if !ok {
				break
			}
			if !c.writeItem(m) {
				return
			}
		}
	}
}

// writeItem writes one queued item and takes it off the connection's
// queued bytes; false if a write failed (the connection is ending).
func (c *wsConn) writeItem(m outMsg) bool {
	if m.raw != nil {
		ok := c.write(m.raw)
		c.mu.Lock()
		c.answerBytes -= len(m.raw)
		c.mu.Unlock()
		if ok {
			// One answer in flight, so the token's slot is free; the
			// select only makes sure the writer never blocks here.
			select {
			case c.written <- struct{}{}:
			default:
			}
		}
		return ok
	}
	ok := c.writeNotifications(m)
	c.mu.Lock()
	c.notes--
	c.noteBytes -= m.size
	c.mu.Unlock()
	return ok
}

// writeNotifications writes m's event to each of its subscriptions still
// active; false if a write failed.
func (c *wsConn) writeNotifications(m outMsg) bool {
	for _, id := range m.ids {
		if !c.active(id) {
			continue
		}
		b, err := c.s.notification(m.kind, id, m.ev)
		if err != nil {
			c.s.log.Warn("rpc: cannot encode a notification", "err", err)
			continue
		}
		if !c.write(b) {
			return false
		}
	}
	return true
}

func (c *wsConn) write(b []byte) bool {
	ctx, cancel := context.WithTimeout(c.ctx, c.s.cfg.Timeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		c.cancel()
		return false
	}
	return true
}

// notification encodes the JSON-RPC notification of ev for subscription id.
func (s *Server) notification(kind subKind, id string, ev any) ([]byte, error) {
	var (
		method string
		params any
	)
	switch e := ev.(type) {
	case *headEvent:
		head, removed := e.render()
		method, params = MethodNewHead, HeadNotification{Subscription: id, Head: head, Reorg: e.reorg, Removed: removed}
	case *txEvent:
		method, params = MethodNewTx, TxNotification{Subscription: id, Tx: s.renderTx(e)}
	default:
		return nil, fmt.Errorf("unknown event %T of kind %d", ev, kind)
	}
	return json.Marshal(struct {
		V      string `json:"jsonrpc"`
		Method string `json:"method"`
		Params any    `json:"params"`
	}{"2.0", method, params})
}

// closeWS closes every WebSocket connection with "going away" and waits
// (bounded) for them to end; later events and upgrades are ignored.
func (s *Server) closeWS() {
	conns := s.hub.close()
	for _, c := range conns {
		go c.goAway()
	}
	done := make(chan struct{})
	go func() { s.hub.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(wsCloseWait):
		s.log.Warn("rpc: WebSocket connections still closing")
	}
}

// goAway closes the connection for a server shutdown: with a close frame
// once upgraded, else by cancelling the upgrade's context.
func (c *wsConn) goAway() {
	c.mu.Lock()
	ws := c.ws
	c.mu.Unlock()
	if ws == nil {
		c.cancel()
		return
	}
	ws.Close(websocket.StatusGoingAway, "server closing")
}
