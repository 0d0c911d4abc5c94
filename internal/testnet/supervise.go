package testnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Defaults of RunConfig.
const (
	DefaultReadyTimeout = 60 * time.Second
	DefaultStopTimeout  = 15 * time.Second
	healthPoll          = 200 * time.Millisecond
	// killWait bounds the wait for a node after SIGKILL.
	killWait = 5 * time.Second
	// logTail is how much of the end of a failed node's log is read
	// for its last line.
	logTail = 4 << 10
)

// RunConfig is how Run starts and watches the nodes.
type RunConfig struct {
	// Executable is the ledgerd binary every node runs, with
	// --config <datadir>/ledgerd.toml.
	Executable string
	// Out receives the summary table and the "testnet ready" line.
	Out io.Writer
	// LedgerCLI is the `ledger` command shown in the example send.
	LedgerCLI string
	// Logger reports nodes starting, failing and stopping.
	Logger *slog.Logger
	// ReadyTimeout bounds start-up: every node must answer GET /health
	// within it (DefaultReadyTimeout if 0).
	ReadyTimeout time.Duration
	// StopTimeout is how long nodes get to stop after the stop signal
	// before they are killed (DefaultStopTimeout if 0).
	StopTimeout time.Duration
}

// child is one node process. Only the supervisor goroutine touches it,
// except err, which the process's wait goroutine sets before handing the
// child to the supervisor over exits.
type child struct {
	rec     *NodeRecord
	logPath string
	cmd     *exec.Cmd
	err     error // the exit, set by the wait goroutine
	exited  bool
	killed  bool
}

// supervisor runs the nodes of one network. It is owned by the goroutine
// in Run; the per-process wait goroutines only send on exits.
type supervisor struct {
	net      *Network
	cfg      RunConfig
	log      *slog.Logger
	http     *http.Client
	children []*child
	// exits receives each child once, when its process has exited.
	exits chan *child
	// stopping is set once the nodes have been told to stop: an exit
	// is then expected.
	stopping bool
	// failures lists what went wrong, for Run's error.
	failures []string
}

// Run starts every node as its own ledgerd process (logging to
// <datadir>/ledgerd.log), waits until each answers GET /health, prints
// the summary and "testnet ready", and supervises until ctx is cancelled
// (the command cancels it on SIGINT or SIGTERM). Then it sends each node
// SIGTERM, waits up to StopTimeout and kills any node still running.
//
// A node that exits on its own is reported (with its log file and the
// end of its log) and the others keep running: a testnet is for
// experiments, and one node stopping is one of them. When every node has
// exited, Run returns. Run returns nil after a clean stop; otherwise an
// *Error of kind ErrNodeFailed lists every node that failed to start,
// exited on its own, or did not stop cleanly.
func (n *Network) Run(ctx context.Context, cfg RunConfig) error {
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = DefaultReadyTimeout
	}
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = DefaultStopTimeout
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &supervisor{
		net: n, cfg: cfg, log: cfg.Logger,
		// No proxy: the nodes are on loopback.
		http:  &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil}},
		exits: make(chan *child, len(n.Manifest.Nodes)),
	}
	defer s.http.CloseIdleConnections()
	if err := n.checkPorts(); err != nil {
		return err
	}
	if s.startAll(ctx) && ctx.Err() == nil {
		n.PrintSummary(cfg.Out, cfg.LedgerCLI)
		fmt.Fprintf(cfg.Out, "\ntestnet ready: %d nodes. Ctrl-C stops them all.\n", len(s.children))
		s.watch(ctx)
	}
	s.stopAll()
	if len(s.failures) > 0 {
		return errorf(ErrNodeFailed, "testnet in %s: %s", n.Dir, strings.Join(s.failures, "; "))
	}
	return nil
}

// checkPorts tries each node's ports before anything starts. A node that
// cannot listen would only exit with the error in its log; the likely
// causes, this testnet still running or another program on the port, are
// better said up front.
func (n *Network) checkPorts() error {
	for i, rec := range n.Manifest.Nodes {
		for _, addr := range []string{
			net.JoinHostPort(n.Options.Host, strconv.Itoa(n.Options.p2pPort(i))),
			strings.TrimPrefix(rec.RPC, "http://"),
		} {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return wrapf(ErrPortInUse, err, "%s cannot listen on %s: is this testnet running already, or another program using the port? "+
					"(a new testnet can take other ports with --%s)", rec.Name, addr, FlagBasePort)
			}
			ln.Close()
		}
	}
	return nil
}

// startAll starts the nodes: the bootnode first, until it answers (so the
// others find it listening), then the rest. It reports whether every node
// became ready; false on a failure or when ctx was cancelled.
func (s *supervisor) startAll(ctx context.Context) bool {
	for i := range s.net.Manifest.Nodes {
		rec := &s.net.Manifest.Nodes[i]
		if err := s.start(rec); err != nil {
			s.fail(nil, "%s did not start: %v", rec.Name, err)
			return false
		}
		if i == 0 && len(s.net.Manifest.Nodes) > 1 {
			if !s.waitReady(ctx, s.children) {
				return false
			}
		}
	}
	return s.waitReady(ctx, s.children)
}

func (s *supervisor) start(rec *NodeRecord) error {
	c := &child{rec: rec, logPath: filepath.Join(rec.DataDir, LogFile)}
	logf, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	// The child holds its own descriptor once started.
	defer logf.Close()
	fmt.Fprintf(logf, "=== ledgerd testnet: starting %s at %s\n", rec.Name, time.Now().Format(time.RFC3339))
	cmd := exec.Command(s.cfg.Executable, "--config", filepath.Join(rec.DataDir, ConfigFile))
	cmd.Dir = rec.DataDir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = childEnv(os.Environ())
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return err
	}
	c.cmd = cmd
	s.children = append(s.children, c)
	s.log.Info("node started", "node", rec.Name, "pid", cmd.Process.Pid, "log", c.logPath)
	go func() {
		c.err = cmd.Wait()
		s.exits <- c
	}()
	return nil
}

// childEnv is the environment without LEDGER_* variables: ledgerd reads
// those before its config file, and one meant for a single node (say
// LEDGER_DATADIR) would otherwise apply to every node.
func childEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, "LEDGER_") {
			out = append(out, kv)
		}
	}
	return out
}

// waitReady polls GET /health of each node until all answer. A node
// exiting meanwhile, or ReadyTimeout passing, is a failure; ctx being
// cancelled ends the wait without one.
func (s *supervisor) waitReady(ctx context.Context, nodes []*child) bool {
	deadline := time.NewTimer(s.cfg.ReadyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(healthPoll)
	defer tick.Stop()
	pending := append([]*child(nil), nodes...)
	for {
		var still []*child
		for _, c := range pending {
			if !s.healthy(ctx, c) {
				still = append(still, c)
			}
		}
		pending = still
		if len(pending) == 0 {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case c := <-s.exits:
			s.exited(c)
			return false
		case <-deadline.C:
			for _, c := range pending {
				s.fail(c, "did not answer %s/health within %v", c.rec.RPC, s.cfg.ReadyTimeout)
			}
			return false
		case <-tick.C:
		}
	}
}

func (s *supervisor) healthy(ctx context.Context, c *child) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(c.rec.RPC, "/")+"/health", nil)
	if err != nil {
		return false
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// watch waits for ctx, reporting nodes that exit on their own; it returns
// early when none is left.
func (s *supervisor) watch(ctx context.Context) {
	for s.running() > 0 {
		select {
		case <-ctx.Done():
			return
		case c := <-s.exits:
			s.exited(c)
			if s.running() > 0 {
				s.log.Warn("the other nodes keep running", "running", s.running())
			}
		}
	}
	s.log.Error("every node has exited; stopping")
}

func (s *supervisor) running() int {
	n := 0
	for _, c := range s.children {
		if !c.exited {
			n++
		}
	}
	return n
}

// exited records a child's exit: expected (clean or not) while stopping,
// a failure otherwise.
func (s *supervisor) exited(c *child) {
	c.exited = true
	switch {
	case s.stopping && c.killed:
		s.fail(c, "did not stop within %v and was killed", s.cfg.StopTimeout)
	case s.stopping && c.err == nil:
		s.log.Info("node stopped cleanly", "node", c.rec.Name)
	case s.stopping && diedOfStopSignal(c.cmd.ProcessState):
		s.log.Info("node stopped by the signal before it could handle it (it had just started)", "node", c.rec.Name)
	case s.stopping:
		s.fail(c, "stopped with %v", c.err)
	case c.err != nil:
		s.fail(c, "exited on its own with %v", c.err)
	default:
		s.fail(c, "exited on its own")
	}
}

// fail records what went wrong with node c (nil: no node in particular)
// and logs it with the last line of the node's log, which usually says
// why.
func (s *supervisor) fail(c *child, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if c == nil {
		s.log.Error(msg)
		s.failures = append(s.failures, msg)
		return
	}
	s.log.Error(c.rec.Name+" "+msg, "log", c.logPath, "lastLine", lastLine(c.logPath))
	s.failures = append(s.failures, fmt.Sprintf("%s %s (see %s)", c.rec.Name, msg, c.logPath))
}

// stopAll signals every running node, waits up to StopTimeout for them,
// then kills those left and waits for them too.
func (s *supervisor) stopAll() {
	s.stopping = true
	for _, c := range s.children {
		if !c.exited {
			if err := c.cmd.Process.Signal(stopSignal()); err != nil && !errors.Is(err, os.ErrProcessDone) {
				s.log.Warn("could not signal a node", "node", c.rec.Name, "err", err)
			}
		}
	}
	if s.running() > 0 {
		s.log.Info("stopping the nodes", "count", s.running(), "timeout", s.cfg.StopTimeout)
	}
	timeout := time.NewTimer(s.cfg.StopTimeout)
	defer timeout.Stop()
	killed := false
	for s.running() > 0 {
		select {
		case c := <-s.exits:
			s.exited(c)
		case <-timeout.C:
			if killed {
				// The kernel has not reaped a killed process: nothing
				// more can be done from here.
				for _, c := range s.children {
					if !c.exited {
						c.exited = true
						s.fail(c, "(pid %d) did not exit after SIGKILL", c.cmd.Process.Pid)
					}
				}
				return
			}
			killed = true
			for _, c := range s.children {
				if !c.exited {
					c.killed = true
					c.cmd.Process.Kill()
				}
			}
			timeout.Reset(killWait)
		}
	}
}

// lastLine returns the last non-empty line of a node's log (where
// ledgerd writes the error it exits with), or "" if it cannot be read.
func lastLine(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(st.Size()-logTail, 0)
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(buf), "\n"), "\n")
	return lines[len(lines)-1]
}
