// Package ledger is the module root. It holds only the default network
// definition, embedded in every binary; package chain/genesis parses it.
package ledger

import _ "embed"

// DefaultGenesisJSON is the repository's genesis.json: the default network.
//
//go:embed genesis.json
var DefaultGenesisJSON []byte
