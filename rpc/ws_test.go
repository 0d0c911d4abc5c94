package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ledger-node/ledger/chain/types"
)

// wsWait bounds every wait for a message: a liveness limit, not a
// performance assertion.
const wsWait = 20 * time.Second

// wsURL is the stack's /ws endpoint (on 127.0.0.1).
func (s *stack) wsURL() string { return "ws" + strings.TrimPrefix(s.http.URL, "http") + "/ws" }

// dialWS upgrades with token tok (none if "") and extra headers.
func dialWS(url, tok string, hdr http.Header) (*websocket.Conn, *http.Response, error) {
	if hdr == nil {
		hdr = http.Header{}
	}
	if tok != "" {
		hdr.Set("Authorization", "Bearer "+tok)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wsWait)
	defer cancel()
	return websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: hdr})
}

// wsClient is a test client on one connection.
type wsClient struct {
	t    testing.TB
	c    *websocket.Conn
	next int
}

func (s *stack) dial() *wsClient {
	s.t.Helper()
	c, _, err := dialWS(s.wsURL(), testToken, nil)
	if err != nil {
		s.t.Fatalf("dial: %v", err)
	}
	c.SetReadLimit(-1)
	s.t.Cleanup(func() { c.CloseNow() })
	return &wsClient{t: s.t, c: c}
}

func (w *wsClient) sendRaw(b []byte) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wsWait)
	defer cancel()
	if err := w.c.Write(ctx, websocket.MessageText, b); err != nil {
		w.t.Fatalf("write: %v", err)
	}
}

// read returns the next message.
func (w *wsClient) read() []byte {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wsWait)
	defer cancel()
	_, b, err := w.c.Read(ctx)
	if err != nil {
		w.t.Fatalf("read: %v", err)
	}
	return b
}

// wsMessage is any message from the server: a response or a notification.
type wsMessage struct {
	rpcResponse
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

func (w *wsClient) readMessage() wsMessage {
	w.t.Helper()
	b := w.read()
	var m wsMessage
	if err := json.Unmarshal(b, &m); err != nil {
		w.t.Fatalf("message %s: %v", b, err)
	}
	return m
}

// call sends a call and returns its response, which must be the next
// message: the tests that use it expect no notification in between.
func (w *wsClient) call(method string, params any) rpcResponse {
	w.t.Helper()
	w.next++
	m := map[string]any{"jsonrpc": "2.0", "id": w.next, "method": method}
	if params != nil {
		m["params"] = params
	}
	b, _ := json.Marshal(m)
	w.sendRaw(b)
	got := w.readMessage()
	if got.Method != "" || string(got.ID) != strconv.Itoa(w.next) {
		w.t.Fatalf("%s: got %s %s (id %s), want the response with id %d", method, got.Method, got.Params, got.ID, w.next)
	}
	return got.rpcResponse
}

func (w *wsClient) ok(method string, params any, v any) {
	w.t.Helper()
	r := w.call(method, params)
	if r.Error != nil {
		w.t.Fatalf("%s: error %d %s (%s)", method, r.Error.Code, r.Error.Message, r.Error.Data.Reason)
	}
	if v != nil {
		if err := json.Unmarshal(r.Result, v); err != nil {
			w.t.Fatalf("%s: %s: %v", method, r.Result, err)
		}
	}
}

func (w *wsClient) subscribe(method string) string {
	w.t.Helper()
	var id string
	w.ok(method, nil, &id)
	if len(id) != 16 {
		w.t.Fatalf("%s: subscription id %q", method, id)
	}
	return id
}

// head reads a chain_newHead notification.
func (w *wsClient) head() HeadNotification {
	w.t.Helper()
	m := w.readMessage()
	if m.Method != MethodNewHead {
		w.t.Fatalf("got %s %s, want %s", m.Method, m.Result, MethodNewHead)
	}
	var n HeadNotification
	if err := json.Unmarshal(m.Params, &n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

// wantHead checks a notification against block b.
func wantHead(t testing.TB, n HeadNotification, sub string, b *types.Block, reorg bool, removed ...*types.Block) {
	t.Helper()
	h := b.Header
	want := NewHead{Height: h.Height, Hash: b.Hash().String(), Parent: h.PrevBlock.String(), Timestamp: h.Time, Bits: bitsHex(h.Bits)}
	rm := []string{}
	for _, r := range removed {
		rm = append(rm, r.Hash().String())
	}
	if n.Subscription != sub || n.Head != want || n.Reorg != reorg || strings.Join(n.Removed, ",") != strings.Join(rm, ",") || n.Removed == nil {
		t.Fatalf("notification %+v, want sub %s head %+v reorg %v removed %v", n, sub, want, reorg, rm)
	}
}

// headFollower keeps a chain of hashes from chain_newHead notifications
// the way docs/rpc.md tells clients to: undo the removed blocks (each the
// tip at that point, old tip first), then apply the head, which is either
// the tip left after the undo (the chain only went back) or its child.
type headFollower struct {
	t     testing.TB
	chain []string
}

func (f *headFollower) apply(n HeadNotification) {
	f.t.Helper()
	for _, r := range n.Removed {
		if len(f.chain) < 2 || f.chain[len(f.chain)-1] != r {
			f.t.Fatalf("removed %s is not the tip of %v", r, f.chain)
		}
		f.chain = f.chain[:len(f.chain)-1]
	}
	switch tip := f.chain[len(f.chain)-1]; {
	case n.Head.Hash == tip && n.Reorg && len(n.Removed) > 0:
		// Only went back: the head is the fork point itself.
	case n.Head.Parent == tip:
		f.chain = append(f.chain, n.Head.Hash)
	default:
		f.t.Fatalf("head %+v is neither the tip %s left after the removals nor its child", n.Head, tip)
	}
}

// waitFor polls cond (server-side state that changes asynchronously).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wsWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWSAuthAndOrigin(t *testing.T) {
	s := newStack(t, stackOpts{noMiner: true})
	for _, tok := range []string{"", "wrong", testToken + "x"} {
		c, resp, err := dialWS(s.wsURL(), tok, nil)
		if err == nil {
			c.CloseNow()
			t.Fatalf("token %q: upgraded", tok)
		}
		if resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("token %q: %v %v, want 401", tok, resp, err)
		}
	}
	w := s.dial()
	var h Head
	w.ok("chain_head", nil, &h)
	if h.Hash != s.g.Genesis.Hash.String() {
		t.Fatalf("head %+v", h)
	}

	// Origins: without CORS origins only same-host (and no Origin at all)
	// browsers may upgrade; with them, the configured ones too.
	for _, tc := range []struct {
		cors   []string
		origin string
		ok     bool
	}{
		{nil, "http://evil.example", false},
		{nil, "same", true},
		{[]string{"http://good.example"}, "http://good.example", true},
		{[]string{"http://good.example"}, "http://evil.example", false},
		{[]string{"http://good.example"}, "same", true},
		{[]string{"*"}, "http://evil.example", true},
	} {
		s := newStack(t, stackOpts{noMiner: true, mod: func(c *Config) { c.CORSOrigins = tc.cors }})
		if tc.origin == "same" {
			tc.origin = s.http.URL
		}
		c, resp, err := dialWS(s.wsURL(), testToken, http.Header{"Origin": {tc.origin}})
		if tc.ok != (err == nil) {
			t.Fatalf("cors %v origin %s: err %v, want ok=%v", tc.cors, tc.origin, err, tc.ok)
		}
		if err == nil {
			c.CloseNow()
		} else if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cors %v origin %s: %v, want 403", tc.cors, tc.origin, resp)
		}
	}
}

func TestWSCallsAndBatches(t *testing.T) {
	s := newStack(t, stackOpts{noMiner: true, mod: func(c *Config) { c.MaxBatch = 3 }})
	b1 := s.connect()
	w := s.dial()
	var h Head
	w.ok("chain_head", nil, &h)
	if h.Height != 1 || h.Hash != b1.Hash().String() {
		t.Fatalf("head %+v", h)
	}
	// Named parameters, application errors with data.reason.
	var blk Block
	w.ok("chain_getBlockByHeight", map[string]any{"height": 1}, &blk)
	if blk.Hash != b1.Hash().String() {
		t.Fatalf("block %+v", blk)
	}
	if r := w.call("chain_getBlockByHeight", []any{9}); r.Error == nil || r.Error.Code != int(CodeNotFound) || r.Error.Data.Reason != "ErrUnknownBlock" {
		t.Fatalf("missing block: %+v", r)
	}
	if r := w.call("no_such", nil); r.Error == nil || r.Error.Code != -32601 || r.Error.Data.Reason != ReasonUnknownMethod {
		t.Fatalf("unknown method: %+v", r)
	}

	// A batch: answers in order with the caller's ids, none for the
	// notification, an error for the invalid element.
	w.sendRaw([]byte(`[{"jsonrpc":"2.0","id":"a","method":"chain_head"},
		{"jsonrpc":"2.0","method":"mempool_info"},
		{"jsonrpc":"1.0","id":7,"method":"chain_head"}]`))
	var batch []rpcResponse
	if err := json.Unmarshal(w.read(), &batch); err != nil {
		t.Fatal(err)
	}
	if len(batch) != 2 {
		t.Fatalf("batch answers %+v", batch)
	}
	// Invalid elements are answered first (as by the HTTP bridge).
	if string(batch[0].ID) != "7" || batch[0].Error == nil || batch[0].Error.Code != -32600 ||
		string(batch[1].ID) != `"a"` || batch[1].Error != nil || !bytes.Contains(batch[1].Result, []byte(b1.Hash().String())) {
		t.Fatalf("batch answers %s %s / %s %s", batch[0].ID, batch[0].Result, batch[1].ID, batch[1].Result)
	}

	// Whole-message refusals, each answered with a null id; the connection
	// goes on.
	for _, tc := range []struct {
		msg  string
		code int
	}{
		{`{"jsonrpc":"2.0","id":1,`, -32700},
		{`[]`, -32600},
		{`[1,2,3,4]`, -32600},
		{`[{"jsonrpc":"2.0","id":1,"method":"chain_head"},{"jsonrpc":"2.0","id":2,"method":"chain_head"},{"jsonrpc":"2.0","id":3,"method":"chain_head"},{"jsonrpc":"2.0","id":4,"method":"chain_head"}]`, -32600},
	} {
		w.sendRaw([]byte(tc.msg))
		m := w.readMessage()
		if m.Error == nil || m.Error.Code != tc.code || string(m.ID) != "null" {
			t.Fatalf("%s: %+v, want error %d", tc.msg, m, tc.code)
		}
	}
	// Only a notification: no answer, so the next message is the call's.
	w.sendRaw([]byte(`{"jsonrpc":"2.0","method":"chain_head"}`))
	w.ok("chain_head", nil, &h)
}

func TestWSSubscribeHeads(t *testing.T) {
	s := newStack(t, stackOpts{noMiner: true})
	w := s.dial()
	sub := w.subscribe("chain_subscribeHeads")
	other := s.dial()
	otherSub := other.subscribe("chain_subscribeHeads")
	// The other connection hears everything; a client following the
	// documented rule must end with the node's main chain.
	follow := &headFollower{t: t, chain: []string{s.g.Genesis.Hash.String()}}
	otherHead := func() HeadNotification {
		t.Helper()
		n := other.head()
		follow.apply(n)
		return n
	}

	var blocks []*types.Block
	for range 3 {
		blocks = append(blocks, s.connect())
	}
	for _, b := range blocks {
		wantHead(t, w.head(), sub, b, false)
		wantHead(t, otherHead(), otherSub, b, false)
	}

	// A reorganisation: the fork point is blocks[0]; the old branch
	// blocks[1:] loses to a longer one. One notification per block that
	// becomes the tip, the first flagged with the removed blocks (old tip
	// first) and whose parent is the fork point.
	fork := blocks[0]
	side := s.g.Chain(fork.Hash(), 3, "side")
	for _, b := range side {
		if _, err := s.c.ProcessBlock(b); err != nil {
			t.Fatal(err)
		}
	}
	wantHead(t, w.head(), sub, side[0], true, blocks[2], blocks[1])
	wantHead(t, w.head(), sub, side[1], false)
	wantHead(t, w.head(), sub, side[2], false)

	// The tip invalidated: the chain only goes back, so the notification
	// is for the new tip (the parent), flagged, with the removed block:
	// its head is the fork point itself, not the head's parent (a client
	// taking head.parent as the fork point would drop one block too
	// many). The change is notified before the call returns, so the
	// notification comes before the answer.
	w.sendRaw([]byte(`{"jsonrpc":"2.0","id":"inv","method":"chain_invalidateBlock","params":["` + side[2].Hash().String() + `"]}`))
	wantHead(t, w.head(), sub, side[1], true, side[2])
	if m := w.readMessage(); string(m.ID) != `"inv"` || m.Error != nil || !bytes.Contains(m.Result, []byte(side[1].Hash().String())) {
		t.Fatalf("invalidate: %+v", m)
	}
	var h Head

	// Unsubscribed: nothing more on this connection. The block is
	// processed before the call, so a notification would come first.
	var ok bool
	w.ok("chain_unsubscribeHeads", []any{sub}, &ok)
	if !ok {
		t.Fatal("unsubscribe: false")
	}
	w.ok("chain_unsubscribeHeads", []any{sub}, &ok)
	if ok {
		t.Fatal("second unsubscribe: true")
	}
	s.tip = side[1].Hash()
	b := s.connect()
	w.ok("chain_head", nil, &h)
	if h.Hash != b.Hash().String() {
		t.Fatalf("head %+v", h)
	}
	// The other connection still hears everything.
	for _, want := range []*types.Block{side[0], side[1], side[2]} {
		n := otherHead()
		if n.Head.Hash != want.Hash().String() {
			t.Fatalf("other connection: %+v, want %s", n, want.Hash())
		}
	}
	wantHead(t, otherHead(), otherSub, side[1], true, side[2])
	wantHead(t, otherHead(), otherSub, b, false)
	var mainChain []string
	for height := range s.c.Tip().Height + 1 {
		blk, err := s.c.BlockByHeight(height)
		if err != nil {
			t.Fatal(err)
		}
		mainChain = append(mainChain, blk.Hash().String())
	}
	if strings.Join(follow.chain, ",") != strings.Join(mainChain, ",") {
		t.Fatalf("a client following the notifications has %v, the node %v", follow.chain, mainChain)
	}
	if conns, subs, _ := s.srv.wsStats(); conns != 2 || subs != 1 {
		t.Fatalf("stats: %d connections, %d subscriptions", conns, subs)
	}
}

func TestWSSubscribeTxs(t *testing.T) {
	s := newStack(t, stackOpts{noMiner: true})
	w := s.dial()
	sub := w.subscribe("mempool_subscribeTxs")
	// A heads subscription on the same connection hears no transactions.
	w.subscribe("chain_subscribeHeads")
	tx := s.g.Transfer(0, s.g.Addrs[1], 3*types.Coin, 1000, 0)
	if err := s.p.Add(tx); err != nil {
		t.Fatal(err)
	}
	m := w.readMessage()
	if m.Method != MethodNewTx {
		t.Fatalf("got %+v", m)
	}
	var n TxNotification
	if err := json.Unmarshal(m.Params, &n); err != nil {
		t.Fatal(err)
	}
	pfx := s.g.Params.AddressPrefix
	if n.Subscription != sub || n.Tx.Tx == nil || n.Tx.Hash != tx.Hash().String() || n.Tx.From != s.g.Addrs[0].Bech32(pfx) ||
		n.Tx.To != s.g.Addrs[1].Bech32(pfx) || n.Tx.Amount != uint64(3*types.Coin) || n.Tx.Fee != 1000 || n.Tx.Nonce != 0 ||
		n.Tx.Size != tx.EncodedSize() || n.Tx.FeeRate != 1000/float64(tx.EncodedSize()) {
		t.Fatalf("notification %s", m.Params)
	}
	// A refused transaction is not notified (the next message is the
	// unsubscribe's answer).
	if err := s.p.Add(tx); err == nil {
		t.Fatal("duplicate accepted")
	}
	var ok bool
	w.ok("mempool_unsubscribeTxs", map[string]any{"subscription": sub}, &ok)
	if !ok {
		t.Fatal("unsubscribe: false")
	}
	// Unsubscribing with the wrong kind or an unknown id: false.
	for _, tc := range [][2]string{{"chain_unsubscribeHeads", sub}, {"mempool_unsubscribeTxs", "0000000000000000"}} {
		w.ok(tc[0], []any{tc[1]}, &ok)
		if ok {
			t.Fatalf("%s(%s): true", tc[0], tc[1])
		}
	}
	tx2 := s.g.Transfer(0, s.g.Addrs[1], types.Coin, 1000, 1)
	if err := s.p.Add(tx2); err != nil {
		t.Fatal(err)
	}
	var info MempoolInfo
	w.ok("mempool_info", nil, &info) // would fail if a notification came first
	if info.Count != 2 {
		t.Fatalf("pool %+v", info)
	}
}

func TestWSSubscribeOverHTTP(t *testing.T) {
	s := newStack(t, stackOpts{noMiner: true})
	for _, m := range []string{"chain_subscribeHeads", "mempool_subscribeTxs"} {
		s.fails(m, nil, int(CodeUnavailable), ReasonNotWebSocket)
	}
	for _, m := range []string{"chain_unsubscribeHeads", "mempool_unsubscribeTxs"} {
		s.fails(m, []any{"0123456789abcdef"}, int(CodeUnavailable), ReasonNotWebSocket)
	}
	s.fails("chain_subscribeHeads", []any{1}, -32602, ReasonBadParams)
}

func TestWSMaxSubscriptions(t *testing.T) {
	s := newStack(t, stackOpts{noMiner: true, mod: func(c *Config) { c.MaxSubscriptions = 2 }})
	w := s.dial()
	a := w.subscribe("chain_subscribeHeads")
	w.subscribe("mempool_subscribeTxs")
	r := w.call("chain_subscribeHeads", nil)
	if r.Error == nil || r.Error.Code != int(CodeRefused) || r.Error.Data.Reason != ReasonTooManySubscriptions {
		t.Fatalf("third subscription: %+v", r)
	}
	// A batch cannot exceed it either.
	w.sendRaw([]byte(`[{"jsonrpc":"2.0","id":1,"method":"mempool_subscribeTxs"},{"jsonrpc":"2.0","id":2,"method":"mempool_subscribeTxs"}]`))
	var batch []rpcResponse
	if err := json.Unmarshal(w.read(), &batch); err != nil || len(batch) != 2 || batch[0].Error == nil || batch[1].Error == nil {
		t.Fatalf("batch over the limit: %+v %v", batch, err)
	}
	var ok bool
	w.ok("chain_unsubscribeHeads", []any{a}, &ok)
	w.subscribe("chain_subscribeHeads")
	// The limit is per connection.
	s.dial().subscribe("chain_subscribeHeads")
	if _, subs, _ := s.srv.wsStats(); subs != 3 {
		t.Fatalf("%d subscriptions", subs)
	}
}

func TestWSConnectionLimitAndRelease(t *testing.T) {
	s := newStack(t, stackOpts{noMiner: true, mod: func(c *Config) { c.MaxWSConns = 1 }})
	w := s.dial()
	w.subscribe("chain_subscribeHeads")
	w.subscribe("mempool_subscribeTxs")
	if c, resp, err := dialWS(s.wsURL(), testToken, nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		if c != nil {
			c.CloseNow()
		}
		t.Fatalf("second connection: %v %v, want 503", resp, err)
	}
	// Closing releases the connection and its subscriptions.
	w.c.Close(websocket.StatusNormalClosure, "")
	waitFor(t, "the connection to be released", func() bool {
		conns, subs, _ := s.srv.wsStats()
		return conns == 0 && subs == 0
	})
	s.connect() // nothing left to notify
	s.dial().subscribe("chain_subscribeHeads")
}

func TestWSOversizedMessage(t *testing.T) {
	s := newStack(t, stackOpts{noMiner: true, mod: func(c *Config) { c.MaxBody = 1024 }})
	w := s.dial()
	big := `{"jsonrpc":"2.0","id":1,"method":"chain_head","params":["` + strings.Repeat("a", 2048) + `"]}`
	w.sendRaw([]byte(big))
	ctx, cancel := context.WithTimeout(context.Background(), wsWait)
	defer cancel()
	_, _, err := w.c.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Fatalf("oversized message: %v, want close 1009", err)
	}
	// The server still serves; a message within the limit is fine.
	var h Head
	s.dial().ok("chain_head", nil, &h)
	waitFor(t, "the closed connection to be released", func() bool { conns, _, _ := s.srv.wsStats(); return conns == 1 })
}

// smallBufListener gives accepted connections a small send buffer, so
// that a client that does not read blocks the server's writes soon.
type smallBufListener struct{ net.Listener }

func (l smallBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}

func TestWSSlowConsumerDoesNotBlockChain(t *testing.T) {
	s := newStack(t, stackOpts{noMiner: true, mod: func(c *Config) { c.WSQueue = 4; c.MaxSubscriptions = 16 }})
	hs := httptest.NewUnstartedServer(s.srv.Handler())
	hs.Listener = smallBufListener{hs.Listener}
	hs.Start()
	t.Cleanup(hs.Close)
	if !strings.HasPrefix(hs.Listener.Addr().String(), "127.0.0.1:") {
		t.Fatalf("test server on %s", hs.Listener.Addr())
	}
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"
	c, _, err := dialWS(url, testToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	slow := &wsClient{t: t, c: c}
	for range 16 {
		slow.subscribe("chain_subscribeHeads")
	}
	// A reading client on the same server keeps its subscription.
	fast := s.dial()
	fastSub := fast.subscribe("chain_subscribeHeads")

	// The slow client never reads again; every block makes 16
	// notifications for it. The chain must go on regardless: blocks are
	// processed on another goroutine, and one that does not come back
	// means the chain is blocked. The fast client reads each block's
	// notification before the next block, so its queue never fills.
	const n = 100
	made, next := make(chan *types.Block, 1), make(chan struct{})
	go func() {
		defer close(made)
		for range n {
			b := s.g.MustBlock(s.tip, nil)
			if _, err := s.c.ProcessBlock(b); err != nil {
				t.Error(err)
				return
			}
			s.tip = b.Hash()
			made <- b
			if _, ok := <-next; !ok {
				return
			}
		}
	}()
	defer close(next)
	for i := 0; i < n; i++ {
		var b *types.Block
		select {
		case b = <-made:
		case <-time.After(2 * wsWait):
			t.Fatal("the chain is blocked by a slow WebSocket client")
		}
		if b == nil {
			t.Fatalf("block %d not processed", i+1)
		}
		wantHead(t, fast.head(), fastSub, b, false)
		next <- struct{}{}
	}
	if s.c.Tip().Height != n {
		t.Fatalf("tip %d after %d blocks", s.c.Tip().Height, n)
	}
	waitFor(t, "the slow client to be dropped", func() bool {
		conns, _, drops := s.srv.wsStats()
		return conns == 1 && drops == 1
	})
	// The slow client finds its connection gone once it reads what was
	// buffered.
	ctx, cancel := context.WithTimeout(context.Background(), wsWait)
	defer cancel()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatal("the slow client's connection stays open")
			}
			break
		}
	}
}

func TestWSServerClose(t *testing.T) {
	s := newStack(t, stackOpts{noMiner: true})
	w := s.dial()
	w.subscribe("chain_subscribeHeads")
	w.subscribe("mempool_subscribeTxs")
	got := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), wsWait)
		defer cancel()
		_, _, err := w.c.Read(ctx)
		got <- err
	}()
	if err := s.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-got; websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("client read %v, want close 1001", err)
	}
	if conns, subs, _ := s.srv.wsStats(); conns != 0 || subs != 0 {
		t.Fatalf("after Close: %d connections, %d subscriptions", conns, subs)
	}
	// Events after Close are ignored; upgrades are refused.
	s.connect()
	if err := s.p.Add(s.g.Transfer(0, s.g.Addrs[1], types.Coin, 1000, 0)); err != nil {
		t.Fatal(err)
	}
	if c, resp, err := dialWS(s.wsURL(), testToken, nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		if c != nil {
			c.CloseNow()
		}
		t.Fatalf("upgrade after Close: %v %v, want 503", resp, err)
	}
}

// A server started with Start sets deadlines on connections for plain
// requests (a write deadline of Timeout + 5 s); a WebSocket must outlive
// them.
func TestWSOutlivesRequestTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("waits past the 5.5 s write deadline of plain requests")
	}
	s := newStack(t, stackOpts{noMiner: true})
	srv, err := New(Config{Addr: "127.0.0.1:0", Token: testToken, Timeout: 500 * time.Millisecond, Chain: s.c, Pool: s.p, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, _, err := dialWS("ws://"+srv.Addr()+"/ws", testToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	w := &wsClient{t: t, c: c}
	sub := w.subscribe("chain_subscribeHeads")
	time.Sleep(6 * time.Second)
	b := s.connect()
	wantHead(t, w.head(), sub, b, false)
	var h Head
	w.ok("chain_head", nil, &h)
}

// FuzzWSMessage feeds arbitrary messages to a connection's handler: every
// answer is nil (notifications only) or valid JSON, and nothing panics.
func FuzzWSMessage(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"chain_head"}`,
		`[{"jsonrpc":"2.0","id":"x","method":"chain_subscribeHeads"},{"jsonrpc":"2.0","method":"mempool_info"}]`,
		`{"jsonrpc":"2.0","id":1,"method":"chain_unsubscribeHeads","params":["00"]}`,
		`{"jsonrpc":"2.0","id":1,"method":"chain_getBlockByHeight","params":{"height":0,"fullTx":true}}`,
		`[]`, `[1]`, `{`, `null`, `"x"`,
	} {
		f.Add([]byte(seed))
	}
	s := newStack(f, stackOpts{noMiner: true, mod: func(c *Config) { c.MaxSubscriptions = 4 }})
	ctx, cancel := context.WithCancel(context.Background())
	f.Cleanup(cancel)
	c := newWSConn(s.srv, ctx, cancel)
	local := newLocalServer(c)
	f.Cleanup(func() { local.Close() })
	f.Fuzz(func(t *testing.T, msg []byte) {
		answer, err := c.answer(local.Client, msg)
		if err != nil {
			t.Fatalf("answer: %v", err)
		}
		if answer != nil && !json.Valid(answer) {
			t.Fatalf("invalid answer %q", answer)
		}
		c.mu.Lock()
		clear(c.pending)
		c.mu.Unlock()
	})
}
