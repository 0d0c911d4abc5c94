package rpc

import (
	"strings"
	"testing"
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
