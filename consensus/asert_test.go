package consensus_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/ledger-node/ledger/consensus"
)

// asertTestParams builds the few fields the difficulty rule reads.
func asertTestParams(genesisBits uint32, limit *big.Int, genesisTime, spacing, halfLife uint64) *consensus.Params {
	return &consensus.Params{
		Name:           "asert-test",
		GenesisTime:    genesisTime,
		GenesisBits:    genesisBits,
		PowLimit:       limit,
		PowLimitBits:   consensus.BigToCompact(limit),
		TargetSpacing:  spacing,
		ASERTHalfLife:  halfLife,
		MaxFutureDrift: 7200,
	}
}

// asertParamSets spans the shapes the property tests run on: anchor at the
// limit, far below it, at the hardest target, a full 256-bit limit, tiny and
// huge spacings and half-lives, genesis at time 0 and at the genesis-file
// maximum 2^40.
func asertParamSets() []*consensus.Params {
	return []*consensus.Params{
		asertTestParams(0x207fffff, consensus.CompactToBig(0x207fffff), 1_700_000_000, 1, 6),
		asertTestParams(0x1b0404cb, consensus.CompactToBig(0x1d00ffff), 1_231_006_505, 600, 172800),
		asertTestParams(0x1e0ffff0, powMaxLimit, 1_700_000_000, 60, 3600),
		asertTestParams(0x01010000, consensus.CompactToBig(0x1e00ffff), 1<<40, 86400, 365*86400),
		asertTestParams(0x1d00ffff, consensus.CompactToBig(0x1d00ffff), 0, 300, 43200),
	}
}

// asertRef is an independent statement of the rule, for comparison: plain
// big.Int arithmetic following the formula line by line, floor division
// done with Div/Mod, and no early exit other than an obviously safe one at
// ±1000 doublings (the anchor times the factor is below 2^273, so beyond
// that the result is 0 or far above any 256-bit limit). The implementation
// uses tighter exits at +256 and -257, which this checks.
func asertRef(p *consensus.Params, parentHeight uint32, parentTime uint64) *big.Int {
	u := func(v uint64) *big.Int { return new(big.Int).SetUint64(v) }
	delta := new(big.Int).Sub(u(parentTime), u(p.GenesisTime))
	delta.Sub(delta, new(big.Int).Mul(u(p.TargetSpacing), u(uint64(parentHeight))))
	// trunc(delta * 65536 / halfLife): Quo truncates toward zero.
	x := new(big.Int).Quo(new(big.Int).Mul(delta, big.NewInt(65536)), u(p.ASERTHalfLife))
	// n = floor(x / 65536), f = x - 65536 n: Euclidean Div/Mod by a
	// positive divisor are floor division and a non-negative remainder.
	n, f := new(big.Int).DivMod(x, big.NewInt(65536), new(big.Int))
	if n.Cmp(big.NewInt(1000)) > 0 {
		return new(big.Int).Set(p.PowLimit)
	}
	if n.Cmp(big.NewInt(-1000)) < 0 {
		return big.NewInt(1)
	}
	f2 := new(big.Int).Mul(f, f)
	f3 := new(big.Int).Mul(f2, f)
	poly := new(big.Int).Mul(big.NewInt(195766423245049), f)
	poly.Add(poly, new(big.Int).Mul(big.NewInt(971821376), f2))
	poly.Add(poly, new(big.Int).Mul(big.NewInt(5127), f3))
	poly.Add(poly, new(big.Int).Lsh(big.NewInt(1), 47))
	factor := new(big.Int).Add(big.NewInt(65536), poly.Div(poly, new(big.Int).Lsh(big.NewInt(1), 48)))

	target := new(big.Int).Mul(consensus.CompactToBig(p.GenesisBits), factor)
	if k := n.Int64(); k >= 0 {
		target.Lsh(target, uint(k))
	} else {
		target.Div(target, new(big.Int).Lsh(big.NewInt(1), uint(-k)))
	}
	target.Div(target, big.NewInt(65536))
	if target.Sign() == 0 {
		target.SetInt64(1)
	}
	if target.Cmp(p.PowLimit) > 0 {
		target.Set(p.PowLimit)
	}
	return target
}

// TestNextRequiredBitsVectors runs dcrd's DCP0011 vectors, converted to
// genesis-anchored inputs (see the comments in the file).
func TestNextRequiredBitsVectors(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "asert_vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Params map[string]struct {
			PowLimit      string `json:"powLimit"`
			TargetSpacing uint64 `json:"targetSpacing"`
			HalfLife      uint64 `json:"halfLife"`
		} `json:"params"`
		Scenarios []struct {
			Description string      `json:"description"`
			Params      string      `json:"params"`
			GenesisBits uint32      `json:"genesisBits"`
			GenesisTime uint64      `json:"genesisTime"`
			Tests       [][3]uint64 `json:"tests"`
		} `json:"scenarios"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Scenarios) < 10 {
		t.Fatalf("only %d scenarios parsed", len(file.Scenarios))
	}
	total := 0
	for _, sc := range file.Scenarios {
		np, ok := file.Params[sc.Params]
		if !ok || len(sc.Tests) == 0 {
			t.Fatalf("%s: bad scenario", sc.Description)
		}
		p := asertTestParams(sc.GenesisBits, hexBig(t, np.PowLimit), sc.GenesisTime, np.TargetSpacing, np.HalfLife)
		for _, tc := range sc.Tests {
			height, time, want := uint32(tc[0]), tc[1], uint32(tc[2])
			if got := consensus.ASERTBits(p, p.GenesisTime, height, time); got != want {
				t.Errorf("%s: height %d time %d: bits %08x, want %08x", sc.Description, height, time, got, want)
			}
			if ref := consensus.BigToCompact(asertRef(p, height, time)); ref != want {
				t.Errorf("%s: height %d time %d: reference %08x, want %08x", sc.Description, height, time, ref, want)
			}
			total++
		}
	}
	if total < 1000 {
		t.Fatalf("only %d vectors ran", total)
	}
}

// TestNextRequiredBitsHandChecked pins the semantics with values worked out
// by hand: T0 = 0xffff * 2^208 (bits 1d00ffff), one block a minute, a
// one-hour half-life.
func TestNextRequiredBitsHandChecked(t *testing.T) {
	const g, spacing, halfLife = 1_700_000_000, 60, 3600
	limit := consensus.CompactToBig(0x207fffff)
	p := asertTestParams(0x1d00ffff, limit, g, spacing, halfLife)
	sched := func(h uint32) uint64 { return g + spacing*uint64(h) }
	tests := []struct {
		name   string
		height uint32
		time   uint64
		want   uint32
	}{
		{"genesis parent on schedule", 0, g, 0x1d00ffff},
		{"on schedule", 1000, sched(1000), 0x1d00ffff},
		{"on schedule at the last height", math.MaxUint32, sched(math.MaxUint32), 0x1d00ffff},
		{"one half-life behind doubles", 1000, sched(1000) + halfLife, 0x1d01fffe},
		{"one half-life ahead halves", 1000, sched(1000) - halfLife, 0x1c7fff80},
		{"two half-lives behind", 1000, sched(1000) + 2*halfLife, 0x1d03fffc},
		{"behind by 40 half-lives clamps at the limit", 1000, sched(1000) + 40*halfLife, 0x207fffff},
		{"ahead by 300 half-lives clamps at 1", 0, g - 300*halfLife, 0x01010000},
		{"before genesis at height 0", 0, g - halfLife, 0x1c7fff80},
		{"time 0", 5, 0, 0x01010000},
		{"time max", 5, math.MaxUint64, 0x207fffff},
		{"height max, time 0", math.MaxUint32, 0, 0x01010000},
		{"height max, time max", math.MaxUint32, math.MaxUint64, 0x207fffff},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := consensus.ASERTBits(p, p.GenesisTime, tc.height, tc.time); got != tc.want {
				t.Fatalf("NextRequiredBits(%d, %d) = %08x, want %08x", tc.height, tc.time, got, tc.want)
			}
		})
	}

	// Whole half-lives scale the target by exact powers of two.
	anchor := consensus.CompactToBig(0x1d00ffff)
	for k := -20; k <= 20; k++ {
		tm := uint64(int64(sched(500)) + int64(k)*halfLife)
		want := new(big.Int).Set(anchor)
		if k >= 0 {
			want.Lsh(want, uint(k))
		} else {
			want.Rsh(want, uint(-k))
		}
		if want.Cmp(limit) > 0 {
			want.Set(limit)
		}
		if got := consensus.CompactToBig(consensus.ASERTBits(p, p.GenesisTime, 500, tm)); got.Cmp(want) != 0 {
			t.Errorf("%d half-lives: target %x, want %x", k, got, want)
		}
	}

	// The exponent division truncates toward zero. One second ahead of
	// schedule: Δ·2^16/3600 = -18.2, so x = -18 (floor would give -19),
	// n = -1 and f = 65518. With T0 = 2^201 the result is factor·2^184,
	// which the compact form holds exactly.
	q := asertTestParams(0x1a020000, limit, g, spacing, halfLife)
	got := consensus.CompactToBig(consensus.ASERTBits(q, q.GenesisTime, 10, sched(10)-1))
	want := new(big.Int).Lsh(big.NewInt(int64(asertTestFactor(65518))), 184)
	if asertTestFactor(65518) == asertTestFactor(65517) {
		t.Fatal("test does not distinguish truncation from floor")
	}
	if got.Cmp(want) != 0 {
		t.Fatalf("one second ahead: target %x, want %x (factor %d)", got, want, asertTestFactor(65518))
	}
	// And the same one second behind: x = 18, n = 0, f = 18.
	got = consensus.CompactToBig(consensus.ASERTBits(q, q.GenesisTime, 10, sched(10)+1))
	if want := new(big.Int).Lsh(big.NewInt(int64(asertTestFactor(18))), 185); got.Cmp(want) != 0 {
		t.Fatalf("one second behind: target %x, want %x", got, want)
	}
}

// asertTestFactor evaluates the aserti3-2d polynomial in big.Int.
func asertTestFactor(f int64) uint64 {
	b := big.NewInt(f)
	poly := new(big.Int).Mul(big.NewInt(195766423245049), b)
	poly.Add(poly, new(big.Int).Mul(big.NewInt(971821376), new(big.Int).Mul(b, b)))
	poly.Add(poly, new(big.Int).Mul(big.NewInt(5127), new(big.Int).Exp(b, big.NewInt(3), nil)))
	poly.Add(poly, new(big.Int).Lsh(big.NewInt(1), 47))
	poly.Rsh(poly, 48)
	return 65536 + poly.Uint64()
}

// TestASERTFactorExhaustive reads the 2^x approximation back for every
// fractional exponent: with a half-life of 65536 s a parent Δ seconds
// behind schedule has x = Δ exactly, and with T0 = 2^200 the result is
// factor·2^184, exactly representable. This checks the uint64 polynomial
// (which must not overflow) against big.Int for all 65536 inputs.
func TestASERTFactorExhaustive(t *testing.T) {
	const g = 1_000_000
	p := asertTestParams(0x1a010000, powMaxLimit, g, 10, 65536)
	prev := uint64(0)
	for f := range int64(65536) {
		got := consensus.CompactToBig(consensus.ASERTBits(p, p.GenesisTime, 0, g+uint64(f)))
		if got.TrailingZeroBits() < 184 {
			t.Fatalf("f=%d: result %x is not a multiple of 2^184", f, got)
		}
		factor := new(big.Int).Rsh(got, 184).Uint64()
		if want := asertTestFactor(f); factor != want {
			t.Fatalf("f=%d: factor %d, want %d", f, factor, want)
		}
		if factor < prev || factor < 65536 || factor >= 131072 {
			t.Fatalf("f=%d: factor %d out of order or range (previous %d)", f, factor, prev)
		}
		prev = factor
		// Within 0.013% of the true 2^x (floating point only in the test).
		exact := 65536 * math.Exp2(float64(f)/65536)
		if rel := math.Abs(float64(factor)-exact) / exact; rel > 0.00013 {
			t.Fatalf("f=%d: factor %d is %.5f%% from 2^x", f, factor, rel*100)
		}
	}
}

// TestNextRequiredBitsSaturationEdges compares with the reference right
// around the exponents where the implementation stops computing (+256 and
// -257 doublings), for the easiest and hardest anchors. With a half-life of
// 65536 s, x is Δ itself.
func TestNextRequiredBitsSaturationEdges(t *testing.T) {
	const g = 1 << 40
	for _, anchorBits := range []uint32{0x01010000, 0x1d00ffff, 0x2100ffff} {
		p := asertTestParams(anchorBits, powMaxLimit, g, 1, 65536)
		for _, whole := range []int64{-300, -291, -274, -273, -258, -257, -256, -255, -240, 239, 240, 254, 255, 256, 257} {
			for _, part := range []int64{-1, 0, 1, 65535} {
				x := whole<<16 + part
				tm := uint64(int64(g) + x)
				got := consensus.ASERTBits(p, p.GenesisTime, 0, tm)
				if want := consensus.BigToCompact(asertRef(p, 0, tm)); got != want {
					t.Errorf("anchor %08x, x = %d<<16%+d: bits %08x, reference %08x", anchorBits, whole, part, got, want)
				}
			}
		}
	}
	// The hardest anchor climbs to within a whisker of 2^256 without being
	// cut short: 255 doublings and the largest fraction stay below the limit.
	p := asertTestParams(0x01010000, powMaxLimit, g, 1, 65536)
	got := consensus.CompactToBig(consensus.ASERTBits(p, p.GenesisTime, 0, g+255<<16+65535))
	if got.Cmp(powMaxLimit) >= 0 || got.BitLen() != 256 {
		t.Fatalf("255.99 doublings of 1: %x", got)
	}
}

// asertRandomInputs draws a parent height and time: mostly near the
// schedule (within ±300 half-lives, where the curve is not saturated), and
// otherwise anywhere, including before genesis and near 2^64.
func asertRandomInputs(rng *rand.Rand, p *consensus.Params) (uint32, uint64) {
	var h uint32
	switch rng.IntN(3) {
	case 0:
		h = uint32(rng.IntN(1000))
	case 1:
		h = rng.Uint32()
	default:
		h = math.MaxUint32 - uint32(rng.IntN(10))
	}
	switch rng.IntN(6) {
	case 0:
		return h, rng.Uint64()
	case 1:
		return h, math.MaxUint64 - rng.Uint64N(1<<20)
	case 2:
		return h, rng.Uint64N(p.GenesisTime + 1)
	}
	base := new(big.Int).SetUint64(p.GenesisTime + p.TargetSpacing*uint64(h))
	off := new(big.Int).Mul(big.NewInt(rng.Int64N(600)-300), new(big.Int).SetUint64(p.ASERTHalfLife))
	off.Add(off, big.NewInt(rng.Int64N(2*int64(p.ASERTHalfLife))))
	base.Add(base, off)
	if base.Sign() < 0 {
		return h, 0
	}
	if !base.IsUint64() {
		return h, math.MaxUint64
	}
	return h, base.Uint64()
}

// TestNextRequiredBitsProperties: for arbitrary inputs the result never
// panics, stays in [1, PowLimit], is canonical and equals the reference; a
// later parent time never gives a harder target and a higher parent height
// at the same time never an easier one.
func TestNextRequiredBitsProperties(t *testing.T) {
	for i, p := range asertParamSets() {
		t.Run(fmt.Sprintf("params%d", i), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 42))
			target := func(h uint32, tm uint64) *big.Int {
				bits := consensus.ASERTBits(p, p.GenesisTime, h, tm)
				v := consensus.CompactToBig(bits)
				if v.Sign() <= 0 || v.Cmp(p.PowLimit) > 0 {
					t.Fatalf("h=%d t=%d: target %x outside [1, limit]", h, tm, v)
				}
				if consensus.BigToCompact(v) != bits {
					t.Fatalf("h=%d t=%d: bits %08x not canonical", h, tm, bits)
				}
				return v
			}
			for range 1500 {
				h, tm := asertRandomInputs(rng, p)
				got := target(h, tm)
				ref := consensus.CompactToBig(consensus.BigToCompact(asertRef(p, h, tm)))
				if got.Cmp(ref) != 0 {
					t.Fatalf("h=%d t=%d: target %x, reference %x", h, tm, got, ref)
				}

				// Later time: never harder.
				later := tm + uint64(rng.IntN(int(p.ASERTHalfLife)*2+2))
				if rng.IntN(4) == 0 && tm < math.MaxUint64 {
					later = tm + 1 + rng.Uint64N(math.MaxUint64-tm)
				}
				if later < tm {
					later = math.MaxUint64
				}
				if target(h, later).Cmp(got) < 0 {
					t.Fatalf("h=%d: time %d -> %d made the target harder", h, tm, later)
				}
				// Higher height: never easier.
				higher := h + uint32(rng.IntN(100))
				if rng.IntN(4) == 0 && h < math.MaxUint32 {
					higher = h + 1 + rng.Uint32N(math.MaxUint32-h)
				}
				if higher < h {
					higher = math.MaxUint32
				}
				if target(higher, tm).Cmp(got) > 0 {
					t.Fatalf("t=%d: height %d -> %d made the target easier", tm, h, higher)
				}
			}
		})
	}
}

// TestNextRequiredBitsTimeWarp: an honest clock advances TargetSpacing per
// block and honest blocks would stay on schedule at the genesis target. An
// attacker mining every block picks each timestamp anywhere the header
// rules allow: above the median of the previous 11 and at most
// MaxFutureDrift ahead of honest time. Whatever it picks, the target it is
// given stays below the honest target times 2^(ceil(drift/halfLife)+1):
// ASERT looks only at the parent's distance from the absolute schedule,
// which the drift rule bounds, so no sequence of timestamps compounds.
func TestNextRequiredBitsTimeWarp(t *testing.T) {
	type setup struct {
		spacing, halfLife, drift uint64
	}
	setups := []setup{{60, 3600, 7200}, {60, 3600, 5000}, {600, 172800, 7200}, {1, 6, 7200}, {120, 720, 60}}
	strategies := []string{"random", "max", "min", "warp", "oscillate"}
	const g, blocks = 1_700_000_000, 2000
	for _, s := range setups {
		p := asertTestParams(0x1e0ffff0, powMaxLimit, g, s.spacing, s.halfLife)
		p.MaxFutureDrift = s.drift
		honest := consensus.CompactToBig(p.GenesisBits)
		doublings := uint((s.drift+s.halfLife-1)/s.halfLife + 1)
		bound := new(big.Int).Lsh(honest, doublings)
		for si, strategy := range strategies {
			name := fmt.Sprintf("spacing%d-halflife%d-drift%d-%s", s.spacing, s.halfLife, s.drift, strategy)
			t.Run(name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(si), s.drift))
				times := []uint64{g}
				for h := uint32(1); h <= blocks; h++ {
					now := g + uint64(h)*s.spacing
					if got := consensus.ASERTBits(p, p.GenesisTime, h, now); got != p.GenesisBits {
						t.Fatalf("honest block %d on schedule gets %08x, not the genesis bits", h, got)
					}
					window := times[max(0, len(times)-consensus.MedianTimeBlocks):]
					lo, hi := consensus.MedianTime(window)+1, now+s.drift
					if lo > hi {
						t.Fatalf("block %d: no allowed timestamp (%d > %d)", h, lo, hi)
					}
					var ts uint64
					switch strategy {
					case "random":
						ts = lo + rng.Uint64N(hi-lo+1)
					case "max":
						ts = hi
					case "min":
						ts = lo
					case "warp": // hold time back, then jump to the limit
						if h%50 == 0 {
							ts = hi
						} else {
							ts = lo
						}
					case "oscillate":
						if h%2 == 0 {
							ts = hi
						} else {
							ts = lo
						}
					}
					times = append(times, ts)
					got := consensus.CompactToBig(consensus.ASERTBits(p, p.GenesisTime, h, ts))
					if got.Cmp(bound) > 0 {
						t.Fatalf("block %d at %d (honest %d): target %x exceeds %d doublings of %x",
							h, ts, now, got, doublings, honest)
					}
				}
			})
		}
	}
}

func TestNextRequiredBitsPanicsOnInvalidParams(t *testing.T) {
	limit := consensus.CompactToBig(0x1d00ffff)
	tests := []struct {
		name string
		p    *consensus.Params
	}{
		{"zero half-life", asertTestParams(0x1d00ffff, limit, 0, 60, 0)},
		{"genesis above the limit", asertTestParams(0x1d010000, limit, 0, 60, 3600)},
		{"zero genesis target", asertTestParams(0, limit, 0, 60, 3600)},
		{"nil limit", &consensus.Params{GenesisBits: 0x1d00ffff, TargetSpacing: 60, ASERTHalfLife: 3600}},
		{"limit over 256 bits", asertTestParams(0x1d00ffff, new(big.Int).Lsh(big.NewInt(1), 256), 0, 60, 3600)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			consensus.ASERTBits(tc.p, 0, 1, 60)
		})
	}
}

func BenchmarkNextRequiredBits(b *testing.B) {
	p := asertTestParams(0x1d00ffff, consensus.CompactToBig(0x1d00ffff), 1_700_000_000, 60, 3600)
	b.ReportAllocs()
	h := uint32(0)
	for b.Loop() {
		h++
		_ = consensus.ASERTBits(p, p.GenesisTime, h, p.GenesisTime+uint64(h)*60+uint64(h%7200))
	}
}

// TestNextRequiredBitsAnchorsAtBlockOne: block 1 always carries the genesis
// bits, however late it is mined, and later blocks are scheduled from block
// 1's time, so a network started long after its genesis timestamp does not
// begin at the easiest target.
func TestNextRequiredBitsAnchorsAtBlockOne(t *testing.T) {
	p := &consensus.Params{GenesisTime: 1_000_000, GenesisBits: 0x1d00ffff, TargetSpacing: 60, ASERTHalfLife: 3600,
		PowLimit: consensus.CompactToBig(0x1f00ffff), PowLimitBits: 0x1f00ffff}
	late := p.GenesisTime + 365*86400
	if got := consensus.NextRequiredBits(p, 0, 0, late); got != p.GenesisBits {
		t.Fatalf("child of genesis mined a year late: bits %08x, want genesis bits %08x", got, p.GenesisBits)
	}
	// Block 1, mined a year late, is the anchor: a parent at height h is on
	// schedule at anchor + (h-1)*spacing.
	for _, h := range []uint32{1, 2, 10, 1000} {
		onSchedule := late + uint64(h-1)*p.TargetSpacing
		if got := consensus.NextRequiredBits(p, late, h, onSchedule); got != p.GenesisBits {
			t.Fatalf("parent %d on schedule from block 1: bits %08x, want %08x", h, got, p.GenesisBits)
		}
		if got, want := consensus.NextRequiredBits(p, late, h, onSchedule+3600), consensus.ASERTBits(p, late, h-1, onSchedule+3600); got != want {
			t.Fatalf("parent %d: NextRequiredBits %08x != ASERTBits %08x", h, got, want)
		}
	}
	// Anchored at genesis instead, the same chain would sit at the limit.
	if got := consensus.ASERTBits(p, p.GenesisTime, 0, late); got != p.PowLimitBits {
		t.Fatalf("genesis-anchored late chain: bits %08x, want the limit %08x", got, p.PowLimitBits)
	}
}
