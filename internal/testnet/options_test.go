package testnet

import (
	"errors"
	"strings"
	"testing"
)

func TestOptionsValidate(t *testing.T) {
	ok := DefaultOptions()
	tests := []struct {
		name   string
		change func(*Options)
		want   string // "" for valid, else a piece of the message
	}{
		{"defaults", func(*Options) {}, ""},
		{"one node", func(o *Options) { o.Nodes, o.Miners = 1, 1 }, ""},
		{"32 nodes", func(o *Options) { o.Nodes = 32 }, ""},
		{"no miners", func(o *Options) { o.Miners = 0 }, ""},
		{"zero nodes", func(o *Options) { o.Nodes = 0 }, "--nodes 0"},
		{"33 nodes", func(o *Options) { o.Nodes = 33 }, "--nodes 33"},
		{"negative miners", func(o *Options) { o.Miners = -1 }, "--miners -1"},
		{"more miners than nodes", func(o *Options) { o.Miners = 4 }, "--miners 4"},
		{"zero block time", func(o *Options) { o.BlockTime = 0 }, "--block-time 0"},
		{"block time too long", func(o *Options) { o.BlockTime = MaxBlockTime + 1 }, "--block-time"},
		{"privileged port", func(o *Options) { o.BasePort = 80 }, "--base-port 80"},
		{"ports past 65535", func(o *Options) { o.BasePort = 65531 }, "need ports 65531 to 65536"},
		{"last port 65535", func(o *Options) { o.BasePort = 65530 }, ""},
		{"host name", func(o *Options) { o.Host = "localhost" }, "--host"},
		{"empty host", func(o *Options) { o.Host = "" }, "--host"},
		{"multicast host", func(o *Options) { o.Host = "224.0.0.1" }, "--host"},
		{"IPv6 host", func(o *Options) { o.Host = "::1" }, ""},
		{"every interface", func(o *Options) { o.Host = "0.0.0.0" }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := ok
			tc.change(&o)
			err := o.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("valid options refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrBadOptions) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrBadOptions mentioning %q", err, tc.want)
			}
		})
	}
}

func TestAddresses(t *testing.T) {
	tests := []struct {
		host               string
		listen, dial, rpc0 string
	}{
		{"127.0.0.1", "/ip4/127.0.0.1/tcp/17402", "/ip4/127.0.0.1/tcp/17402", "127.0.0.1:17403"},
		{"192.168.1.10", "/ip4/192.168.1.10/tcp/17402", "/ip4/192.168.1.10/tcp/17402", "127.0.0.1:17403"},
		{"0.0.0.0", "/ip4/0.0.0.0/tcp/17402", "/ip4/127.0.0.1/tcp/17402", "127.0.0.1:17403"},
		{"::1", "/ip6/::1/tcp/17402", "/ip6/::1/tcp/17402", "127.0.0.1:17403"},
		{"::", "/ip6/::/tcp/17402", "/ip6/::1/tcp/17402", "127.0.0.1:17403"},
	}
	for _, tc := range tests {
		o := DefaultOptions()
		o.Host = tc.host
		if got := o.listenAddr(1); got != tc.listen {
			t.Errorf("host %s: listen %s, want %s", tc.host, got, tc.listen)
		}
		if got := o.dialAddr(1); got != tc.dial {
			t.Errorf("host %s: dial %s, want %s", tc.host, got, tc.dial)
		}
		if got := o.rpcAddr(1); got != tc.rpc0 {
			t.Errorf("host %s: rpc %s, want %s", tc.host, got, tc.rpc0)
		}
	}
}

func TestConflicts(t *testing.T) {
	existing := Options{Nodes: 3, Miners: 2, Dir: "/d", BlockTime: 5, BasePort: 17400, Host: "127.0.0.1"}
	tests := []struct {
		name    string
		given   Options
		changed []string
		want    []string // flags named in the error; none: no error
	}{
		{"nothing set", Options{Nodes: 7, Miners: 7, BlockTime: 1, BasePort: 2000, Host: "::1"}, nil, nil},
		{"same values set", existing, []string{FlagNodes, FlagMiners, FlagBlockTime, FlagBasePort, FlagHost}, nil},
		{"same host spelled otherwise", Options{Host: "::ffff:127.0.0.1"}, []string{FlagHost}, nil},
		{"other nodes", Options{Nodes: 2}, []string{FlagNodes}, []string{"--nodes 2"}},
		{"unset flags ignored", Options{Nodes: 2, Miners: 9}, []string{FlagNodes}, []string{"--nodes 2"}},
		{"several", Options{Nodes: 3, Miners: 0, BlockTime: 1, BasePort: 18000, Host: "10.0.0.1"},
			[]string{FlagNodes, FlagMiners, FlagBlockTime, FlagBasePort, FlagHost},
			[]string{"--miners 0", "--block-time 1", "--base-port 18000", "--host 10.0.0.1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Conflicts(existing, tc.given, tc.changed)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected conflict: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrConflict) {
				t.Fatalf("error %v, want ErrConflict", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "--nodes") != strings.Contains(strings.Join(tc.want, " "), "--nodes") {
				t.Errorf("error %q names --nodes wrongly", err)
			}
		})
	}
}
