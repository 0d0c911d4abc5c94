package main

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/wallet"
)

// parseAmount reads a positive number of coins (up to 8 decimals) given
// to flag; zero and negative amounts are refused with a message saying
// so.
func parseAmount(flag, s string) (types.Amount, error) {
	a, err := parseCoins(flag, s)
	if err != nil {
		return 0, err
	}
	if a == 0 {
		return 0, usagef("%s %s: the amount must be more than zero", flag, s)
	}
	return a, nil
}

// parseFee reads a fee in coins; zero is allowed (the node decides
// whether it accepts it).
func parseFee(flag, s string) (types.Amount, error) {
	return parseCoins(flag, s)
}

func parseCoins(flag, s string) (types.Amount, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, usagef("%s: no amount given", flag)
	}
	if strings.HasPrefix(t, "-") {
		return 0, usagef("%s %s: the amount must be positive", flag, s)
	}
	a, err := types.ParseCoins(strings.TrimPrefix(t, "+"))
	if err != nil {
		return 0, usagef("%s %s: not an amount of coins (a decimal number with at most %d decimals, e.g. 1.5)",
			flag, s, types.CoinDecimals)
	}
	return a, nil
}

// parseRecipient reads an address of network net and, if it is not one,
// says whether it is mistyped (checksum), of another network or not an
// address at all.
func parseRecipient(flag, s string, net wallet.Network) (types.Address, error) {
	a, err := net.ParseAddress(strings.TrimSpace(s))
	if err != nil {
		return a, describeAddressError(flag, s, net.Prefix, err)
	}
	return a, nil
}

func describeAddressError(flag, s, prefix string, err error) error {
	switch {
	case errors.Is(err, wallet.ErrWrongNetwork):
		other := s
		if i := strings.LastIndexByte(s, '1'); i > 0 {
			other = strings.ToLower(s[:i])
		}
		return usagef("%s %s is an address of another network (prefix %q); this network's addresses start with %q",
			flag, s, other, prefix+"1")
	case errors.Is(err, wallet.ErrAddressChecksum):
		return usagef("%s %s has a wrong checksum: the address is mistyped", flag, s)
	default:
		return usagef("%s %q is not a valid address", flag, s)
	}
}

// checkAddressSyntax checks an address whose network is not known here
// (the node checks that): the prefix must be valid and the checksum
// right, so that a typing mistake is reported as one.
func checkAddressSyntax(what, s string) error {
	i := strings.LastIndexByte(s, '1')
	if i <= 0 || !types.ValidHRP(strings.ToLower(s[:i])) {
		return usagef("%s %q is neither a wallet name nor an address", what, s)
	}
	if _, err := wallet.ParseAddress(s, strings.ToLower(s[:i])); err != nil {
		return describeAddressError(what, s, strings.ToLower(s[:i]), err)
	}
	return nil
}

// parseHash reads a 64-hex-digit hash (an optional 0x prefix is dropped)
// and returns it in the node's lowercase form.
func parseHash(what, s string) (string, error) {
	t := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	h, err := types.ParseHash(strings.ToLower(t))
	if err != nil {
		return "", usagef("%s %q is not a hash (64 hex digits)", what, s)
	}
	return h.String(), nil
}

// blockRef is a block named by height or by hash.
type blockRef struct {
	byHash bool
	height uint32
	hash   string
}

// parseBlockRef reads a height (decimal) or a hash (64 hex digits).
func parseBlockRef(s string) (blockRef, error) {
	t := strings.TrimSpace(s)
	if len(strings.TrimPrefix(strings.TrimPrefix(t, "0x"), "0X")) == 2*types.HashSize {
		h, err := parseHash("block", t)
		return blockRef{byHash: true, hash: h}, err
	}
	n, err := strconv.ParseUint(t, 10, 32)
	if err != nil {
		return blockRef{}, usagef("block %q is neither a height (a whole number) nor a hash (64 hex digits)", s)
	}
	return blockRef{height: uint32(n)}, nil
}

// parseRPCParams turns the arguments of "ledger rpc" into params: each
// argument is a JSON value, or a plain string when it is not valid JSON
// (so hashes and addresses need no quotes); a single JSON object is passed
// as named parameters. No arguments: no params.
func parseRPCParams(args []string) (any, error) {
	if len(args) == 0 {
		return nil, nil
	}
	vals := make([]any, len(args))
	for i, s := range args {
		vals[i] = rawOrString(s)
	}
	if len(args) == 1 && strings.HasPrefix(strings.TrimSpace(args[0]), "{") {
		if _, ok := vals[0].(rawJSON); !ok {
			return nil, usagef("parameter %q looks like a JSON object but is not valid JSON", args[0])
		}
		return vals[0], nil
	}
	return vals, nil
}

// rawJSON is an argument that is valid JSON, sent as it is.
type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }

func rawOrString(s string) any {
	if json.Valid([]byte(s)) {
		return rawJSON(s)
	}
	return s
}
