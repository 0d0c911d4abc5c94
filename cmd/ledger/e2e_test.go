package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ledger-node/ledger/chain/genesis"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/internal/chaingen"
	"github.com/ledger-node/ledger/internal/testproc"
	"github.com/ledger-node/ledger/wallet"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
	bins      map[string]string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binaries builds ledger and ledgerd once per test process (lazily, so
// that fuzz workers and unit-test runs do not pay for it).
func binaries(t *testing.T) (cli, daemon string) {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "ledger-cli-e2e"); buildErr != nil {
			return
		}
		bins, buildErr = testproc.Build(binDir, ".", "../ledgerd")
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return bins["ledger"], bins["ledgerd"]
}

// writeGenesis writes a test network that settles at about one block a
// second (a quick ASERT half-life), funding alloc.
func writeGenesis(t *testing.T, path string, start uint64, alloc map[string]uint64) {
	t.Helper()
	f := chaingen.GenesisFile(chaingen.Options{ChainID: 4242, Time: start, Spacing: 1, Bits: "2000ffff"}, nil)
	f.Network, f.ASERTHalfLife, f.Alloc = "clitest", 10, alloc
	g, err := genesis.Build(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := g.File.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// cliRunner runs the ledger binary with a fixed set of global flags.
type cliRunner struct {
	t      *testing.T
	bin    string
	global []string
}

// run returns the exit code, stdout and stderr.
func (c cliRunner) run(args ...string) (int, string, string) {
	c.t.Helper()
	cmd := exec.Command(c.bin, append(append([]string{}, c.global...), args...)...)
	cmd.Env = cleanEnv()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("ledger %q: %v", args, err)
	}
	return code, out.String(), errOut.String()
}

// ok runs a command that must succeed and decodes its --json output.
func (c cliRunner) ok(v any, args ...string) string {
	c.t.Helper()
	code, out, errOut := c.run(append([]string{"--json"}, args...)...)
	if code != 0 {
		c.t.Fatalf("ledger %q: exit %d\n%s", args, code, errOut)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(out), v); err != nil {
			c.t.Fatalf("ledger %q: output %q: %v", args, out, err)
		}
	}
	return out
}

// refused runs a command that must fail with a message containing sub.
func (c cliRunner) refused(sub string, args ...string) {
	c.t.Helper()
	code, out, errOut := c.run(args...)
	if code == 0 || !strings.Contains(errOut, sub) || !strings.HasPrefix(errOut, "ledger: ") || strings.Count(errOut, "\n") != 1 {
		c.t.Fatalf("ledger %q: exit %d, stdout %q, stderr %q; want a one-line refusal containing %q", args, code, out, errOut, sub)
	}
}

// cleanEnv is the environment without LEDGER_ settings that could change
// what the test runs.
func cleanEnv() []string { return testproc.EnvWithout("LEDGER_") }

type balanceOut struct {
	Accounts           []balanceJSON
	Confirmed, Pending jsonAmount
}

// TestCLIEndToEnd runs both real binaries: a node funding a wallet made
// with the CLI, refused sends that change nothing, a send followed to
// confirmation, balances, history, tx, block, status and rpc, and an
// offline-signed transaction submitted later.
func TestCLIEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs both binaries; runs in the full pass")
	}
	cliBin, daemonBin := binaries(t)
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte("e2e password\n"), 0o600)
	badPW := filepath.Join(dir, "badpw")
	os.WriteFile(badPW, []byte("not it\n"), 0o600)
	datadir := filepath.Join(dir, "node")
	cli := cliRunner{t: t, bin: cliBin, global: []string{"--wallet.dir", filepath.Join(dir, "wallets"), "--password-file", pwFile,
		"--wallet.kdf", "test", "--datadir", datadir}}

	// The funded wallet's address must be in the genesis, whose hash the
	// wallet file is bound to: make the key with "wallet new" on a
	// network with the same chain id (addresses depend on the chain id
	// only), then restore its words on the real one.
	start := uint64(time.Now().Unix())
	g0, g1 := filepath.Join(dir, "g0.json"), filepath.Join(dir, "g1.json")
	writeGenesis(t, g0, start, nil)
	var seed createdJSON
	cli.ok(&seed, "--genesis", g0, "wallet", "new", "--name", "seed")
	if len(strings.Fields(seed.Mnemonic)) != wallet.MnemonicWords || !strings.HasPrefix(seed.Address, "ltest1") {
		t.Fatalf("wallet new: %+v", seed)
	}
	const funds = 1000 * uint64(types.Coin)
	writeGenesis(t, g1, start, map[string]uint64{seed.Address: funds})
	mnemonicFile := filepath.Join(dir, "words")
	os.WriteFile(mnemonicFile, []byte(seed.Mnemonic+"\n"), 0o600)
	var alice, bob createdJSON
	cli.ok(&alice, "--genesis", g1, "wallet", "import", "--name", "alice", "--mnemonic-file", mnemonicFile)
	if alice.Address != seed.Address {
		t.Fatalf("restored address %s, want %s", alice.Address, seed.Address)
	}
	cli.ok(&bob, "--genesis", g1, "wallet", "new", "--name", "bob")
	cli.ok(nil, "wallet", "new", "--name", "devnet-wallet") // of the default network

	node, err := testproc.Start(t, testproc.Spec{Path: daemonBin, Args: []string{"--genesis", g1, "--datadir", datadir,
		"--mine", "--miner.threads", "1", "--p2p.off", "--rpc.addr", "127.0.0.1:0", "--mempool.persist=false"},
		Env: cleanEnv(), Name: "ledgerd", GracefulStop: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	m, err := node.WaitLog(regexp.MustCompile(`msg="rpc listening".*addr=(127\.0\.0\.1:\d+)`), 20*time.Second)
	if err != nil {
		t.Fatalf("node did not start RPC: %v", err)
	}
	cli.global = append(cli.global, "--rpc", "http://"+m[1])

	// Refused sends: each exits non-zero with a message saying why, and
	// nothing reaches the node.
	var before balanceOut
	cli.ok(&before, "balance", "alice")
	if before.Confirmed.Units != funds || before.Accounts[0].PendingNonce != 0 {
		t.Fatalf("alice's funded balance: %+v", before)
	}
	typo := []byte(bob.Address)
	typo[len(typo)-3] = map[bool]byte{true: 'q', false: 'p'}[typo[len(typo)-3] != 'q']
	var bobAddr types.Address
	if a, err := wallet.ParseAddress(bob.Address, "ltest"); err != nil {
		t.Fatal(err)
	} else {
		bobAddr = a
	}
	send := []string{"send", "--from", "alice", "--to", bob.Address}
	cli.refused("wrong checksum", "send", "--from", "alice", "--to", string(typo), "--amount", "1")
	cli.refused("another network", "send", "--from", "alice", "--to", bobAddr.Bech32("ldev"), "--amount", "1")
	cli.refused("not enough coins", append(send, "--amount", "1000")...)
	cli.refused("more than zero", append(send, "--amount", "0")...)
	cli.refused("must be positive", append(send, "--amount", "-5")...)
	cli.refused("wrong password", append(send, "--amount", "1", "--password-file", badPW)...)
	cli.refused("but the node", "send", "--from", "devnet-wallet", "--to", bobAddr.Bech32("ldev"), "--amount", "1")
	var after balanceOut
	cli.ok(&after, "balance", "alice")
	if after.Confirmed != before.Confirmed || after.Pending != before.Pending || after.Accounts[0].PendingNonce != 0 {
		t.Fatalf("a refused send changed alice's account: %+v, was %+v", after, before)
	}
	var pool struct{ Count int }
	cli.ok(&pool, "rpc", "mempool_info")
	if pool.Count != 0 {
		t.Fatalf("refused sends left %d transactions in the pool", pool.Count)
	}

	// A send followed to its first confirmation.
	var sent sentJSON
	cli.ok(&sent, append(send, "--amount", "12.5", "--wait", "1", "--timeout", "60s")...)
	if sent.Confirmations < 1 || sent.Height == 0 || sent.Amount.Units != 1250000000 || sent.Fee.Units == 0 || sent.From != alice.Address {
		t.Fatalf("send result %+v", sent)
	}
	var aliceBal, bobBal balanceOut
	cli.ok(&aliceBal, "balance", "alice")
	cli.ok(&bobBal, "balance", bob.Address)
	if want := funds - 1250000000 - sent.Fee.Units; aliceBal.Confirmed.Units != want || aliceBal.Pending.Units != want {
		t.Fatalf("alice after the send: %+v, want %d", aliceBal, want)
	}
	if bobBal.Confirmed.Coins != "12.50000000" || bobBal.Pending.Coins != "12.50000000" {
		t.Fatalf("bob after the send: %+v", bobBal)
	}

	// History on both sides, by wallet and by address.
	var hA, hB historyJSON
	cli.ok(&hA, "history", "alice")
	cli.ok(&hB, "history", bob.Address)
	if len(hA.Transactions) != 1 || hA.Transactions[0].Hash != sent.Hash || hA.Transactions[0].Direction != "out" ||
		hA.Transactions[0].Height != sent.Height {
		t.Fatalf("alice's history %+v", hA)
	}
	if len(hB.Transactions) != 1 || hB.Transactions[0].Hash != sent.Hash || hB.Transactions[0].Direction != "in" ||
		hB.Transactions[0].Amount != 1250000000 {
		t.Fatalf("bob's history %+v", hB)
	}

	// tx, block, status, rpc.
	var txOut struct {
		Transaction struct {
			Status, From, To string
			Height           uint32
		}
		PoolStatus  struct{ State string }
		Explanation string
	}
	cli.ok(&txOut, "tx", sent.Hash)
	if txOut.Transaction.Status != "confirmed" || txOut.Transaction.From != alice.Address || txOut.Transaction.To != bob.Address ||
		!strings.Contains(txOut.Explanation, "confirmed in block") {
		t.Fatalf("tx: %+v", txOut)
	}
	var blk struct {
		Hash   string
		Height uint32
		Txs    []string
	}
	cli.ok(&blk, "block", itoa(sent.Height))
	if blk.Height != sent.Height || blk.Hash != sent.BlockHash || !contains(blk.Txs, sent.Hash) {
		t.Fatalf("block %d: %+v, want hash %s with tx %s", sent.Height, blk, sent.BlockHash, sent.Hash)
	}
	var byHash struct{ Height uint32 }
	cli.ok(&byHash, "block", sent.BlockHash)
	if byHash.Height != sent.Height {
		t.Fatalf("block by hash: height %d", byHash.Height)
	}
	var st statusJSON
	cli.ok(&st, "status")
	if st.ChainID != 4242 || st.Network != "clitest" || st.Height < sent.Height || st.Peers != 0 || st.Sync.Syncing {
		t.Fatalf("status %+v", st)
	}
	var head struct {
		Height uint32
		Hash   string
	}
	cli.ok(&head, "rpc", "chain_head")
	if head.Height < sent.Height || len(head.Hash) != 64 {
		t.Fatalf("rpc chain_head: %+v", head)
	}
	if code, out, _ := cli.run("status"); code != 0 || !strings.Contains(out, "clitest (chain 4242") {
		t.Fatalf("human status: %d %s", code, out)
	}

	// Offline signing: nothing reaches the node until tx submit.
	offFile := filepath.Join(dir, "offline.tx")
	var off sentJSON
	cli.ok(&off, append(send, "--amount", "1", "--fee", "0.00001", "--nonce", "1", "--offline", "--out", offFile)...)
	raw, err := os.ReadFile(offFile)
	if err != nil || strings.TrimSpace(string(raw)) != off.RawTx || off.Nonce != 1 {
		t.Fatalf("offline file %q (%v), result %+v", raw, err, off)
	}
	cli.ok(&txOut, "tx", off.Hash)
	if txOut.Transaction.Status != "unknown" {
		t.Fatalf("the offline transaction reached the node before submit: %+v", txOut)
	}
	cli.refused("already exists", append(send, "--amount", "1", "--fee", "0.00001", "--nonce", "1", "--offline", "--out", offFile)...)
	var submitted sentJSON
	cli.ok(&submitted, "tx", "submit", offFile, "--wait", "1", "--timeout", "60s")
	if submitted.Hash != off.Hash || submitted.Confirmations < 1 {
		t.Fatalf("tx submit: %+v, want hash %s confirmed", submitted, off.Hash)
	}
	cli.ok(&bobBal, "balance", "bob")
	if bobBal.Confirmed.Coins != "13.50000000" {
		t.Fatalf("bob after the offline transfer: %+v", bobBal)
	}
	// Submitted again (as hex this time), the mined transaction is refused:
	// its nonce is used.
	cli.refused("ErrBadNonce", "tx", "submit", off.RawTx)
}

func itoa(n uint32) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
