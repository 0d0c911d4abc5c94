//go:build unix

package testnet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/viper"
)

// fakeNodeEnv switches the test binary into a fake ledgerd (see
// fakeNode); its value maps node names to behaviours, "node1=crash,...".
// Not LEDGER_*: the supervisor strips those from the nodes' environment.
const fakeNodeEnv = "TESTNET_FAKE_NODE"

func TestMain(m *testing.M) {
	if spec, ok := os.LookupEnv(fakeNodeEnv); ok {
		os.Exit(fakeNode(spec))
	}
	os.Exit(m.Run())
}

// fakeNode stands in for ledgerd so supervision can be tested quickly and
// deterministically: it reads the config the supervisor passes (--config
// FILE, as ledgerd does), serves GET /health on its rpc.addr and exits 0
// on SIGTERM. Behaviours: "crash" exits 3 at once; "crash-later" exits 4
// once the file crash-now appears in its data directory; "stubborn"
// ignores SIGTERM; "env" fails unless no LEDGER_ variable reached it.
func fakeNode(spec string) int {
	if len(os.Args) != 3 || os.Args[1] != "--config" {
		fmt.Println("fake node: want --config FILE, got", os.Args[1:])
		return 2
	}
	v := viper.New()
	v.SetConfigFile(os.Args[2])
	if err := v.ReadInConfig(); err != nil {
		fmt.Println("fake node:", err)
		return 2
	}
	datadir := v.GetString("datadir")
	behaviour := ""
	for _, kv := range strings.Split(spec, ",") {
		if name, b, ok := strings.Cut(kv, "="); ok && name == filepath.Base(datadir) {
			behaviour = b
		}
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	switch behaviour {
	case "crash":
		fmt.Println("fake node: failing at start as asked")
		return 3
	case "stubborn":
		signal.Ignore(syscall.SIGTERM)
	case "env":
		for _, kv := range os.Environ() {
			if strings.HasPrefix(kv, "LEDGER_") {
				fmt.Println("fake node: inherited", kv)
				return 5
			}
		}
	}
	ln, err := net.Listen("tcp", v.GetString("rpc.addr"))
	if err != nil {
		fmt.Println("fake node:", err)
		return 2
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(`{"status":"ok"}`)) })
	go http.Serve(ln, mux)
	fmt.Println("fake node: serving")
	tick := time.NewTicker(20 * time.Millisecond)
	for {
		select {
		case <-sigs:
			fmt.Println("fake node: stopping")
			return 0
		case <-tick.C:
			if _, err := os.Stat(filepath.Join(datadir, "crash-now")); err == nil && behaviour == "crash-later" {
				fmt.Println("fake node: crashing as asked")
				return 4
			}
		}
	}
}

// fakeRun is one Run of a network's nodes as fake nodes.
type fakeRun struct {
	out    *lockedBuffer
	cancel context.CancelFunc
	done   chan error
	err    error
	ended  bool
}

// runFake runs n's nodes as fake nodes with the given behaviours; the run
// is cancelled and waited for when the test ends.
func runFake(t *testing.T, n *Network, spec string, stop time.Duration) *fakeRun {
	t.Helper()
	t.Setenv(fakeNodeEnv, spec)
	t.Setenv("LEDGER_DATADIR", "/nonexistent") // must not reach the nodes
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r := &fakeRun{out: &lockedBuffer{}, done: make(chan error, 1)}
	var ctx context.Context
	ctx, r.cancel = context.WithCancel(context.Background())
	go func() {
		r.done <- n.Run(ctx, RunConfig{Executable: exe, Out: r.out, Logger: slog.New(slog.NewTextHandler(&testWriter{t}, nil)),
			ReadyTimeout: 20 * time.Second, StopTimeout: stop})
	}()
	t.Cleanup(func() {
		r.cancel()
		r.wait(t)
	})
	return r
}

// wait returns Run's result, waiting up to 30 s for it.
func (r *fakeRun) wait(t *testing.T) error {
	t.Helper()
	if !r.ended {
		select {
		case r.err = <-r.done:
			r.ended = true
		case <-time.After(30 * time.Second):
			t.Fatal("Run did not return")
		}
	}
	return r.err
}

func (r *fakeRun) waitReady(t *testing.T) {
	t.Helper()
	waitFor(t, "testnet ready", func() bool { return strings.Contains(r.out.String(), "testnet ready") })
}

// testWriter sends the supervisor's log to the test log.
type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRunStartsAndStopsCleanly: every node starts and answers, the summary
// names each with its peer id and the faucet, and a cancel stops them all
// with SIGTERM and a nil error; the nodes saw no LEDGER_ variable.
func TestRunStartsAndStopsCleanly(t *testing.T) {
	n := newTestNetwork(t, 3, 3)
	r := runFake(t, n, "node0=env,node1=env,node2=env", 5*time.Second)
	r.waitReady(t)
	summary := r.out.String()
	for _, rec := range n.Manifest.Nodes {
		for _, want := range []string{rec.Name, rec.RPC, rec.Cookie, rec.PeerID, rec.P2P[0]} {
			if !strings.Contains(summary, want) {
				t.Errorf("summary lacks %q:\n%s", want, summary)
			}
		}
		resp, err := http.Get(rec.RPC + "/health")
		if err != nil {
			t.Fatalf("%s not answering after ready: %v", rec.Name, err)
		}
		resp.Body.Close()
	}
	for _, want := range []string{n.Manifest.Faucet.Address, n.Manifest.Faucet.PasswordFile, "send --from faucet",
		"--genesis " + n.Manifest.Genesis + " --p2p.bootnodes " + n.Manifest.Nodes[0].P2P[0]} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	r.cancel()
	if err := r.wait(t); err != nil {
		t.Fatalf("clean stop: %v", err)
	}
	for _, rec := range n.Manifest.Nodes {
		log, _ := os.ReadFile(filepath.Join(rec.DataDir, LogFile))
		if !strings.Contains(string(log), "fake node: stopping") {
			t.Errorf("%s was not stopped by its signal:\n%s", rec.Name, log)
		}
		if _, err := http.Get(rec.RPC + "/health"); err == nil {
			t.Errorf("%s still answers after Run returned", rec.Name)
		}
	}
}

// TestRunNodeFailsAtStart: a node that exits during start-up fails the
// run, which stops the others and names the node and its log.
func TestRunNodeFailsAtStart(t *testing.T) {
	n := newTestNetwork(t, 3, 3)
	r := runFake(t, n, "node1=crash", 5*time.Second)
	err := r.wait(t)
	if !errors.Is(err, ErrNodeFailed) || !strings.Contains(err.Error(), "node1 exited on its own with exit status 3") ||
		!strings.Contains(err.Error(), filepath.Join(n.Dir, "node1", LogFile)) || strings.Contains(err.Error(), "node0") {
		t.Fatalf("error %v, want ErrNodeFailed naming node1 (only), its exit and its log", err)
	}
	if strings.Contains(r.out.String(), "testnet ready") {
		t.Fatal("ready printed though a node failed")
	}
	if _, err := http.Get(n.Manifest.Nodes[0].RPC + "/health"); err == nil {
		t.Fatal("node0 still running after the failed start")
	}
}

// TestRunNodeCrashesLater: a node exiting after start-up is reported and
// the others keep running until the stop; the run then fails naming it.
func TestRunNodeCrashesLater(t *testing.T) {
	n := newTestNetwork(t, 2, 2)
	r := runFake(t, n, "node1=crash-later", 5*time.Second)
	r.waitReady(t)
	if err := os.WriteFile(filepath.Join(n.Manifest.Nodes[1].DataDir, "crash-now"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "node1 to exit", func() bool {
		_, err := http.Get(n.Manifest.Nodes[1].RPC + "/health")
		return err != nil
	})
	// node0 still serves a while later.
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-r.done:
		t.Fatalf("Run returned while node0 was still running: %v", err)
	default:
	}
	if resp, err := http.Get(n.Manifest.Nodes[0].RPC + "/health"); err != nil {
		t.Fatalf("node0 stopped with node1: %v", err)
	} else {
		resp.Body.Close()
	}
	r.cancel()
	err := r.wait(t)
	if !errors.Is(err, ErrNodeFailed) || !strings.Contains(err.Error(), "node1 exited on its own with exit status 4") ||
		strings.Contains(err.Error(), "node0") {
		t.Fatalf("error %v, want ErrNodeFailed naming node1 only", err)
	}
}

// TestRunKillsStubbornNode: a node ignoring SIGTERM is killed after the
// stop timeout, and the run says so.
func TestRunKillsStubbornNode(t *testing.T) {
	n := newTestNetwork(t, 2, 2)
	r := runFake(t, n, "node0=stubborn", 3*time.Second)
	r.waitReady(t)
	r.cancel()
	err := r.wait(t)
	if !errors.Is(err, ErrNodeFailed) || !strings.Contains(err.Error(), "node0 did not stop within 3s and was killed") ||
		strings.Contains(err.Error(), "node1") {
		t.Fatalf("error %v, want ErrNodeFailed: node0 killed", err)
	}
}

// TestRunPortInUse: a port taken before start is reported up front and no
// node is started.
func TestRunPortInUse(t *testing.T) {
	n := newTestNetwork(t, 2, 2)
	ln, err := net.Listen("tcp", strings.TrimPrefix(n.Manifest.Nodes[1].RPC, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = runFake(t, n, "", time.Second).wait(t)
	if !errors.Is(err, ErrPortInUse) || !strings.Contains(err.Error(), "node1") {
		t.Fatalf("error %v, want ErrPortInUse naming node1", err)
	}
	if _, err := os.Stat(filepath.Join(n.Manifest.Nodes[0].DataDir, LogFile)); err == nil {
		t.Fatal("node0 was started despite the taken port")
	}
}
