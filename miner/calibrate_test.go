package miner

import (
	"math"
	"testing"
	"time"
)

// TestMeasureHashRate: the rate is the nonces hashed over the time the
// clock says passed, whatever the clock, and is positive and finite even
// when the clock does not move.
func TestMeasureHashRate(t *testing.T) {
	tests := []struct {
		name string
		step time.Duration // how far the fake clock moves per reading
		d    time.Duration
		want float64
	}{
		// Readings: start, then one per chunk. With a 1 ms step and d =
		// 3 ms, three chunks are hashed in 3 ms.
		{"three chunks", time.Millisecond, 3 * time.Millisecond, 3 * chunk / 0.003},
		{"one chunk, zero duration", time.Second, 0, chunk},
		{"frozen clock", 0, 0, chunk / 1e-9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Unix(1_700_000_000, 0)
			clock := func() time.Time {
				t := now
				now = now.Add(tc.step)
				return t
			}
			got := MeasureHashRate(tc.d, clock)
			if math.Abs(got-tc.want) > tc.want*1e-9 {
				t.Fatalf("rate %v, want %v", got, tc.want)
			}
		})
	}
	if r := MeasureHashRate(time.Millisecond, nil); r <= 0 || math.IsInf(r, 0) || math.IsNaN(r) {
		t.Fatalf("real clock: rate %v", r)
	}
}
