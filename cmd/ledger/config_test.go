package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the command in-process with stdin from the given text and
// returns its exit code, stdout and stderr.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	in := filepath.Join(t.TempDir(), "stdin")
	if err := os.WriteFile(in, []byte(stdin), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out, errOut bytes.Buffer
	code := run(args, f, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestSettingsPrecedence: a flag beats the environment, which beats the
// config file (TOML or YAML), which beats the default.
func TestSettingsPrecedence(t *testing.T) {
	dir := t.TempDir()
	toml := filepath.Join(dir, "ledger.toml")
	os.WriteFile(toml, []byte("datadir = \""+filepath.Join(dir, "data")+"\"\n[wallet]\ndir = \""+filepath.Join(dir, "fromfile")+"\"\n"), 0o600)
	yaml := filepath.Join(dir, "ledger.yaml")
	os.WriteFile(yaml, []byte("wallet:\n  dir: "+filepath.Join(dir, "fromyaml")+"\n"), 0o600)
	listDir := func(t *testing.T, args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, "", append([]string{"--json", "wallet", "list"}, args...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var res struct{ Dir string }
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("output %q: %v", out, err)
		}
		return res.Dir
	}
	t.Setenv("LEDGER_WALLET_DIR", "")
	t.Setenv("LEDGER_DATADIR", filepath.Join(dir, "envdata"))
	if got := listDir(t); got != filepath.Join(dir, "envdata", "wallets") {
		t.Errorf("default wallet dir under the datadir: %s", got)
	}
	os.Unsetenv("LEDGER_WALLET_DIR")
	if got := listDir(t, "--config", toml); got != filepath.Join(dir, "fromfile") {
		t.Errorf("TOML file: %s", got)
	}
	if got := listDir(t, "--config", yaml); got != filepath.Join(dir, "fromyaml") {
		t.Errorf("YAML file: %s", got)
	}
	t.Setenv("LEDGER_WALLET_DIR", filepath.Join(dir, "fromenv"))
	if got := listDir(t, "--config", toml); got != filepath.Join(dir, "fromenv") {
		t.Errorf("environment over file: %s", got)
	}
	if got := listDir(t, "--config", toml, "--wallet.dir", filepath.Join(dir, "fromflag")); got != filepath.Join(dir, "fromflag") {
		t.Errorf("flag over environment: %s", got)
	}
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("rpc = \"http://127.0.0.1:1\"\npassword = \"x\"\n"), 0o600)
	code, _, errOut := runCLI(t, "", "--config", bad, "wallet", "list")
	if code != 1 || !strings.Contains(errOut, "unknown settings password") {
		t.Errorf("unknown setting in the file: exit %d %q", code, errOut)
	}
}

// TestExitCodes: usage mistakes exit 2, other failures 1, each with one
// line on stderr starting "ledger: ".
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	w := "--wallet.dir=" + filepath.Join(dir, "w")
	tests := []struct {
		args []string
		code int
		sub  string
	}{
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"wallet", "frobnicate"}, 2, "unknown command"},
		{[]string{"--bogus", "status"}, 2, "unknown flag"},
		{[]string{"balance"}, 2, "needs 1 argument"},
		{[]string{"block", "tip"}, 2, "neither a height"},
		{[]string{w, "send", "--to", "x", "--amount", "1"}, 2, "needs --from"},
		{[]string{w, "send", "--from", "a", "--to", "x", "--amount", "0"}, 2, "more than zero"},
		{[]string{w, "send", "--from", "a", "--to", "x", "--amount", "1", "--offline"}, 2, "needs --nonce and --fee"},
		{[]string{w, "send", "--from", "nobody", "--to", "x", "--amount", "1"}, 1, `no wallet "nobody"`},
		{[]string{w, "wallet", "import"}, 2, "needs --name"},
		{[]string{w, "--rpc.token", "t", "--rpc", "127.0.0.1:7401", "status"}, 1, "must start with http"},
		{[]string{w, "--datadir", dir, "status"}, 1, "no RPC token"},
		{[]string{w, "tx", "submit", "zz"}, 2, "neither a file nor"},
	}
	for _, tc := range tests {
		code, out, errOut := runCLI(t, "", tc.args...)
		if code != tc.code || !strings.HasPrefix(errOut, "ledger: ") || !strings.Contains(errOut, tc.sub) ||
			strings.Count(errOut, "\n") != 1 || out != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d and one line with %q", tc.args, code, out, errOut, tc.code, tc.sub)
		}
	}
}

// TestWalletLifecycle: new shows a mnemonic that import restores to the
// same address; passwords come from stdin when it is not a terminal;
// export-key needs a "yes"; a wallet is never overwritten.
func TestWalletLifecycle(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("correct horse\n"), 0o600)
	g := []string{"--wallet.dir", filepath.Join(dir, "w"), "--wallet.kdf", "test", "--json"}
	code, out, errOut := runCLI(t, "correct horse\n", append(g, "wallet", "new", "--name", "a")...)
	if code != 0 {
		t.Fatalf("wallet new: %s", errOut)
	}
	var created createdJSON
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatal(err)
	}
	if len(strings.Fields(created.Mnemonic)) != 24 || !strings.HasPrefix(created.Address, "ldev1") || created.Warning == "" ||
		created.Network.Name != "devnet" {
		t.Fatalf("wallet new output %+v", created)
	}
	if code, _, errOut := runCLI(t, "other\n", append(g, "wallet", "new", "--name", "a")...); code != 1 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("second wallet new a: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "\n", append(g, "wallet", "new", "--name", "b")...); code != 1 || !strings.Contains(errOut, "non-empty password") {
		t.Fatalf("empty password: exit %d %s", code, errOut)
	}
	// Mnemonic then password on stdin, upper case and extra spaces
	// accepted.
	code, out, errOut = runCLI(t, "  "+strings.ToUpper(created.Mnemonic)+" \nsecond pw\n", append(g, "wallet", "import", "--name", "b")...)
	if code != 0 {
		t.Fatalf("wallet import: %s", errOut)
	}
	var restored createdJSON
	json.Unmarshal([]byte(out), &restored)
	if restored.Address != created.Address || restored.Mnemonic != "" {
		t.Fatalf("restored %+v, want address %s and no mnemonic", restored, created.Address)
	}
	words := strings.Fields(created.Mnemonic)
	words[0], words[1] = words[1], words[0]
	if code, _, errOut := runCLI(t, strings.Join(words, " ")+"\npw\n", append(g, "wallet", "import", "--name", "c")...); code != 1 || !strings.Contains(errOut, "not valid") {
		t.Fatalf("bad mnemonic: exit %d %s", code, errOut)
	}
	// address --new hands out index 1; address lists both.
	code, out, errOut = runCLI(t, "", append(g, "--password-file", pw, "wallet", "address", "--name", "a", "--new")...)
	if code != 0 || !strings.Contains(out, `"index":1`) {
		t.Fatalf("address --new: exit %d %s %s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "", append(g, "--password-file", pw, "wallet", "address", "--name", "a")...)
	if code != 0 || !strings.Contains(out, created.Address) || !strings.Contains(out, `"index":1`) {
		t.Fatalf("address: %s", out)
	}
	if code, _, errOut := runCLI(t, "wrong\n", append(g, "wallet", "address", "--name", "a")...); code != 1 || !strings.Contains(errOut, "wrong password") {
		t.Fatalf("wrong password: exit %d %s", code, errOut)
	}
	// export-key: refused without "yes", shown with it.
	if code, out, errOut := runCLI(t, "no\n", append(g, "--password-file", pw, "wallet", "export-key", "--name", "a")...); code != 1 || out != "" ||
		!strings.Contains(errOut, "not confirmed") {
		t.Fatalf("export-key without yes: exit %d %q %s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "yes\n", append(g, "--password-file", pw, "wallet", "export-key", "--name", "a")...)
	var key struct{ Address, PrivateKey string }
	if json.Unmarshal([]byte(out), &key); code != 0 || key.Address != created.Address || len(key.PrivateKey) != 64 {
		t.Fatalf("export-key: exit %d %s %s", code, out, errOut)
	}
	// list shows both wallets with their network; with two wallets a
	// command without --name asks which.
	code, out, _ = runCLI(t, "", append(g, "wallet", "list")...)
	if code != 0 || !strings.Contains(out, `"name":"a"`) || !strings.Contains(out, `"name":"b"`) || !strings.Contains(out, `"chainId":1001`) {
		t.Fatalf("list: %s", out)
	}
	if code, _, errOut := runCLI(t, "", append(g, "--password-file", pw, "wallet", "address")...); code != 2 || !strings.Contains(errOut, "say which with --name") {
		t.Fatalf("address without --name: exit %d %s", code, errOut)
	}
}
