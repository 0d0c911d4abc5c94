package lthash

import (
	"crypto/sha256"
	"crypto/sha3"
	"encoding/binary"
	"fmt"
	"testing"
)

// This file keeps the expansion and lane-addition candidates that lost
// (see doc.go for the figures) so the choice can be re-measured on other
// hardware. None of them is part of the package API.

// expandSHAKE256 is candidate (a): SHAKE256(elementTag || data), 2048 bytes.
func expandSHAKE256(out *[Size]byte, data []byte) {
	s := sha3.NewSHAKE256()
	s.Write([]byte(elementTag))
	s.Write(data)
	s.Read(out[:])
}

// expandSHA256CTR is candidate (c): seed = SHA-256(elementTag || data),
// block i = SHA-256(seed || uint32be(i)) for i = 0..63. Each block input is
// 36 bytes, so one compression per 32 output bytes.
func expandSHA256CTR(out *[Size]byte, data []byte) {
	d := sha256.New()
	d.Write([]byte(elementTag))
	d.Write(data)
	var in [sha256.Size + 4]byte
	d.Sum(in[:0])
	for i := range Size / sha256.Size {
		binary.BigEndian.PutUint32(in[sha256.Size:], uint32(i))
		s := sha256.Sum256(in[:])
		copy(out[i*sha256.Size:], s[:])
	}
}

// plainHash is the lane-addition candidate without SWAR: one uint16 per
// lane, added in a plain loop.
type plainHash struct{ l [lanes]uint16 }

func (h *plainHash) add(b *[Size]byte) {
	for i := range h.l {
		h.l[i] += binary.LittleEndian.Uint16(b[2*i:])
	}
}

func (h *plainHash) sub(b *[Size]byte) {
	for i := range h.l {
		h.l[i] -= binary.LittleEndian.Uint16(b[2*i:])
	}
}

// benchLeaf returns a 36-byte account leaf like the chain's:
// address(20) || balance(8) || nonce(8).
func benchLeaf(i int) []byte {
	b := make([]byte, 36)
	copy(b, fmt.Sprintf("addr-%015d", i))
	binary.BigEndian.PutUint64(b[20:], uint64(i)*1e8)
	binary.BigEndian.PutUint64(b[28:], uint64(i))
	return b
}

var expanders = []struct {
	name string
	fn   func(*[Size]byte, []byte)
}{
	{"aes256ctr", expand}, // (b), the one in use
	{"shake256", expandSHAKE256},
	{"sha256ctr", expandSHA256CTR},
}

// BenchmarkElement is the cost of Add for one 36-byte account leaf:
// expansion plus lane addition, as the chain pays it per touched leaf.
func BenchmarkElement(b *testing.B) {
	var h Hash
	leaf := benchLeaf(1)
	b.SetBytes(int64(len(leaf)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		leaf[35] = byte(i)
		h.Add(leaf)
	}
}

// BenchmarkExpand measures each expansion candidate alone.
func BenchmarkExpand(b *testing.B) {
	for _, e := range expanders {
		b.Run(e.name, func(b *testing.B) {
			out := new([Size]byte)
			leaf := benchLeaf(1)
			b.SetBytes(Size)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				leaf[35] = byte(i)
				e.fn(out, leaf)
			}
		})
	}
}

// BenchmarkElementCandidates is expansion + SWAR lane addition for each
// expansion candidate: the per-element cost each would give Add.
func BenchmarkElementCandidates(b *testing.B) {
	for _, e := range expanders {
		b.Run(e.name, func(b *testing.B) {
			var h Hash
			out := new([Size]byte)
			leaf := benchLeaf(1)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				leaf[35] = byte(i)
				e.fn(out, leaf)
				add(&h.w, out)
			}
		})
	}
}

// BenchmarkLaneAdd compares SWAR on uint64 words with a plain uint16 loop.
func BenchmarkLaneAdd(b *testing.B) {
	buf := new([Size]byte)
	expand(buf, []byte("lane add"))
	b.Run("swar", func(b *testing.B) {
		var h Hash
		b.SetBytes(Size)
		for b.Loop() {
			add(&h.w, buf)
		}
	})
	b.Run("plain", func(b *testing.B) {
		var h plainHash
		b.SetBytes(Size)
		for b.Loop() {
			h.add(buf)
		}
	})
	b.Run("swar-sub", func(b *testing.B) {
		var h Hash
		b.SetBytes(Size)
		for b.Loop() {
			sub(&h.w, buf)
		}
	})
	b.Run("plain-sub", func(b *testing.B) {
		var h plainHash
		b.SetBytes(Size)
		for b.Loop() {
			h.sub(buf)
		}
	})
}

// BenchmarkAddAll hashes 4000 account leaves, as for a block touching
// 4000 accounts; ns/op is per block, ns/elem per leaf.
func BenchmarkAddAll(b *testing.B) {
	elems := make([][]byte, 4000)
	for i := range elems {
		elems[i] = benchLeaf(i)
	}
	for _, w := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				AddAll(elems, w)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(elems)), "ns/elem")
		})
	}
}

// BenchmarkSum is the commitment: one SHA-256 over 2048+ bytes.
func BenchmarkSum(b *testing.B) {
	h := AddAll([][]byte{[]byte("x")}, 1)
	b.ReportAllocs()
	for b.Loop() {
		h.Sum()
	}
}
