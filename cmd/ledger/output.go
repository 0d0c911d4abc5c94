package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/ledger-node/ledger/chain/types"
)

// emit writes a command's result: obj as one JSON object (one line) with
// --json, otherwise what human writes.
func (a *app) emit(obj any, human func(w io.Writer)) error {
	if a.jsonOut() {
		enc := json.NewEncoder(a.stdout)
		enc.SetEscapeHTML(false)
		return enc.Encode(obj)
	}
	human(a.stdout)
	return nil
}

// progress writes a status line for humans to stderr, so that stdout
// carries only results (and, with --json, only the JSON object).
func (a *app) progress(format string, args ...any) {
	fmt.Fprintf(a.stderr, format+"\n", args...)
}

// coins renders base units as coins with all eight decimals.
func coins(units uint64) string { return types.Amount(units).String() }

// table is a tab-aligned writer for columns.
func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

// unixTime renders Unix seconds as UTC.
func unixTime(sec int64) string {
	return time.Unix(sec, 0).UTC().Format("2006-01-02 15:04:05 UTC")
}

// jsonAmount is an amount in a JSON object: coins as a decimal string
// (exact) and base units as an integer.
type jsonAmount struct {
	Coins string `json:"coins"`
	Units uint64 `json:"units"`
}

func amountJSON(units uint64) jsonAmount { return jsonAmount{Coins: coins(units), Units: units} }
