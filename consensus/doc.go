// Package consensus holds the ledger's consensus rules as pure functions over
// headers, blocks, transactions, parameters and a small chain-context
// interface: proof of work and the compact target encoding, the ASERT
// difficulty schedule, the median-time and future-drift rules, block sanity
// (Merkle root, limits, coinbase), transaction sanity and signatures, and the
// account-model state transition with its state commitment.
//
// What it does not do: it imports no storage, networking or RPC. It never
// reads the clock (callers pass local time), never writes state (ApplyBlock
// returns a StateDelta for the caller to store), and does not decide fork
// choice or keep an index: that is package chain.
//
// Order of checks for a block, as package chain applies them:
//  1. CheckHeaderSanity: version, target, proof of work. Cheap; done before
//     anything is stored, even for orphans.
//  2. CheckHeaderContext against the parent: linkage, height, required bits,
//     median time past; CheckHeaderTime against local time (a failure of
//     this one alone is not permanent).
//  3. CheckBlockSanity: Merkle root first (a mismatch condemns only the
//     body, see IsBodyMismatch), then limits, coinbase shape, transfers.
//  4. VerifySignatures in parallel with a signature cache, then ApplyBlock
//     for nonces, balances, the coinbase amount and the state root.
//
// Concurrency: every function is safe for concurrent use; VerifySignatures
// starts its own goroutines and waits for them. Params must not be mutated
// after construction.
//
// Errors: every rule has its own ErrorKind, returned wrapped in a
// *RuleError; test with errors.Is(err, consensus.ErrBadNonce). Errors from
// an AccountReader (storage failures) pass through unchanged and are not
// RuleErrors.
package consensus
