//go:build unix

package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ledger-node/ledger/internal/testnet"
	"github.com/ledger-node/ledger/internal/testproc"
	"github.com/ledger-node/ledger/rpc"
)

// testnetProc is a running `ledgerd testnet`.
type testnetProc struct {
	cmd            *exec.Cmd
	stdout, stderr *lockedBuffer
	done           chan struct{} // closed when the process has exited
	err            error         // its exit, once done is closed
}

// startTestnet runs `ledgerd testnet args...` in its own process group.
// When the test ends the group is killed (the nodes, in their own groups,
// then get SIGTERM from the kernel as their parent dies) and the test
// waits until the nodes' ports are free.
func startTestnet(t *testing.T, bin, dir string, args ...string) *testnetProc {
	t.Helper()
	p := &testnetProc{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"testnet", "--dir", dir}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p.cmd.Env = testproc.NodeEnv() // the supervisor passes it on to the nodes
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		if m, err := testnet.ReadManifest(dir); err == nil {
			waitPortsFree(t, m, 20*time.Second)
		}
	})
	return p
}

// waitReady waits for "testnet ready"; false if the process exited first.
func (p *testnetProc) waitReady(t *testing.T, timeout time.Duration) bool {
	t.Helper()
	deadline := time.After(timeout)
	for !strings.Contains(p.stdout.String(), "testnet ready") {
		select {
		case <-p.done:
			return false
		case <-deadline:
			t.Fatalf("no \"testnet ready\" after %v\nstdout:\n%s\nstderr:\n%s", timeout, p.stdout, p.stderr)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return true
}

// stop sends SIGTERM to the testnet process alone and checks it exits 0
// within 20 s.
func (p *testnetProc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
		if p.err != nil {
			t.Fatalf("ledgerd testnet exit after SIGTERM: %v\nstderr:\n%s", p.err, p.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("ledgerd testnet did not exit within 20 s of SIGTERM\nstderr:\n%s", p.stderr)
	}
}

// freeBasePort finds a base port whose 2n ports (p2p and RPC of n
// nodes) are free on 127.0.0.1 now (callers retry on a collision).
func freeBasePort(t *testing.T, n int) int {
	t.Helper()
	base, err := testproc.FreePorts(2 * n)
	if err != nil {
		t.Fatal(err)
	}
	return base
}

// waitPortsFree waits until no node of m holds its ports: the processes
// are gone (or at least have closed their listeners).
func waitPortsFree(t *testing.T, m *testnet.Manifest, timeout time.Duration) {
	t.Helper()
	base := rpcPort(t, m.Nodes[0].RPC) - 1
	deadline := time.Now().Add(timeout)
	for !testproc.PortsFree(base, 2*len(m.Nodes)) {
		if time.Now().After(deadline) {
			t.Errorf("ports %d to %d still in use %v after the testnet stopped", base, base+2*len(m.Nodes)-1, timeout)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func rpcPort(t *testing.T, url string) int {
	t.Helper()
	_, port, err := net.SplitHostPort(strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// nodeCall calls a JSON-RPC method of a testnet node with the token from
// its cookie and decodes the result into out.
func nodeCall(t *testing.T, node testnet.NodeRecord, method string, out any) {
	t.Helper()
	token, err := rpc.ReadCookie(node.DataDir)
	if err != nil {
		t.Fatalf("%s cookie: %v", node.Name, err)
	}
	if filepath.Join(node.DataDir, rpc.CookieFile) != node.Cookie {
		t.Fatalf("%s: manifest cookie %s is not where the node writes it", node.Name, node.Cookie)
	}
	req, _ := http.NewRequest("POST", node.RPC, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"`+method+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", node.Name, method, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct {
		Result json.RawMessage `json:"result"`
		Error  any             `json:"error"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Error != nil {
		t.Fatalf("%s %s: HTTP %d %s", node.Name, method, resp.StatusCode, body)
	}
	if err := json.Unmarshal(r.Result, out); err != nil {
		t.Fatalf("%s %s result: %v", node.Name, method, err)
	}
}

type chainHead struct {
	Height uint32 `json:"height"`
	Hash   string `json:"hash"`
}

type nodeInfo struct {
	ChainID     uint32 `json:"chainId"`
	GenesisHash string `json:"genesisHash"`
	PeerID      string `json:"peerId"`
}

// TestTestnetCommand runs `ledgerd testnet` as a user would: three mining
// nodes on 1 s blocks come up, find each other, agree on a chain of at
// least 3 blocks; SIGTERM to the command alone stops every node and exits
// 0; conflicting flags on a restart are refused; and a restart from the
// directory brings back the same network with its chain.
func TestTestnetCommand(t *testing.T) {
	bin := buildDaemon(t)
	var (
		dir string
		p   *testnetProc
	)
	for attempt := 1; ; attempt++ {
		dir = filepath.Join(t.TempDir(), "tn")
		base := freeBasePort(t, 3)
		p = startTestnet(t, bin, dir, "--nodes", "3", "--block-time", "1", "--base-port", strconv.Itoa(base))
		if p.waitReady(t, 90*time.Second) {
			break
		}
		// Another process took a port between the check and the start.
		if attempt < 3 && strings.Contains(p.stderr.String(), "cannot listen on") {
			t.Logf("port collision at base %d, retrying: %s", base, p.stderr)
			continue
		}
		t.Fatalf("ledgerd testnet exited before ready: %v\nstdout:\n%s\nstderr:\n%s", p.err, p.stdout, p.stderr)
	}

	m, err := testnet.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Nodes) != 3 || m.ChainID == 1001 {
		t.Fatalf("manifest: %d nodes, chain id %d", len(m.Nodes), m.ChainID)
	}
	for _, want := range []string{m.Faucet.Address, "send --from faucet", m.Nodes[0].P2P[0], "ledgerd --genesis " + m.Genesis} {
		if !strings.Contains(p.stdout.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, p.stdout)
		}
	}
	var genesisHash string
	for _, node := range m.Nodes {
		var info nodeInfo
		nodeCall(t, node, "node_info", &info)
		if info.PeerID != node.PeerID || info.ChainID != m.ChainID {
			t.Fatalf("%s: node_info %+v, manifest peer %s chain %d", node.Name, info, node.PeerID, m.ChainID)
		}
		if genesisHash == "" {
			genesisHash = info.GenesisHash
		} else if info.GenesisHash != genesisHash {
			t.Fatalf("%s on genesis %s, node0 on %s", node.Name, info.GenesisHash, genesisHash)
		}
	}

	// Every node has a peer and all three agree on a tip at height 3 or
	// more (sampled together: with 1 s blocks they agree most of the time).
	var agreed chainHead
	deadline := time.Now().Add(60 * time.Second)
	for {
		peered, same := true, true
		heads := make([]chainHead, len(m.Nodes))
		for i, node := range m.Nodes {
			var peers []json.RawMessage
			nodeCall(t, node, "node_peers", &peers)
			peered = peered && len(peers) > 0
			nodeCall(t, node, "chain_head", &heads[i])
			same = same && heads[i] == heads[0]
		}
		if peered && same && heads[0].Height >= 3 {
			agreed = heads[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no common tip at height 3 within 60 s: heads %+v, all peered %v\nstderr:\n%s", heads, peered, p.stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("common tip %s at height %d", agreed.Hash, agreed.Height)

	p.stop(t)
	if n := strings.Count(p.stderr.String(), `msg="node stopped cleanly"`); n != 3 {
		t.Fatalf("%d nodes stopped cleanly, want 3:\n%s", n, p.stderr)
	}
	waitPortsFree(t, m, 5*time.Second)

	out, err := exec.Command(bin, "testnet", "--dir", dir, "--nodes", "2").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--nodes 2 (the network has 3)") {
		t.Fatalf("restart with --nodes 2: %v\n%s", err, out)
	}

	p = startTestnet(t, bin, dir)
	if !p.waitReady(t, 60*time.Second) {
		t.Fatalf("restart exited before ready: %v\nstderr:\n%s", p.err, p.stderr)
	}
	for _, node := range m.Nodes {
		var info nodeInfo
		nodeCall(t, node, "node_info", &info)
		var head chainHead
		nodeCall(t, node, "chain_head", &head)
		if info.GenesisHash != genesisHash || head.Height < agreed.Height {
			t.Fatalf("%s after restart: genesis %s (was %s), height %d (was %d)", node.Name, info.GenesisHash, genesisHash,
				head.Height, agreed.Height)
		}
	}
	p.stop(t)
	waitPortsFree(t, m, 5*time.Second)
	if _, err := os.Stat(filepath.Join(m.Nodes[0].DataDir, testnet.LogFile)); err != nil {
		t.Fatalf("node log: %v", err)
	}
}
