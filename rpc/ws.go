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
)

// wsCloseWait bounds how long Close waits for the WebSocket connections
// to finish their close handshakes (the library bounds each at 5 s for
// the frame and 5 s for the answer).
const wsCloseWait = 12 * time.Second

// wsConn is one WebSocket connection. Its reader goroutine (run) reads a
// message, answers it through the connection's own jrpc2 server and
// queues the answer; its writer goroutine (writeLoop) writes the queue;
// the chain's and the pool's goroutines queue notifications (offer).
// Nothing ever blocks on a full queue: offer drops the connection instead.
type wsConn struct {
	s *Server
	// ws is set once, under mu, after the upgrade; the reader and writer
	// goroutines start after that and read it freely.
	ws     *websocket.Conn
	ctx    context.Context // ends when the connection does
	cancel context.CancelFunc
	// out is the bounded outgoing queue; sends happen only with mu held
	// and never block.
	out chan outMsg

	mu sync.Mutex
	// subs are the active subscriptions by id. Guarded by mu.
	subs map[string]subKind
	// pending are subscriptions made by the message being answered: they
	// become active once its answer is queued, so that no notification
	// precedes the id. Guarded by mu.
	pending map[string]subKind
	// dropped: the queue overflowed; nothing more is queued. Guarded by mu.
	dropped bool
}

// outMsg is one queued item: a raw message (an answer) or an event with
// the subscriptions it goes to.
type outMsg struct {
	raw  []byte
	ev   any // *headEvent or *txEvent
	kind subKind
	ids  []string
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
	c := &wsConn{s: s, ctx: ctx, cancel: cancel, out: make(chan outMsg, s.cfg.WSQueue),
		subs: map[string]subKind{}, pending: map[string]subKind{}}
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

// run serves the connection: one message at a time, so a client cannot
// queue unbounded work (batches still run concurrently).
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
		if !c.reply(answer) {
			return
		}
	}
}

// newLocalServer is the connection's own jrpc2 server and a client to
// it: the same methods as HTTP, with the connection in every call's
// context (for the subscription methods).
func newLocalServer(c *wsConn) server.Local {
	return server.NewLocal(wsAssigner{s: c.s, base: assigner{c.s.methods}}, &server.LocalOptions{
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
// after the answer, and none is missed in between. A full queue drops
// the connection.
func (c *wsConn) reply(answer []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dropped {
		return false
	}
	if answer != nil {
		select {
		case c.out <- outMsg{raw: answer}:
		default:
			c.dropLocked()
			return false
		}
	}
	for id, k := range c.pending {
		c.subs[id] = k
	}
	clear(c.pending)
	return true
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
// blocking; false if the queue was full, in which case the connection is
// dropped. Called with hub.mu held, on the chain's or the pool's
// goroutine.
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
	select {
	case c.out <- outMsg{ev: ev, kind: kind, ids: ids}:
		return true
	default:
		c.dropLocked()
		return false
	}
}

// dropLocked ends a connection whose queue is full: a client that does not
// keep up is disconnected rather than silently missing events, and must
// resubscribe and catch up (chain_head). Cancelling the context closes
// the connection at once, without a close frame: the peer is not reading.
func (c *wsConn) dropLocked() {
	c.dropped = true
	c.cancel()
	c.s.log.Info("rpc: dropping a WebSocket client that does not keep up", "queue", cap(c.out))
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
// fails or takes longer than Timeout ends it.
func (c *wsConn) writeLoop() {
	for {
		select {
		case <-c.ctx.Done():
			return
		case m := <-c.out:
			if m.raw != nil {
				if !c.write(m.raw) {
					return
				}
				continue
			}
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
					return
				}
			}
		}
	}
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
		head, removed := headJSON(e)
		method, params = MethodNewHead, HeadNotification{Subscription: id, Head: head, Reorg: e.reorg, Removed: removed}
	case *txEvent:
		method, params = MethodNewTx, TxNotification{Subscription: id, Tx: NewTx{Tx: s.txJSON(e.tx), FeeRate: e.rate.PerByte()}}
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

// wsAssigner gives each call on a WebSocket the request deadline HTTP
// calls get.
type wsAssigner struct {
	s    *Server
	base assigner
}

func (a wsAssigner) Assign(ctx context.Context, name string) jrpc2.Handler {
	h := a.base.Assign(ctx, name)
	return func(ctx context.Context, r *jrpc2.Request) (any, error) {
		ctx, cancel := context.WithTimeout(ctx, a.s.cfg.Timeout)
		defer cancel()
		return h(ctx, r)
	}
}
