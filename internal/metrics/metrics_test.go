package metrics

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/mempool"
	"github.com/ledger-node/ledger/miner"
)

// family finds a gathered metric family by name.
func family(t *testing.T, g prometheus.Gatherer, name string) *dto.MetricFamily {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return f
		}
	}
	return nil
}

// labelsOf renders a metric's labels as result/reason.
func labelsOf(m *dto.Metric) string {
	var result, reason string
	for _, l := range m.GetLabel() {
		switch l.GetName() {
		case "result":
			result = l.GetValue()
		case "reason":
			reason = l.GetValue()
		}
	}
	return result + "/" + reason
}

// counters maps result/reason to the counter's value, leaving out zeros.
func counters(t *testing.T, g prometheus.Gatherer, name string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	f := family(t, g, name)
	if f == nil {
		t.Fatalf("no family %s", name)
	}
	for _, m := range f.GetMetric() {
		if v := m.GetCounter().GetValue(); v != 0 {
			out[labelsOf(m)] = v
		}
	}
	return out
}

func ruleErr(k consensus.ErrorKind) error {
	return &consensus.RuleError{Kind: k, Description: "broken: " + string(k)}
}

func chainErr(k chain.ErrorKind) error {
	return &chain.Error{Kind: k, Description: "refused: " + string(k)}
}

func TestBlockProcessed(t *testing.T) {
	type call struct {
		res chain.ProcessResult
		err error
	}
	for _, tc := range []struct {
		name      string
		calls     []call
		want      map[string]float64
		wantCount uint64
		wantSum   float64 // sum of the observed seconds
	}{
		{"none", nil, map[string]float64{}, 0, 0},
		{"accepted, main chain and side chain", []call{{chain.ProcessResult{MainChain: true}, nil}, {chain.ProcessResult{}, nil}},
			map[string]float64{"accepted/": 2}, 2, 2},
		{"orphan is not timed", []call{{chain.ProcessResult{Orphan: true}, nil}},
			map[string]float64{"orphan/": 1}, 0, 0},
		{"consensus refusal is timed", []call{{chain.ProcessResult{}, ruleErr(consensus.ErrBadStateRoot)},
			{chain.ProcessResult{}, fmt.Errorf("wrapped: %w", ruleErr(consensus.ErrBadStateRoot))}},
			map[string]float64{"rejected/ErrBadStateRoot": 2}, 2, 2},
		{"store refusals are not timed", []call{{chain.ProcessResult{}, chainErr(chain.ErrDuplicateBlock)},
			{chain.ProcessResult{}, chainErr(chain.ErrKnownInvalid)}, {chain.ProcessResult{}, chain.ErrInsufficientWork}},
			map[string]float64{"rejected/ErrDuplicateBlock": 1, "rejected/ErrKnownInvalid": 1, "rejected/ErrInsufficientWork": 1}, 0, 0},
		{"unknown and kindless are other", []call{
			{chain.ProcessResult{}, ruleErr(consensus.ErrorKind("ErrFromTheFuture"))},
			{chain.ProcessResult{}, chainErr(chain.ErrorKind("ErrNew"))},
			{chain.ProcessResult{}, errors.New("disk on fire")}},
			map[string]float64{"rejected/other": 3}, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			for _, c := range tc.calls {
				m.BlockProcessed(c.res, c.err, time.Second)
			}
			got := counters(t, m.Gatherer(), "ledger_blocks_processed_total")
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("counters %v, want %v", got, tc.want)
			}
			h := family(t, m.Gatherer(), "ledger_block_validation_seconds").GetMetric()[0].GetHistogram()
			if h.GetSampleCount() != tc.wantCount || h.GetSampleSum() != tc.wantSum {
				t.Fatalf("histogram count %d sum %v, want %d and %v", h.GetSampleCount(), h.GetSampleSum(), tc.wantCount, tc.wantSum)
			}
		})
	}
}

func TestTxProcessed(t *testing.T) {
	for _, tc := range []struct {
		name string
		errs []error
		want map[string]float64
	}{
		{"accepted", []error{nil, nil, nil}, map[string]float64{"accepted/": 3}},
		{"duplicates have their own reason", []error{nil, &mempool.PolicyError{Kind: mempool.ErrAlreadyKnown}, mempool.ErrAlreadyKnown},
			map[string]float64{"accepted/": 1, "rejected/ErrAlreadyKnown": 2}},
		{"consensus and policy kinds", []error{ruleErr(consensus.ErrBadNonce), &mempool.PolicyError{Kind: mempool.ErrFeeTooLow},
			fmt.Errorf("batch: %w", ruleErr(consensus.ErrBadSignature))},
			map[string]float64{"rejected/ErrBadNonce": 1, "rejected/ErrFeeTooLow": 1, "rejected/ErrBadSignature": 1}},
		// A miner kind is a data.reason in RPC but not a label here.
		{"unknown kind is other", []error{&mempool.PolicyError{Kind: mempool.ErrorKind("Err" + strings.Repeat("x", 100))},
			errors.New("storage failure"), &miner.Error{Kind: miner.ErrTemplate}}, map[string]float64{"rejected/other": 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			for _, err := range tc.errs {
				m.TxProcessed(err)
			}
			got := counters(t, m.Gatherer(), "ledger_txs_processed_total")
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("counters %v, want %v", got, tc.want)
			}
		})
	}
}

// TestKnownKindsCoverDeclarations: every ErrorKind constant declared in
// consensus and mempool can be a label; a kind added there without being
// added here fails this test rather than showing up as "other".
func TestKnownKindsCoverDeclarations(t *testing.T) {
	for _, file := range []string{"../../consensus/errors.go", "../../mempool/errors.go"} {
		declared := errorKindConsts(t, file)
		if len(declared) < 5 {
			t.Fatalf("%s: found only %d ErrorKind constants; has the declaration style changed?", file, len(declared))
		}
		for _, k := range declared {
			if !knownKinds[k] {
				t.Errorf("%s declares %s, which knownKinds lacks", filepath.Base(filepath.Dir(file)), k)
			}
		}
	}
}

// errorKindConsts returns the string values of the constants declared as
// ErrorKind("...") in file.
func errorKindConsts(t *testing.T, file string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) != 1 {
			return true
		}
		if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "ErrorKind" {
			return true
		}
		if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
			out = append(out, strings.Trim(lit.Value, `"`))
		}
		return true
	})
	return out
}

type fakeChain struct{ height uint32 }

func (c fakeChain) Tip() chain.Tip { return chain.Tip{Height: c.height, TotalWork: new(big.Int)} }

type fakePool struct{ count, bytes int }

func (p fakePool) Count() int { return p.count }
func (p fakePool) Bytes() int { return p.bytes }

type fakeNetwork struct {
	peers int
	best  uint32
}

func (n fakeNetwork) PeerCount() int          { return n.peers }
func (n fakeNetwork) BestKnownHeight() uint32 { return n.best }

type fakeMiner struct {
	rate    float64
	threads int
}

func (m fakeMiner) HashRate() float64 { return m.rate }
func (m fakeMiner) Threads() int      { return m.threads }

func TestWatchGauges(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  Sources
		want map[string]float64
	}{
		{"alone, not mining", Sources{Chain: fakeChain{7}}, map[string]float64{
			"ledger_height": 7, "ledger_peers": 0, "ledger_sync_best_known_height": 7, "ledger_sync_progress": 1,
			"ledger_mempool_txs": 0, "ledger_mempool_bytes": 0, "ledger_miner_hashrate": 0, "ledger_miner_running": 0}},
		{"syncing", Sources{Chain: fakeChain{25}, Pool: fakePool{3, 900}, Network: fakeNetwork{4, 100}, Miner: fakeMiner{0, 0}},
			map[string]float64{"ledger_height": 25, "ledger_peers": 4, "ledger_sync_best_known_height": 100,
				"ledger_sync_progress": 0.25, "ledger_mempool_txs": 3, "ledger_mempool_bytes": 900, "ledger_miner_running": 0}},
		{"ahead of peers, mining", Sources{Chain: fakeChain{50}, Network: fakeNetwork{1, 40}, Miner: fakeMiner{1234.5, 2}},
			map[string]float64{"ledger_sync_best_known_height": 50, "ledger_sync_progress": 1,
				"ledger_miner_hashrate": 1234.5, "ledger_miner_running": 1}},
		{"at genesis, peers at genesis", Sources{Chain: fakeChain{0}, Network: fakeNetwork{2, 0}},
			map[string]float64{"ledger_sync_progress": 1, "ledger_height": 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			if err := m.Watch(tc.src); err != nil {
				t.Fatal(err)
			}
			for name, want := range tc.want {
				f := family(t, m.Gatherer(), name)
				if f == nil {
					t.Fatalf("no %s", name)
				}
				if got := f.GetMetric()[0].GetGauge().GetValue(); got != want {
					t.Errorf("%s = %v, want %v", name, got, want)
				}
			}
		})
	}
	m := New()
	if err := m.Watch(Sources{}); err == nil {
		t.Fatal("Watch without a chain accepted")
	}
	if err := m.Watch(Sources{Chain: fakeChain{1}}); err != nil {
		t.Fatal(err)
	}
	if err := m.Watch(Sources{Chain: fakeChain{1}}); err == nil {
		t.Fatal("Watch twice accepted")
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
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

// TestServer: /metrics serves the text format with the node's series and
// the runtime's; /debug/pprof/ only when enabled; other paths are 404.
func TestServer(t *testing.T) {
	for _, withPprof := range []bool{false, true} {
		t.Run(fmt.Sprintf("pprof=%v", withPprof), func(t *testing.T) {
			m := New()
			if err := m.Watch(Sources{Chain: fakeChain{12}}); err != nil {
				t.Fatal(err)
			}
			m.TxProcessed(ruleErr(consensus.ErrBadNonce))
			s, err := m.Listen(ServerConfig{Addr: "127.0.0.1:0", Pprof: withPprof, Logger: quietLogger()})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			base := "http://" + s.Addr()
			code, body := get(t, base+"/metrics")
			if code != http.StatusOK {
				t.Fatalf("/metrics: %d", code)
			}
			for _, want := range []string{"ledger_height 12\n", `ledger_txs_processed_total{reason="ErrBadNonce",result="rejected"} 1`,
				"ledger_block_validation_seconds_bucket", "go_goroutines ", "process_"} {
				if !strings.Contains(body, want) {
					t.Errorf("/metrics lacks %q", want)
				}
			}
			wantPprof := http.StatusNotFound
			if withPprof {
				wantPprof = http.StatusOK
			}
			if code, _ := get(t, base+"/debug/pprof/"); code != wantPprof {
				t.Errorf("/debug/pprof/: %d, want %d", code, wantPprof)
			}
			if code, _ := get(t, base+"/debug/pprof/cmdline"); code != wantPprof {
				t.Errorf("/debug/pprof/cmdline: %d, want %d", code, wantPprof)
			}
			if code, _ := get(t, base+"/"); code != http.StatusNotFound {
				t.Errorf("/: %d, want 404", code)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("second close: %v", err)
			}
			if _, err := http.Get(base + "/metrics"); err == nil {
				t.Error("still serving after Close")
			}
		})
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, tc := range []struct {
		addr net.Addr
		want bool
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9100}, true},
		{&net.TCPAddr{IP: net.IPv4(127, 3, 2, 1), Port: 9100}, true},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 9100}, true},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 9100}, false},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 9100}, false},
		{&net.TCPAddr{IP: net.IPv4(192, 0, 2, 10), Port: 9100}, false},
		{&net.UnixAddr{Name: "/tmp/x", Net: "unix"}, false},
	} {
		if got := loopbackOnly(tc.addr); got != tc.want {
			t.Errorf("loopbackOnly(%v) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}
