package e2e

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/ledger-node/ledger/internal/testnet"
	"github.com/ledger-node/ledger/internal/testproc"
	"github.com/ledger-node/ledger/rpc"
	"github.com/ledger-node/ledger/rpc/client"
	"github.com/ledger-node/ledger/wallet"
)

// Bounds of the harness's own waits. Generous: CI runs other packages'
// tests on the same two cores.
const (
	// readyTimeout bounds a node's start: process up, cookie written,
	// node_info answered.
	readyTimeout = 60 * time.Second
	// stopTimeout bounds a clean stop after SIGTERM.
	stopTimeout = 20 * time.Second
	// cleanupStopTimeout bounds the SIGTERM a test's cleanup sends each
	// node still running before it kills it.
	cleanupStopTimeout = 10 * time.Second
	// rpcTimeout bounds one JSON-RPC call.
	rpcTimeout = 10 * time.Second
	// cliTimeout bounds one ledger command (one with --wait sets its own
	// --timeout, which should be shorter).
	cliTimeout = 90 * time.Second
	// pollEvery is how often the waiters ask the nodes.
	pollEvery = 200 * time.Millisecond
	// defaultScenarioTimeout is a scenario's overall deadline unless
	// networkOptions.Timeout says otherwise.
	defaultScenarioTimeout = 6 * time.Minute
	// logTail is how many lines of each node's log a failure prints.
	logTail = 60
)

// networkOptions configure newNetwork. Zero values take the defaults.
type networkOptions struct {
	// Nodes is how many node directories are written (default 4). They
	// are not started: call start.
	Nodes int
	// Miners: the first Miners nodes mine, one thread each; 0 means all
	// of them, a negative number none.
	Miners int
	// BlockTime is the target seconds between blocks (default 1, the
	// shortest internal/testnet allows).
	BlockTime int
	// Timeout is the scenario's overall deadline, the life of the
	// network's context (default 6 min).
	Timeout time.Duration
	// Args gives extra ledgerd flags for node i at every start, after
	// --config (so they win over its file) and before start's own.
	Args func(i int) []string
	// Wrap, if set, turns ledgerd's command line for node i (binary
	// first) into the one to run, e.g. inside a network namespace.
	Wrap func(i int, argv []string) []string
	// Env is passed to testnet.Prepare (a zero Env measures this
	// machine's hash rate for the difficulty).
	Env testnet.Env
}

// testNetwork is a testnet directory and the ledgerd processes run from it.
type testNetwork struct {
	t    *testing.T
	ctx  context.Context // the scenario's deadline; cancelled when the test ends
	opts networkOptions
	tn   *testnet.Network
	Dir  string

	mu    sync.Mutex // guards every node's proc, rpc and starts
	nodes []*netNode
}

// netNode is one node of the network.
type netNode struct {
	index int
	rec   testnet.NodeRecord
	// proc is the running (or last) process, nil before the first start.
	proc *testproc.Proc
	// rpc is the client of the current process (token from its cookie);
	// nil before the first start.
	rpc    *client.Client
	starts int
}

// tipInfo is a node's tip: height, hash and the state root in its header
// (the commitment to every account).
type tipInfo struct {
	Height    uint32
	Hash      string
	StateRoot string
}

func (ti tipInfo) String() string {
	return fmt.Sprintf("height %d hash %.16s… stateRoot %.16s…", ti.Height, ti.Hash, ti.StateRoot)
}

// newNetwork writes a new network in a temporary directory, on ports free
// on 127.0.0.1 (a new draw of ports when another process took one in the
// meantime). No node runs yet. When the test ends every process is killed
// and, if the test failed, the tail of each node's log is printed.
func newNetwork(t *testing.T, opts networkOptions) *testNetwork {
	t.Helper()
	if bins == nil {
		t.Fatal("binaries not built (TestMain did not run the build)")
	}
	if opts.Nodes == 0 {
		opts.Nodes = 4
	}
	miners := opts.Miners
	switch {
	case miners == 0:
		miners = opts.Nodes
	case miners < 0:
		miners = 0
	}
	if opts.BlockTime == 0 {
		opts.BlockTime = 1
	}
	if opts.Timeout == 0 {
		opts.Timeout = defaultScenarioTimeout
	}
	var tn *testnet.Network
	for attempt := 1; ; attempt++ {
		base, err := testproc.FreePorts(2 * opts.Nodes)
		if err != nil {
			t.Fatal(err)
		}
		o := testnet.DefaultOptions()
		o.Nodes, o.Miners, o.BlockTime, o.BasePort = opts.Nodes, miners, opts.BlockTime, base
		o.Dir = filepath.Join(t.TempDir(), "testnet")
		tn, err = testnet.Prepare(o, nil, opts.Env)
		if err != nil {
			t.Fatalf("preparing the testnet: %v", err)
		}
		// The ports were free a moment ago; check once more now that
		// the (slow) preparation is done.
		if testproc.PortsFree(base, 2*opts.Nodes) {
			break
		}
		if attempt == 5 {
			t.Fatalf("no free block of %d ports on 127.0.0.1 after %d tries", 2*opts.Nodes, attempt)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
	n := &testNetwork{t: t, ctx: ctx, opts: opts, tn: tn, Dir: tn.Dir}
	for i, rec := range tn.Manifest.Nodes {
		n.nodes = append(n.nodes, &netNode{index: i, rec: rec})
	}
	// Registered before any process starts, so it runs after their
	// cleanups (last registered first): the logs are complete.
	t.Cleanup(func() {
		cancel()
		if t.Failed() {
			n.dumpLogs()
		}
	})
	t.Logf("testnet %s: %d nodes (%d mining), %d s blocks", tn, opts.Nodes, miners, opts.BlockTime)
	return n
}

// node returns node i, failing the test for an index out of range.
func (n *testNetwork) node(i int) *netNode {
	if i < 0 || i >= len(n.nodes) {
		n.t.Fatalf("no node %d: the network has %d", i, len(n.nodes))
	}
	return n.nodes[i]
}

// record is node i's manifest entry: data directory, RPC URL, peer id
// and p2p addresses.
func (n *testNetwork) record(i int) testnet.NodeRecord { return n.node(i).rec }

// faucet is the faucet wallet's location and funded address.
func (n *testNetwork) faucet() testnet.FaucetInfo { return n.tn.Manifest.Faucet }

// prefix is the network's address prefix.
func (n *testNetwork) prefix() string { return n.tn.Genesis.Params.AddressPrefix }

// logPath is node i's log file.
func (n *testNetwork) logPath(i int) string {
	return filepath.Join(n.record(i).DataDir, testnet.LogFile)
}

// start starts node i as `ledgerd --config <its ledgerd.toml>` plus
// networkOptions.Args and extra, and waits until it answers JSON-RPC with
// the token it wrote at this start. It fails the test if the node does
// not come up within readyTimeout. Call it from the test's goroutine.
func (n *testNetwork) start(i int, extra ...string) {
	n.t.Helper()
	nd := n.node(i)
	if p := n.proc(i); p != nil && !p.Exited() {
		n.t.Fatalf("node%d is already running", i)
	}
	// The cookie of an earlier run (left by a kill) must not be taken
	// for this run's.
	cookie := rpc.CookiePath(nd.rec.DataDir)
	if err := os.Remove(cookie); err != nil && !errors.Is(err, os.ErrNotExist) {
		n.t.Fatal(err)
	}
	argv := []string{bins["ledgerd"], "--config", filepath.Join(nd.rec.DataDir, testnet.ConfigFile)}
	if n.opts.Args != nil {
		argv = append(argv, n.opts.Args(i)...)
	}
	argv = append(argv, extra...)
	if n.opts.Wrap != nil {
		argv = n.opts.Wrap(i, argv)
	}
	n.mu.Lock()
	nd.starts++
	starts := nd.starts
	n.mu.Unlock()
	if f, err := os.OpenFile(n.logPath(i), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err == nil {
		fmt.Fprintf(f, "=== e2e: start %d of node%d at %s: %s\n", starts, i, time.Now().Format(time.RFC3339Nano), strings.Join(argv, " "))
		f.Close()
	}
	p, err := testproc.Start(n.t, testproc.Spec{
		Path: argv[0], Args: argv[1:], Env: testproc.NodeEnv(), Dir: nd.rec.DataDir,
		LogFile: n.logPath(i), Name: fmt.Sprintf("node%d", i), GracefulStop: cleanupStopTimeout,
	})
	if err != nil {
		n.t.Fatal(err)
	}
	n.mu.Lock()
	nd.proc, nd.rpc = p, nil
	n.mu.Unlock()
	c, err := n.waitReady(nd, p)
	if err != nil {
		n.t.Fatal(err)
	}
	n.mu.Lock()
	nd.rpc = c
	n.mu.Unlock()
}

// waitReady polls until node nd's process p has written its cookie and
// answers node_info with it; it fails early if the process exits.
func (n *testNetwork) waitReady(nd *netNode, p *testproc.Proc) (*client.Client, error) {
	ctx, cancel := context.WithTimeout(n.ctx, readyTimeout)
	defer cancel()
	last := "no cookie yet"
	for {
		if p.Exited() {
			return nil, fmt.Errorf("node%d exited while starting (%v); last output:\n%s", nd.index, p.ExitErr(), p.Tail(logTail))
		}
		if token, err := rpc.ReadCookie(nd.rec.DataDir); err == nil {
			c, err := client.New(client.Config{URL: nd.rec.RPC, Token: token, Timeout: rpcTimeout})
			if err != nil {
				return nil, err
			}
			_, err = c.NodeInfo(ctx)
			if err == nil {
				return c, nil
			}
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("node%d not ready after %v (last: %s); last output:\n%s", nd.index, readyTimeout, last, p.Tail(logTail))
		case <-time.After(pollEvery):
		}
	}
}

// startAll starts nodes (all of them if none are named): the first one,
// then the rest. Node 0 is every other node's bootnode in the configs
// internal/testnet writes, so start it first.
func (n *testNetwork) startAll(nodes ...int) {
	n.t.Helper()
	if len(nodes) == 0 {
		nodes = n.all()
	}
	for _, i := range nodes {
		n.start(i)
	}
}

// all is every node's index.
func (n *testNetwork) all() []int {
	idx := make([]int, len(n.nodes))
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// stop sends node i SIGTERM and fails the test unless it exits 0 within
// stopTimeout.
func (n *testNetwork) stop(i int) {
	n.t.Helper()
	p := n.proc(i)
	if p == nil {
		n.t.Fatalf("node%d was never started", i)
	}
	if err := p.Stop(stopTimeout); err != nil {
		n.t.Fatalf("node%d did not stop cleanly: %v; last output:\n%s", i, err, p.Tail(logTail))
	}
}

// kill9 kills node i with SIGKILL and waits until it is gone.
func (n *testNetwork) kill9(i int) {
	n.t.Helper()
	p := n.proc(i)
	if p == nil {
		n.t.Fatalf("node%d was never started", i)
	}
	if err := p.Kill9(); err != nil {
		n.t.Fatal(err)
	}
}

// proc is node i's current (or last) process; nil before its first start.
func (n *testNetwork) proc(i int) *testproc.Proc {
	nd := n.node(i)
	n.mu.Lock()
	defer n.mu.Unlock()
	return nd.proc
}

// running reports whether node i's process is up.
func (n *testNetwork) running(i int) bool {
	p := n.proc(i)
	return p != nil && !p.Exited()
}

// client is node i's RPC client for its current process. Before the
// first start, or while a start is under way, it returns a client
// without a token, whose calls fail.
func (n *testNetwork) client(i int) *client.Client {
	nd := n.node(i)
	n.mu.Lock()
	c := nd.rpc
	n.mu.Unlock()
	if c == nil {
		c, _ = client.New(client.Config{URL: nd.rec.RPC, Timeout: rpcTimeout})
	}
	return c
}

// cliError is a ledger command that exited non-zero.
type cliError struct {
	Args   []string
	Code   int
	Stderr string
}

func (e *cliError) Error() string {
	return fmt.Sprintf("ledger %s: exit %d: %s", strings.Join(e.Args, " "), e.Code, strings.TrimSpace(e.Stderr))
}

// cli runs `ledger --json` against node i (its --rpc URL and --datadir,
// so the token comes from its current cookie) with the faucet's wallet
// directory and password file (the wallets tests make live there too, under
// the same password, made with the cheap test KDF for this network's
// genesis), then args. It decodes standard output into out (unless nil);
// a non-zero exit is a *cliError carrying standard error.
func (n *testNetwork) cli(ctx context.Context, i int, out any, args ...string) error {
	rec, f := n.record(i), n.faucet()
	global := []string{"--json", "--rpc", rec.RPC, "--datadir", rec.DataDir, "--wallet.dir", f.WalletDir,
		"--password-file", f.PasswordFile, "--genesis", n.tn.Manifest.Genesis, "--wallet.kdf", "test"}
	ctx, cancel := context.WithTimeout(ctx, cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bins["ledger"], append(global, args...)...)
	cmd.Env = testproc.EnvWithout("LEDGER_")
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ctx.Err() != nil {
			return fmt.Errorf("ledger %s: %w (stderr: %s)", strings.Join(args, " "), ctx.Err(), strings.TrimSpace(stderr.String()))
		}
		return &cliError{Args: args, Code: ee.ExitCode(), Stderr: stderr.String()}
	}
	if err != nil {
		return fmt.Errorf("ledger %s: %w", strings.Join(args, " "), err)
	}
	if out != nil {
		if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
			return fmt.Errorf("ledger %s: output %q: %w", strings.Join(args, " "), stdout.String(), err)
		}
	}
	return nil
}

// tip is node i's tip with the state root of its header.
func (n *testNetwork) tip(ctx context.Context, i int) (tipInfo, error) {
	c := n.client(i)
	h, err := c.Head(ctx)
	if err != nil {
		return tipInfo{}, fmt.Errorf("node%d chain_head: %w", i, err)
	}
	b, err := c.BlockByHash(ctx, h.Hash)
	if err != nil {
		return tipInfo{}, fmt.Errorf("node%d chain_getBlockByHash %s: %w", i, h.Hash, err)
	}
	return tipInfo{Height: h.Height, Hash: h.Hash, StateRoot: b.StateRoot}, nil
}

// poll calls check every pollEvery until it reports done, returns an
// error, or timeout (or the scenario's deadline) passes; then the error
// says what was awaited and the last state check described.
func (n *testNetwork) poll(ctx context.Context, timeout time.Duration, what string, check func(ctx context.Context) (done bool, state string, err error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	last := "nothing observed yet"
	for {
		done, state, err := check(ctx)
		if err == nil && done {
			return nil
		}
		if err != nil {
			if ctx.Err() == nil {
				last = "error: " + err.Error()
			}
		} else {
			last = state
		}
		select {
		case <-ctx.Done():
			why := "timed out"
			if n.ctx.Err() != nil {
				why = "the scenario's overall deadline passed"
			}
			return fmt.Errorf("waiting for %s: %s after %v; last seen: %s", what, why, time.Since(start).Round(time.Millisecond), last)
		case <-time.After(pollEvery):
		}
	}
}

// waitHeight waits until every node in nodes has a tip at height h or
// above.
func (n *testNetwork) waitHeight(ctx context.Context, nodes []int, h uint32, timeout time.Duration) error {
	return n.poll(ctx, timeout, fmt.Sprintf("nodes %v at height %d", nodes, h), func(ctx context.Context) (bool, string, error) {
		var heights []string
		done := true
		for _, i := range nodes {
			head, err := n.client(i).Head(ctx)
			if err != nil {
				return false, "", fmt.Errorf("node%d: %w", i, err)
			}
			heights = append(heights, fmt.Sprintf("node%d %d", i, head.Height))
			done = done && head.Height >= h
		}
		return done, "heights " + strings.Join(heights, ", "), nil
	})
}

// waitSameTip waits until every node in nodes has the same tip hash and
// the same state root in that block, and returns that tip. While miners
// run the tip moves every block time; the nodes are asked one after the
// other within milliseconds, and the check is repeated until they agree.
func (n *testNetwork) waitSameTip(ctx context.Context, nodes []int, timeout time.Duration) (tipInfo, error) {
	var agreed tipInfo
	err := n.poll(ctx, timeout, fmt.Sprintf("nodes %v on the same tip", nodes), func(ctx context.Context) (bool, string, error) {
		tips := make([]tipInfo, len(nodes))
		var desc []string
		same := true
		for k, i := range nodes {
			ti, err := n.tip(ctx, i)
			if err != nil {
				return false, "", err
			}
			tips[k] = ti
			desc = append(desc, fmt.Sprintf("node%d %s", i, ti))
			same = same && ti.Hash == tips[0].Hash
		}
		if !same {
			return false, strings.Join(desc, "; "), nil
		}
		for k, i := range nodes {
			if tips[k].StateRoot != tips[0].StateRoot {
				return false, "", fmt.Errorf("node%d has state root %s for block %s, node%d has %s",
					i, tips[k].StateRoot, tips[k].Hash, nodes[0], tips[0].StateRoot)
			}
		}
		agreed = tips[0]
		return true, "", nil
	})
	return agreed, err
}

// balances is the confirmed balance of each address on node i.
func (n *testNetwork) balances(ctx context.Context, i int, addrs []string) (map[string]uint64, error) {
	c := n.client(i)
	out := make(map[string]uint64, len(addrs))
	for _, a := range addrs {
		acc, err := c.Account(ctx, a)
		if err != nil {
			return nil, fmt.Errorf("node%d state_getAccount %s: %w", i, a, err)
		}
		out[a] = acc.Balance
	}
	return out, nil
}

// minerAddress is the address node i's blocks pay: the key ledgerd keeps
// in <datadir>/miner.key (written at its first start) unless
// --miner.address was given.
func (n *testNetwork) minerAddress(i int) (string, error) {
	path := filepath.Join(n.record(i).DataDir, "miner.key")
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("node%d's miner key: %w", i, err)
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(b) != 32 {
		return "", fmt.Errorf("node%d's miner key %s: not 64 hex digits", i, path)
	}
	return wallet.AddressOf(secp256k1.PrivKeyFromBytes(b)).Bech32(n.prefix()), nil
}

// dumpLogs prints the last lines of every node's log file (every start of
// it, in order), for a failed test.
func (n *testNetwork) dumpLogs() {
	for i := range n.nodes {
		data, err := os.ReadFile(n.logPath(i))
		if err != nil {
			n.t.Logf("node%d: no log: %v", i, err)
			continue
		}
		n.t.Logf("---- node%d: last %d lines of %s ----\n%s", i, logTail, n.logPath(i), testproc.TailLines(string(data), logTail))
	}
}
