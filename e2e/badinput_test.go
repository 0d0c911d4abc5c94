package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/rpc"
	"github.com/ledger-node/ledger/wallet"
)

// Scenario 5: bad input over RPC and p2p while the network runs. Three
// nodes (0 and 1 mine) carry a stream of honest transfers while the test
// sends malformed, unauthorised, oversized and invalid requests to their
// JSON-RPC endpoints and lets misbehaving libp2p peers (attacker_test.go)
// loose on their sync, status and gossip protocols. Each refusal must be
// the documented one (JSON-RPC code and data.reason; a reset stream, a
// ban score, a ban), no node may exit, and nothing honest may be lost:
// every honest transfer confirms on every node, the nodes end on one tip,
// and no node bans another.

const (
	badInputDeadline = 2 * time.Minute
	// honestTransfers is how many honest transfers flow during the
	// attacks, one every honestEvery, to the three nodes in turn.
	honestTransfers = 12
	honestEvery     = 300 * time.Millisecond
	// banWait bounds the wait for a ban after the offence.
	banWait = 20 * time.Second
)

func TestBadInput(t *testing.T) {
	skipShort(t)
	began := time.Now()
	net := newNetwork(t, networkOptions{Nodes: 3, Miners: 2, Timeout: badInputDeadline})
	net.startAll()
	ctx := net.ctx
	all := net.all()
	if err := net.waitPeers(ctx, all); err != nil {
		t.Fatal(err)
	}
	wnet := net.walletNetwork()
	faucet := net.faucetKey(t)

	// The probe is the sender of the refused transactions: funded, so that
	// they pass the balance and nonce checks and reach the rule under
	// test, and used by nothing else, so its next nonce stays 0 until the
	// replay checks.
	probe := newKey(t)
	fund := transfer(t, wnet, faucet, wallet.AddressOf(probe), 10*types.Coin, 0)
	if _, err := net.client(0).SendRawTx(ctx, fund.Encode()); err != nil {
		t.Fatalf("funding the probe: %v", err)
	}
	if _, err := net.waitConfirmedEverywhere(ctx, all, []string{fund.Hash().String()}, "the probe's funding confirmed everywhere"); err != nil {
		t.Fatal(err)
	}

	honest := startHonestTraffic(ctx, t, net, faucet, 1)

	t.Run("rpc", func(t *testing.T) { badRPC(ctx, t, net, 1) })
	t.Run("tx_send", func(t *testing.T) { badTransactions(ctx, t, net, 2, probe) })
	attackers := map[string]string{} // peer id -> attack
	t.Run("p2p", func(t *testing.T) { p2pAttacks(ctx, t, net, probe, attackers) })
	t.Run("replay", func(t *testing.T) { replays(ctx, t, net, probe) })

	// Nothing lost.
	hashes, sendErrs := honest.wait()
	for _, err := range sendErrs {
		t.Errorf("honest transfer refused: %v", err)
	}
	if len(hashes) != honestTransfers {
		t.Fatalf("%d honest transfers sent, want %d", len(hashes), honestTransfers)
	}
	if _, err := net.waitConfirmedEverywhere(ctx, all, hashes, "every honest transfer confirmed on every node"); err != nil {
		t.Fatal(err)
	}
	tip, err := net.waitSameTip(ctx, all, defaultWait)
	if err != nil {
		t.Fatal(err)
	}
	nodeIDs := map[string]int{}
	for _, i := range all {
		nodeIDs[net.record(i).PeerID] = i
	}
	for _, i := range all {
		if !net.running(i) {
			t.Errorf("node%d is not running: %v", i, net.proc(i).ExitErr())
		}
		bans, err := net.bans(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		for id, b := range bans {
			if j, ok := nodeIDs[id]; ok {
				t.Errorf("node%d banned node%d: %s", i, j, b.Reason)
			} else if _, ok := attackers[id]; !ok {
				t.Errorf("node%d banned %s, not one of the attackers: %s", i, id, b.Reason)
			}
		}
	}
	if err := net.waitPeers(ctx, all); err != nil {
		t.Errorf("after the attacks: %v", err)
	}
	t.Logf("all nodes at %s; %d honest transfers confirmed; %d attackers banned; %v in all",
		tip, len(hashes), len(attackers), time.Since(began).Round(time.Millisecond))
}

// honestTraffic is a stream of valid transfers from the faucet, sent
// directly with tx_send to the nodes in turn.
type honestTraffic struct {
	wg     sync.WaitGroup
	mu     sync.Mutex // guards hashes and errs
	hashes []string
	errs   []error
}

func startHonestTraffic(ctx context.Context, t *testing.T, net *testNetwork, key *secp256k1.PrivateKey, nonce uint64) *honestTraffic {
	h := &honestTraffic{}
	wnet := net.walletNetwork()
	txs := make([]*types.Tx, honestTransfers)
	for k := range txs {
		txs[k] = transfer(t, wnet, key, randomAddress(t), types.Amount(1000+k), nonce+uint64(k))
	}
	nodes := len(net.all())
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		for k, tx := range txs {
			i := k % nodes
			_, err := net.client(i).SendRawTx(ctx, tx.Encode())
			h.mu.Lock()
			h.hashes = append(h.hashes, tx.Hash().String())
			if err != nil {
				h.errs = append(h.errs, fmt.Errorf("transfer %d (nonce %d) to node%d: %s", k, tx.Nonce, i, describeErr(err)))
			}
			h.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-time.After(honestEvery):
			}
		}
	}()
	return h
}

// wait waits for the stream to end and returns what was sent and refused.
func (h *honestTraffic) wait() ([]string, []error) {
	h.wg.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hashes, h.errs
}

// waitPeers waits until every node in nodes is connected to every other.
func (n *testNetwork) waitPeers(ctx context.Context, nodes []int) error {
	return n.poll(ctx, defaultWait, fmt.Sprintf("nodes %v connected to each other", nodes), func(ctx context.Context) (bool, string, error) {
		for _, i := range nodes {
			peers, err := n.client(i).Peers(ctx)
			if err != nil {
				return false, "", fmt.Errorf("node%d node_peers: %w", i, err)
			}
			have := map[string]bool{}
			for _, p := range peers {
				have[p.PeerID] = true
			}
			for _, j := range nodes {
				if j != i && !have[n.record(j).PeerID] {
					return false, fmt.Sprintf("node%d has %d peers, not node%d", i, len(peers), j), nil
				}
			}
		}
		return true, "", nil
	})
}

// badRPC sends node i malformed, unauthorised and oversized requests.
func badRPC(ctx context.Context, t *testing.T, net *testNetwork, i int) {
	good := "Bearer " + net.token(t, i)
	call := `{"jsonrpc":"2.0","id":1,"method":"chain_head"}`
	var batch strings.Builder
	batch.WriteString("[")
	for k := 0; k <= rpc.DefaultMaxBatch; k++ {
		if k > 0 {
			batch.WriteString(",")
		}
		fmt.Fprintf(&batch, `{"jsonrpc":"2.0","id":%d,"method":"chain_head"}`, k)
	}
	batch.WriteString("]")
	huge := `{"jsonrpc":"2.0","id":1,"method":"chain_head","params":["` + strings.Repeat("a", int(rpc.DefaultMaxBody)) + `"]}`
	tests := []struct {
		name   string
		auth   string
		body   string
		status int    // HTTP status
		code   int    // JSON-RPC error code when status is 200
		reason string // its data.reason
	}{
		{"malformed JSON", good, `{"jsonrpc":"2.0","id":1,"method":"chain_head"`, http.StatusOK, -32700, ""},
		{"not JSON at all", good, "\x00\xff junk", http.StatusOK, -32700, ""},
		{"request without a method", good, `{"jsonrpc":"2.0","id":1,"params":[]}`, http.StatusOK, -32600, ""},
		{"empty batch", good, `[]`, http.StatusOK, -32600, ""},
		{"batch over the limit", good, batch.String(), http.StatusOK, -32600, ""},
		{"unknown method", good, `{"jsonrpc":"2.0","id":1,"method":"chain_selfDestruct"}`, http.StatusOK, -32601, "ErrUnknownMethod"},
		{"param of the wrong type", good, `{"jsonrpc":"2.0","id":1,"method":"chain_getBlockByHeight","params":["tall"]}`, http.StatusOK, -32602, "ErrBadParams"},
		{"unknown named param", good, `{"jsonrpc":"2.0","id":1,"method":"chain_getBlockByHeight","params":{"height":1,"bogus":true}}`, http.StatusOK, -32602, "ErrBadParams"},
		{"tx_send of non-hex", good, `{"jsonrpc":"2.0","id":1,"method":"tx_send","params":["not hex"]}`, http.StatusOK, -32602, "ErrBadParams"},
		{"tx_send of junk bytes", good, `{"jsonrpc":"2.0","id":1,"method":"tx_send","params":["00ff00ff"]}`, http.StatusOK, -32000, "ErrDecode"},
		{"no token", "", call, http.StatusUnauthorized, 0, ""},
		{"wrong token", "Bearer " + strings.Repeat("0", 64), call, http.StatusUnauthorized, 0, ""},
		{"not a bearer token", "Basic dXNlcjpwYXNz", call, http.StatusUnauthorized, 0, ""},
		{"body over the limit", good, huge, http.StatusRequestEntityTooLarge, 0, ""},
	}
	for _, tc := range tests {
		r, err := net.postRaw(ctx, i, tc.auth, strings.NewReader(tc.body))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if r.Status != tc.status {
			t.Errorf("%s: HTTP %d, want %d (%.200s)", tc.name, r.Status, tc.status, r.Body)
			continue
		}
		if tc.status != http.StatusOK {
			continue
		}
		e := r.rpcError()
		if e == nil || e.Code != tc.code || e.reason() != tc.reason {
			t.Errorf("%s: answer %.300s; want error %d with reason %q", tc.name, r.Body, tc.code, tc.reason)
		}
	}
	// The node still answers, with the token it had.
	if _, err := net.client(i).Head(ctx); err != nil {
		t.Errorf("node%d after the bad requests: %v", i, err)
	}
}

// badTransactions sends node i transactions that break one rule each,
// from the funded probe with its next nonce, and checks that none of them
// entered the pool.
func badTransactions(ctx context.Context, t *testing.T, net *testNetwork, i int, probe *secp256k1.PrivateKey) {
	wnet := net.walletNetwork()
	to := randomAddress(t)
	valid := func(amount types.Amount) *types.Tx { return transfer(t, wnet, probe, to, amount, 0) }

	badSig := valid(1)
	badSig.Sig[31] ^= 0x01 // r changes: still a valid scalar, no longer the signature
	highS := valid(2)
	flipS(highS)
	otherChain := wnet
	otherChain.ChainID++
	wrongChain := transfer(t, otherChain, probe, to, 3, 0)
	otherGenesis := wnet
	otherGenesis.GenesisHash[0] ^= 0xff
	wrongGenesis := transfer(t, otherGenesis, probe, to, 4, 0)
	overspend := valid(1_000_000 * types.Coin)
	gap := transfer(t, wnet, probe, to, 5, 7)
	cheap, err := wallet.BuildTx(wnet, probe, wallet.Transfer{To: to, Amount: 6, Fee: 1, Nonce: 0})
	if err != nil {
		t.Fatal(err)
	}
	coinbase := &types.Tx{Kind: types.TxCoinbase, ChainID: wnet.ChainID, Nonce: 1, To: to, Amount: 1}

	tests := []struct {
		name   string
		tx     *types.Tx
		reason string
	}{
		{"bad signature", badSig, string(consensus.ErrBadSignature)},
		{"high-S signature", highS, string(consensus.ErrHighS)},
		{"wrong chain id", wrongChain, string(consensus.ErrWrongChainID)},
		{"signed for another genesis", wrongGenesis, string(consensus.ErrBadSignature)},
		{"more than the balance", overspend, string(consensus.ErrInsufficientBalance)},
		{"fee below the minimum", cheap, "ErrFeeTooLow"},
		{"a coinbase", coinbase, "ErrCoinbase"},
	}
	c := net.client(i)
	for _, tc := range tests {
		_, err := c.SendRawTx(ctx, tc.tx.Encode())
		if !isRPCError(err, -32000, tc.reason) {
			t.Errorf("%s: %s; want code -32000 reason %s", tc.name, describeErr(err), tc.reason)
		}
		if st, err := c.TxStatus(ctx, tc.tx.Hash().String()); err != nil {
			t.Errorf("%s: tx_status: %v", tc.name, err)
		} else if st.State == "pending" || st.State == "queued" || st.State == "confirmed" {
			t.Errorf("%s: the refused transaction is %s", tc.name, st.State)
		}
	}
	// A nonce gap is not an error: the transaction waits, queued.
	if _, err := c.SendRawTx(ctx, gap.Encode()); err != nil {
		t.Errorf("transfer with a nonce gap: %s; want it queued", describeErr(err))
	} else if st, err := c.TxStatus(ctx, gap.Hash().String()); err != nil || st.State != "queued" {
		t.Errorf("transfer with a nonce gap: tx_status %+v, %v; want queued", st, err)
	}
	acct, err := c.Account(ctx, net.addressOf(probe))
	if err != nil {
		t.Fatal(err)
	}
	if acct.Nonce != 0 || acct.PendingNonce != 0 || acct.Balance != 10*uint64(types.Coin) {
		t.Errorf("probe after the refusals: %+v; want nonce 0, pending nonce 0, 10 coins", acct)
	}
}

// flipS replaces a signature's s by N-s: the same signature in its
// high-S form, which the rules refuse.
func flipS(tx *types.Tx) {
	var s secp256k1.ModNScalar
	s.SetByteSlice(tx.Sig[32:])
	s.Negate()
	b := s.Bytes()
	copy(tx.Sig[32:], b[:])
}

// p2pAttacks lets one misbehaving peer at a time loose on a node and
// waits for the node to refuse it, score it and ban it. attackers
// collects the attackers' peer ids.
func p2pAttacks(ctx context.Context, t *testing.T, net *testNetwork, probe *secp256k1.PrivateKey, attackers map[string]string) {
	gh := net.genesisHash()
	addr := func(i int) string { return net.record(i).P2P[0] }
	// attack starts an attacker, connects it to node i and, unless
	// another genesis is given, runs an honest handshake first: the
	// offences below are those of a peer that joined properly.
	attack := func(name string, i int) (*attacker, peer.ID) {
		t.Helper()
		a := newAttacker(t, name, gh)
		attackers[a.id().String()] = name
		pid, err := a.connect(ctx, addr(i))
		if err != nil {
			t.Fatalf("%s: connecting to node%d: %v", name, i, err)
		}
		return a, pid
	}
	handshake := func(a *attacker, target peer.ID) {
		t.Helper()
		if _, err := a.handshake(ctx, target, gh); err != nil {
			t.Fatalf("%s: status handshake: %v", a.name, err)
		}
	}
	waitScore := func(i int, a *attacker, min float64) {
		t.Helper()
		err := net.poll(ctx, banWait, fmt.Sprintf("node%d's ban score of %s at %v or more", i, a.name, min), func(ctx context.Context) (bool, string, error) {
			score, connected, err := net.peerScore(ctx, i, a.id().String())
			if err != nil {
				return false, "", err
			}
			return connected && score >= min, fmt.Sprintf("score %.1f, connected %v", score, connected), nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// waitBanned waits until node i bans attacker a and has cut it off,
	// and checks the ban's reason names one of the rules in reasonHas.
	waitBanned := func(i int, a *attacker, target peer.ID, reasonHas ...string) {
		t.Helper()
		var ban rpc.BanInfo
		err := net.poll(ctx, banWait, fmt.Sprintf("node%d to ban %s", i, a.name), func(ctx context.Context) (bool, string, error) {
			bans, err := net.bans(ctx, i)
			if err != nil {
				return false, "", err
			}
			b, ok := bans[a.id().String()]
			ban = b
			return ok && !a.connected(target), fmt.Sprintf("banned %v, still connected %v", ok, a.connected(target)), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		named := false
		for _, r := range reasonHas {
			named = named || strings.Contains(ban.Reason, r)
		}
		if !named {
			t.Errorf("%s banned by node%d for %q; want a reason about one of %q", a.name, i, ban.Reason, reasonHas)
		}
		if ban.Until <= time.Now().Unix() {
			t.Errorf("%s's ban ends at %d, already past", a.name, ban.Until)
		}
		// The ban holds: the node refuses a new connection.
		if _, err := a.connect(ctx, addr(i)); err == nil {
			if err := net.poll(ctx, banWait, a.name+" cut off again after reconnecting", func(context.Context) (bool, string, error) {
				return !a.connected(target), "still connected", nil
			}); err != nil {
				t.Error(err)
			}
		}
		t.Logf("%s: banned by node%d: %s", a.name, i, ban.Reason)
	}

	// Sync protocols of node 0: a malformed request costs 50 points and a
	// reset stream, an out-of-range one 20, and a second malformed one
	// takes the score past the ban threshold (100).
	a, target := attack("sync-junk", 0)
	handshake(a, target)
	if reply, err := a.exchange(ctx, target, a.names.headers, []byte{0x00, 0x05, 1, 2, 3}, 1<<20); err == nil {
		t.Errorf("node0 answered a malformed getheaders: %x", reply)
	}
	waitScore(0, a, 45)
	if reply, err := a.exchange(ctx, target, a.names.blocks, []byte{0x00, 0x00}, 1<<20); err == nil {
		t.Errorf("node0 answered a getblocks for no block: %x", reply)
	}
	waitScore(0, a, 65)
	// Five locator hashes announced, three bytes sent: malformed again.
	_, _ = a.exchange(ctx, target, a.names.headers, []byte{0x00, 0x05, 1, 2, 3}, 1<<20)
	waitBanned(0, a, target, "getheaders")

	// An oversized frame costs a ban at once, before its body is read.
	a, target = attack("sync-oversized", 0)
	handshake(a, target)
	if _, err := a.sendRaw(ctx, target, oversizedFrame(1<<30), a.names.blocks); err == nil {
		t.Errorf("node0 ended a stream with an oversized frame cleanly")
	}
	waitBanned(0, a, target, "larger than")

	// A peer of another network is banned at the handshake.
	a, target = attack("wrong-network", 1)
	var other types.Hash
	if _, err := rand.Read(other[:]); err != nil {
		t.Fatal(err)
	}
	_, _ = a.handshake(ctx, target, other)
	waitBanned(1, a, target, "another network")

	// A repeated handshake costs points.
	a, target = attack("status-twice", 1)
	handshake(a, target)
	_, _ = a.handshake(ctx, target, gh)
	waitScore(1, a, 15)

	// Gossip of node 2 (which does not mine: what it relays matters).
	// A frame announcing more than the largest block: a ban, unread.
	a, target = attack("gossip-oversized", 2)
	handshake(a, target)
	_, _ = a.sendRaw(ctx, target, oversizedFrame(256<<20), gossipProtocols...)
	waitBanned(2, a, target, "gossip frame")

	// Junk on the topics: 50 ban points each, and pubsub counts each as
	// an invalid message. The second takes the peer to the ban threshold
	// (or just short of it, as the first decays) and past the graylist:
	// whichever of the node's two rules fires first bans it.
	a, target = attack("gossip-junk", 2)
	handshake(a, target)
	a.joinGossip(ctx, target)
	if err := a.publishTx(ctx, []byte("this is not a transaction")); err != nil {
		t.Fatalf("publishing junk: %v", err)
	}
	waitScore(2, a, 45)
	if err := a.publishBlock(ctx, []byte("this is not a block either")); err != nil {
		t.Fatalf("publishing junk: %v", err)
	}
	waitBanned(2, a, target, "does not decode", "invalid gossip")

	// A block without its proof of work: a ban at once, and not stored.
	a, target = attack("gossip-invalid-block", 2)
	handshake(a, target)
	a.joinGossip(ctx, target)
	blk := unminedBlock(ctx, t, net, 0, net.addressOf(probe))
	if err := a.publishBlock(ctx, blk.Encode()); err != nil {
		t.Fatalf("publishing the block: %v", err)
	}
	waitBanned(2, a, target, "invalid block")
	if _, err := net.client(2).BlockByHash(ctx, blk.Hash().String()); !isRPCError(err, -32001, "ErrUnknownBlock") {
		t.Errorf("node2 on the block without proof of work: %s; want it unknown", describeErr(err))
	}

	// Transactions with bad signatures from a funded sender: each reaches
	// the signature check and costs a little; pubsub's score for invalid
	// messages bans the peer at the fourth.
	a, target = attack("gossip-bad-signatures", 2)
	handshake(a, target)
	a.joinGossip(ctx, target)
	var forged []*types.Tx
	for k := 0; k < 4; k++ {
		tx := transfer(t, net.walletNetwork(), probe, randomAddress(t), types.Amount(100+k), 0)
		tx.Sig[31] ^= 0x01
		forged = append(forged, tx)
		if err := a.publishTx(ctx, tx.Encode()); err != nil {
			t.Fatalf("publishing a forged transaction: %v", err)
		}
	}
	waitBanned(2, a, target, "invalid gossip")
	for _, tx := range forged {
		for _, i := range net.all() {
			if st, err := net.client(i).TxStatus(ctx, tx.Hash().String()); err != nil {
				t.Errorf("node%d tx_status: %v", i, err)
			} else if st.State == "pending" || st.State == "queued" || st.State == "confirmed" {
				t.Errorf("forged transaction %.16s… is %s on node%d", tx.Hash(), st.State, i)
			}
		}
	}
}

// unminedBlock is node i's block template for minerAddr with a nonce
// whose hash misses the target: a block that decodes and is complete but
// carries no proof of work.
func unminedBlock(ctx context.Context, t *testing.T, net *testNetwork, i int, minerAddr string) *types.Block {
	t.Helper()
	var tmpl rpc.Template
	if err := net.client(i).Call(ctx, "miner_getTemplate", []any{minerAddr}, &tmpl); err != nil {
		t.Fatalf("node%d miner_getTemplate: %v", i, err)
	}
	raw, err := hex.DecodeString(tmpl.Block)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := types.DecodeBlock(raw)
	if err != nil {
		t.Fatalf("the template's block does not decode: %v", err)
	}
	params := net.tn.Genesis.Params
	for consensus.CheckProofOfWork(blk.Hash(), blk.Header.Bits, params.PowLimit) == nil {
		blk.Header.Nonce++
	}
	return blk
}

// replays sends transactions whose nonce is used: the same transaction
// again while pending and once confirmed, and another with its nonce.
func replays(ctx context.Context, t *testing.T, net *testNetwork, probe *secp256k1.PrivateKey) {
	wnet := net.walletNetwork()
	to := randomAddress(t)
	first := transfer(t, wnet, probe, to, 7, 0)
	c := net.client(0)
	if _, err := c.SendRawTx(ctx, first.Encode()); err != nil {
		t.Fatalf("probe's first transfer: %s", describeErr(err))
	}
	if _, err := c.SendRawTx(ctx, first.Encode()); !isRPCError(err, -32000, "ErrAlreadyKnown") {
		t.Errorf("the same transfer again while pending: %s; want -32000 ErrAlreadyKnown", describeErr(err))
	}
	blocks, err := net.waitConfirmedEverywhere(ctx, net.all(), []string{first.Hash().String()}, "the probe's first transfer confirmed everywhere")
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range net.all() {
		if _, err := net.client(i).SendRawTx(ctx, first.Encode()); !isRPCError(err, -32000, string(consensus.ErrBadNonce)) {
			t.Errorf("node%d: the confirmed transfer replayed: %s; want -32000 ErrBadNonce", i, describeErr(err))
		}
	}
	again := transfer(t, wnet, probe, randomAddress(t), 8, 0)
	if _, err := c.SendRawTx(ctx, again.Encode()); !isRPCError(err, -32000, string(consensus.ErrBadNonce)) {
		t.Errorf("another transfer with the used nonce: %s; want -32000 ErrBadNonce", describeErr(err))
	}
	r, err := net.txState(ctx, 1, first.Hash().String())
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != "confirmed" || r.BlockHash != blocks[first.Hash().String()] {
		t.Errorf("after the replays the transfer is %s in %s, want confirmed in %s", r.Status, r.BlockHash, blocks[first.Hash().String()])
	}
}
