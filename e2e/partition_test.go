package e2e

import (
	"context"
	"fmt"
	"math/big"
	"strconv"
	"testing"
	"time"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/rpc"
)

// Scenario 4: a partition. Group A (nodes 0 and 1) and group B (nodes 2
// and 3) run the same network apart from the start: B's nodes are given
// each other as bootnodes instead of node 0, and mDNS is off, so the
// groups never learn of each other. Each group mines its own chain and
// confirms a transfer of its own:
//
//   - on A, one from A's coinbase address (a key of the test's, set with
//     --miner.address): it exists only on A's chain;
//   - on B, one from the faucet: valid on either chain, since A never
//     spends the faucet.
//
// The outcome is made deterministic: once B has confirmed its transfer
// and built on it, B's miners stop, and A mines on until its chain has
// clearly more work. Then a B node is told A's address (node_addPeer).
// Every node must end on A's chain; B's transfer, now in a block of no
// main chain, must come back (pending in B's pools, or mined at once) and
// confirm again in another block, on every node; A's transfer stays where
// it was.

const (
	partitionDeadline = 3 * time.Minute
	// bExtraBlocks is how many blocks B builds on its transfer's block
	// before its miners stop: the reorganisation undoes more than one.
	bExtraBlocks = 2
	// workMarginBlocks is A's required lead, in blocks at A's current
	// difficulty, over B's total work before the groups are joined.
	workMarginBlocks = 3
)

func TestPartition(t *testing.T) {
	skipShort(t)
	began := time.Now()
	minerA := newKey(t)
	var net *testNetwork
	net = newNetwork(t, networkOptions{
		Nodes:   4,
		Timeout: partitionDeadline,
		Args: func(i int) []string {
			switch i {
			case 0, 1:
				return []string{"--miner.address", net.addressOf(minerA)}
			case 2:
				return []string{"--p2p.bootnodes", net.record(3).P2P[0]}
			default:
				return []string{"--p2p.bootnodes", net.record(2).P2P[0]}
			}
		},
	})
	groupA, groupB := []int{0, 1}, []int{2, 3}
	net.startAll()
	ctx := net.ctx
	if err := net.waitPeers(ctx, groupA); err != nil {
		t.Fatal(err)
	}
	if err := net.waitPeers(ctx, groupB); err != nil {
		t.Fatal(err)
	}
	net.checkApart(ctx, t, groupA, groupB)

	wnet := net.walletNetwork()
	// B: the faucet pays someone.
	txB := transfer(t, wnet, net.faucetKey(t), randomAddress(t), 3*types.Coin, 0)
	if _, err := net.client(3).SendRawTx(ctx, txB.Encode()); err != nil {
		t.Fatalf("B's transfer: %s", describeErr(err))
	}
	// A: A's miners' reward address pays someone, once it has coins.
	if err := net.poll(ctx, defaultWait, "A's coinbase address to hold a block reward", func(ctx context.Context) (bool, string, error) {
		acct, err := net.client(0).Account(ctx, net.addressOf(minerA))
		if err != nil {
			return false, "", err
		}
		return acct.Balance > uint64(types.Coin), fmt.Sprintf("balance %d", acct.Balance), nil
	}); err != nil {
		t.Fatal(err)
	}
	txA := transfer(t, wnet, minerA, randomAddress(t), types.Coin, 0)
	if _, err := net.client(1).SendRawTx(ctx, txA.Encode()); err != nil {
		t.Fatalf("A's transfer: %s", describeErr(err))
	}
	hashA, hashB := txA.Hash().String(), txB.Hash().String()
	blocksA, err := net.waitConfirmedEverywhere(ctx, groupA, []string{hashA}, "A's transfer confirmed on A")
	if err != nil {
		t.Fatal(err)
	}
	blocksB, err := net.waitConfirmedEverywhere(ctx, groupB, []string{hashB}, "B's transfer confirmed on B")
	if err != nil {
		t.Fatal(err)
	}
	blockA, blockB := blocksA[hashA], blocksB[hashB]
	for _, i := range groupA {
		if r, err := net.txState(ctx, i, hashB); err != nil || r.Status != "unknown" {
			t.Fatalf("node%d (A) knows B's transfer (%+v, %v): the groups are not apart", i, r, err)
		}
	}
	heightB, err := net.txState(ctx, 2, hashB)
	if err != nil {
		t.Fatal(err)
	}

	// B builds a little on its transfer, then stops mining.
	if err := net.waitHeight(ctx, groupB, heightB.Height+bExtraBlocks, defaultWait); err != nil {
		t.Fatal(err)
	}
	for _, i := range groupB {
		net.minerCall(ctx, t, i, "miner_stop")
	}
	tipB, err := net.waitSameTip(ctx, groupB, defaultWait)
	if err != nil {
		t.Fatal(err)
	}
	headB, err := net.client(2).Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	workB := parseWork(t, headB.TotalWork)
	net.checkApart(ctx, t, groupA, groupB)

	// A mines on until its chain has clearly more work than B's.
	var headA rpc.Head
	if err := net.poll(ctx, 2*defaultWait, fmt.Sprintf("A's total work to pass B's %s by %d blocks", workB, workMarginBlocks), func(ctx context.Context) (bool, string, error) {
		h, err := net.client(0).Head(ctx)
		if err != nil {
			return false, "", err
		}
		headA = h
		bits, err := strconv.ParseUint(h.Bits, 16, 32)
		if err != nil {
			return false, "", fmt.Errorf("node0's tip bits %q: %v", h.Bits, err)
		}
		need := new(big.Int).Mul(consensus.CalcWork(uint32(bits)), big.NewInt(workMarginBlocks))
		need.Add(need, workB)
		return parseWork(t, h.TotalWork).Cmp(need) > 0, fmt.Sprintf("A at height %d with work %s, B at %d with %s", h.Height, h.TotalWork, headB.Height, workB), nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("before the join: A at height %d work %s; B at height %d work %s (B's transfer in %.16s… at height %d)",
		headA.Height, headA.TotalWork, tipB.Height, workB, blockB, heightB.Height)

	// Join: a B node dials A.
	var joined bool
	if err := net.client(2).Call(ctx, "node_addPeer", []any{net.record(0).P2P[0]}, &joined); err != nil || !joined {
		t.Fatalf("node_addPeer on node2: %v, %v", joined, describeErr(err))
	}
	joinedAt := time.Now()

	// Right after the join, B's nodes reorganise onto A's chain and B's
	// transfer goes back to their pools; B's miners are stopped and A's
	// never saw it, so it stays pending there until someone mines it.
	seenPending := map[int]bool{}
	if err := net.pollFast(ctx, defaultWait, "B's transfer to leave its old block on nodes 2 and 3", func(ctx context.Context) (bool, string, error) {
		done := true
		state := ""
		for _, i := range groupB {
			r, err := net.txState(ctx, i, hashB)
			if err != nil {
				return false, "", err
			}
			switch {
			case r.Status == "pending":
				seenPending[i] = true
			case r.Status == "confirmed" && r.BlockHash != blockB:
			default:
				done = false
			}
			state += fmt.Sprintf("node%d: %s %.16s…; ", i, r.Status, r.BlockHash)
		}
		return done, state, nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("B's transfer left block %.16s… %v after the join (seen pending on %v)", blockB, time.Since(joinedAt).Round(time.Millisecond), seenPending)

	// Every node on A's chain.
	if _, err := net.waitSameTip(ctx, net.all(), defaultWait); err != nil {
		t.Fatal(err)
	}
	if blocks, err := net.waitConfirmedEverywhere(ctx, net.all(), []string{hashA}, "A's transfer confirmed everywhere"); err != nil {
		t.Fatal(err)
	} else if blocks[hashA] != blockA {
		t.Errorf("A's transfer moved from block %s to %s", blockA, blocks[hashA])
	}
	for _, i := range net.all() {
		if b, err := net.client(i).BlockByHash(ctx, blockA); err != nil {
			t.Errorf("node%d: A's block %s: %v", i, blockA, err)
		} else if hb, err := net.client(i).BlockByHeight(ctx, b.Height); err != nil || hb.Hash != blockA {
			t.Errorf("node%d: at height %d the main chain has %s (%v), not A's block %s", i, b.Height, hb.Hash, err, blockA)
		}
	}

	// B's miners start again: whoever mines next takes B's transfer from
	// the pool. It must confirm on every node, in another block.
	for _, i := range groupB {
		net.minerCall(ctx, t, i, "miner_start")
	}
	blocks, err := net.waitConfirmedEverywhere(ctx, net.all(), []string{hashB, hashA}, "B's transfer confirmed again on every node")
	if err != nil {
		t.Fatal(err)
	}
	if blocks[hashB] == blockB {
		t.Errorf("B's transfer is confirmed in its old block %s, which lost", blockB)
	}
	if blocks[hashA] != blockA {
		t.Errorf("A's transfer moved from block %s to %s", blockA, blocks[hashA])
	}
	tip, err := net.waitSameTip(ctx, net.all(), defaultWait)
	if err != nil {
		t.Fatal(err)
	}
	// The faucet spent exactly once: nonce 1 on every node.
	for _, i := range net.all() {
		acct, err := net.client(i).Account(ctx, net.faucet().Address)
		if err != nil {
			t.Fatal(err)
		}
		if acct.Nonce != 1 {
			t.Errorf("node%d: faucet nonce %d, want 1", i, acct.Nonce)
		}
	}
	t.Logf("all four at %s; B's transfer re-confirmed in %.16s… (was %.16s…); %v in all",
		tip, blocks[hashB], blockB, time.Since(began).Round(time.Millisecond))
}

// checkApart fails the test if a node of one group has a peer of the
// other.
func (n *testNetwork) checkApart(ctx context.Context, t *testing.T, a, b []int) {
	t.Helper()
	groupOf := map[string]string{}
	for _, i := range a {
		groupOf[n.record(i).PeerID] = "A"
	}
	for _, i := range b {
		groupOf[n.record(i).PeerID] = "B"
	}
	for _, g := range [][]int{a, b} {
		mine := groupOf[n.record(g[0]).PeerID]
		for _, i := range g {
			peers, err := n.client(i).Peers(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range peers {
				if other := groupOf[p.PeerID]; other != "" && other != mine {
					t.Fatalf("node%d (group %s) is connected to %s of group %s: no partition", i, mine, p.PeerID, other)
				}
			}
		}
	}
}

// minerCall calls miner_start or miner_stop on node i.
func (n *testNetwork) minerCall(ctx context.Context, t *testing.T, i int, method string) {
	t.Helper()
	var st rpc.MinerStatus
	if err := n.client(i).Call(ctx, method, nil, &st); err != nil {
		t.Fatalf("node%d %s: %v", i, method, err)
	}
	if want := method == "miner_start"; st.Running != want {
		t.Fatalf("node%d %s: running %v", i, method, st.Running)
	}
}

// pollFast is poll at a tighter pace, for states that may last only a
// moment.
func (n *testNetwork) pollFast(ctx context.Context, timeout time.Duration, what string, check func(context.Context) (bool, string, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := "nothing observed yet"
	for {
		done, state, err := check(ctx)
		if err == nil && done {
			return nil
		}
		if err != nil {
			last = "error: " + err.Error()
		} else {
			last = state
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: timed out; last seen: %s", what, last)
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// parseWork reads a decimal total work.
func parseWork(t *testing.T, s string) *big.Int {
	t.Helper()
	w, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("total work %q is not a decimal number", s)
	}
	return w
}
