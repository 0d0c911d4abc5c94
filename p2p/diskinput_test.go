package p2p

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ledger-node/ledger/chain/types"
)

// TestIdentityFile: the identity is created once and read back the same;
// a file larger than any key, or one that is not a key, is refused with an
// error (never a panic, never replaced by a new identity).
func TestIdentityFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p2p.key")
	key, err := LoadOrCreateIdentity(path)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreateIdentity(path)
	if err != nil || !key.Equals(again) {
		t.Fatalf("reloaded identity differs (err %v)", err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("identity file mode: %v, %v", st.Mode().Perm(), err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"oversized", append(raw, make([]byte, maxKeyFile)...), "not a key"},
		{"garbage", []byte("not a key at all"), "delete it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name+".key")
			if err := os.WriteFile(p, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadOrCreateIdentity(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
			if got, _ := os.ReadFile(p); !bytes.Equal(got, tc.data) {
				t.Fatal("a refused identity file was rewritten")
			}
		})
	}
}

// TestBanListUnreadableFile: a ban list that is not JSON, or is larger
// than maxBanFile, is moved aside (kept for the operator) and the node
// starts with no bans rather than failing; a valid one keeps its bans in
// force and drops expired ones.
func TestBanListUnreadableFile(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	id := testPeerID(t)
	valid := `[{"peer":"` + id.String() + `","until":"` + now.Add(time.Hour).Format(time.RFC3339) + `","reason":"x"},` +
		`{"peer":"` + testPeerID(t).String() + `","until":"` + now.Add(-time.Hour).Format(time.RFC3339) + `","reason":"expired"}]`
	for _, tc := range []struct {
		name      string
		data      []byte
		movedAway bool
		bans      int
	}{
		{"valid", []byte(valid), false, 1},
		{"not json", []byte("{{{"), true, 0},
		{"trailing garbage", []byte(valid + "xx"), true, 0},
		{"oversized", append([]byte(valid), bytes.Repeat([]byte(" "), maxBanFile)...), true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bans.json")
			if err := os.WriteFile(path, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			b, err := loadBanList(path, clock, testLogger())
			if err != nil {
				t.Fatal(err)
			}
			if n := len(b.list()); n != tc.bans {
				t.Fatalf("%d bans loaded, want %d", n, tc.bans)
			}
			if tc.bans > 0 && !b.isBanned(id) {
				t.Fatal("the ban in force was not loaded")
			}
			bad, err := os.ReadFile(path + ".bad")
			if tc.movedAway != (err == nil) {
				t.Fatalf("moved aside: %v, want %v", err == nil, tc.movedAway)
			}
			if tc.movedAway && !bytes.Equal(bad, tc.data) {
				t.Fatal("the file moved aside is not the original")
			}
		})
	}
}

func testPeerID(t *testing.T) peer.ID {
	t.Helper()
	key, err := LoadOrCreateIdentity(filepath.Join(t.TempDir(), "k"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestEarliestKey: the bounded maps evict the entry with the earliest
// time; an empty map gives the zero key.
func TestEarliestKey(t *testing.T) {
	base := time.Unix(1_800_000_000, 0)
	m := map[string]time.Time{"b": base.Add(2 * time.Second), "a": base.Add(time.Second), "c": base.Add(3 * time.Second)}
	if k := earliestKey(m, timeItself); k != "a" {
		t.Fatalf("earliest %q, want a", k)
	}
	bans := map[string]Ban{"late": {Until: base.Add(time.Hour)}, "soon": {Until: base.Add(time.Minute)}}
	if k := earliestKey(bans, func(b Ban) time.Time { return b.Until }); k != "soon" {
		t.Fatalf("earliest ban %q, want soon", k)
	}
	if k := earliestKey(map[string]time.Time{}, timeItself); k != "" {
		t.Fatalf("empty map gave %q", k)
	}
}

// TestGossipOrphansBounded: the gossiped orphans remembered for relay stay
// within maxGossipOrphans, expired ones go first, and the newest is kept.
func TestGossipOrphansBounded(t *testing.T) {
	g := &gossip{orphans: map[types.Hash]time.Time{}}
	for i := range maxGossipOrphans {
		g.orphans[types.Hash{byte(i), byte(i >> 8), 2}] = time.Now().Add(-2 * orphanRelayAge)
	}
	g.rememberOrphan(types.Hash{0xfe})
	if n := len(g.orphans); n != 1 {
		t.Fatalf("%d orphans after the expired ones made room, want 1", n)
	}
	stale := types.Hash{0xff}
	g.orphans[stale] = time.Now().Add(-2 * orphanRelayAge)
	var last types.Hash
	for i := range maxGossipOrphans + 10 {
		last = types.Hash{byte(i), byte(i >> 8), 1}
		g.rememberOrphan(last)
	}
	if n := len(g.orphans); n != maxGossipOrphans {
		t.Fatalf("%d orphans remembered, bound %d", n, maxGossipOrphans)
	}
	if _, ok := g.orphans[stale]; ok {
		t.Fatal("an expired orphan outlived fresh ones")
	}
	if _, ok := g.orphans[last]; !ok {
		t.Fatal("the newest orphan was not kept")
	}
}
