package consensus_test

import (
	"slices"
	"testing"

	"github.com/ledger-node/ledger/consensus"
)

func TestMedianTime(t *testing.T) {
	tests := []struct {
		name string
		in   []uint64
		want uint64
	}{
		{"none", nil, 0},
		{"one", []uint64{7}, 7},
		{"two takes the upper", []uint64{5, 9}, 9},
		{"three unsorted", []uint64{30, 10, 20}, 20},
		{"four takes the upper middle", []uint64{4, 1, 3, 2}, 3},
		{"duplicates", []uint64{5, 5, 1, 5, 9}, 5},
		{"eleven", []uint64{11, 1, 10, 2, 9, 3, 8, 4, 7, 5, 6}, 6},
		{"extremes", []uint64{0, ^uint64(0), ^uint64(0)}, ^uint64(0)},
		{"more than eleven", []uint64{13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.in)
			if got := consensus.MedianTime(in); got != tc.want {
				t.Fatalf("MedianTime(%v) = %d, want %d", tc.in, got, tc.want)
			}
			if !slices.Equal(in, tc.in) {
				t.Fatalf("input modified: %v, was %v", in, tc.in)
			}
		})
	}
}

func TestMedianTimeAllocs(t *testing.T) {
	in := []uint64{11, 1, 10, 2, 9, 3, 8, 4, 7, 5, 6}
	if n := testing.AllocsPerRun(100, func() { _ = consensus.MedianTime(in) }); n != 0 {
		t.Fatalf("MedianTime of %d timestamps allocates %v times", len(in), n)
	}
}
