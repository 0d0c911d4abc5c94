package lthash

import (
	"bytes"
	"crypto/aes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

var updateVectors = flag.Bool("update", false, "rewrite testdata/vectors.json from the implementation")

// ---- Independent reference implementation --------------------------------
//
// It shares only the two tag constants with the package. Expansion encrypts
// the 128 counter blocks one by one with cipher.Block.Encrypt (no
// cipher.NewCTR), the key is hashed with a streaming sha256.New, and the
// lanes are kept as ints assembled byte by byte and reduced mod 2^16 —
// no SWAR, no uint64 words, no encoding/binary.

func refExpand(data []byte) [lanes]int {
	d := sha256.New()
	d.Write([]byte(elementTag))
	d.Write(data)
	key := d.Sum(nil)
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	var ks [Size]byte
	for i := 0; i < Size/aes.BlockSize; i++ {
		var ctr [aes.BlockSize]byte // big-endian 128-bit counter starting at 0
		ctr[aes.BlockSize-1] = byte(i)
		ctr[aes.BlockSize-2] = byte(i >> 8)
		block.Encrypt(ks[i*aes.BlockSize:], ctr[:])
	}
	var out [lanes]int
	for i := range out {
		out[i] = int(ks[2*i]) + 256*int(ks[2*i+1])
	}
	return out
}

type refHash [lanes]int

func (r *refHash) add(data []byte) {
	e := refExpand(data)
	for i := range r {
		r[i] = (r[i] + e[i]) % 65536
	}
}

func (r *refHash) remove(data []byte) {
	e := refExpand(data)
	for i := range r {
		r[i] = ((r[i]-e[i])%65536 + 65536) % 65536
	}
}

func (r *refHash) bytes() []byte {
	b := make([]byte, 0, Size)
	for _, l := range r {
		b = append(b, byte(l%256), byte(l/256))
	}
	return b
}

func (r *refHash) sum() [32]byte {
	return sha256.Sum256(append([]byte(commitTag), r.bytes()...))
}

func refOf(elements [][]byte) *refHash {
	r := new(refHash)
	for _, e := range elements {
		r.add(e)
	}
	return r
}

// ---- helpers --------------------------------------------------------------

func hashOf(elements [][]byte) Hash {
	var h Hash
	for _, e := range elements {
		h.Add(e)
	}
	return h
}

// leaf is a 36-byte account leaf: address(20) || balance(8) || nonce(8).
func leaf(addr byte, balance, nonce uint64) []byte {
	b := make([]byte, 36)
	for i := range 20 {
		b[i] = addr ^ byte(i*7)
	}
	binary.BigEndian.PutUint64(b[20:], balance)
	binary.BigEndian.PutUint64(b[28:], nonce)
	return b
}

func randElements(r *rand.Rand, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		b := make([]byte, r.IntN(200))
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		out[i] = b
	}
	return out
}

func randHash(r *rand.Rand) Hash {
	var h Hash
	for i := range h.w {
		h.w[i] = r.Uint64()
	}
	return h
}

// ---- fixed vectors ----------------------------------------------------------

type vector struct {
	Name     string   `json:"name"`
	Elements []string `json:"elements"` // hex, added in order to the empty set
	Prefix   string   `json:"bytes_prefix"`
	Sum      string   `json:"sum"`
}

// vectorSets are the sets the vectors pin. Changing them requires -update.
func vectorSets() []struct {
	name  string
	elems [][]byte
} {
	hundred := make([][]byte, 100)
	for i := range hundred {
		hundred[i] = leaf(byte(i), uint64(i)*100_000_000, uint64(i%7))
	}
	return []struct {
		name  string
		elems [][]byte
	}{
		{"empty set", nil},
		{"empty element", [][]byte{{}}},
		{"abc", [][]byte{[]byte("abc")}},
		{"abc twice (multiset)", [][]byte{[]byte("abc"), []byte("abc")}},
		{"three account leaves", [][]byte{leaf(1, 5_000_000_000, 0), leaf(2, 1, 1), leaf(3, 0, 42)}},
		{"128 and 129 byte elements", [][]byte{bytes.Repeat([]byte{0xa5}, 128), bytes.Repeat([]byte{0x5a}, 129)}},
		{"1000 byte element", [][]byte{bytes.Repeat([]byte("0123456789"), 100)}},
		{"hundred account leaves", hundred},
	}
}

func TestVectors(t *testing.T) {
	path := filepath.Join("testdata", "vectors.json")
	sets := vectorSets()
	if *updateVectors {
		var vs []vector
		for _, s := range sets {
			h := hashOf(s.elems)
			b, sum := h.Bytes(), h.Sum()
			v := vector{Name: s.name, Elements: []string{}, Prefix: hex.EncodeToString(b[:16]), Sum: hex.EncodeToString(sum[:])}
			for _, e := range s.elems {
				v.Elements = append(v.Elements, hex.EncodeToString(e))
			}
			vs = append(vs, v)
		}
		out, err := json.MarshalIndent(vs, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
	}

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) != len(sets) {
		t.Fatalf("%d vectors in file, %d sets in test", len(vs), len(sets))
	}
	for i, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			var elems [][]byte
			for _, s := range v.Elements {
				e, err := hex.DecodeString(s)
				if err != nil {
					t.Fatal(err)
				}
				elems = append(elems, e)
			}
			if fmt.Sprint(elems) != fmt.Sprint(sets[i].elems) {
				t.Fatalf("file elements differ from vectorSets()[%d]", i)
			}
			ref := refOf(elems)
			refSum := ref.sum()
			if got := hex.EncodeToString(refSum[:]); got != v.Sum {
				t.Errorf("reference sum %s, vector %s", got, v.Sum)
			}
			if got := hex.EncodeToString(ref.bytes()[:16]); got != v.Prefix {
				t.Errorf("reference bytes prefix %s, vector %s", got, v.Prefix)
			}
			seq := hashOf(elems)
			for _, w := range []int{1, 2, 3} {
				par := AddAll(elems, w)
				if !par.Equal(&seq) {
					t.Errorf("AddAll(workers=%d) differs from sequential Add", w)
				}
			}
			if b := seq.Bytes(); !bytes.Equal(b[:], ref.bytes()) {
				t.Errorf("Bytes differ from the reference")
			}
			sum := seq.Sum()
			if got := hex.EncodeToString(sum[:]); got != v.Sum {
				t.Errorf("Sum %s, vector %s", got, v.Sum)
			}
		})
	}
}

// ---- properties -----------------------------------------------------------

func TestMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 17, 64} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			add := randElements(r, n)
			rm := add[:n/2]
			var h Hash
			ref := new(refHash)
			for _, e := range add {
				h.Add(e)
				ref.add(e)
			}
			for _, e := range rm {
				h.Remove(e)
				ref.remove(e)
			}
			if b := h.Bytes(); !bytes.Equal(b[:], ref.bytes()) {
				t.Fatal("state differs from the reference")
			}
			if h.Sum() != ref.sum() {
				t.Fatal("Sum differs from the reference")
			}
		})
	}
}

func TestExpandLengths(t *testing.T) {
	// Both key paths of expand (stack buffer up to 128 bytes, streaming
	// above) against the reference.
	for _, n := range []int{0, 1, 31, 36, 127, 128, 129, 200, 4096} {
		data := bytes.Repeat([]byte{byte(n)}, n)
		var h Hash
		h.Add(data)
		ref := refOf([][]byte{data})
		if b := h.Bytes(); !bytes.Equal(b[:], ref.bytes()) {
			t.Errorf("len %d: expansion differs from the reference", n)
		}
	}
}

func TestLaneArithmeticEdges(t *testing.T) {
	// SWAR carry/borrow masking at lane boundaries, against plainHash.
	edges := []uint16{0, 1, 2, 0x7ffe, 0x7fff, 0x8000, 0x8001, 0xfffe, 0xffff}
	var a, b [Size]byte
	for i := range lanes {
		binary.LittleEndian.PutUint16(a[2*i:], edges[i%len(edges)])
		binary.LittleEndian.PutUint16(b[2*i:], edges[(i/len(edges))%len(edges)])
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		name string
		a, b *[Size]byte
	}{
		{"edges", &a, &b},
		{"edges swapped", &b, &a},
		{"random", randBuf(r), randBuf(r)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := FromBytes(tc.a[:])
			if err != nil {
				t.Fatal(err)
			}
			var p plainHash
			for i := range p.l {
				p.l[i] = binary.LittleEndian.Uint16(tc.a[2*i:])
			}
			add(&h.w, tc.b)
			p.add(tc.b)
			checkPlain(t, "add", &h, &p)
			sub(&h.w, tc.b)
			sub(&h.w, tc.b)
			p.sub(tc.b)
			p.sub(tc.b)
			checkPlain(t, "sub", &h, &p)
		})
	}
}

func randBuf(r *rand.Rand) *[Size]byte {
	b := new([Size]byte)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func checkPlain(t *testing.T, op string, h *Hash, p *plainHash) {
	t.Helper()
	b := h.Bytes()
	for i, l := range p.l {
		if got := binary.LittleEndian.Uint16(b[2*i:]); got != l {
			t.Fatalf("%s: lane %d = %#04x, plain loop %#04x", op, i, got, l)
		}
	}
}

func TestEmptySum(t *testing.T) {
	var zero Hash
	want := zero.Sum()
	if want != new(refHash).sum() {
		t.Fatal("empty Sum differs from the reference")
	}
	a, b := []byte("a"), []byte("b")
	for _, tc := range []struct {
		name string
		h    func() Hash
	}{
		{"zero value", func() Hash { return Hash{} }},
		{"AddAll nil", func() Hash { return AddAll(nil, 4) }},
		{"AddAll empty, workers 0", func() Hash { return AddAll([][]byte{}, 0) }},
		{"FromBytes zeros", func() Hash { h, _ := FromBytes(make([]byte, Size)); return h }},
		{"add then remove", func() Hash {
			var h Hash
			h.Add(a)
			h.Add(b)
			h.Remove(a)
			h.Remove(b)
			return h
		}},
		{"subtract self", func() Hash { h := hashOf([][]byte{a, b}); h.Subtract(&h); return h }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.h()
			if !h.IsZero() {
				t.Fatal("not IsZero")
			}
			if h.Sum() != want || h.Sum() != h.Sum() {
				t.Fatal("empty-set Sum not stable")
			}
		})
	}
	h := hashOf([][]byte{a})
	if h.IsZero() || h.Sum() == want {
		t.Fatal("non-empty set looks empty")
	}
}

func TestOrderIndependence(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{2, 3, 10, 100} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			elems := randElements(r, n)
			want := hashOf(elems)
			for range 5 {
				perm := make([][]byte, n)
				for i, j := range r.Perm(n) {
					perm[i] = elems[j]
				}
				got := hashOf(perm)
				if !got.Equal(&want) || got.Sum() != want.Sum() {
					t.Fatal("permutation changed the hash")
				}
			}
		})
	}
}

func TestAddRemoveInverse(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct {
		name  string
		base  int // elements already in the set
		delta int // elements added then removed
	}{
		{"empty base, one", 0, 1},
		{"base 10, one", 10, 1},
		{"base 10, many", 10, 20},
		{"random state", -1, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h Hash
			if tc.base < 0 {
				h = randHash(r)
			} else {
				h = hashOf(randElements(r, tc.base))
			}
			before := h
			delta := randElements(r, tc.delta)
			for _, e := range delta {
				h.Add(e)
			}
			if tc.delta > 0 && h.Equal(&before) {
				t.Fatal("Add did not change the state")
			}
			for _, i := range r.Perm(len(delta)) { // remove in another order
				h.Remove(delta[i])
			}
			if !h.Equal(&before) || h.Sum() != before.Sum() {
				t.Fatal("Add then Remove did not restore the state")
			}
			// Remove first, then Add, also restores.
			for _, e := range delta {
				h.Remove(e)
			}
			for _, e := range delta {
				h.Add(e)
			}
			if !h.Equal(&before) {
				t.Fatal("Remove then Add did not restore the state")
			}
		})
	}
}

func TestAccountUpdate(t *testing.T) {
	// The chain's use: replace a touched account's leaf.
	accounts := [][]byte{leaf(1, 100, 0), leaf(2, 200, 0), leaf(3, 300, 0)}
	h := hashOf(accounts)
	h.Remove(accounts[1])
	h.Add(leaf(2, 150, 1))
	want := hashOf([][]byte{leaf(1, 100, 0), leaf(2, 150, 1), leaf(3, 300, 0)})
	if !h.Equal(&want) {
		t.Fatal("incremental update differs from recomputation")
	}
}

func TestCombineSubtract(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, tc := range []struct{ na, nb int }{{0, 0}, {0, 3}, {3, 0}, {5, 7}, {50, 50}} {
		t.Run(fmt.Sprintf("%d+%d", tc.na, tc.nb), func(t *testing.T) {
			a, b := randElements(r, tc.na), randElements(r, tc.nb)
			ha, hb := hashOf(a), hashOf(b)
			union := hashOf(append(append([][]byte{}, a...), b...))

			c := ha
			c.Combine(&hb)
			if !c.Equal(&union) {
				t.Fatal("Combine differs from adding the union")
			}
			c.Subtract(&hb)
			if !c.Equal(&ha) {
				t.Fatal("Subtract did not undo Combine")
			}
			// Subtract equals removing b's elements one by one.
			d := union
			for _, e := range b {
				d.Remove(e)
			}
			e := union
			e.Subtract(&hb)
			if !d.Equal(&e) || !d.Equal(&ha) {
				t.Fatal("Subtract differs from Remove")
			}
			// Aliasing: Combine with itself doubles every multiplicity.
			twice := ha
			twice.Combine(&twice)
			want := hashOf(append(append([][]byte{}, a...), a...))
			if !twice.Equal(&want) {
				t.Fatal("h.Combine(h) differs from adding every element twice")
			}
		})
	}
	// Random states: Combine and Subtract are inverse, Combine commutes.
	x, y := randHash(r), randHash(r)
	xy, yx := x, y
	xy.Combine(&y)
	yx.Combine(&x)
	if !xy.Equal(&yx) {
		t.Fatal("Combine does not commute")
	}
	xy.Subtract(&y)
	if !xy.Equal(&x) {
		t.Fatal("Subtract does not invert Combine on random states")
	}
}

func TestAddAllMatchesSequential(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{0, 1, 2, 7, 100, 1000} {
		elems := randElements(r, n)
		want := hashOf(elems)
		for _, w := range []int{-1, 0, 1, 2, 3, 4, 8, 2000} {
			t.Run(fmt.Sprintf("n=%d/workers=%d", n, w), func(t *testing.T) {
				got := AddAll(elems, w)
				if !got.Equal(&want) {
					t.Fatal("AddAll differs from sequential Add")
				}
			})
		}
	}
}

func TestAddAllConcurrent(t *testing.T) {
	// AddAll is safe to call from several goroutines on shared input.
	elems := randElements(rand.New(rand.NewPCG(13, 14)), 200)
	want := hashOf(elems)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			got := AddAll(elems, 1+g%3)
			if !got.Equal(&want) {
				errs <- fmt.Sprintf("goroutine %d: wrong hash", g)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestDistinctSets(t *testing.T) {
	// Every subset of 8 elements, plus near-identical account leaves and
	// multiplicity changes, must give pairwise different sums.
	universe := make([][]byte, 8)
	for i := range universe {
		universe[i] = leaf(byte(i), 1000, 0)
	}
	type named struct {
		name string
		h    Hash
	}
	var all []named
	for mask := range 1 << len(universe) {
		var set [][]byte
		for i, e := range universe {
			if mask&(1<<i) != 0 {
				set = append(set, e)
			}
		}
		all = append(all, named{fmt.Sprintf("subset %08b", mask), hashOf(set)})
	}
	for _, tc := range []struct {
		name  string
		elems [][]byte
	}{
		{"balance+1", [][]byte{leaf(0, 1001, 0)}},
		{"nonce+1", [][]byte{leaf(0, 1000, 1)}},
		{"other address", [][]byte{leaf(200, 1000, 0)}},
		{"leaf 0 twice", [][]byte{universe[0], universe[0]}},
		{"leaf 0 three times", [][]byte{universe[0], universe[0], universe[0]}},
		{"empty element", [][]byte{{}}},
		{"zero byte element", [][]byte{{0}}},
		{"truncated leaf", [][]byte{universe[0][:35]}},
	} {
		all = append(all, named{tc.name, hashOf(tc.elems)})
	}
	seen := make(map[[32]byte]string, len(all))
	for _, n := range all {
		s := n.h.Sum()
		if prev, ok := seen[s]; ok {
			t.Fatalf("%s and %s have the same Sum", prev, n.name)
		}
		seen[s] = n.name
	}
}

func TestFromBytesBadLength(t *testing.T) {
	for _, n := range []int{-1, 0, 1, 32, Size - 1, Size + 1, 2 * Size} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var b []byte // n == -1: nil
			if n >= 0 {
				b = bytes.Repeat([]byte{0xff}, n)
			}
			h, err := FromBytes(b)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrBadLength) {
				t.Fatalf("error %v does not match ErrBadLength", err)
			}
			if !h.IsZero() {
				t.Fatal("non-zero Hash returned with the error")
			}
		})
	}
}

func TestBytesRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, tc := range []struct {
		name string
		h    Hash
	}{
		{"zero", Hash{}},
		{"one element", hashOf([][]byte{[]byte("x")})},
		{"random", randHash(r)},
		{"all ones", func() Hash { h, _ := FromBytes(bytes.Repeat([]byte{0xff}, Size)); return h }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.h.Bytes()
			got, err := FromBytes(b[:])
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(&tc.h) || got.Sum() != tc.h.Sum() {
				t.Fatal("round trip changed the state")
			}
			if b2 := got.Bytes(); b2 != b {
				t.Fatal("round trip changed the bytes")
			}
			// Lane order: lane 0 is bytes 0..1, little-endian.
			if tc.name == "one element" {
				if int(b[0])|int(b[1])<<8 != refExpand([]byte("x"))[0] {
					t.Fatal("lane 0 is not serialized first, little-endian")
				}
			}
		})
	}
}

func FuzzFromBytes(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3})
	f.Add(make([]byte, Size))
	f.Add(make([]byte, Size-1))
	f.Add(make([]byte, Size+1))
	f.Add(bytes.Repeat([]byte{0xff}, Size))
	h := hashOf([][]byte{[]byte("seed")})
	b := h.Bytes()
	f.Add(b[:])
	f.Fuzz(func(t *testing.T, in []byte) {
		h, err := FromBytes(in)
		if len(in) != Size {
			if !errors.Is(err, ErrBadLength) {
				t.Fatalf("len %d: error %v, want ErrBadLength", len(in), err)
			}
			return
		}
		if err != nil {
			t.Fatalf("len %d: unexpected error %v", len(in), err)
		}
		out := h.Bytes()
		if !bytes.Equal(out[:], in) {
			t.Fatal("Bytes(FromBytes(b)) != b")
		}
		before := h
		h.Add(in)
		h.Remove(in)
		if !h.Equal(&before) {
			t.Fatal("Add/Remove did not restore a fuzzed state")
		}
		_ = h.Sum()
	})
}

func ExampleHash() {
	// Genesis: one leaf per account.
	alice := leaf(1, 500, 0)
	bob := leaf(2, 0, 0)
	state := AddAll([][]byte{alice, bob}, 2)

	// A block moves 200 from alice to bob: replace both leaves.
	state.Remove(alice)
	state.Add(leaf(1, 300, 1))
	state.Remove(bob)
	state.Add(leaf(2, 200, 0))

	want := AddAll([][]byte{leaf(1, 300, 1), leaf(2, 200, 0)}, 1)
	fmt.Println(state.Sum() == want.Sum())
	// Output: true
}

func TestEqualIsZeroEveryLane(t *testing.T) {
	var zero Hash
	for _, pos := range []int{0, 1, 2, 7, 8, 1023, Size - 2, Size - 1} {
		b := make([]byte, Size)
		b[pos] = 0x80
		h, err := FromBytes(b)
		if err != nil {
			t.Fatal(err)
		}
		if h.IsZero() {
			t.Errorf("byte %d set: IsZero", pos)
		}
		if h.Equal(&zero) || zero.Equal(&h) {
			t.Errorf("byte %d set: Equal to zero", pos)
		}
		if h.Sum() == zero.Sum() {
			t.Errorf("byte %d set: Sum of zero", pos)
		}
		h2 := h
		if !h2.Equal(&h) {
			t.Errorf("byte %d set: copy not Equal", pos)
		}
	}
}
