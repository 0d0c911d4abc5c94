// Package lthash implements LtHash16, the homomorphic multiset hash that
// commits to the account state in every block header (Header.StateRoot).
//
// # What it does
//
// LtHash16 is from Lewi, Kim, Maykov and Weis, "Securing Update Propagation
// with Homomorphic Hashing" (2019); Solana's accounts lattice hash is the
// same family. The state is a vector of 1024 lanes of 16 bits (Size = 2048
// bytes). An element (for the chain: one account leaf, the fixed-width
// bytes address||balance||nonce) is expanded to 2048 pseudo-random bytes,
// read as 1024 little-endian uint16 lanes. Add adds them lane-wise mod
// 2^16, Remove subtracts them, so the state of a set is the sum of its
// elements' expansions, whatever the order in which they were added.
//
// Updating the commitment after a block therefore costs time proportional
// to the accounts the block touches, not to the size of the state: for each
// touched account, Remove(old leaf) and Add(new leaf). AddAll expands many
// elements on several goroutines (genesis, blocks touching thousands of
// accounts, rebuilding the state from the database); Combine and Subtract
// merge or take apart partial sums.
//
// The 32-byte commitment is Sum: SHA-256 over a domain tag
// ("ledger-node/lthash16/v1/commit\x00") followed by the 2048-byte
// serialization (Bytes: lane 0 first, each lane little-endian).
// testdata/vectors.json pins the whole construction; the tests check it
// against an independent, byte-by-byte reference implementation.
//
// # Expansion
//
// expand(data) is the AES-256-CTR keystream (zero IV, 128 blocks, 128-bit
// big-endian counter from 0, as crypto/cipher.NewCTR produces it) under the
// key SHA-256("ledger-node/lthash16/v1/element\x00" || data). The tag is
// constant, so the key is an injective encoding of data hashed with
// SHA-256; a fixed IV is sound because every key encrypts exactly one
// keystream. Two elements collide only if their SHA-256 keys collide
// (2^128 work), which matches the 128-bit collision resistance of Sum's
// own SHA-256 anyway; beyond that the keystream is as good as AES-256 is a
// PRF. Keys are SHA-256 outputs, so an attacker cannot choose related keys.
//
// It was chosen by measurement (bench_test.go, go1.26.8 linux/amd64,
// AMD EPYC with AES-NI and SHA-NI, 2 cores, -benchtime 1s, 3 runs; 36-byte
// account leaves):
//
//	                                   expansion alone   expansion + lane add
//	(b) AES-256-CTR, SHA-256 key       640-690 ns        880-920 ns   <- used
//	(a) SHAKE256(tag || data)          4.6-4.8 µs        4.9-5.5 µs
//	(c) SHA-256 counter mode           5.6-5.7 µs        5.9-5.9 µs
//	    (seed = SHA-256(tag||data), block i = SHA-256(seed || be32(i)))
//
// AES-CTR is 7x faster than SHAKE256 and 8.5x faster than SHA-256 counter
// mode: the AES-NI counter-mode assembly pipelines eight blocks (about
// 3 GB/s), while SHAKE256 needs 16 Keccak permutations and SHA-256 64
// compressions per element. Its cost is two heap allocations per element
// (the expanded key and the CTR state, 1 KiB together), which
// crypto/cipher has no way to reuse across keys; the others allocate
// nothing. The losing candidates stay in bench_test.go only.
//
// Lanes are stored four to a uint64 word and added with SWAR (the low 15
// bits of each lane summed with the top bits masked off, the top bits
// fixed up with XOR): 245-255 ns per 2048-byte add or subtract, against
// 570-590 ns for a plain loop over uint16 lanes (also in bench_test.go).
//
// Per element, Add costs about 0.95 µs; AddAll over 4000 leaves takes about
// 3.9 ms on one worker (0.98 µs per leaf) and 2.6 ms on two (0.65 µs per
// leaf: the two cores, less garbage collection of the per-element
// allocations). More workers than cores do not help. Sum costs about
// 1.5 µs.
//
// # Security notes
//
//   - It is a multiset hash, not a set hash: adding an element twice counts
//     it twice, and multiplicities are only kept mod 2^16 (adding the same
//     element 65536 times is the same as not adding it). Callers must never
//     add the same element twice to what is meant to be a set. The chain
//     guarantees this by keeping exactly one leaf per account, and leaves of
//     different accounts differ in their address.
//   - The leaf encoding must be injective (fixed-width fields), or two
//     different states could share their leaves. Whether an account with
//     zero balance and nonce has a leaf must be a consensus rule.
//   - Remove of an element that was not added is not detected: the state
//     then corresponds to no set at all, and the commitment will simply not
//     match the other nodes'. Keep the old leaf exactly as it was added.
//   - Collision resistance (two different sets, same state) rests on the
//     hardness of the short integer solution lattice problem; Lewi et al.
//     estimate LtHash16 with 1024 lanes at about 200 bits of security,
//     with the expansion modelled as a random oracle. The commitment is
//     bounded by SHA-256 at 128 bits of collision resistance.
//   - What it does not do: no inclusion or exclusion proofs (a light
//     client cannot check one account against the commitment; that needs a
//     Merkle structure), no ordering, no way to enumerate or recover the
//     elements from the state. A node needs the full 2048-byte state
//     (Bytes) of its tip to apply the next block; Sum alone cannot be
//     updated. Reorganisations undo a block with the inverse operations.
//   - The state is not secret and needs no constant-time handling.
//
// # Concurrency
//
// Hash is a plain value (copying it copies the state). Add, Remove,
// Combine and Subtract are not safe for concurrent use on the same Hash:
// its owner serialises them. Methods that only read (Sum, Bytes, Equal,
// IsZero) may run concurrently with each other. Different Hash values are
// independent. AddAll and FromBytes are safe for concurrent use; AddAll
// only reads its input, which must not change until it returns.
//
// # Errors
//
// The only error is from FromBytes: input that is not exactly Size bytes
// long gives an error wrapping ErrBadLength (match it with errors.Is) and a
// zero Hash. Every 2048-byte input is a valid state. No other function
// fails; none panics on any input.
package lthash
