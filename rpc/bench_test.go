package rpc

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchParallelism multiplies GOMAXPROCS into the number of concurrent
// keep-alive clients.
const benchParallelism = 4

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, DisableCompression: true}}
}

func doPost(b *testing.B, c *http.Client, url string, body []byte) {
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := c.Do(req)
	if err != nil {
		b.Error(err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Errorf("HTTP %d", resp.StatusCode)
	}
}

// rate runs n requests from the same number of clients RunParallel uses
// and returns requests per second.
func rate(b *testing.B, n int, url string, body []byte) float64 {
	c := benchClient()
	workers := benchParallelism * testingProcs()
	var left atomic.Int64
	left.Store(int64(n))
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				doPost(b, c, url, body)
			}
		}()
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

// BenchmarkRPCHead measures chain_head over HTTP keep-alive with parallel
// clients, and compares it with a bare net/http handler returning a fixed
// JSON body of the same shape, measured in the same run (vs-http).
func BenchmarkRPCHead(b *testing.B) {
	s := newStack(b, stackOpts{noMiner: true})
	for range 10 {
		s.connect()
	}
	body := []byte(`{"jsonrpc":"2.0","id":1,"method":"chain_head"}`)
	_, fixed := s.post(body, testToken)
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(fixed)
	}))
	defer bare.Close()

	n := max(b.N, 5000)
	rate(b, 500, bare.URL, body) // warm both up
	rate(b, 500, s.http.URL, body)
	bareRate := rate(b, n, bare.URL, body)

	c := benchClient()
	b.SetParallelism(benchParallelism)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			doPost(b, c, s.http.URL, body)
		}
	})
	rpcRate := float64(b.N) / time.Since(start).Seconds()
	b.StopTimer()
	b.ReportMetric(rpcRate, "req/s")
	b.ReportMetric(bareRate, "bare-req/s")
	b.ReportMetric(rpcRate/bareRate, "vs-http")
}

func testingProcs() int { return runtime.GOMAXPROCS(0) }
