package node

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ledger-node/ledger/internal/chaingen"
	"github.com/ledger-node/ledger/p2p"
)

// metricsGet fetches a path from the node's metrics server.
func metricsGet(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// metricValue is the value of the sample whose line starts with series
// (name and labels as the text format writes them), or -1 if absent.
func metricValue(body, series string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

// TestNodeServesMetrics: a mining node with metrics on 127.0.0.1:0 serves
// /metrics with the node's series, moving as it mines; /debug/pprof/ is
// there only with MetricsPprof; Run's return stops the server.
func TestNodeServesMetrics(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 1})
	for _, withPprof := range []bool{false, true} {
		t.Run(fmt.Sprintf("pprof=%v", withPprof), func(t *testing.T) {
			n, err := New(Config{
				DataDir:      t.TempDir(),
				Genesis:      g.Genesis,
				Mine:         true,
				MinerThreads: 1,
				P2P:          p2p.Config{Listen: []string{"/ip4/127.0.0.1/tcp/0"}},
				NoRPC:        true,
				MetricsAddr:  "127.0.0.1:0",
				MetricsPprof: withPprof,
				Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- n.Run(ctx) }()
			stopped := false
			stop := func() {
				if stopped {
					return
				}
				stopped = true
				cancel()
				if err := <-done; err != nil {
					t.Errorf("run: %v", err)
				}
			}
			defer stop()

			var addr string
			deadline := time.Now().Add(10 * time.Second)
			for addr = n.MetricsAddr(); addr == ""; addr = n.MetricsAddr() {
				if time.Now().After(deadline) {
					t.Fatal("metrics server never started")
				}
				time.Sleep(10 * time.Millisecond)
			}
			if !strings.HasPrefix(addr, "127.0.0.1:") {
				t.Fatalf("metrics on %s", addr)
			}

			// Mining moves the height, the accepted counter and the
			// histogram together.
			var body string
			for {
				var code int
				code, body = metricsGet(t, addr, "/metrics")
				if code != http.StatusOK {
					t.Fatalf("/metrics: %d", code)
				}
				if metricValue(body, "ledger_height") >= 2 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("height never reached 2:\n%s", grepLedger(body))
				}
				time.Sleep(50 * time.Millisecond)
			}
			if v := metricValue(body, "ledger_miner_running"); v != 1 {
				t.Errorf("ledger_miner_running = %v while mining", v)
			}
			// One scrape reads each series at its own moment, and the
			// chain calls the observer after its lock is released: stop
			// mining and let the figures settle before comparing them.
			n.Miner().Stop()
			deadline = time.Now().Add(10 * time.Second)
			for prev := ""; ; {
				time.Sleep(100 * time.Millisecond)
				_, body = metricsGet(t, addr, "/metrics")
				if grepLedger(body) == prev {
					break
				}
				prev = grepLedger(body)
				if time.Now().After(deadline) {
					t.Fatalf("metrics never settled:\n%s", prev)
				}
			}
			height := metricValue(body, "ledger_height")
			for series, ok := range map[string]func(float64) bool{
				`ledger_blocks_processed_total{reason="",result="accepted"}`: func(v float64) bool { return v >= height },
				"ledger_block_validation_seconds_count":                      func(v float64) bool { return v >= height },
				"ledger_miner_running":                                       func(v float64) bool { return v == 0 },
				"ledger_miner_hashrate":                                      func(v float64) bool { return v >= 0 },
				"ledger_peers":                                               func(v float64) bool { return v == 0 },
				"ledger_sync_progress":                                       func(v float64) bool { return v == 1 },
				"ledger_sync_best_known_height":                              func(v float64) bool { return v >= height },
				"ledger_mempool_txs":                                         func(v float64) bool { return v == 0 },
				"ledger_mempool_bytes":                                       func(v float64) bool { return v == 0 },
				`ledger_txs_processed_total{reason="",result="accepted"}`:    func(v float64) bool { return v == 0 },
				"go_goroutines":                                              func(v float64) bool { return v > 0 },
			} {
				if v := metricValue(body, series); v < 0 || !ok(v) {
					t.Errorf("%s = %v (height %v)", series, v, height)
				}
			}

			want := http.StatusNotFound
			if withPprof {
				want = http.StatusOK
			}
			if code, _ := metricsGet(t, addr, "/debug/pprof/"); code != want {
				t.Errorf("/debug/pprof/: %d, want %d", code, want)
			}
			if code, _ := metricsGet(t, addr, "/debug/pprof/goroutine?debug=1"); code != want {
				t.Errorf("/debug/pprof/goroutine: %d, want %d", code, want)
			}

			stop()
			if _, err := http.Get("http://" + addr + "/metrics"); err == nil {
				t.Error("metrics still served after Run returned")
			}
			if n.MetricsAddr() != "" {
				t.Error("MetricsAddr after Run returned")
			}
		})
	}
}

// TestNodeWithoutMetrics: by default nothing is served.
func TestNodeWithoutMetrics(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 1})
	n, err := New(Config{DataDir: t.TempDir(), Genesis: g.Genesis, NoP2P: true, NoRPC: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := n.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if n.metrics != nil || n.MetricsAddr() != "" {
		t.Fatal("metrics built without an address")
	}
}

func grepLedger(body string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "ledger_") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
