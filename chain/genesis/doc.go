// Package genesis reads a network definition (the genesis file) and turns it
// into the network's consensus parameters, its genesis block and its initial
// account state.
//
// The genesis hash identifies the network. The genesis header's PrevBlock
// field holds the hash of the canonical encoding of every parameter and
// allocation, so two files that differ in any field (chain id, prefix,
// limits, allocations...) give different genesis hashes, and every signature
// made for one network is invalid on the other.
//
// The default network (the repository's genesis.json) is embedded in every
// binary; Default returns it.
//
// What it does not do: it does not store anything or mine; the chain store
// writes the genesis block and state when it creates a database.
//
// Concurrency: Parse and Load are pure functions; the returned *Genesis is
// read-only after return and may be shared.
//
// Errors: every validation failure is a *FieldError naming the JSON field;
// errors.Is(err, ErrInvalidGenesis) matches all of them.
package genesis
