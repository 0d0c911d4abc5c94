package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ledger-node/ledger/rpc"
)

// Scenarios 1 to 3 of issue 7 run on one network, in phases:
//
//  1. Four mining nodes; the faucet funds five wallets made with the CLI,
//     which then send 50 transactions among each other through the
//     nodes' RPC.
//  2. In the middle of that, a node that is not the bootnode is killed
//     with SIGKILL after it reported some transactions confirmed, and
//     restarted: first without the network, where its own store must
//     still hold every one of them, then as before, when it catches up
//     with the others and still has them all.
//  3. Once the chain is past height 100, a fifth node told only node 1
//     as bootnode finds the others through the DHT and syncs.
//
// Then the miners stop and every node (the late one too) must show the
// same tip, state root and balances, each wallet's balance must be what
// its transfers make it, and all balances together must be the supply
// issued so far.
const (
	coreNodes   = 4 // nodes 0-3 mine and start at once
	lateNode    = 4 // starts in phase 3
	killedNode  = 2 // killed in phase 2; not node 0, the bootnode
	walletCount = 5
	rounds      = 10 // each wallet sends once per round: 50 transfers
	killAfter   = 5  // rounds before the kill
	restartAt   = 8  // rounds done (killAfter of them before the kill) when the killed node comes back
	// fundCoins is what the faucet sends each wallet.
	fundCoins   = 1000
	targetTip   = 100
	roundWait   = 90 * time.Second // a round's transfers confirmed
	catchUpWait = 90 * time.Second // a restarted or late node on the others' tip
	heightWait  = 4 * time.Minute  // the chain at targetTip from the start
	peersWait   = 60 * time.Second // the late node finding more than its bootnode
	freezeWait  = 60 * time.Second // every node on one tip once the miners stop
)

// sentTx is one transaction a test made with the CLI, as the CLI
// reported it.
type sentTx struct {
	from, to    string // addresses
	amount, fee uint64 // base units
	nonce       uint64
	hash        string
	via         int // the node it was submitted to
}

// confirmedRecord is what a node reported for a confirmed transaction.
type confirmedRecord struct {
	hash, blockHash string
	height, confs   uint32
}

// sentOut is the part of `ledger send --json` the test reads.
type sentOut struct {
	Hash   string `json:"hash"`
	From   string `json:"from"`
	To     string `json:"to"`
	Amount struct {
		Units uint64 `json:"units"`
	} `json:"amount"`
	Fee struct {
		Units uint64 `json:"units"`
	} `json:"fee"`
	Nonce uint64 `json:"nonce"`
}

// cliSend runs `ledger send` from wallet through node via with an explicit
// nonce (the test keeps each sender's count, so a transfer may go to any
// node whatever its pool has seen yet) and returns what it reported.
func cliSend(ctx context.Context, n *testNetwork, via int, walletName, to, coins string, nonce uint64) (sentTx, error) {
	var out sentOut
	err := n.cli(ctx, via, &out, "send", "--from", walletName, "--to", to, "--amount", coins, "--nonce", fmt.Sprint(nonce))
	if err != nil {
		return sentTx{}, err
	}
	if out.Hash == "" || out.Nonce != nonce || out.To != to {
		return sentTx{}, fmt.Errorf("send from %s via node%d: unexpected result %+v", walletName, via, out)
	}
	return sentTx{from: out.From, to: out.To, amount: out.Amount.Units, fee: out.Fee.Units, nonce: nonce, hash: out.Hash, via: via}, nil
}

// waitTxsConfirmed waits until node i reports every sentTx confirmed.
func waitTxsConfirmed(ctx context.Context, n *testNetwork, i int, txs []sentTx, timeout time.Duration) error {
	return n.poll(ctx, timeout, fmt.Sprintf("%d transactions confirmed on node%d", len(txs), i), func(ctx context.Context) (bool, string, error) {
		var waiting []string
		for _, tx := range txs {
			r, err := n.client(i).Transaction(ctx, tx.hash)
			if err != nil {
				return false, "", err
			}
			if r.Status != "confirmed" {
				waiting = append(waiting, fmt.Sprintf("%.12s… (nonce %d via node%d) %s", tx.hash, tx.nonce, tx.via, r.Status))
			}
		}
		return len(waiting) == 0, "not confirmed: " + strings.Join(waiting, ", "), nil
	})
}

func TestNetworkScenarios(t *testing.T) {
	skipShort(t)
	began := time.Now()
	n := newNetwork(t, networkOptions{Nodes: coreNodes + 1, Miners: coreNodes, BlockTime: 1, Timeout: 6 * time.Minute})
	ctx := n.ctx
	core := []int{0, 1, 2, 3}
	var phases []string
	mark := func(name string, since time.Time) {
		phases = append(phases, fmt.Sprintf("%s %.1fs", name, time.Since(since).Seconds()))
	}
	defer func() { t.Logf("wall time: %s; total %.1fs", strings.Join(phases, ", "), time.Since(began).Seconds()) }()
	fatal := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	// ---- Phase 1: four nodes, five wallets funded, transfers.
	p1 := time.Now()
	n.startAll(core...)
	chainStart := time.Now()
	minerAddrs := make([]string, coreNodes)
	for i := range minerAddrs {
		a, err := n.minerAddress(i)
		fatal(err)
		minerAddrs[i] = a
	}

	wallets := make([]string, walletCount) // addresses; wallet k is named w<k>
	var wg sync.WaitGroup
	errs := make([]error, walletCount)
	for k := range wallets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out struct {
				Address, Name string
				Network       struct{ ChainID uint32 }
			}
			errs[k] = n.cli(ctx, k%coreNodes, &out, "wallet", "new", "--name", scenarioWallet(k))
			if errs[k] == nil && (out.Name != scenarioWallet(k) || !strings.HasPrefix(out.Address, n.prefix()+"1") || out.Network.ChainID != n.tn.Manifest.ChainID) {
				errs[k] = fmt.Errorf("wallet new %s: unexpected result %+v", scenarioWallet(k), out)
			}
			wallets[k] = out.Address
		}()
	}
	wg.Wait()
	for _, err := range errs {
		fatal(err)
	}

	// Funding: five transfers from the faucet through node 0, then
	// waited for together.
	faucet := n.faucet()
	var all []sentTx
	fund := make([]sentTx, walletCount)
	for k := range wallets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fund[k], errs[k] = cliSend(ctx, n, 0, faucet.Wallet, wallets[k], fmt.Sprint(fundCoins), uint64(k))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		fatal(err)
	}
	fatal(waitTxsConfirmed(ctx, n, 0, fund, roundWait))
	all = append(all, fund...)

	// Transfers: in round r wallet k sends to wallet (k+1+r%4)%5 (never
	// itself) through node (k+r)%4, skipping the killed node while it is
	// down. The five transfers of a round are submitted at once; the
	// round ends when they are confirmed.
	nonces := make([]uint64, walletCount)
	runRound := func(r int, nodes []int) {
		t.Helper()
		txs := make([]sentTx, walletCount)
		for k := range wallets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				via := nodes[(k+r)%len(nodes)]
				to := wallets[(k+1+r%(walletCount-1))%walletCount]
				coins := fmt.Sprintf("%d.%08d", 1+r, 1000*(k+1)+r) // distinct amounts, all 8 decimals used
				txs[k], errs[k] = cliSend(ctx, n, via, scenarioWallet(k), to, coins, nonces[k])
			}()
		}
		wg.Wait()
		for _, err := range errs {
			fatal(err)
		}
		for k := range nonces {
			nonces[k]++
		}
		// Confirmed on a node that stays up in every round.
		fatal(waitTxsConfirmed(ctx, n, 0, txs, roundWait))
		all = append(all, txs...)
	}
	for r := 0; r < killAfter; r++ {
		runRound(r, core)
	}
	mark("phase 1 (start, 5 wallets, funding, 25 transfers)", p1)

	// ---- Phase 2: kill -9 node 2 once it has reported transactions
	// confirmed; transfers go on without it; restart it.
	p2 := time.Now()
	var reported []confirmedRecord
	for _, tx := range all {
		r, err := n.client(killedNode).Transaction(ctx, tx.hash)
		fatal(err)
		if r.Status == "confirmed" {
			reported = append(reported, confirmedRecord{hash: tx.hash, blockHash: r.BlockHash, height: r.Height, confs: r.Confirmations})
		}
	}
	if len(reported) < len(fund) {
		t.Fatalf("node%d reports only %d of %d transactions confirmed before the kill", killedNode, len(reported), len(all))
	}
	killedAt, err := n.tip(ctx, killedNode)
	fatal(err)
	n.kill9(killedNode)
	t.Logf("node%d killed with SIGKILL at %s, after reporting %d of %d transactions confirmed", killedNode, killedAt, len(reported), len(all))

	others := []int{0, 1, 3}
	for r := killAfter; r < restartAt; r++ {
		runRound(r, others)
	}
	// First alone (no network, no mining), so what it finds is what its
	// store kept through the kill, not what its peers would send it
	// again: every transaction it had reported confirmed, in the block it
	// named (those in its tip block when it was asked might have moved
	// in a reorganisation in the instant before the kill).
	n.start(killedNode, "--p2p.off", "--mine=false")
	alone, err := n.tip(ctx, killedNode)
	fatal(err)
	for _, rec := range reported {
		r, err := n.client(killedNode).Transaction(ctx, rec.hash)
		fatal(err)
		if rec.confs >= 2 && (r.Status != "confirmed" || r.BlockHash != rec.blockHash) {
			t.Fatalf("after kill -9 and a restart without the network, node%d has transaction %s %s in block %q; before the kill it reported it in block %s (height %d, %d confirmations)",
				killedNode, rec.hash, r.Status, r.BlockHash, rec.blockHash, rec.height, rec.confs)
		}
	}
	t.Logf("node%d restarted without the network at %s: its store kept every transaction it had reported confirmed", killedNode, alone)
	n.stop(killedNode)
	n.start(killedNode) // the same config as before the kill
	caughtUp, err := n.waitSameTip(ctx, core, catchUpWait)
	fatal(err)
	if caughtUp.Height <= killedAt.Height {
		t.Fatalf("after the restart the common tip %s is not past node%d's tip at the kill (%s)", caughtUp, killedNode, killedAt)
	}
	moved := 0
	for _, rec := range reported {
		r, err := n.client(killedNode).Transaction(ctx, rec.hash)
		fatal(err)
		if r.Status != "confirmed" {
			t.Fatalf("transaction %s, reported confirmed by node%d in block %d (%s) before the kill, is %q after the restart",
				rec.hash, killedNode, rec.height, rec.blockHash, r.Status)
		}
		b, err := n.client(killedNode).BlockByHeight(ctx, r.Height)
		fatal(err)
		if b.Hash != r.BlockHash {
			t.Fatalf("node%d says transaction %s is in block %s at height %d, but its main chain has %s there", killedNode, rec.hash, r.BlockHash, r.Height, b.Hash)
		}
		if r.BlockHash != rec.blockHash {
			// A block one or two deep may lose a race with another
			// miner's; the transaction is then mined again. Deeper
			// ones must stay.
			if rec.confs >= 3 {
				t.Fatalf("transaction %s was in block %s (height %d, %d confirmations) before the kill; after the restart it is in %s at height %d",
					rec.hash, rec.blockHash, rec.height, rec.confs, r.BlockHash, r.Height)
			}
			moved++
		}
	}
	t.Logf("node%d restarted and caught up to %s; all %d transactions it had reported confirmed are confirmed (%d in another block after a shallow reorganisation)",
		killedNode, caughtUp, len(reported), moved)
	for r := restartAt; r < rounds; r++ {
		runRound(r, core)
	}
	if len(all) != walletCount+walletCount*rounds {
		t.Fatalf("%d transfers made, want %d", len(all), walletCount+walletCount*rounds)
	}
	mark("phase 2 (kill -9, 15 transfers without it, restart alone and check, restart, catch-up, 10 more)", p2)

	// ---- Phase 3: past height 100, a late node told only node 1.
	p3 := time.Now()
	fatal(n.waitHeight(ctx, []int{0}, targetTip, max(heightWait-time.Since(chainStart), time.Minute)))
	mark(fmt.Sprintf("waiting for height %d", targetTip), p3)
	p3 = time.Now()
	boot := n.record(1).P2P
	n.start(lateNode, "--p2p.bootnodes", strings.Join(boot, ","))
	var peers []rpc.Peer
	fatal(n.poll(ctx, peersWait, fmt.Sprintf("node%d to find peers beyond its bootnode", lateNode), func(ctx context.Context) (bool, string, error) {
		var err error
		peers, err = n.client(lateNode).Peers(ctx)
		if err != nil {
			return false, "", err
		}
		return len(peers) > 1, fmt.Sprintf("%d peers: %s", len(peers), peerIDs(peers)), nil
	}))
	everyone := append(append([]int{}, core...), lateNode)
	synced, err := n.waitSameTip(ctx, everyone, catchUpWait)
	fatal(err)
	if synced.Height < targetTip {
		t.Fatalf("late node synced to %s, below %d", synced, targetTip)
	}
	t.Logf("node%d, told only node1, has %d peers (%s) and synced to %s", lateNode, len(peers), peerIDs(peers), synced)
	mark("phase 3 (late node: peers and sync)", p3)

	// ---- Final: miners stop; one tip, one state root, the same
	// balances everywhere, and they add up.
	p4 := time.Now()
	for _, i := range core {
		var st rpc.MinerStatus
		fatal(n.client(i).Call(ctx, "miner_stop", nil, &st))
		if st.Running {
			t.Fatalf("node%d: miner_stop left the miner running: %+v", i, st)
		}
	}
	// A block found as the miners stopped may still be on its way: the
	// tip is final once every node agrees on it twice, 2 s apart.
	var final tipInfo
	for try := 1; ; try++ {
		first, err := n.waitSameTip(ctx, everyone, freezeWait)
		fatal(err)
		time.Sleep(2 * time.Second)
		again, err := n.waitSameTip(ctx, everyone, freezeWait)
		fatal(err)
		if again == first {
			final = again
			break
		}
		if try == 3 {
			t.Fatalf("the tip still moves with every miner stopped: %s, then %s", first, again)
		}
	}
	addrs := append(append([]string{faucet.Address}, wallets...), minerAddrs...)
	want, err := n.balances(ctx, 0, addrs)
	fatal(err)
	for _, i := range everyone[1:] {
		got, err := n.balances(ctx, i, addrs)
		fatal(err)
		for _, a := range addrs {
			if got[a] != want[a] {
				t.Errorf("node%d: balance of %s is %d, node0 says %d", i, a, got[a], want[a])
			}
		}
	}
	checkLedger(t, n, final, faucet.Address, wallets, minerAddrs, all, want)
	mark("final (miners stopped, balances on 5 nodes)", p4)
}

// checkLedger checks the balances at tip final against the transfers:
// each wallet and the faucet hold exactly what their transfers leave
// them, the miners together what the subsidies and fees paid, and
// everything adds up to the supply issued: the genesis allocations plus
// the subsidy of every block.
func checkLedger(t *testing.T, n *testNetwork, final tipInfo, faucet string, wallets, miners []string, txs []sentTx, bal map[string]uint64) {
	t.Helper()
	expect := map[string]int64{}
	for _, a := range n.tn.Genesis.Alloc {
		expect[a.Addr.Bech32(n.prefix())] += int64(a.Balance)
	}
	var fees uint64
	for _, tx := range txs {
		expect[tx.from] -= int64(tx.amount + tx.fee)
		expect[tx.to] += int64(tx.amount)
		fees += tx.fee
	}
	for _, a := range append([]string{faucet}, wallets...) {
		if int64(bal[a]) != expect[a] {
			t.Errorf("balance of %s is %d; its transfers leave it %d", a, bal[a], expect[a])
		}
	}
	var issued, alloc, minerTotal, total uint64
	for _, a := range n.tn.Genesis.Alloc {
		alloc += uint64(a.Balance)
	}
	for h := uint32(1); h <= final.Height; h++ {
		issued += uint64(n.tn.Genesis.Params.Subsidy(h))
	}
	for _, a := range miners {
		minerTotal += bal[a]
	}
	for _, v := range bal {
		total += v
	}
	if minerTotal != issued+fees {
		t.Errorf("the miners hold %d; the subsidies of blocks 1-%d (%d) and the fees (%d) make %d", minerTotal, final.Height, issued, fees, issued+fees)
	}
	if total != alloc+issued {
		t.Errorf("all balances add up to %d; the supply issued at height %d is %d (genesis %d + subsidies %d)", total, final.Height, alloc+issued, alloc, issued)
	}
	t.Logf("at %s: %d accounts hold %d base units = genesis %d + subsidies %d; miners hold %d including %d in fees of %d transfers",
		final, len(bal), total, alloc, issued, minerTotal, fees, len(txs))
}

func scenarioWallet(k int) string { return fmt.Sprintf("w%d", k) }

// peerIDs lists peers' ids, shortened, sorted.
func peerIDs(peers []rpc.Peer) string {
	ids := make([]string, len(peers))
	for i, p := range peers {
		id := p.PeerID
		if len(id) > 12 {
			id = "…" + id[len(id)-8:]
		}
		ids[i] = id
	}
	sort.Strings(ids)
	return strings.Join(ids, " ")
}
