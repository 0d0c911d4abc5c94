package types

import (
	"crypto/sha256"
	"math/rand/v2"
	"slices"
	"testing"
)

// rfc6962Root is the Merkle Tree Hash of RFC 6962 section 2.1, written
// recursively: split at the largest power of two smaller than n.
func rfc6962Root(ids []Hash) Hash {
	switch n := len(ids); n {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return sha256.Sum256(append([]byte{0x00}, ids[0][:]...))
	default:
		k := 1
		for k*2 < n {
			k *= 2
		}
		l, r := rfc6962Root(ids[:k]), rfc6962Root(ids[k:])
		b := append([]byte{0x01}, l[:]...)
		return sha256.Sum256(append(b, r[:]...))
	}
}

// bitcoinStyleRoot pairs an odd node with itself, as Bitcoin does; the
// malleation test shows it collides where MerkleRoot does not.
func bitcoinStyleRoot(ids []Hash) Hash {
	level := make([]Hash, len(ids))
	for i, id := range ids {
		level[i] = merkleLeaf(id)
	}
	for len(level) > 1 {
		if len(level)%2 == 1 {
			level = append(level, level[len(level)-1])
		}
		var next []Hash
		for i := 0; i < len(level); i += 2 {
			next = append(next, merkleNode(level[i], level[i+1]))
		}
		level = next
	}
	return level[0]
}

func randomIDs(rng *rand.Rand, n int) []Hash {
	ids := make([]Hash, n)
	for i := range ids {
		fill(rng, ids[i][:])
	}
	return ids
}

func TestMerkleRootRFC6962(t *testing.T) {
	if got := MerkleRoot(nil).String(); got != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("root of nothing = %s, want SHA-256 of nothing", got)
	}
	rng := rand.New(rand.NewPCG(13, 14))
	for n := 0; n <= 40; n++ {
		ids := randomIDs(rng, n)
		orig := slices.Clone(ids)
		if got, want := MerkleRoot(ids), rfc6962Root(ids); got != want {
			t.Errorf("n=%d: MerkleRoot %s, RFC 6962 %s", n, got, want)
		}
		if !slices.Equal(ids, orig) {
			t.Fatalf("n=%d: MerkleRoot changed its input", n)
		}
	}
	// Two ids by hand.
	a, b := seqHash(1), seqHash(2)
	la := sha256.Sum256(append([]byte{0}, a[:]...))
	lb := sha256.Sum256(append([]byte{0}, b[:]...))
	want := sha256.Sum256(append(append([]byte{1}, la[:]...), lb[:]...))
	if MerkleRoot([]Hash{a, b}) != want {
		t.Error("root of two ids is not H(1 || H(0||a) || H(0||b))")
	}
	if MerkleRoot([]Hash{a}) != la {
		t.Error("root of one id is not its leaf hash")
	}
	if MerkleRoot([]Hash{a, b}) == MerkleRoot([]Hash{b, a}) {
		t.Error("root ignores order")
	}
}

// TestMerkleNoDuplicateTailMalleation: CVE-2012-2459. Repeating the odd
// tail must change the root.
func TestMerkleNoDuplicateTailMalleation(t *testing.T) {
	a, b, c := seqHash(0xa0), seqHash(0xb0), seqHash(0xc0)
	honest, forged := []Hash{a, b, c}, []Hash{a, b, c, c}
	if bitcoinStyleRoot(honest) != bitcoinStyleRoot(forged) {
		t.Fatal("the Bitcoin-style reference does not collide; the test shows nothing")
	}
	if MerkleRoot(honest) == MerkleRoot(forged) {
		t.Error("[a b c] and [a b c c] have the same root")
	}
	rng := rand.New(rand.NewPCG(15, 16))
	for n := 1; n <= 40; n++ {
		ids := randomIDs(rng, n)
		dup := append(slices.Clone(ids), ids[n-1])
		if MerkleRoot(ids) == MerkleRoot(dup) {
			t.Errorf("n=%d: repeating the last id keeps the root", n)
		}
		if n >= 2 {
			// Also a repeated pair at the end (a b c d e f e f).
			dup2 := append(slices.Clone(ids), ids[n-2:]...)
			if MerkleRoot(ids) == MerkleRoot(dup2) {
				t.Errorf("n=%d: repeating the last pair keeps the root", n)
			}
		}
	}
}

func TestCoinbaseBranch(t *testing.T) {
	if CoinbaseBranch(nil) != nil {
		t.Error("branch of no ids is not nil")
	}
	rng := rand.New(rand.NewPCG(17, 18))
	for n := 1; n <= 40; n++ {
		ids := randomIDs(rng, n)
		orig := slices.Clone(ids)
		branch := CoinbaseBranch(ids)
		if !slices.Equal(ids, orig) {
			t.Fatalf("n=%d: CoinbaseBranch changed its input", n)
		}
		depth := 0
		for 1<<depth < n {
			depth++
		}
		if len(branch) != depth {
			t.Errorf("n=%d: branch of %d, want %d", n, len(branch), depth)
		}
		if got := MerkleRootFromBranch(ids[0], branch); got != MerkleRoot(ids) {
			t.Errorf("n=%d: root from branch %s, want %s", n, got, MerkleRoot(ids))
		}
		// The miner changes the coinbase (its extra nonce).
		for range 3 {
			fill(rng, ids[0][:])
			if got := MerkleRootFromBranch(ids[0], branch); got != MerkleRoot(ids) {
				t.Fatalf("n=%d: changed first id: root from branch %s, want %s", n, got, MerkleRoot(ids))
			}
		}
		// Changing any other id invalidates the branch.
		if n > 1 {
			ids[n-1][0] ^= 1
			if MerkleRootFromBranch(ids[0], branch) == MerkleRoot(ids) {
				t.Fatalf("n=%d: branch still matches after another id changed", n)
			}
		}
	}
}
