package testnet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
)

// nodeConfig renders a node's ledgerd config file (TOML, the names of
// ledgerd's flags). Only settings that differ between nodes or from
// ledgerd's defaults are written; the file is the user's to edit
// afterwards, and a restart uses it as it is.
func nodeConfig(opts Options, i int, rec NodeRecord, genesisPath string, bootnodes []string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s of the testnet in %s, written by `ledgerd testnet`.\n", rec.Name, commentSafe(opts.Dir))
	fmt.Fprintf(&b, "# Run it alone with: ledgerd --config %s\n\n", commentSafe(shellQuote(filepath.Join(rec.DataDir, ConfigFile))))
	fmt.Fprintf(&b, "datadir = %s\n", tomlString(rec.DataDir))
	fmt.Fprintf(&b, "genesis = %s\n", tomlString(genesisPath))
	fmt.Fprintf(&b, "mine = %t\n\n", rec.Mining)
	fmt.Fprintf(&b, "[miner]\nthreads = 1\n\n")
	fmt.Fprintf(&b, "[p2p]\nlisten = %s\n", tomlStrings([]string{opts.listenAddr(i)}))
	if len(bootnodes) > 0 {
		fmt.Fprintf(&b, "bootnodes = %s\n", tomlStrings(bootnodes))
	}
	fmt.Fprintf(&b, "\n[rpc]\naddr = %s\n", tomlString(strings.TrimPrefix(rec.RPC, "http://")))
	return b.Bytes()
}

// tomlString quotes s as a TOML basic string. JSON's string escapes
// (\" \\ \n \t \uXXXX ...) are all TOML escapes too.
func tomlString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

func tomlStrings(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = tomlString(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// commentSafe keeps s on one comment line: control characters (a path may
// hold a newline) become '?'.
func commentSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}
