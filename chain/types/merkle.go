package types

import "crypto/sha256"

// The transaction root is a Merkle tree in the manner of RFC 6962: leaves
// and inner nodes are hashed with different prefixes, and an odd node at the
// end of a level is promoted unchanged instead of being paired with itself.
// Bitcoin's tree duplicates the odd node, so a block whose transaction list
// repeats its tail has the same root as the honest block (CVE-2012-2459);
// here every distinct list of ids has a distinct root.

const (
	merkleLeafPrefix = 0x00
	merkleNodePrefix = 0x01
)

func merkleLeaf(id Hash) Hash {
	var buf [1 + HashSize]byte
	buf[0] = merkleLeafPrefix
	copy(buf[1:], id[:])
	return sha256.Sum256(buf[:])
}

func merkleNode(left, right Hash) Hash {
	var buf [1 + 2*HashSize]byte
	buf[0] = merkleNodePrefix
	copy(buf[1:], left[:])
	copy(buf[1+HashSize:], right[:])
	return sha256.Sum256(buf[:])
}

// MerkleRoot computes the root over transaction ids in block order. The
// root of no ids is SHA-256 of nothing.
func MerkleRoot(ids []Hash) Hash {
	if len(ids) == 0 {
		return sha256.Sum256(nil)
	}
	level := make([]Hash, len(ids))
	for i, id := range ids {
		level[i] = merkleLeaf(id)
	}
	for len(level) > 1 {
		next := level[:0]
		for i := 0; i+1 < len(level); i += 2 {
			next = append(next, merkleNode(level[i], level[i+1]))
		}
		if len(level)%2 == 1 {
			next = append(next, level[len(level)-1])
		}
		level = next
	}
	return level[0]
}

// CoinbaseBranch returns the right-hand siblings on the path from the first
// leaf to the root, so that a miner who changes only the coinbase can
// recompute the root in O(log n) hashes with MerkleRootFromBranch.
func CoinbaseBranch(ids []Hash) []Hash {
	if len(ids) == 0 {
		return nil
	}
	level := make([]Hash, len(ids))
	for i, id := range ids {
		level[i] = merkleLeaf(id)
	}
	var branch []Hash
	for len(level) > 1 {
		branch = append(branch, level[1])
		next := level[:0]
		for i := 0; i+1 < len(level); i += 2 {
			next = append(next, merkleNode(level[i], level[i+1]))
		}
		if len(level)%2 == 1 {
			next = append(next, level[len(level)-1])
		}
		level = next
	}
	return branch
}

// MerkleRootFromBranch recomputes the root from the first id and the branch
// CoinbaseBranch returned for the same list.
func MerkleRootFromBranch(first Hash, branch []Hash) Hash {
	node := merkleLeaf(first)
	for _, sib := range branch {
		node = merkleNode(node, sib)
	}
	return node
}
