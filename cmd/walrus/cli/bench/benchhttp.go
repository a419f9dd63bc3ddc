package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/cmd/walrus/cli/cmdenv"
)

// httpBenchTarget is one server measured by bench http.
type httpBenchTarget struct {
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	ReqPerSec []float64 `json:"requestsPerSecond"`
	MBPerSec  []float64 `json:"megabytesPerSecond"`
	Errors    int64     `json:"errors"`
}

type httpBenchResult struct {
	BlobID      string             `json:"blobId"`
	Size        int                `json:"size"`
	Concurrency int                `json:"concurrency"`
	Duration    string             `json:"duration"`
	Runs        int                `json:"runs"`
	Targets     []*httpBenchTarget `json:"targets"`
}

func newBenchHTTPCmd(e *env) *cobra.Command {
	var (
		urls        []string
		blobID      string
		size        string
		concurrency int
		duration    time.Duration
		runs        int
	)
	cmd := &cobra.Command{
		Use:   "http",
		Short: "Load an aggregator with GETs of one blob, against a static file server on loopback",
		Long: `Sends GET /v1/blobs/BLOB_ID from --concurrency clients for --duration to each --url (an
aggregator or daemon), and the same bytes as a static file from a file server this command runs
on 127.0.0.1, in turns (--runs rounds, the order alternating), and reports requests/s and MB/s
(10^6 bytes), the fastest and the median round, and each aggregator's median as a fraction of the
static server's in the same round. Without --blob-id it first stores a random blob of --size
through the first URL (a publisher or daemon). Every answer is checked: status and length.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(urls) == 0 || concurrency < 1 || runs < 1 || duration <= 0 {
				return errors.New("give --url, and a positive --concurrency, --runs and --duration")
			}
			ctx := cmd.Context()
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency * 2, DisableCompression: true}}
			defer hc.CloseIdleConnections()
			base := strings.TrimSuffix(urls[0], "/")
			if blobID == "" {
				n, err := cmdenv.ParseSize(size)
				if err != nil {
					return err
				}
				if blobID, err = benchStore(ctx, hc, base, int(n)); err != nil {
					return err
				}
				e.Say("stored a %s blob through %s: %s", cmdenv.HumanBytes(n), base, blobID)
			}
			data, err := benchGet(ctx, hc, base+"/v1/blobs/"+blobID)
			if err != nil {
				return err
			}
			staticURL, stop, err := serveStatic(data)
			if err != nil {
				return err
			}
			defer stop()
			res := httpBenchResult{BlobID: blobID, Size: len(data), Concurrency: concurrency, Duration: duration.String(), Runs: runs}
			for i, u := range urls {
				res.Targets = append(res.Targets, &httpBenchTarget{Name: fmt.Sprintf("aggregator %d", i+1), URL: strings.TrimSuffix(u, "/") + "/v1/blobs/" + blobID})
			}
			res.Targets = append(res.Targets, &httpBenchTarget{Name: "static file", URL: staticURL})
			if err := runHTTPRounds(ctx, hc, &res, duration); err != nil {
				return err
			}
			if e.JSON {
				return e.PrintJSON(res)
			}
			printHTTPBench(e, &res)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&urls, "url", []string{"http://127.0.0.1:31415"}, "aggregators to load (the first stores the blob without --blob-id)")
	fl.StringVar(&blobID, "blob-id", "", "blob to GET (default: store a random one)")
	fl.StringVar(&size, "size", "1MiB", "size of the random blob")
	fl.IntVar(&concurrency, "concurrency", 32, "concurrent clients")
	fl.DurationVar(&duration, "duration", 5*time.Second, "length of each round per server")
	fl.IntVar(&runs, "runs", 5, "rounds")
	return cmd
}

func benchStore(ctx context.Context, hc *http.Client, base string, n int) (string, error) {
	data := make([]byte, n)
	_, _ = rand.Read(data)
	req, err := http.NewRequestWithContext(ctx, "PUT", base+"/v1/blobs?epochs=5", bytes.NewReader(data))
	if err != nil {
		return "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var res client.BlobStoreResult
	if resp.StatusCode != 200 || json.Unmarshal(b, &res) != nil || res.BlobID() == nil {
		return "", fmt.Errorf("PUT %s/v1/blobs: %d %s", base, resp.StatusCode, b)
	}
	return res.BlobID().String(), nil
}

func benchGet(ctx context.Context, hc *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b, err
}

// benchLoad GETs url from n clients for d and counts the answers of the
// right size and the others.
func benchLoad(ctx context.Context, hc *http.Client, url string, size, n int, d time.Duration) (ok, bad int64) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var good, errs atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 64<<10)
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
				resp, err := hc.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						errs.Add(1)
					}
					continue
				}
				got, err := io.CopyBuffer(io.Discard, resp.Body, buf)
				resp.Body.Close()
				switch {
				case err != nil && ctx.Err() != nil:
				case err != nil || resp.StatusCode != 200 || got != int64(size):
					errs.Add(1)
				default:
					good.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return good.Load(), errs.Load()
}

// serveStatic serves data as a static file on 127.0.0.1: the baseline the
// aggregators are compared with. stop shuts it down and removes the file.
func serveStatic(data []byte) (url string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "walrus-bench-http")
	if err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "blob"), data, 0o600); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	static := &http.Server{Handler: http.FileServer(http.Dir(dir))}
	go func() { _ = static.Serve(l) }()
	return "http://" + l.Addr().String() + "/blob", func() { static.Close(); os.RemoveAll(dir) }, nil
}

// runHTTPRounds loads each target for d, res.Runs times, the
// order alternating from round to round.
func runHTTPRounds(ctx context.Context, hc *http.Client, res *httpBenchResult, d time.Duration) error {
	for r := range res.Runs {
		order := slices.Clone(res.Targets)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for _, t := range order {
			reqs, errs := benchLoad(ctx, hc, t.URL, res.Size, res.Concurrency, d)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			secs := d.Seconds()
			t.ReqPerSec = append(t.ReqPerSec, float64(reqs)/secs)
			t.MBPerSec = append(t.MBPerSec, float64(reqs)*float64(res.Size)/secs/1e6)
			t.Errors += errs
		}
	}
	return nil
}

// printHTTPBench writes the rounds' figures, each aggregator's also as a
// fraction of the static server's in the same rounds.
func printHTTPBench(e *env, res *httpBenchResult) {
	st := res.Targets[len(res.Targets)-1]
	fmt.Fprintf(e.Stdout, "GET of a %s blob, %s, %s of %s:\n", cmdenv.HumanBytes(int64(res.Size)), cmdenv.Count(res.Concurrency, "concurrent client", "concurrent clients"), cmdenv.Count(res.Runs, "round", "rounds"), res.Duration)
	for _, t := range res.Targets {
		ratio := ""
		if t != st {
			var rs []float64
			for i := range t.ReqPerSec {
				rs = append(rs, t.ReqPerSec[i]/st.ReqPerSec[i])
			}
			ratio = fmt.Sprintf("  (%.2f of the static server, median of the rounds' ratios)", median(rs))
		}
		fmt.Fprintf(e.Stdout, "  %-12s %8.0f req/s min %8.0f median, %8.0f MB/s min %8.0f median, %d errors%s\n", t.Name,
			slices.Min(t.ReqPerSec), median(t.ReqPerSec), slices.Min(t.MBPerSec), median(t.MBPerSec), t.Errors, ratio)
	}
}
