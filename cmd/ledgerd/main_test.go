package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/chain/genesis"
	"github.com/ledger-node/ledger/internal/chaingen"
	"github.com/ledger-node/ledger/internal/testproc"
)

// loopback makes test daemons listen on 127.0.0.1 only, on a free port.
const loopback = "/ip4/127.0.0.1/tcp/0"

// buildDaemon compiles ledgerd for a test (the build cache makes every
// build after the first cheap).
func buildDaemon(t *testing.T) string {
	t.Helper()
	bins, err := testproc.Build(t.TempDir(), ".")
	if err != nil {
		t.Fatal(err)
	}
	return bins["ledgerd"]
}

// writeTestGenesis writes a trivial-target network so the daemon mines
// blocks in microseconds.
func writeTestGenesis(t *testing.T, dir string, chainID uint32) string {
	t.Helper()
	f := chaingen.GenesisFile(chaingen.Options{ChainID: chainID, Time: uint64(time.Now().Unix()) - 3600}, nil)
	g, err := genesis.Build(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := g.File.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "genesis.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDaemonMinesAndStopsCleanly runs the real binary: it mines on a test
// network, stops on SIGTERM with exit 0 within seconds, and leaves a store
// that opens clean with every block it reported.
func TestDaemonMinesAndStopsCleanly(t *testing.T) {
	bin := buildDaemon(t)
	dir := t.TempDir()
	gpath := writeTestGenesis(t, dir, 77)
	datadir := filepath.Join(dir, "data")
	stderr := &lockedBuffer{}
	cmd := exec.Command(bin, "--rpc.addr", "127.0.0.1:0", "--datadir", datadir, "--genesis", gpath, "--mine", "--miner.threads", "1", "--p2p.listen", loopback)
	cmd.SysProcAttr = testproc.ChildAttr()
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// expectCleanStop reaps it; Kill after that is a no-op.
	t.Cleanup(func() { cmd.Process.Kill() })
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(stderr.String(), "height=5 ") {
		if time.Now().After(deadline) {
			t.Fatalf("no block 5 after 60 s:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	expectCleanStop(t, cmd, stderr, datadir, gpath, 5)
}

// TestDaemonRefusesOtherGenesis: a data directory made for one network
// does not start with another, and says so.
func TestDaemonRefusesOtherGenesis(t *testing.T) {
	bin := buildDaemon(t)
	dir := t.TempDir()
	datadir := filepath.Join(dir, "data")
	first := writeTestGenesis(t, dir, 77)
	cmd, out := startDaemon(t, bin, "--rpc.addr", "127.0.0.1:0", "--datadir", datadir, "--genesis", first, "--p2p.off")
	// Serving RPC means the store was created for the first network.
	waitLog(t, out, regexp.MustCompile(`msg="rpc listening".*addr=(127\.0\.0\.1:\d+)`), 60*time.Second)
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	otherDir := t.TempDir()
	second := writeTestGenesis(t, otherDir, 78)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	refused := exec.CommandContext(ctx, bin, "--rpc.addr", "127.0.0.1:0", "--datadir", datadir, "--genesis", second, "--p2p.off")
	refused.SysProcAttr = testproc.ChildAttr()
	output, err := refused.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("daemon with another genesis still running after 60 s:\n%s", output)
	}
	if err == nil {
		t.Fatal("daemon started on a data directory of another network")
	}
	if !strings.Contains(string(output), "belongs to the network") {
		t.Fatalf("error does not say the data directory is for another network:\n%s", output)
	}
}

// lockedBuffer collects a daemon's output for the copying goroutine exec
// starts and the test reading it.
type lockedBuffer = testproc.Buffer

// startDaemon runs the binary with args and returns its process and a
// buffer of what it logs; the process is killed when the test ends.
func startDaemon(t *testing.T, bin string, args ...string) (*exec.Cmd, *lockedBuffer) {
	t.Helper()
	out := &lockedBuffer{}
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = testproc.ChildAttr()
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	})
	return cmd, out
}

// waitLog waits until the daemon's log matches re and returns the first
// submatch.
func waitLog(t *testing.T, out *lockedBuffer, re *regexp.Regexp, timeout time.Duration) string {
	t.Helper()
	m, err := out.WaitMatch(re, timeout)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) > 1 {
		return m[1]
	}
	return m[0]
}

// TestTwoDaemonsSync: a second daemon told only the first one's address
// (as printed at start-up) joins it, syncs the chain it mined, and both
// stores agree after a clean stop.
func TestTwoDaemonsSync(t *testing.T) {
	bin := buildDaemon(t)
	dir := t.TempDir()
	gpath := writeTestGenesis(t, dir, 79)
	cmdA, outA := startDaemon(t, bin, "--rpc.addr", "127.0.0.1:0", "--datadir", filepath.Join(dir, "a"), "--genesis", gpath, "--mine",
		"--p2p.listen", loopback)
	addr := waitLog(t, outA, regexp.MustCompile(`listen="?(/ip4/127\.0\.0\.1/tcp/\d+/p2p/\w+)`), 20*time.Second)
	waitLog(t, outA, regexp.MustCompile(`height=20 `), 30*time.Second)
	cmdB, outB := startDaemon(t, bin, "--rpc.addr", "127.0.0.1:0", "--datadir", filepath.Join(dir, "b"), "--genesis", gpath,
		"--p2p.listen", loopback, "--p2p.bootnodes", addr)
	waitLog(t, outB, regexp.MustCompile(`msg="sync complete"`), 30*time.Second)

	g, err := genesis.Load(gpath)
	if err != nil {
		t.Fatal(err)
	}
	stop := func(name string, cmd *exec.Cmd) *chain.Chain {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("daemon %s exit: %v", name, err)
		}
		c, err := chain.Open(chain.Config{Dir: filepath.Join(dir, name, "chaindata"), Genesis: g})
		if err != nil {
			t.Fatalf("store %s: %v", name, err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	b := stop("b", cmdB)
	a := stop("a", cmdA)
	tb := b.Tip()
	if tb.Height < 20 {
		t.Fatalf("second daemon synced only to height %d", tb.Height)
	}
	if h, err := a.HashAtHeight(tb.Height); err != nil || h != tb.Hash {
		t.Fatalf("second daemon's tip %s at height %d is not on the first's chain (%s, %v)", tb.Hash, tb.Height, h, err)
	}
}

// TestDaemonServesRPC: the real binary answers JSON-RPC on loopback with
// the token it wrote to <datadir>/rpc.cookie (mode 0600), refuses a call
// without it, and serves /health without one.
func TestDaemonServesRPC(t *testing.T) {
	bin := buildDaemon(t)
	dir := t.TempDir()
	gpath := writeTestGenesis(t, dir, 80)
	datadir := filepath.Join(dir, "data")
	_, out := startDaemon(t, bin, "--rpc.addr", "127.0.0.1:0", "--datadir", datadir, "--genesis", gpath,
		"--mine", "--p2p.off")
	addr := waitLog(t, out, regexp.MustCompile(`msg="rpc listening".*addr=(127\.0\.0\.1:\d+)`), 20*time.Second)
	waitLog(t, out, regexp.MustCompile(`height=3 `), 20*time.Second)
	cookie := filepath.Join(datadir, "rpc.cookie")
	info, err := os.Stat(cookie)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("cookie %s: %v, mode %v", cookie, err, info.Mode())
	}
	token, err := os.ReadFile(cookie)
	if err != nil {
		t.Fatal(err)
	}
	call := func(auth string) (int, string) {
		req, _ := http.NewRequest("POST", "http://"+addr+"/", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"chain_head"}`))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, _ := call(""); code != http.StatusUnauthorized {
		t.Fatalf("no token: HTTP %d, want 401", code)
	}
	code, body := call(strings.TrimSpace(string(token)))
	if code != http.StatusOK || !strings.Contains(body, `"height"`) {
		t.Fatalf("chain_head with the cookie token: HTTP %d %s", code, body)
	}
	resp, err := http.Get("http://" + addr + "/health")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/health: %v %v", err, resp)
	}
	resp.Body.Close()
}
