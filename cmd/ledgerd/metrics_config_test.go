package main

import (
	"strings"
	"testing"
)

// TestMetricsSettings: metrics are off by default, set by flag or
// environment like every setting, and a bad address or pprof without an
// address stops the start with a message naming the setting.
func TestMetricsSettings(t *testing.T) {
	for _, tc := range []struct {
		name      string
		args      []string
		env       map[string]string
		wantAddr  string
		wantPprof bool
		wantErr   string
	}{
		{name: "default off"},
		{name: "flags", args: []string{"--metrics.addr", "127.0.0.1:7402", "--metrics.pprof"},
			wantAddr: "127.0.0.1:7402", wantPprof: true},
		{name: "environment", env: map[string]string{"LEDGER_METRICS_ADDR": "127.0.0.1:9100", "LEDGER_METRICS_PPROF": "true"},
			wantAddr: "127.0.0.1:9100", wantPprof: true},
		{name: "flag over environment", args: []string{"--metrics.addr", "127.0.0.1:1"},
			env: map[string]string{"LEDGER_METRICS_ADDR": "127.0.0.1:2"}, wantAddr: "127.0.0.1:1"},
		{name: "no port", args: []string{"--metrics.addr", "127.0.0.1"}, wantErr: "metrics.addr"},
		{name: "pprof alone", args: []string{"--metrics.pprof"}, wantErr: "metrics.pprof needs metrics.addr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cmd := newRootCmd()
			if err := cmd.ParseFlags(tc.args); err != nil {
				t.Fatal(err)
			}
			v, err := settings(cmd)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := nodeConfig(v, quietLog())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.MetricsAddr != tc.wantAddr || cfg.MetricsPprof != tc.wantPprof {
				t.Fatalf("metrics %q pprof %v, want %q %v", cfg.MetricsAddr, cfg.MetricsPprof, tc.wantAddr, tc.wantPprof)
			}
		})
	}
}
