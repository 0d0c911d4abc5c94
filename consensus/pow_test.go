package consensus_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
)

// powMaxLimit is 2^256-1: no limit beyond fitting in 256 bits.
var powMaxLimit = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

// powKinds lists every header kind, so tests can check that an error has
// exactly the expected one.
var powKinds = []consensus.ErrorKind{
	consensus.ErrBadVersion, consensus.ErrBadTarget, consensus.ErrHighHash, consensus.ErrUnexpectedBits,
	consensus.ErrBadHeight, consensus.ErrTimeTooOld, consensus.ErrTimeTooNew, consensus.ErrBadPrevBlock,
}

// requireKind fails unless err is a *consensus.RuleError of exactly kind.
func requireKind(t *testing.T, err error, kind consensus.ErrorKind) {
	t.Helper()
	var re *consensus.RuleError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T) is not a *RuleError", err, err)
	}
	if re.Kind != kind {
		t.Fatalf("error kind %s, want %s (%v)", re.Kind, kind, err)
	}
	for _, k := range powKinds {
		if got := errors.Is(err, k); got != (k == kind) {
			t.Fatalf("errors.Is(err, %s) = %v for an error of kind %s", k, got, kind)
		}
	}
}

// hexBig parses optionally negative hex.
func hexBig(t testing.TB, s string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(s, 16)
	if !ok {
		t.Fatalf("bad hex %q", s)
	}
	return n
}

func parseBits(t testing.TB, s string) uint32 {
	t.Helper()
	v, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		t.Fatalf("bad bits %q: %v", s, err)
	}
	return uint32(v)
}

// powRefDecode is an obviously correct classification on big.Int, against
// which the allocation-free decoding is checked.
func powRefDecode(bits uint32) (*big.Int, string) {
	v := consensus.CompactToBig(bits)
	switch {
	case v.Sign() < 0:
		return v, "negative"
	case v.Sign() == 0:
		return v, "zero"
	case v.BitLen() > 256:
		return v, "overflow"
	}
	return v, "ok"
}

func TestCompactVectors(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "compact_vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Vectors []struct {
			Bits, Value, Canonical, Decode, Note string
		}
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Vectors) < 30 {
		t.Fatalf("only %d vectors parsed", len(file.Vectors))
	}
	for _, v := range file.Vectors {
		t.Run(v.Bits, func(t *testing.T) {
			bits := parseBits(t, v.Bits)
			want := hexBig(t, v.Value)
			if got := consensus.CompactToBig(bits); got.Cmp(want) != 0 {
				t.Fatalf("CompactToBig(%08x) = %x, want %x (%s)", bits, got, want, v.Note)
			}
			canon := parseBits(t, v.Canonical)
			if got := consensus.BigToCompact(want); got != canon {
				t.Fatalf("BigToCompact(%x) = %08x, want %08x (%s)", want, got, canon, v.Note)
			}
			// The canonical form denotes the same number and is a fixed point.
			if got := consensus.CompactToBig(canon); got.Cmp(want) != 0 {
				t.Fatalf("canonical %08x decodes to %x, want %x", canon, got, want)
			}
			target, err := consensus.DecodeTarget(bits, powMaxLimit)
			if v.Decode == "ok" {
				if err != nil || target.Cmp(want) != 0 {
					t.Fatalf("DecodeTarget(%08x) = %v, %v; want %x", bits, target, err, want)
				}
				if w := consensus.CalcWork(bits); w.Sign() <= 0 {
					t.Fatalf("CalcWork(%08x) = %v, want positive", bits, w)
				}
			} else {
				requireKind(t, err, consensus.ErrBadTarget)
				if target != nil {
					t.Fatalf("DecodeTarget returned target %v with an error", target)
				}
				if w := consensus.CalcWork(bits); w.Sign() != 0 {
					t.Fatalf("CalcWork(%08x) = %v for an invalid target, want 0", bits, w)
				}
			}
			if _, ref := powRefDecode(bits); ref != v.Decode {
				t.Fatalf("vector says %s, big.Int reference says %s", v.Decode, ref)
			}
		})
	}
}

func TestBigToCompact(t *testing.T) {
	lsh := func(v int64, n uint) *big.Int { return new(big.Int).Lsh(big.NewInt(v), n) }
	tests := []struct {
		name string
		n    *big.Int
		want uint32
	}{
		{"zero", big.NewInt(0), 0},
		{"one", big.NewInt(1), 0x01010000},
		{"0x7f", big.NewInt(0x7f), 0x017f0000},
		{"0x80 moves to the next byte", big.NewInt(0x80), 0x02008000},
		{"0x7fffff", big.NewInt(0x7fffff), 0x037fffff},
		{"0x800000", big.NewInt(0x800000), 0x04008000},
		{"truncates low bytes", big.NewInt(0x12345678), 0x04123456},
		{"negative", big.NewInt(-0x12345600), 0x04923456},
		{"negative one", big.NewInt(-1), 0x01810000},
		{"2^256-1 rounds down", powMaxLimit, 0x2100ffff},
		{"2^256", lsh(1, 256), 0x21010000},
		{"largest compact", lsh(0x7fffff, 8*252), 0xff7fffff},
		{"one more byte saturates", lsh(1, 8*255), 0xff7fffff},
		{"huge saturates", lsh(1, 10000), 0xff7fffff},
		{"huge negative saturates", new(big.Int).Neg(lsh(1, 10000)), 0xffffffff},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := new(big.Int).Set(tc.n)
			if got := consensus.BigToCompact(tc.n); got != tc.want {
				t.Fatalf("BigToCompact(%x) = %08x, want %08x", tc.n, got, tc.want)
			}
			if tc.n.Cmp(before) != 0 {
				t.Fatal("BigToCompact modified its argument")
			}
		})
	}
}

// TestCompactProperties: for random bits, re-encoding preserves the value
// exactly and yields a canonical fixed point; for random numbers the
// encoding rounds the magnitude down by less than one unit of the encoded
// mantissa, 256^(exponent-3).
func TestCompactProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		bits := rng.Uint32()
		if rng.IntN(2) == 0 {
			bits = bits&0x00ffffff | uint32(rng.IntN(40))<<24 // realistic exponents
		}
		v := consensus.CompactToBig(bits)
		c := consensus.BigToCompact(v)
		if consensus.CompactToBig(c).Cmp(v) != 0 {
			t.Fatalf("%08x: value %x re-encodes as %08x = %x", bits, v, c, consensus.CompactToBig(c))
		}
		if consensus.BigToCompact(consensus.CompactToBig(c)) != c {
			t.Fatalf("%08x: canonical form %08x is not a fixed point", bits, c)
		}
		if c&0x00800000 != 0 && v.Sign() >= 0 {
			t.Fatalf("%08x: canonical %08x of a non-negative value has the sign bit", bits, c)
		}

		n := powRandBits(rng, 1+rng.IntN(300))
		nc := consensus.BigToCompact(n)
		got := consensus.CompactToBig(nc)
		if got.Cmp(n) > 0 {
			t.Fatalf("BigToCompact(%x) rounds up to %x", n, got)
		}
		// The error is below one unit of the mantissa, 256^(exponent-3).
		if exp := int(nc >> 24); exp > 3 {
			unit := new(big.Int).Lsh(big.NewInt(1), uint(8*(exp-3)))
			if diff := new(big.Int).Sub(n, got); diff.Cmp(unit) >= 0 {
				t.Fatalf("BigToCompact(%x) loses %x, more than a mantissa unit", n, diff)
			}
		} else if got.Cmp(n) != 0 {
			t.Fatalf("BigToCompact(%x) is inexact for a small number: %x", n, got)
		}
	}
}

// powRandBits returns a uniformly random number below 2^nbits.
func powRandBits(rng *rand.Rand, nbits int) *big.Int {
	b := make([]byte, (nbits+7)/8)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	if r := nbits % 8; r != 0 {
		b[0] &= byte(1)<<r - 1
	}
	return new(big.Int).SetBytes(b)
}

func TestDecodeTargetErrors(t *testing.T) {
	limit := consensus.CompactToBig(0x1d00ffff)
	tests := []struct {
		name string
		bits uint32
	}{
		{"negative", 0x1c923456},
		{"zero", 0x1d000000},
		{"negative zero", 0x1d800000},
		{"small exponent zero", 0x01003456},
		{"overflow", 0x21010000},
		{"huge overflow", 0xff123456},
		{"one above the limit", 0x1d010000},
		{"just above the limit", 0x1e000100},
		{"far above the limit", 0x1e00ffff},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target, err := consensus.DecodeTarget(tc.bits, limit)
			requireKind(t, err, consensus.ErrBadTarget)
			if target != nil {
				t.Fatalf("target %x returned with the error", target)
			}
			// CheckProofOfWork rejects the bits the same way, even for a
			// hash that would meet any target.
			requireKind(t, consensus.CheckProofOfWork(types.Hash{}, tc.bits, limit), consensus.ErrBadTarget)
		})
	}
	for _, bits := range []uint32{0x1d00ffff, 0x1c7fff80, 0x1d0000ff, 0x01010000, 0x1b0404cb} {
		got, err := consensus.DecodeTarget(bits, limit)
		if err != nil || got.Cmp(consensus.CompactToBig(bits)) != 0 {
			t.Fatalf("DecodeTarget(%08x) = %v, %v", bits, got, err)
		}
	}
	// Limits that do not fit the usual shape behave as big.Int comparison.
	if _, err := consensus.DecodeTarget(0x1d00ffff, big.NewInt(-1)); err == nil {
		t.Fatal("negative limit accepted a target")
	}
	if _, err := consensus.DecodeTarget(0x2100ffff, new(big.Int).Lsh(big.NewInt(1), 300)); err != nil {
		t.Fatalf("limit wider than 256 bits: %v", err)
	}
}

func mustHash(t testing.TB, s string) types.Hash {
	t.Helper()
	h, err := types.ParseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestCheckProofOfWork(t *testing.T) {
	limit := consensus.CompactToBig(0x207fffff)
	tests := []struct {
		name string
		hash string
		bits uint32
		want consensus.ErrorKind // "" for success
	}{
		{"hash equal to target", "00000000ffff0000000000000000000000000000000000000000000000000000", 0x1d00ffff, ""},
		{"one above target", "00000000ffff0000000000000000000000000000000000000000000000000001", 0x1d00ffff, consensus.ErrHighHash},
		{"one below target", "00000000fffeffffffffffffffffffffffffffffffffffffffffffffffffffff", 0x1d00ffff, ""},
		{"leading zeros are the high bytes", "00000000000000000000000000000000000000000000000000000000000000ff", 0x1d00ffff, ""},
		{"trailing zeros are the low bytes", "ff00000000000000000000000000000000000000000000000000000000000000", 0x1d00ffff, consensus.ErrHighHash},
		{"zero hash meets target 1", "0000000000000000000000000000000000000000000000000000000000000000", 0x01010000, ""},
		{"hash 1 meets target 1", "0000000000000000000000000000000000000000000000000000000000000001", 0x01010000, ""},
		{"hash 2 misses target 1", "0000000000000000000000000000000000000000000000000000000000000002", 0x01010000, consensus.ErrHighHash},
		{"non-canonical bits work", "0000000000000000000000000000000000000000000000000000000000000100", 0x04000001, ""},
		{"at the limit", "7fffff0000000000000000000000000000000000000000000000000000000000", 0x207fffff, ""},
		{"all ones misses the limit", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 0x207fffff, consensus.ErrHighHash},
		{"easier than the limit", "0000000000000000000000000000000000000000000000000000000000000000", 0x2100ffff, consensus.ErrBadTarget},
		{"negative target", "0000000000000000000000000000000000000000000000000000000000000000", 0x1d80ffff, consensus.ErrBadTarget},
		{"zero target", "0000000000000000000000000000000000000000000000000000000000000000", 0x00000000, consensus.ErrBadTarget},
		{"overflowing target", "0000000000000000000000000000000000000000000000000000000000000000", 0x22000100, consensus.ErrBadTarget},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := consensus.CheckProofOfWork(mustHash(t, tc.hash), tc.bits, limit)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			requireKind(t, err, tc.want)
		})
	}
}

// TestCheckProofOfWorkMatchesBig compares the byte-wise fast path with the
// plain big.Int definition on random bits, limits and hashes near the
// target.
func TestCheckProofOfWorkMatchesBig(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	limits := []*big.Int{powMaxLimit, consensus.CompactToBig(0x1d00ffff), consensus.CompactToBig(0x207fffff), big.NewInt(0)}
	for range 5000 {
		bits := rng.Uint32()&0x00ffffff | uint32(rng.IntN(36))<<24
		if rng.IntN(4) == 0 {
			bits = rng.Uint32()
		}
		limit := limits[rng.IntN(len(limits))]
		var hash types.Hash
		ref, status := powRefDecode(bits)
		if status == "ok" && rng.IntN(2) == 0 {
			// A hash within a few units of the target.
			h := new(big.Int).Add(ref, big.NewInt(int64(rng.IntN(5)-2)))
			if h.Sign() >= 0 && h.BitLen() <= 256 {
				h.FillBytes(hash[:])
			}
		} else {
			for i := range hash {
				hash[i] = byte(rng.Uint32())
			}
			for i := range rng.IntN(32) {
				hash[i] = 0
			}
		}
		want := consensus.ErrorKind("")
		switch {
		case status != "ok" || ref.Cmp(limit) > 0:
			want = consensus.ErrBadTarget
		case new(big.Int).SetBytes(hash[:]).Cmp(ref) > 0:
			want = consensus.ErrHighHash
		}
		err := consensus.CheckProofOfWork(hash, bits, limit)
		if want == "" {
			if err != nil {
				t.Fatalf("bits %08x hash %s: %v", bits, hash, err)
			}
			continue
		}
		requireKind(t, err, want)
	}
}

func TestCheckProofOfWorkAllocs(t *testing.T) {
	limit := consensus.CompactToBig(0x1d00ffff)
	hash := mustHash(t, "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f")
	if err := consensus.CheckProofOfWork(hash, 0x1d00ffff, limit); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = consensus.CheckProofOfWork(hash, 0x1d00ffff, limit) }); n != 0 {
		t.Fatalf("CheckProofOfWork allocates %v times per call", n)
	}
}

func TestCalcWork(t *testing.T) {
	tests := []struct {
		bits uint32
		want string // hex
	}{
		{0x1d00ffff, "100010001"}, // Bitcoin's genesis work, 4295032833
		{0x01010000, "8000000000000000000000000000000000000000000000000000000000000000"},
		{0x2100ffff, "1"},
		{0x207fffff, "2"},
		{0x00000000, "0"},
		{0x1d80ffff, "0"},
		{0x22000100, "0"},
	}
	for _, tc := range tests {
		if got := consensus.CalcWork(tc.bits); got.Cmp(hexBig(t, tc.want)) != 0 {
			t.Errorf("CalcWork(%08x) = %x, want %s", tc.bits, got, tc.want)
		}
	}
	// A harder target is never less work.
	rng := rand.New(rand.NewPCG(5, 6))
	for range 1000 {
		a := consensus.BigToCompact(powRandBits(rng, 1+rng.IntN(256)))
		b := consensus.BigToCompact(powRandBits(rng, 1+rng.IntN(256)))
		ta, tb := consensus.CompactToBig(a), consensus.CompactToBig(b)
		if ta.Sign() == 0 || tb.Sign() == 0 {
			continue
		}
		if ta.Cmp(tb) < 0 && consensus.CalcWork(a).Cmp(consensus.CalcWork(b)) < 0 {
			t.Fatalf("target %x has less work than easier target %x", ta, tb)
		}
	}
}

// FuzzCompactRoundTrip checks that decoding and encoding never panic, that
// re-encoding any bits gives a canonical fixed point with the same value,
// and that the fast target decoding agrees with big.Int.
func FuzzCompactRoundTrip(f *testing.F) {
	for _, b := range []uint32{0, 0x00123456, 0x01003456, 0x01123456, 0x01fedcba, 0x02008000, 0x04923456,
		0x05009234, 0x1d00ffff, 0x1d0000ff, 0x207fffff, 0x2100ffff, 0x21010000, 0x22000100, 0xff123456,
		0xff7fffff, 0xffffffff, 0x00800000, 0x03800000} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, bits uint32) {
		v := consensus.CompactToBig(bits)
		c := consensus.BigToCompact(v)
		if consensus.CompactToBig(c).Cmp(v) != 0 {
			t.Fatalf("%08x: value %x re-encodes as %08x", bits, v, c)
		}
		if consensus.BigToCompact(consensus.CompactToBig(c)) != c {
			t.Fatalf("%08x: %08x is not canonical", bits, c)
		}
		ref, status := powRefDecode(bits)
		target, err := consensus.DecodeTarget(bits, powMaxLimit)
		if (status == "ok") != (err == nil) {
			t.Fatalf("%08x: DecodeTarget error %v, reference says %s", bits, err, status)
		}
		if err == nil && target.Cmp(ref) != 0 {
			t.Fatalf("%08x: DecodeTarget = %x, want %x", bits, target, ref)
		}
		_ = consensus.CalcWork(bits)
	})
}

func BenchmarkCheckProofOfWork(b *testing.B) {
	limit := consensus.CompactToBig(0x1d00ffff)
	hash, _ := hex.DecodeString("000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f")
	h := types.Hash(hash)
	b.ReportAllocs()
	for b.Loop() {
		if err := consensus.CheckProofOfWork(h, 0x1d00ffff, limit); err != nil {
			b.Fatal(err)
		}
	}
}
