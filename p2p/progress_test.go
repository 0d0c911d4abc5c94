package p2p

import (
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/internal/chaingen"
)

func TestProgressPercent(t *testing.T) {
	for _, tc := range []struct {
		height, target uint32
		want           string
	}{
		{0, 0, "100.0"},
		{5, 5, "100.0"},
		{7, 5, "100.0"}, // the tip passed the target meanwhile
		{0, 10, "0.0"},
		{1, 3, "33.3"},
		{2, 3, "66.6"},            // rounded down
		{9_999, 10_000, "99.9"},   // never "100.0" before the end
		{1, 4_000_000_000, "0.0"}, // no overflow
		{3_999_999_999, 4_000_000_000, "99.9"},
	} {
		if got := progressPercent(tc.height, tc.target); got != tc.want {
			t.Errorf("progressPercent(%d, %d) = %q, want %q", tc.height, tc.target, got, tc.want)
		}
	}
}

func TestRemainingTime(t *testing.T) {
	for _, tc := range []struct {
		height, target uint32
		rate           float64
		want           string
	}{
		{100, 100, 0, "0s"},
		{120, 100, 5, "0s"},
		{0, 100, 0, "unknown"},
		{0, 100, -1, "unknown"},
		{0, 100, math.NaN(), "unknown"},
		{0, 100, math.Inf(1), "unknown"},
		{0, 130, 1, "2m10s"},
		{0, 10, 4, "3s"}, // 2.5 s, to the second
		{0, 3_600, 1, "1h0m"},
		{0, 12_300, 1, "3h25m"},
		{0, 4_000_000_000, 0.001, "over 1000h0m"},
	} {
		if got := remainingTime(tc.height, tc.target, tc.rate); got != tc.want {
			t.Errorf("remainingTime(%d, %d, %v) = %q, want %q", tc.height, tc.target, tc.rate, got, tc.want)
		}
	}
}

func TestSmoothRate(t *testing.T) {
	w := 1 - math.Exp(-5.0/30)
	for _, tc := range []struct {
		name   string
		prev   float64
		first  bool
		blocks int64
		window time.Duration
		want   float64
	}{
		{"first window taken as is", 0, true, 50, 5 * time.Second, 10},
		{"steady rate stays", 10, false, 50, 5 * time.Second, 10},
		{"a pause lowers it only partly", 10, false, 0, 5 * time.Second, 10 - 10*w},
		{"a burst raises it only partly", 10, false, 150, 5 * time.Second, 10 + 20*w},
		{"empty window changes nothing", 7, false, 10, 0, 7},
		{"a long window weighs more", 10, false, 0, 300 * time.Second, 10 * math.Exp(-10)},
	} {
		got := smoothRate(tc.prev, tc.first, tc.blocks, tc.window)
		if math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: smoothRate = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestBestKnownHeight: alone, a node knows no height and no peer; once
// connected, it knows the height its peer announced, whatever its own.
func TestBestKnownHeight(t *testing.T) {
	g := chaingen.New(chaingen.Options{})
	blocks := buildSyncChain(t, g, g.Genesis.Hash, 3, "best")
	a := newTestNode(t, g, nodeOpts{})
	processAll(t, a.chain, blocks)
	if n, h := a.node.PeerCount(), a.node.BestKnownHeight(); n != 0 || h != 0 {
		t.Fatalf("alone: %d peers, best known height %d", n, h)
	}
	late := newTestNode(t, g, nodeOpts{})
	connectTo(t, late, a.addr())
	waitFor(t, 10*time.Second, "the peer's status", func() bool { return late.node.BestKnownHeight() == 3 })
	if n := late.node.PeerCount(); n != 1 {
		t.Fatalf("%d peers, want 1", n)
	}
	waitTip(t, late, blocks[2].Hash(), 10*time.Second)
	if n, h := a.node.PeerCount(), a.node.BestKnownHeight(); n != 1 || h > 3 {
		t.Fatalf("the first node: %d peers, best known height %d", n, h)
	}
}

// TestLogProgressLine: the progress line carries height, target, percent,
// the smoothed rate and the remaining time; the header-only windows
// before the first block do not drag the rate down.
func TestLogProgressLine(t *testing.T) {
	g := chaingen.New(chaingen.Options{})
	blocks := buildSyncChain(t, g, g.Genesis.Hash, 25, "line")
	c, err := chain.Open(chain.Config{Dir: t.TempDir(), Genesis: g.Genesis, Logger: testLogger(), SkipStateCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	processAll(t, c, blocks)
	var out strings.Builder
	s := &syncer{
		n:          &Node{log: slog.New(slog.NewTextHandler(&out, nil))},
		chain:      c,
		peers:      map[peer.ID]*syncPeer{},
		deliverers: map[peer.ID]bool{"a": true, "b": true},
		sess:       &syncSession{tail: &hdrCtx{height: 100}},
	}
	start := time.Unix(1_800_000_000, 0)
	s.lastProgress = start
	lines := []struct {
		synced int64 // blocks connected in the session so far
		want   []string
	}{
		{0, []string{`msg="sync progress"`, "height=25", "target=100", "percent=25.0", "blocks_per_s=0.0", "remaining=unknown", "peers=2"}},
		{50, []string{"percent=25.0", "blocks_per_s=10.0", "remaining=8s"}},
		{100, []string{"blocks_per_s=10.0", "remaining=8s", "peers=0"}},
	}
	for i, l := range lines {
		s.syncedBlocks.Store(l.synced)
		out.Reset()
		s.logProgress(start.Add(time.Duration(i+1) * progressInterval))
		t.Log(strings.TrimSpace(out.String()))
		for _, w := range l.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("line %d: %q lacks %s", i, strings.TrimSpace(out.String()), w)
			}
		}
	}
}
