package rpc

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/creachadair/jrpc2"

	"github.com/ledger-node/ledger/chain/types"
)

// param names one parameter: its name for the object form, where to
// decode it, and whether it may be omitted.
type param struct {
	name     string
	dst      any
	optional bool
}

func req(name string, dst any) param { return param{name: name, dst: dst} }
func opt(name string, dst any) param { return param{name: name, dst: dst, optional: true} }

// bind decodes req's parameters, given as an array (trailing optional
// ones may be omitted) or as an object (unknown names refused), into ps.
// Every failure is -32602.
func bind(r *jrpc2.Request, ps ...param) error {
	if !r.HasParams() {
		for _, p := range ps {
			if !p.optional {
				return invalidParams("missing parameter %q", p.name)
			}
		}
		return nil
	}
	var raw json.RawMessage
	if err := r.UnmarshalParams(&raw); err != nil {
		return invalidParams("%v", err)
	}
	raw = bytes.TrimSpace(raw)
	vals := make([]json.RawMessage, len(ps))
	switch {
	case len(raw) > 0 && raw[0] == '[':
		var arr []json.RawMessage
		if err := json.Unmarshal(raw, &arr); err != nil {
			return invalidParams("%v", err)
		}
		if len(arr) > len(ps) {
			return invalidParams("got %d parameters, want at most %d", len(arr), len(ps))
		}
		copy(vals, arr)
	case len(raw) > 0 && raw[0] == '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return invalidParams("%v", err)
		}
		for i, p := range ps {
			if v, ok := obj[p.name]; ok {
				vals[i] = v
				delete(obj, p.name)
			}
		}
		for k := range obj {
			return invalidParams("unknown parameter %q", k)
		}
	default:
		return invalidParams("parameters must be an array or an object")
	}
	for i, p := range ps {
		v := vals[i]
		if len(v) == 0 || string(v) == "null" {
			if !p.optional {
				return invalidParams("missing parameter %q", p.name)
			}
			continue
		}
		if err := json.Unmarshal(v, p.dst); err != nil {
			return invalidParams("parameter %q: %v", p.name, err)
		}
	}
	return nil
}

// method adapts fn, which binds its own parameters, to a jrpc2 handler.
func method(fn func(ctx context.Context, r *jrpc2.Request) (any, error)) jrpc2.Handler {
	return fn
}

// noParams refuses any non-empty parameters.
func noParams(r *jrpc2.Request) error { return bind(r) }

func trim0x(s string) string {
	if len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X") {
		return s[2:]
	}
	return s
}

func parseHash(name, s string) (types.Hash, error) {
	h, err := types.ParseHash(strings.ToLower(trim0x(s)))
	if err != nil {
		return h, invalidParams("parameter %q: %v", name, err)
	}
	return h, nil
}

func parseHex(name, s string) ([]byte, error) {
	b, err := hex.DecodeString(trim0x(s))
	if err != nil {
		return nil, invalidParams("parameter %q: not hex: %v", name, err)
	}
	return b, nil
}

func (s *Server) parseAddress(name, a string) (types.Address, error) {
	addr, err := types.ParseAddress(a, s.cfg.Chain.Params().AddressPrefix)
	if err != nil {
		return addr, invalidParams("parameter %q: %v", name, err)
	}
	return addr, nil
}

func (s *Server) bech32(a types.Address) string { return a.Bech32(s.cfg.Chain.Params().AddressPrefix) }

// hashParam reads the one required parameter "hash" of a call.
func hashParam(r *jrpc2.Request) (types.Hash, error) {
	var hs string
	if err := bind(r, req("hash", &hs)); err != nil {
		return types.Hash{}, err
	}
	return parseHash("hash", hs)
}

// hexParam reads the one required hex parameter name of a call.
func hexParam(r *jrpc2.Request, name string) ([]byte, error) {
	var raw string
	if err := bind(r, req(name, &raw)); err != nil {
		return nil, err
	}
	return parseHex(name, raw)
}
