package chain

// Crash safety (security-tests item 20): a child process runs the chain
// store through a deterministic plan of blocks with transfers and
// reorganisations and is killed with SIGKILL at random moments; after each
// kill the parent reopens what the kill left and checks that the tip, the
// state, the commitment and the indexes agree, and that nothing the child
// reported as committed was lost.
//
// The child is this test binary re-executed with -test.run=^TestCrashChild$
// and LEDGER_CRASH_CHILD=1. The parent builds the plan from the seed
// (chaingen is deterministic, so parent and child share the genesis) and
// writes the encoded blocks to a file the child reads: signing the plan
// takes seconds, which a child regenerating it on every start could not
// afford. The plan grows as the child consumes it, with the blocks already
// written unchanged, so a slow machine (or -race) builds only what it uses.
// The child feeds the plan in order from the start on every run; blocks a
// previous run stored come back as ErrDuplicateBlock and are skipped, so
// the stored blocks are always a prefix of the plan.
//
// Kills come a random delay after the process starts (landing in Open:
// LevelDB recovery, the state check, the resumption of an interrupted
// reorganisation), after the store is open, or after a random number of
// committed blocks (landing inside the next block, often a reorganisation
// of up to 21 synced batches).
//
// The parent checks a copy of the data directory, so that the original is
// left exactly as the kill left it: the next child resumes an interrupted
// reorganisation itself, and some kills land inside that resumption.
//
// Reproduce the plan of a run with LEDGER_CRASH_SEED=<seed it logged> (the
// kill times depend on scheduling as well).

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// Environment of the child process.
const (
	crashChildEnv = "LEDGER_CRASH_CHILD" // "1" in the child
	crashDirEnv   = "LEDGER_CRASH_DIR"   // the store's data directory
	crashPlanEnv  = "LEDGER_CRASH_PLAN"  // the plan file
	crashSeedEnv  = "LEDGER_CRASH_SEED"  // the plan's seed; also picks the parent's seed
)

// crashLine writes one report line in a single write, so a kill never
// leaves half a line and nothing waits in a buffer.
func crashLine(format string, args ...any) {
	if _, err := os.Stdout.WriteString(fmt.Sprintf(format, args...) + "\n"); err != nil {
		panic(err)
	}
}

// TestCrashChild is the process TestCrashSafety kills. It opens the store
// and feeds it the plan, reporting "ready <tip> <height>" once open,
// "committed <hash> <height> <tipHash>" after each block ProcessBlock
// accepted (it is durable by then), and "done <tip> <height>" at the end.
func TestCrashChild(t *testing.T) {
	if os.Getenv(crashChildEnv) != "1" {
		t.Skip("helper process of TestCrashSafety; runs only with " + crashChildEnv + "=1")
	}
	dir, planPath := os.Getenv(crashDirEnv), os.Getenv(crashPlanEnv)
	seed, err := strconv.ParseUint(os.Getenv(crashSeedEnv), 10, 64)
	if err != nil || dir == "" || planPath == "" {
		t.Fatalf("child needs %s, %s and %s: %v", crashDirEnv, crashPlanEnv, crashSeedEnv, err)
	}
	planSeed, blocks, err := readCrashPlan(planPath)
	if err != nil {
		t.Fatal(err)
	}
	if planSeed != seed {
		t.Fatalf("plan built from seed %d, child given %d", planSeed, seed)
	}
	g := chaingen.New(crashGenOptions)
	if len(blocks) > 0 && blocks[0].Header.PrevBlock != g.Genesis.Hash {
		t.Fatalf("plan does not start on the child's genesis %s", g.Genesis.Hash)
	}
	c, err := Open(Config{Dir: dir, Genesis: g.Genesis, Clock: testClock,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer c.Close()
	tip := c.Tip()
	crashLine("ready %s %d", tip.Hash, tip.Height)
	for i, b := range blocks {
		_, err := c.ProcessBlock(b)
		if errors.Is(err, ErrDuplicateBlock) {
			continue
		}
		if err != nil {
			t.Fatalf("plan block %d (%s, height %d): %v", i, b.Hash(), b.Header.Height, err)
		}
		crashLine("committed %s %d %s", b.Hash(), b.Header.Height, c.Tip().Hash)
	}
	tip = c.Tip()
	crashLine("done %s %d", tip.Hash, tip.Height)
}

// crashChild is one run of the child process.
type crashChild struct {
	cmd     *exec.Cmd
	stderr  crashLogBuffer
	started time.Time
	lines   chan crashOut // every stdout line; closed at end of file
}

// crashOut is a line of the child's stdout and when the parent read it.
type crashOut struct {
	line string
	at   time.Time
}

func startCrashChild(t *testing.T, dir, plan string, seed uint64) *crashChild {
	t.Helper()
	ch := &crashChild{lines: make(chan crashOut, 4096)}
	ch.cmd = exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1", "-test.timeout=10m")
	ch.cmd.Env = append(os.Environ(),
		crashChildEnv+"=1", crashDirEnv+"="+dir, crashPlanEnv+"="+plan,
		fmt.Sprintf("%s=%d", crashSeedEnv, seed))
	ch.cmd.Stderr = &ch.stderr
	out, err := ch.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ch.started = time.Now()
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			ch.lines <- crashOut{sc.Text(), time.Now()}
		}
		io.Copy(io.Discard, out)
		close(ch.lines)
	}()
	return ch
}

// How a run's kill is timed.
type crashKillMode int

const (
	crashKillFromStart   crashKillMode = iota // a delay after the process starts: often lands in Open
	crashKillAfterReady                       // a delay after the store is open
	crashKillAfterBlocks                      // part of a block's time after the n-th committed block of the run
)

func (m crashKillMode) String() string {
	return [...]string{"after start", "after ready", "after blocks"}[m]
}

// crashKill says when to kill a run.
type crashKill struct {
	mode   crashKillMode
	blocks int           // crashKillAfterBlocks: committed blocks to wait for
	delay  time.Duration // then this long
}

// runCrashChild runs the child until the kill (or its end) and returns its
// stdout lines, whether SIGKILL ended it, and when it was ready (zero if
// never).
func runCrashChild(t *testing.T, ch *crashChild, k crashKill, timeout time.Duration) (lines []string, killed bool, readyAfter time.Duration, gaps []time.Duration) {
	t.Helper()
	var fire <-chan time.Time
	arm := func() {
		if fire == nil {
			fire = time.After(k.delay)
		}
	}
	if k.mode == crashKillFromStart {
		arm()
	}
	limit := time.After(timeout)
	blocks := 0
	var lastCommit time.Time
	for {
		select {
		case o, ok := <-ch.lines:
			if !ok {
				err := ch.cmd.Wait()
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
						return lines, true, readyAfter, gaps
					}
				}
				if err != nil || crashDoneLine(lines) == "" {
					t.Fatalf("child exited with %v; stdout tail %q; stderr:\n%s", err, crashLastN(lines, 5), crashTail(ch.stderr.String()))
				}
				return lines, false, readyAfter, gaps
			}
			lines = append(lines, o.line)
			switch {
			case strings.HasPrefix(o.line, "ready "):
				readyAfter = o.at.Sub(ch.started)
				if k.mode == crashKillAfterReady {
					arm()
				}
				lastCommit = o.at
			case strings.HasPrefix(o.line, "committed "):
				blocks++
				gaps = append(gaps, o.at.Sub(lastCommit))
				lastCommit = o.at
				if k.mode == crashKillAfterBlocks && blocks >= k.blocks {
					arm()
				}
			}
		case <-fire:
			ch.cmd.Process.Kill()       // fails only if the child has exited: then it reports so
			fire = make(chan time.Time) // never again
		case <-limit:
			t.Fatalf("child still running after %v; stdout tail %q; stderr:\n%s", timeout, crashLastN(lines, 5), crashTail(ch.stderr.String()))
		}
	}
}

func crashDoneLine(lines []string) string {
	for _, l := range lines {
		if strings.HasPrefix(l, "done ") {
			return l
		}
	}
	return ""
}

// crashReport is a block the child reported as committed.
type crashReport struct {
	run    int
	block  types.Hash
	height uint32
	tip    types.Hash
}

// crashStats counts what the kills hit, for the log.
type crashStats struct {
	kills, killsInOpen int
	killsInResume      int // kills in Open that left a resumed reorganisation part-done
	finished           int // runs that got through the plan before the kill
	resumes            int // reopenings that finished an interrupted reorganisation
	unreported         int // reopenings that found durable progress the child had not reported
	tieMoved           int // reopenings at a tip other than an uncrashed store's, of equal work
	reorgsSeen         int // reported blocks that moved the tip off its branch
	maxDepthSeen       int
	firstTie           string
}

func TestCrashSafety(t *testing.T) {
	if raceEnabled {
		// The test is about process kills and disk state, not memory
		// sharing (the plain run covers it), and -race makes each child
		// about ten times slower: two minutes of CI for nothing new.
		t.Skip("crash-safety test runs in the plain test pass, not under -race")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(crashSeedEnv); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s: %v", crashSeedEnv, err)
		}
	}
	t.Logf("seed %d (reproduce with %s=%d)", seed, crashSeedEnv, seed)

	// At least 20 kills in every mode; -short kills fewer times and sooner.
	// The plan grows as the child eats it, so that a slow machine (or
	// -race) builds only what it uses.
	kills, maxDelay := 30, 250*time.Millisecond
	if testing.Short() {
		kills, maxDelay = 20, 150*time.Millisecond
	}
	const initialRounds, margin = 6, 25
	rng := rand.New(rand.NewPCG(seed, 0x6b696c6c))
	begin := time.Now()
	plan := newCrashPlan(seed)
	plan.extend(initialRounds)
	tmp := t.TempDir()
	dataDir := filepath.Join(tmp, "data")
	planPath := filepath.Join(tmp, "plan")
	if err := plan.write(planPath); err != nil {
		t.Fatal(err)
	}
	t.Logf("plan: %d blocks, %d transfers, batches up to ~%d KB, built in %v",
		len(plan.blocks), plan.transfers, plan.maxBatchBytes>>10, time.Since(begin).Round(time.Millisecond))

	var running *crashChild
	t.Cleanup(func() {
		if running != nil && running.cmd.ProcessState == nil {
			running.cmd.Process.Kill()
			running.cmd.Wait()
		}
	})

	var (
		reports   []crashReport
		stats     crashStats
		last      = crashCheck{tip: plan.g.Genesis.Hash}
		haveLast  bool
		minReady  = 20 * time.Millisecond  // fastest start-to-ready seen
		maxReady  = 100 * time.Millisecond // slowest start-to-ready seen
		readySeen bool
		blockTime = 30 * time.Millisecond // mean time between committed blocks
	)
	for run := 0; stats.kills < kills; run++ {
		if run > 3*kills {
			t.Fatalf("only %d kills in %d runs", stats.kills, run)
		}
		// Kills after a delay from "ready" or from a committed block land
		// while blocks are processed. Kills from the start land in Open:
		// LevelDB recovery, the state check or, when the last kill
		// interrupted a reorganisation, its resumption.
		var k crashKill
		switch r := rng.IntN(10); {
		case last.resumed && rng.IntN(2) == 0:
			// Between the fastest "ready" seen, about when a resumption
			// starts, and the slowest, which includes resumptions.
			k = crashKill{mode: crashKillFromStart, delay: minReady + time.Duration(rng.Int64N(int64(maxReady-minReady+time.Millisecond)))}
		case r < 2:
			k = crashKill{mode: crashKillFromStart, delay: 5*time.Millisecond + time.Duration(rng.Int64N(int64(maxDelay)))}
		case r < 6:
			k = crashKill{mode: crashKillAfterReady, delay: 5*time.Millisecond + time.Duration(rng.Int64N(int64(maxDelay-5*time.Millisecond)))}
		default:
			// Up to 12 blocks, or as many as maxDelay allows on a slow
			// machine.
			n := min(12, max(1, int(maxDelay/blockTime)))
			k = crashKill{mode: crashKillAfterBlocks, blocks: 1 + rng.IntN(n), delay: time.Duration(rng.Int64N(int64(2 * blockTime)))}
		}
		ch := startCrashChild(t, dataDir, planPath, seed)
		running = ch
		lines, killed, readyAfter, gaps := runCrashChild(t, ch, k, 60*time.Second)
		running = nil
		lived := ch.cmd.ProcessState.UserTime() + ch.cmd.ProcessState.SystemTime()
		ready := readyAfter > 0
		if ready {
			if !readySeen {
				minReady, maxReady, readySeen = readyAfter, readyAfter, true
			}
			minReady, maxReady = min(minReady, readyAfter), max(maxReady, readyAfter)
		}
		if len(gaps) > 0 {
			var sum time.Duration
			for _, g := range gaps {
				sum += g
			}
			blockTime = (3*blockTime + sum/time.Duration(len(gaps))) / 4
		}
		if killed {
			stats.kills++
			if !ready {
				stats.killsInOpen++
			}
		} else {
			stats.finished++ // the child got through the plan before the kill
		}
		newReports := parseCrashLines(t, run, lines, plan, last.tip, haveLast)
		reports = append(reports, newReports...)
		if _, err := os.Stat(filepath.Join(dataDir, "CURRENT")); errors.Is(err, fs.ErrNotExist) && len(reports) == 0 {
			// On a loaded machine a kill from the start can land before
			// the first child created the database: nothing to check
			// yet, and the next child starts from scratch as this one
			// did.
			continue
		}
		check := verifyCrashStore(t, run, dataDir, tmp, plan, reports)
		if killed && !ready && last.resumed && check.crashTip != last.crashTip {
			stats.killsInResume++
		}
		if check.resumed {
			stats.resumes++
		}
		if check.unreported {
			stats.unreported++
		}
		if check.tieMoved {
			stats.tieMoved++
			if stats.firstTie == "" {
				want := plan.bestTip[check.stored-1]
				stats.firstTie = fmt.Sprintf("run %d: the kill left the tip marker at %s (height %d) with plan blocks 0..%d stored; "+
					"the store reopened at %s (height %d), a store that never crashed would be at %s (height %d, seen first)",
					run, check.crashTip, plan.height(check.crashTip), check.stored-1,
					check.tip, plan.height(check.tip), want, plan.height(want))
			}
		}
		stats.countReorgs(plan, reports, len(newReports))
		if testing.Verbose() {
			what := k.mode.String()
			if k.mode == crashKillAfterBlocks {
				what = fmt.Sprintf("after %d blocks", k.blocks)
			}
			var notes []string
			if !killed {
				notes = append(notes, "finished the plan first")
			} else if !ready {
				notes = append(notes, "killed in Open")
			}
			if check.resumed {
				notes = append(notes, "reopening resumed a reorg")
			}
			if check.unreported {
				notes = append(notes, "unreported durable progress")
			}
			if check.tieMoved {
				notes = append(notes, "tip differs from an uncrashed store's at equal work")
			}
			t.Logf("run %2d: kill %3dms %-15s (cpu %4dms): %3d blocks reported, %3d/%d stored, tip height %3d; %s",
				run, k.delay.Milliseconds(), what, lived.Milliseconds(), len(newReports), check.stored, len(plan.blocks),
				plan.height(check.tip), strings.Join(notes, ", "))
		}
		last, haveLast = check, true
		if len(plan.blocks)-check.stored < margin {
			plan.extend(4)
			if err := plan.write(planPath); err != nil {
				t.Fatal(err)
			}
		}
	}

	// A last run, not killed, finishes the plan: the store must end where
	// a store that never crashed would.
	ch := startCrashChild(t, dataDir, planPath, seed)
	running = ch
	lines, _, _, _ := runCrashChild(t, ch, crashKill{mode: crashKillFromStart, delay: time.Hour}, 5*time.Minute)
	running = nil
	reports = append(reports, parseCrashLines(t, -1, lines, plan, last.tip, haveLast)...)
	if done := crashDoneLine(lines); !strings.HasPrefix(done, "done "+plan.tip.String()+" ") {
		t.Fatalf("final run ended with %q, expected the plan's tip %s", done, plan.tip)
	}
	final := verifyCrashStore(t, -1, dataDir, tmp, plan, reports)
	if final.tip != plan.tip || final.stored != len(plan.blocks) {
		t.Fatalf("after the whole plan the tip is %s with %d blocks stored; a store that never crashed ends at %s with %d",
			final.tip, final.stored, plan.tip, len(plan.blocks))
	}
	t.Logf("%d kills (%d in Open, %d of them part-way through a resumed reorg), %d runs finished the plan first; "+
		"%d reopenings resumed a reorg, %d found durable progress not yet reported, %d chose another tip of equal work "+
		"than an uncrashed store; %d blocks reported, %d reported reorgs (deepest %d); plan %d blocks, %d transfers "+
		"in %d rounds, reorgs %s; %v",
		stats.kills, stats.killsInOpen, stats.killsInResume, stats.finished,
		stats.resumes, stats.unreported, stats.tieMoved,
		len(reports), stats.reorgsSeen, stats.maxDepthSeen, len(plan.blocks), plan.transfers, plan.rounds,
		strings.Join(plan.reorgs, ", "), time.Since(begin).Round(time.Millisecond))

	// Every check above held; what is left is the rule for equal work.
	// better() keeps the first-seen block on a tie, and a store that never
	// crashed holds that block; after a kill in a reorganisation the store
	// may not. ProcessBlock disconnects the old branch and connects the new
	// one in durable batches before the block that triggered the switch is
	// stored (its body is written only with its own connect batch), so the
	// kill loses the one block whose work justified the switch. The store
	// is then left on the new branch at equal work, or Open resumes towards
	// bestCandidate(), which picks among blocks of equal work in map order.
	if stats.tieMoved > 0 {
		t.Errorf("in %d of %d reopenings after a kill the tip was not the one a store that never crashed would hold "+
			"after the same blocks (same work, but not the first seen): a kill during a reorganisation loses the "+
			"block that triggered it, which is stored only with its own connect batch after the old branch was "+
			"disconnected, and leaves the store on, or resumes it towards, another block of equal work. First: %s",
			stats.tieMoved, stats.kills+stats.finished, stats.firstTie)
	}
}

// countReorgs counts the last n reports whose tip is not a descendant of
// the tip reported before it.
func (s *crashStats) countReorgs(plan *crashPlan, reports []crashReport, n int) {
	for i := len(reports) - n; i < len(reports); i++ {
		if i == 0 {
			continue
		}
		prev, cur := reports[i-1].tip, reports[i].tip
		fork := plan.fork(prev, cur)
		if fork != prev {
			s.reorgsSeen++
			s.maxDepthSeen = max(s.maxDepthSeen, int(plan.height(prev)-plan.height(fork)))
		}
	}
}

// parseCrashLines checks the child's report lines and returns its
// committed blocks. lastTip is the tip the parent found after the previous
// kill: the child must open at the same work.
func parseCrashLines(t *testing.T, run int, lines []string, plan *crashPlan, lastTip types.Hash, haveLast bool) []crashReport {
	t.Helper()
	var out []crashReport
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "ready":
			if len(f) != 3 {
				t.Fatalf("run %d: bad line %q", run, line)
			}
			tip := parseCrashHash(t, run, f[1], plan)
			if haveLast && plan.work[tip].Cmp(plan.work[lastTip]) != 0 {
				t.Fatalf("run %d: child opened at %s (height %d), the parent's reopening of the same state found %s (height %d)",
					run, tip, plan.height(tip), lastTip, plan.height(lastTip))
			}
		case "committed":
			if len(f) != 4 {
				t.Fatalf("run %d: bad line %q", run, line)
			}
			r := crashReport{run: run, block: parseCrashHash(t, run, f[1], plan), tip: parseCrashHash(t, run, f[3], plan)}
			h, err := strconv.ParseUint(f[2], 10, 32)
			if err != nil || uint32(h) != plan.height(r.block) {
				t.Fatalf("run %d: %q: wrong height", run, line)
			}
			r.height = uint32(h)
			// Everything up to this block is stored and nothing after
			// it: the tip has the most work of that prefix.
			if want := plan.bestWork[plan.pos[r.block]]; plan.work[r.tip].Cmp(want) != 0 {
				t.Fatalf("run %d: after plan block %d the child's tip %s has work %v, the best block so far has %v",
					run, plan.pos[r.block], r.tip, plan.work[r.tip], want)
			}
			out = append(out, r)
		case "done":
		}
	}
	return out
}

func parseCrashHash(t *testing.T, run int, s string, plan *crashPlan) types.Hash {
	t.Helper()
	h, err := types.ParseHash(s)
	if err != nil {
		t.Fatalf("run %d: bad hash %q: %v", run, s, err)
	}
	if _, ok := plan.work[h]; !ok {
		t.Fatalf("run %d: child reported %s, which is not in the plan", run, h)
	}
	return h
}

// crashCheck is what the parent found on reopening after a kill.
type crashCheck struct {
	crashTip types.Hash // the tip marker as the kill left it
	tip      types.Hash // the tip once Open resumed any interrupted reorg
	stored   int        // plan blocks stored
	// resumed: Open finished an interrupted reorganisation.
	resumed bool
	// unreported: durable progress beyond the child's last report (the
	// kill landed inside ProcessBlock after a batch was written).
	unreported bool
	// tieMoved: the tip has the work of, but is not, the tip a store that
	// never crashed would have after the same stored blocks.
	tieMoved bool
}

// verifyCrashStore opens a copy of dir, as the crash left it, and checks
// it.
func verifyCrashStore(t *testing.T, run int, dir, tmp string, plan *crashPlan, reports []crashReport) (res crashCheck) {
	check := filepath.Join(tmp, fmt.Sprintf("check-%d", run+1))
	crashCopyDir(t, dir, check)
	defer os.RemoveAll(check)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("run %d (seed %d): %s", run, plan.seed, fmt.Sprintf(format, args...))
	}

	// The tip marker before Open resumes anything.
	raw, err := leveldb.OpenFile(check, nil)
	if err != nil {
		fail("LevelDB does not open what the kill left: %v", err)
	}
	v, err := raw.Get([]byte{prefixTip}, nil)
	if err != nil {
		fail("tip marker: %v", err)
	}
	if res.crashTip, _, err = decodeTip(v); err != nil {
		fail("tip marker: %v", err)
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	var logBuf crashLogBuffer
	c, err := Open(Config{Dir: check, Genesis: plan.g.Genesis, Clock: testClock,
		Logger: slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		fail("reopening after the kill: %v\nlog:\n%s", err, logBuf.String())
	}
	defer c.Close()

	// The stored blocks are exactly a prefix of the plan, each decodable.
	c.mu.RLock()
	nodes := make([]*blockNode, 0, len(c.index))
	for _, n := range c.index {
		nodes = append(nodes, n)
	}
	c.mu.RUnlock()
	stored := 0
	for _, n := range nodes {
		if n.hash == plan.g.Genesis.Hash {
			continue
		}
		if _, ok := plan.pos[n.hash]; !ok {
			fail("stored block %s is not in the plan", n.hash)
		}
		if n.isInvalid() {
			fail("plan block %d (%s) is marked invalid", plan.pos[n.hash], n.hash)
		}
		stored++
	}
	for i := range stored {
		if c.node(plan.blocks[i].Hash()) == nil {
			fail("%d blocks stored but plan block %d is not: the stored blocks are not a prefix of the plan", stored, i)
		}
	}

	res.stored = stored

	// Every block reported as committed is still there, and no reported
	// tip had more work than the tip now.
	tipNode := c.tipNode()
	tip := tipNode.hash
	res.tip = tip
	res.resumed = tip != res.crashTip
	for _, r := range reports {
		if !c.HaveBlock(r.block) {
			fail("block %s (height %d), reported committed in run %d, is missing", r.block, r.height, r.run)
		}
		b, err := c.BlockByHash(r.block)
		if err != nil || b.Hash() != r.block {
			fail("block %s, reported committed in run %d, does not load: %v", r.block, r.run, err)
		}
		if n := c.node(r.tip); n == nil || n.work.Cmp(tipNode.work) > 0 {
			fail("tip %s reported in run %d has more work than the tip now %s (height %d)", r.tip, r.run, tip, tipNode.height)
		}
	}
	for i := range stored {
		b, err := c.BlockByHash(plan.blocks[i].Hash())
		if err != nil || b.Hash() != plan.blocks[i].Hash() {
			fail("plan block %d does not load: %v", i, err)
		}
	}
	if len(reports) > 0 {
		last := reports[len(reports)-1]
		res.unreported = stored > plan.pos[last.block]+1 || res.crashTip != last.tip
	} else {
		res.unreported = stored > 0
	}

	// The tip is a plan block with the most work of those stored, and the
	// state and commitment are those chaingen computed for it.
	if tip != plan.g.Genesis.Hash {
		if _, ok := plan.pos[tip]; !ok {
			fail("tip %s is not a plan block", tip)
		}
	}
	want, wantTip := plan.work[plan.g.Genesis.Hash], plan.g.Genesis.Hash
	if stored > 0 {
		want, wantTip = plan.bestWork[stored-1], plan.bestTip[stored-1]
	}
	if tipNode.work.Cmp(want) != 0 {
		fail("tip %s (height %d) has work %v, the best stored block has %v", tip, tipNode.height, tipNode.work, want)
	}
	res.tieMoved = tip != wantTip
	checkState(t, c, plan.g, tip)

	// The main chain: in memory and on disk, walking parents from the tip.
	main := make([]types.Hash, tipNode.height+1)
	for n := tipNode; n != nil; n = n.parent {
		main[n.height] = n.hash
	}
	if main[0] != plan.g.Genesis.Hash {
		fail("main chain does not start at genesis")
	}
	for h, hash := range main {
		got, err := c.HashAtHeight(uint32(h))
		if err != nil || got != hash {
			fail("HashAtHeight(%d) = %s, %v; walking parents from the tip gives %s", h, got, err, hash)
		}
		if !c.IsMainChain(hash) {
			fail("IsMainChain(%s) at height %d is false", hash, h)
		}
		if n := c.node(hash); n.status&statusValid == 0 {
			fail("main-chain block %s at height %d is not marked valid", hash, h)
		}
	}
	if _, err := c.HashAtHeight(tipNode.height + 1); err == nil {
		fail("HashAtHeight above the tip succeeds")
	}
	heights := 0
	crashForEachKey(t, c, prefixHeight, func(k, v []byte) {
		h := binary.BigEndian.Uint32(k[1:])
		if int(h) >= len(main) || !bytes.Equal(v, main[h][:]) {
			fail("main-chain record at height %d names %x; the main chain has %d blocks", h, v, len(main))
		}
		heights++
	})
	if heights != len(main) {
		fail("%d main-chain records for %d main-chain blocks", heights, len(main))
	}

	// Undo data for exactly the main chain above genesis; block bodies
	// for exactly the indexed blocks.
	undo := 0
	crashForEachKey(t, c, prefixUndo, func(k, _ []byte) {
		h := types.Hash(k[1:])
		if n := c.node(h); n == nil || n.height == 0 || int(n.height) >= len(main) || main[n.height] != h {
			fail("undo data for %s, which is not on the main chain", h)
		}
		undo++
	})
	if undo != len(main)-1 {
		fail("undo data for %d blocks, the main chain has %d above genesis", undo, len(main)-1)
	}
	bodies := 0
	crashForEachKey(t, c, prefixBlock, func(k, _ []byte) {
		if c.node(types.Hash(k[1:])) == nil {
			fail("body of unindexed block %x", k[1:])
		}
		bodies++
	})
	if bodies != len(nodes) {
		fail("%d bodies for %d indexed blocks", bodies, len(nodes))
	}

	// The transaction index holds exactly the main chain's transactions.
	txs := 0
	for h := 1; h < len(main); h++ {
		b, err := c.BlockByHeight(uint32(h))
		if err != nil {
			fail("main-chain block at height %d: %v", h, err)
		}
		for i, tx := range b.Txs {
			loc, ok, err := c.TxLocation(tx.Hash())
			if err != nil || !ok || loc != (TxLocation{Height: uint32(h), Index: uint32(i)}) {
				fail("transaction %d of the block at height %d: location %+v ok=%v err=%v", i, h, loc, ok, err)
			}
		}
		txs += len(b.Txs)
	}
	indexed := 0
	crashForEachKey(t, c, prefixTx, func(_, _ []byte) { indexed++ })
	if indexed != txs {
		fail("%d transactions indexed, the main chain holds %d", indexed, txs)
	}
	return res
}

func crashForEachKey(t *testing.T, c *Chain, prefix byte, f func(k, v []byte)) {
	t.Helper()
	it := c.db.NewIterator(util.BytesPrefix([]byte{prefix}), nil)
	defer it.Release()
	for it.Next() {
		f(it.Key(), it.Value())
	}
	if err := it.Error(); err != nil {
		t.Fatal(err)
	}
}

// crashCopyDir copies the files of a LevelDB directory.
func crashCopyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// crashLogBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type crashLogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *crashLogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *crashLogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func crashTail(s string) string {
	if len(s) > 4000 {
		return "..." + s[len(s)-4000:]
	}
	return s
}

func crashLastN(lines []string, n int) []string {
	if len(lines) > n {
		return lines[len(lines)-n:]
	}
	return lines
}
