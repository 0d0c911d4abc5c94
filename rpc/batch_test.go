package rpc

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/creachadair/jrpc2"
)

// TestTopLevelElements: the batch is counted without parsing, strings and
// nesting included, stopping at the limit.
func TestTopLevelElements(t *testing.T) {
	for _, tc := range []struct {
		body string
		stop int
		want int
	}{
		{`[]`, 10, 0},
		{`  [ ]`, 10, 0},
		{`[1]`, 10, 1},
		{`[1,2,3]`, 10, 3},
		{`[{"a":[1,2]},"x,y",{"b":"]"}]`, 10, 3},
		{`[{"s":"\"],"}, 2]`, 10, 2},
		{`{"jsonrpc":"2.0"}`, 10, 1},
		{`[` + strings.Repeat(`1,`, 1000) + `1]`, 101, 101},
	} {
		if got := topLevelElements([]byte(tc.body), tc.stop); got != tc.want {
			t.Errorf("%.40s: got %d, want %d", tc.body, got, tc.want)
		}
	}
}

// TestHugeBatchRefusedCheaply: a 4 MiB batch of tiny elements is refused
// as too large without being parsed (parsing it allocates over a GiB).
func TestHugeBatchRefusedCheaply(t *testing.T) {
	body := []byte("[" + strings.Repeat("1,", 2<<20) + "1]")
	allocs := testing.AllocsPerRun(1, func() {
		if n := topLevelElements(body, DefaultMaxBatch+1); n <= DefaultMaxBatch {
			t.Fatalf("counted %d", n)
		}
	})
	if allocs > 0 {
		t.Fatalf("counting allocated %v times", allocs)
	}
}

// TestHandlersHaveDeadline: every method runs under the per-request
// timeout (jrpc2 gives handlers its server's context, not the request's).
func TestHandlersHaveDeadline(t *testing.T) {
	s := &Server{cfg: Config{Timeout: 3 * time.Second}}
	var left time.Duration
	h := s.withDeadline(func(ctx context.Context, _ *jrpc2.Request) (any, error) {
		dl, ok := ctx.Deadline()
		if !ok {
			return nil, errors.New("no deadline")
		}
		left = time.Until(dl)
		return nil, nil
	})
	if _, err := h(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if left <= 0 || left > 3*time.Second {
		t.Fatalf("deadline %v away, want within the 3 s timeout", left)
	}
}
