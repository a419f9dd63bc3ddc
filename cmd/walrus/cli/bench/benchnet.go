package bench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/cmd/walrus/cli/cmdenv"
	"github.com/walrus-go/walrus/internal/sdkinternal"
	"github.com/walrus-go/walrus/redstuff"
)

// benchNetResult is one size's end-to-end figures (the --json form):
// minimum and median over the runs, in seconds.
type benchNetResult struct {
	Op      string `json:"op"`
	NShards int    `json:"nShards"`
	Size    int64  `json:"size"`
	Runs    int    `json:"runs"`
	// Total is the store (until certified) or the read, per run.
	TotalRuns []float64 `json:"seconds"`
	TotalMin  float64   `json:"secondsMin"`
	Total     float64   `json:"secondsMedian"`
	MBps      float64   `json:"mbPerSecondMedian"`
	// PeakRSS is the largest peak resident set of this process over the
	// runs (the whole client: the store or read, buffers, runtime).
	PeakRSS int64 `json:"peakRssBytes"`
	// Store phases (medians).
	Encode   float64 `json:"encodeSecondsMedian,omitempty"`
	Status   float64 `json:"statusSecondsMedian,omitempty"`
	Register float64 `json:"registerSecondsMedian,omitempty"`
	Upload   float64 `json:"uploadSecondsMedian,omitempty"`
	Certify  float64 `json:"certifySecondsMedian,omitempty"`
	TailWait float64 `json:"tailSecondsMedian,omitempty"`
	// SliverBytes is the bytes of slivers a store sends (n pairs);
	// NodeWriteAmp the bytes the node processes wrote to disk per sliver
	// byte (from /proc/PID/io, median; 0 when the nodes are unknown).
	SliverBytes  int64   `json:"sliverBytes,omitempty"`
	NodeWriteAmp float64 `json:"nodeBytesWrittenPerSliverByte,omitempty"`
	// Floor is a plain write of SliverBytes to the same disk with one
	// fdatasync at the end, timed after each store run; Ratio the store's
	// time over it, per run (min and median).
	FloorRuns []float64 `json:"floorSeconds,omitempty"`
	FloorMed  float64   `json:"floorSecondsMedian,omitempty"`
	RatioMin  float64   `json:"ratioToFloorMin,omitempty"`
	RatioMed  float64   `json:"ratioToFloorMedian,omitempty"`
	// Decode (read): redstuff's in-memory decode of the same size from the
	// k_p non-systematic primary slivers, timed after the reads (median),
	// and the read's time over it.
	DecodeMed   float64 `json:"decodeSecondsMedian,omitempty"`
	DecodeRatio float64 `json:"ratioToDecodeMedian,omitempty"`
}

type benchNetFlags struct {
	sizes    []string
	runs     int
	dir      string
	floorDir string
	nodePIDs []int
	noDecode bool
}

func newBenchNetCmd(e *env, op string) *cobra.Command {
	var f benchNetFlags
	short := "Time storing files end to end on the configured network (a devnet)"
	if op == "read" {
		short = "Time reading blobs end to end on the configured network (a devnet)"
	}
	cmd := &cobra.Command{
		Use:   op,
		Short: short,
		Long: short + `.
store: each run writes a file of new random bytes to --dir and stores it as walrus store does
(StoreFile: bounded memory, permanent, 1 epoch, --force); it reports the minimum and median total
(until certified), the median of each phase (encode, status check, register: the transaction,
overlapping the upload; upload: until confirmations of n−f shards; certify: the transaction;
tail: after certification until the remaining nodes have their slivers, not part of the store's
time), the peak RSS of this process, the bytes the storage-node processes wrote to disk per
byte of sliver (from /proc/PID/io; the PIDs are --node-pids, else the devnet's node-*/pid
files beside the client configuration), and the floor: after each store, a plain write of the
same number of sliver bytes to --floor-dir with one fdatasync, and the ratio of the store's
time to it.
read: one blob per size is stored first; each run reads it to nowhere (Default consistency
check, streaming, as walrus read does); then redstuff's in-memory decode of the same size is
timed as a baseline (--no-decode skips it) and the read's time over it reported.`,
		RunE: func(cmd *cobra.Command, args []string) error { return runBenchNet(cmd.Context(), e, op, f) },
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&f.sizes, "size", []string{"1MiB", "64MiB"}, "blob sizes (B, KiB, MiB, GiB, KB, MB, GB)")
	fl.IntVar(&f.runs, "runs", 3, "runs per size")
	fl.StringVar(&f.dir, "dir", "", "where the random files are written (default: the system's temporary directory)")
	fl.StringVar(&f.floorDir, "floor-dir", "", "where the floor's write goes (default: the client configuration's directory, a devnet's disk)")
	fl.IntSliceVar(&f.nodePIDs, "node-pids", nil, "storage-node processes whose disk writes are counted (default: the devnet's node-*/pid files)")
	fl.BoolVar(&f.noDecode, "no-decode", false, "read: skip the in-memory decode baseline")
	return cmd
}

func runBenchNet(ctx context.Context, e *env, op string, f benchNetFlags) error {
	if f.runs < 1 {
		return errors.New("--runs must be at least 1")
	}
	s, err := e.Connect(ctx, true)
	if err != nil {
		return err
	}
	defer s.Close()
	c := s.Client
	if f.floorDir == "" {
		f.floorDir = filepath.Dir(s.Path)
	}
	pids := f.nodePIDs
	if len(pids) == 0 {
		pids = devnetNodePIDs(filepath.Dir(s.Path))
	}
	var results []benchNetResult
	for _, sz := range f.sizes {
		size, err := cmdenv.ParseSize(sz)
		if err != nil {
			return err
		}
		if err := c.CheckSize(size); err != nil {
			return err
		}
		var r benchNetResult
		if op == "store" {
			r, err = benchNetStore(ctx, e, c, size, f, pids)
		} else {
			r, err = benchNetRead(ctx, e, c, size, f)
		}
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	if e.JSON {
		return e.PrintJSON(results)
	}
	return printBenchNet(e, op, results)
}

// randomFile writes size random bytes to a new file in dir.
func randomFile(dir string, size int64) (string, error) {
	f, err := os.CreateTemp(dir, "walrus-bench-*")
	if err != nil {
		return "", err
	}
	buf := make([]byte, 1<<20)
	for left := size; left > 0; {
		n := min(left, int64(len(buf)))
		_, _ = rand.Read(buf[:n])
		if _, err := f.Write(buf[:n]); err != nil {
			f.Close()
			os.Remove(f.Name())
			return "", err
		}
		left -= n
	}
	return f.Name(), f.Close()
}

func benchNetStore(ctx context.Context, e *env, c *client.Client, size int64, f benchNetFlags, pids []int) (benchNetResult, error) {
	p := c.Params()
	r := benchNetResult{Op: "store", NShards: p.N(), Size: size, Runs: f.runs}
	sym, err := p.SymbolSize(uint64(size))
	if err != nil {
		return r, err
	}
	r.SliverBytes = int64(p.N()) * int64(p.PrimarySliverSize(sym)+p.SecondarySliverSize(sym))
	var enc, st, reg, up, cert, tail, amp, ratios []float64
	for run := range f.runs {
		path, err := randomFile(f.dir, size)
		if err != nil {
			return r, err
		}
		before := nodeWrites(pids)
		debug.FreeOSMemory() // what earlier runs left is not this run's peak
		resetPeakRSS()
		t := time.Now()
		res, err := c.StoreFile(ctx, path, client.StoreOptions{Epochs: 1, Force: true})
		d := time.Since(t)
		r.PeakRSS = max(r.PeakRSS, peakRSS())
		if err != nil {
			os.Remove(path)
			return r, err
		}
		t = time.Now()
		if res.Tail != nil {
			_ = res.Tail.Wait(ctx)
		}
		tail = append(tail, time.Since(t).Seconds())
		_ = c.WaitUploads(ctx)
		os.Remove(path)
		if len(pids) > 0 {
			time.Sleep(200 * time.Millisecond) // writes the confirmations' syncs started
			amp = append(amp, float64(nodeWrites(pids)-before)/float64(r.SliverBytes))
		}
		enc, st, reg = append(enc, res.Encode.Seconds()), append(st, res.Status.Seconds()), append(reg, res.Register.Seconds())
		up, cert = append(up, res.Upload.Seconds()), append(cert, res.Certify.Seconds())
		r.TotalRuns = append(r.TotalRuns, d.Seconds())
		floor, err := floorWrite(f.floorDir, r.SliverBytes)
		if err != nil {
			return r, fmt.Errorf("floor: %w", err)
		}
		r.FloorRuns = append(r.FloorRuns, floor)
		ratios = append(ratios, d.Seconds()/floor)
		e.Say("store %s run %d/%d: %s (floor %s, ratio %.2f)", cmdenv.HumanBytes(size), run+1, f.runs, cmdenv.Seconds(d.Seconds()), cmdenv.Seconds(floor), d.Seconds()/floor)
	}
	r.TotalMin, r.Total = slices.Min(r.TotalRuns), median(r.TotalRuns)
	r.MBps = float64(size) / 1e6 / r.Total
	r.Encode, r.Status, r.Register, r.Upload, r.Certify, r.TailWait = median(enc), median(st), median(reg), median(up), median(cert), median(tail)
	r.NodeWriteAmp = median(amp)
	r.FloorMed, r.RatioMin, r.RatioMed = median(r.FloorRuns), slices.Min(ratios), median(ratios)
	return r, nil
}

func benchNetRead(ctx context.Context, e *env, c *client.Client, size int64, f benchNetFlags) (benchNetResult, error) {
	r := benchNetResult{Op: "read", NShards: c.Params().N(), Size: size, Runs: f.runs}
	path, err := randomFile(f.dir, size)
	if err != nil {
		return r, err
	}
	defer os.Remove(path)
	res, err := c.StoreFile(ctx, path, client.StoreOptions{Epochs: 1, Force: true})
	if err != nil {
		return r, err
	}
	_ = c.WaitUploads(ctx)
	for run := range f.runs {
		debug.FreeOSMemory()
		resetPeakRSS()
		t := time.Now()
		n, err := c.ReadTo(ctx, res.BlobID, io.Discard, client.ReadOptions{})
		d := time.Since(t)
		r.PeakRSS = max(r.PeakRSS, peakRSS())
		if err != nil {
			return r, err
		}
		if n != size {
			return r, fmt.Errorf("read %d bytes, stored %d", n, size)
		}
		r.TotalRuns = append(r.TotalRuns, d.Seconds())
		e.Say("read %s run %d/%d: %s", cmdenv.HumanBytes(size), run+1, f.runs, cmdenv.Seconds(d.Seconds()))
	}
	r.TotalMin, r.Total = slices.Min(r.TotalRuns), median(r.TotalRuns)
	r.MBps = float64(size) / 1e6 / r.Total
	if !f.noDecode {
		d, err := decodeBaseline(c, path, size, f.runs)
		if err != nil {
			return r, fmt.Errorf("decode baseline: %w", err)
		}
		r.DecodeMed, r.DecodeRatio = d, r.Total/d
	}
	return r, nil
}

// decodeBaseline times redstuff's in-memory decode of the file (as walrus
// bench decode does: from the k_p non-systematic primary slivers).
func decodeBaseline(c *client.Client, path string, size int64, runs int) (float64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	enc := sdkinternal.Encoder(c)
	x, err := enc.Encode(data)
	if err != nil {
		return 0, err
	}
	p := c.Params()
	var sl []redstuff.Sliver
	for i := p.N() - p.PrimarySymbols(); i < p.N(); i++ {
		sl = append(sl, x.Primary(i))
	}
	var times []float64
	for range runs {
		t := time.Now()
		got, err := enc.Decode(&x.Metadata, sl, redstuff.ConsistencyDefault)
		if err != nil {
			return 0, err
		}
		times = append(times, time.Since(t).Seconds())
		if int64(len(got)) != size {
			return 0, errors.New("decode gave a different length")
		}
	}
	return median(times), nil
}

// floorWrite writes n bytes to a new file in dir with one fdatasync at the
// end (what `dd bs=1M conv=fdatasync` does) and returns the seconds taken.
func floorWrite(dir string, n int64) (float64, error) {
	f, err := os.CreateTemp(dir, ".walrus-floor-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 1<<20)
	_, _ = rand.Read(buf)
	t := time.Now()
	for left := n; left > 0; {
		k := min(left, int64(len(buf)))
		if _, err := f.Write(buf[:k]); err != nil {
			return 0, err
		}
		left -= k
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	return time.Since(t).Seconds(), nil
}

// devnetNodePIDs reads the node-*/pid files of a devnet directory (the
// storage nodes of `walrus devnet --processes`).
func devnetNodePIDs(dir string) []int {
	files, _ := filepath.Glob(filepath.Join(dir, "node-*", "pid"))
	var out []int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d/io", pid)); err == nil {
				out = append(out, pid)
			}
		}
	}
	return out
}

// nodeWrites sums write_bytes of /proc/PID/io over the processes.
func nodeWrites(pids []int) int64 {
	var total int64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "write_bytes:"); ok {
				n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				total += n
			}
		}
	}
	return total
}

func printBenchNet(e *env, op string, results []benchNetResult) error {
	tw := tabwriter.NewWriter(e.Stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	if op == "store" {
		fmt.Fprintf(tw, "op\tn\tsize\truns\tmin\tmedian\tMB/s\tpeak RSS\tencode\tstatus\tregister\tupload\tcertify\ttail\tnode writes/B\tfloor\tratio min\tratio median\t\n")
		for _, r := range results {
			amp := "n/a"
			if r.NodeWriteAmp > 0 {
				amp = fmt.Sprintf("%.2f", r.NodeWriteAmp)
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\t%s\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%.2f\t\n", r.Op, r.NShards, cmdenv.HumanBytes(r.Size), r.Runs,
				cmdenv.Seconds(r.TotalMin), cmdenv.Seconds(r.Total), r.MBps, cmdenv.HumanBytes(roundMiB(r.PeakRSS)), cmdenv.Seconds(r.Encode), cmdenv.Seconds(r.Status),
				cmdenv.Seconds(r.Register), cmdenv.Seconds(r.Upload), cmdenv.Seconds(r.Certify), cmdenv.Seconds(r.TailWait), amp, cmdenv.Seconds(r.FloorMed), r.RatioMin, r.RatioMed)
		}
	} else {
		fmt.Fprintf(tw, "op\tn\tsize\truns\tmin\tmedian\tMB/s\tpeak RSS\tdecode\tread/decode\t\n")
		for _, r := range results {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\t%s\t%.1f\t%s\t%s\t%.2f\t\n", r.Op, r.NShards, cmdenv.HumanBytes(r.Size), r.Runs, cmdenv.Seconds(r.TotalMin),
				cmdenv.Seconds(r.Total), r.MBps, cmdenv.HumanBytes(roundMiB(r.PeakRSS)), cmdenv.Seconds(r.DecodeMed), r.DecodeRatio)
		}
	}
	return tw.Flush()
}

// roundMiB rounds a byte count to whole MiB for display.
func roundMiB(n int64) int64 { return (n + 1<<19) >> 20 << 20 }

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
