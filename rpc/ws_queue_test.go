package rpc

// What a WebSocket connection may make the server hold: one answer at a
// time, however many requests a client sends without reading, and
// notifications bounded by count and estimated bytes.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/mempool"
)

// smallBufServer serves s's handler on 127.0.0.1 with small socket send
// buffers, so that a client that does not read blocks the server's
// writes soon, and returns its /ws URL.
func smallBufServer(t *testing.T, s *stack) string {
	t.Helper()
	hs := httptest.NewUnstartedServer(s.srv.Handler())
	hs.Listener = smallBufListener{hs.Listener}
	hs.Start()
	t.Cleanup(hs.Close)
	if !strings.HasPrefix(hs.Listener.Addr().String(), "127.0.0.1:") {
		t.Fatalf("test server on %s", hs.Listener.Addr())
	}
	return "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"
}

// wsConns returns the server's open connections.
func (s *Server) wsConns() []*wsConn {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	var out []*wsConn
	for c := range s.hub.conns {
		out = append(out, c)
	}
	return out
}

// queued returns c's queued bytes now and at their peak.
func (c *wsConn) queued() (now, peak int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.noteBytes + c.answerBytes, c.peakBytes
}

// TestWSClientNotReadingHoldsOneAnswer: a client that keeps sending
// batches with big answers and never reads makes the server hold one
// answer at a time (the next message is read only once the previous
// answer is written), until a write outlasts Timeout and the connection
// is dropped. The server's queued bytes are measured by its own counter.
func TestWSClientNotReadingHoldsOneAnswer(t *testing.T) {
	s := newStack(t, stackOpts{noMiner: true, mod: func(c *Config) { c.Timeout = time.Second }})
	var txs []*types.Tx
	for nonce := range uint64(20) {
		txs = append(txs, s.g.Transfer(0, s.g.Addrs[1], types.Coin, 1000, nonce))
	}
	s.connect(txs...)
	url := smallBufServer(t, s)
	conn, _, err := dialWS(url, testToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(-1)
	var calls []string
	for range DefaultMaxBatch {
		calls = append(calls, `{"jsonrpc":"2.0","id":1,"method":"chain_getBlockByHeight","params":[1,true]}`)
	}
	batch := []byte("[" + strings.Join(calls, ",") + "]")

	// One exchange read normally: the size of every answer to come (the
	// same calls with the same ids).
	client := &wsClient{t: t, c: conn}
	client.sendRaw(batch)
	answer := client.read()
	if len(answer) < 256<<10 {
		t.Fatalf("answer of %d bytes: too small to fill the socket buffers", len(answer))
	}
	conns := s.srv.wsConns()
	if len(conns) != 1 {
		t.Fatalf("%d connections", len(conns))
	}
	server := conns[0]
	if now, peak := server.queued(); now != 0 || peak != len(answer) {
		t.Fatalf("after one answer: %d bytes queued, peak %d, want 0 and %d", now, peak, len(answer))
	}

	// Now send and never read.
	const sends = 30
	sent := make(chan int, 1)
	go func() {
		n := 0
		for ; n < sends; n++ {
			ctx, cancel := context.WithTimeout(context.Background(), wsWait)
			err := conn.Write(ctx, websocket.MessageText, batch)
			cancel()
			if err != nil {
				break
			}
		}
		sent <- n
	}()
	waitFor(t, "the client that does not read to be dropped", func() bool {
		conns, _, _ := s.srv.wsStats()
		return conns == 0
	})
	if now, peak := server.queued(); peak != len(answer) || now > len(answer) {
		t.Fatalf("a client not reading made the server hold %d bytes at the peak (%d at the end); one answer is %d",
			peak, now, len(answer))
	}
	conn.CloseNow()
	select {
	case n := <-sent:
		t.Logf("the client sent %d of %d batches before the server stopped reading them", n, sends)
	case <-time.After(wsWait):
		t.Fatal("the client's writes do not end")
	}
	// The server goes on serving others.
	var h Head
	s.dial().ok("chain_head", nil, &h)
}

// TestWSNotificationByteBudget: with room for many notifications by
// count, a connection that does not read is dropped once its queued
// notifications pass WSQueueBytes, and never holds more.
func TestWSNotificationByteBudget(t *testing.T) {
	const budget = 16 << 10
	s := newStack(t, stackOpts{noMiner: true, mod: func(c *Config) {
		c.WSQueue, c.WSQueueBytes, c.MaxSubscriptions = 10_000, budget, 16
	}})
	url := smallBufServer(t, s)
	conn, _, err := dialWS(url, testToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	slow := &wsClient{t: t, c: conn}
	for range 16 {
		slow.subscribe("chain_subscribeHeads")
	}
	var slowConn *wsConn
	for _, c := range s.srv.wsConns() {
		slowConn = c
	}
	fast := s.dial()
	fastSub := fast.subscribe("chain_subscribeHeads")

	// Each block queues 16 notifications for the slow client; the count
	// limit would take 625 blocks, the byte budget a few once its socket
	// buffers are full.
	const maxBlocks = 300
	dropped := false
	for i := 0; i < maxBlocks && !dropped; i++ {
		b := s.connect()
		wantHead(t, fast.head(), fastSub, b, false)
		_, _, drops := s.srv.wsStats()
		dropped = drops == 1
	}
	if !dropped {
		t.Fatalf("the slow client is still connected after %d blocks", maxBlocks)
	}
	_, peak := slowConn.queued()
	if peak > budget {
		t.Fatalf("the slow client's notifications peaked at %d bytes, over the budget of %d", peak, budget)
	}
	if peak < budget/2 {
		t.Fatalf("dropped with notifications of %d bytes queued, well under the budget of %d", peak, budget)
	}
	waitFor(t, "the slow client's connection to end", func() bool { conns, _, _ := s.srv.wsStats(); return conns == 1 })
}

// TestWSNoteSizeEstimate: the estimate that the byte budget counts is at
// least the encoded notification, and not wildly more.
func TestWSNoteSizeEstimate(t *testing.T) {
	s := newStack(t, stackOpts{noMiner: true})
	maxTx := &types.Tx{Kind: types.TxTransfer, ChainID: s.g.Params.ChainID, Nonce: ^uint64(0), To: s.g.Addrs[1],
		Amount: types.Amount(^uint64(0)), Fee: types.Amount(^uint64(0)), Memo: bytes.Repeat([]byte{0xff}, types.MaxMemoSize)}
	types.SignTx(maxTx, s.g.Keys[0], s.g.Genesis.Hash)
	coinbase := &types.Tx{Kind: types.TxCoinbase, ChainID: s.g.Params.ChainID, Nonce: ^uint64(0), To: s.g.Addrs[1],
		Amount: types.Amount(^uint64(0)), Memo: bytes.Repeat([]byte{0xff}, types.MaxMemoSize)}
	small := s.g.Transfer(0, s.g.Addrs[1], 1, 1, 0)
	maxHeader := types.Header{Height: ^uint32(0), Time: ^uint64(0), Bits: ^uint32(0)}
	removed := func(n int) []types.Hash {
		out := make([]types.Hash, n)
		for i := range out {
			out[i][0] = byte(i)
		}
		return out
	}
	accepted := func(tx *types.Tx, rate mempool.FeeRate) *txEvent {
		return newTxEvent(mempool.Accepted{Tx: tx, ID: tx.Hash(), Sender: tx.Sender(), Size: tx.EncodedSize(), Rate: rate})
	}
	rows := []struct {
		name string
		kind subKind
		ev   any
	}{
		{"head", subHeads, &headEvent{header: maxHeader}},
		{"head after a reorg of 1", subHeads, &headEvent{header: maxHeader, reorg: true, removed: removed(1)}},
		{"head after a reorg of 1000", subHeads, &headEvent{header: maxHeader, reorg: true, removed: removed(1000)}},
		{"small head", subHeads, &headEvent{header: types.Header{Height: 1}}},
		{"largest transfer", subTxs, accepted(maxTx, mempool.FeeRate{Fee: maxTx.Fee, Size: 1})},
		{"awkward fee rate", subTxs, accepted(maxTx, mempool.FeeRate{Fee: 1, Size: 3})},
		{"coinbase", subTxs, accepted(coinbase, mempool.FeeRate{})},
		{"small transfer", subTxs, accepted(small, mempool.FeeRate{Fee: 1, Size: uint64(small.EncodedSize())})},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			b, err := s.srv.notification(row.kind, "0123456789abcdef", row.ev)
			if err != nil || !json.Valid(b) {
				t.Fatalf("notification %s: %v", b, err)
			}
			if est := s.srv.noteSize(row.ev); est < len(b) || est > 2*len(b) {
				t.Fatalf("estimate %d for a notification of %d bytes: %s", est, len(b), truncate(b))
			}
		})
	}
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return fmt.Sprintf("%s... (%d bytes)", b[:300], len(b))
	}
	return string(b)
}
