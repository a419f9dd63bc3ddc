package bench

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/blake2b"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/cmd/walrus/cli/cmdenv"
	"github.com/walrus-go/walrus/redstuff"
)

// benchResult is one size's figures (the --json form).
type benchResult struct {
	Op          string    `json:"op"`
	NShards     int       `json:"nShards"`
	Size        int64     `json:"size"`
	SymbolSize  int       `json:"symbolSize"`
	Runs        int       `json:"runs"`
	Workers     int       `json:"workers"`
	SecondsMin  float64   `json:"secondsMin"`
	SecondsMed  float64   `json:"secondsMedian"`
	MBpsMedian  float64   `json:"mbPerSecondMedian"`
	ColdSeconds float64   `json:"coldSeconds"`
	PeakRSS     int64     `json:"peakRssBytes"`
	PeakPerBlob float64   `json:"peakRssPerBlobSize"`
	PeakHeap    int64     `json:"peakHeapBytes"`
	Seconds     []float64 `json:"seconds"`
	BlobID      string    `json:"blobId"`
}

func NewCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the codec (encode, decode) and a network (store, read)",
	}
	cmd.AddCommand(newBenchOpCmd(e, "encode", "Time computing the metadata and blob ID of random blobs"),
		newBenchOpCmd(e, "decode", "Time decoding random blobs from k_p primary slivers (none systematic)"),
		newBenchNetCmd(e, "store"), newBenchNetCmd(e, "read"), newBenchHTTPCmd(e))
	return cmd
}

func newBenchOpCmd(e *env, op, short string) *cobra.Command {
	var (
		nShards int
		sizes   []string
		runs    int
		workers int
		cpuProf string
	)
	cmd := &cobra.Command{
		Use:   op,
		Short: short,
		Long: short + ".\nFor each size, a first cold run (fresh memory, as a one-shot `walrus blob-id` sees it)\n" +
			"is reported on its own, then --runs warm runs give the fastest and the median time and the\n" +
			"throughput at the median. Memory: the peak resident set of the cold run (the blob itself\n" +
			"included), also as a multiple of the blob size, and the peak Go heap sampled during all runs.",
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := blob.NewParams(nShards)
			if err != nil {
				return err
			}
			if runs < 1 {
				return errors.New("--runs must be at least 1")
			}
			if workers <= 0 {
				workers = runtime.GOMAXPROCS(0)
			}
			enc, err := redstuff.NewEncoder(p, redstuff.WithWorkers(workers))
			if err != nil {
				return err
			}
			if cpuProf != "" {
				f, err := os.Create(cpuProf)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			var results []benchResult
			for _, s := range sizes {
				size, err := cmdenv.ParseSize(s)
				if err != nil {
					return err
				}
				if uint64(size) > p.MaxBlobSize() {
					return fmt.Errorf("%s: %w", s, blob.ErrTooLarge)
				}
				r, err := benchOne(e, enc, op, size, runs)
				if err != nil {
					return err
				}
				r.Workers = workers
				results = append(results, r)
			}
			if e.JSON {
				return e.PrintJSON(results)
			}
			tw := tabwriter.NewWriter(e.Stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintf(tw, "op\tn\tsize\tcold\truns\tmin\tmedian\tMB/s (median)\tpeak RSS\tpeak/size\tpeak heap\t\n")
			for _, r := range results {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%s\t%s\t%.1f\t%s\t%.3g\t%s\t\n", r.Op, r.NShards, cmdenv.HumanBytes(r.Size),
					cmdenv.Seconds(r.ColdSeconds), r.Runs, cmdenv.Seconds(r.SecondsMin), cmdenv.Seconds(r.SecondsMed), r.MBpsMedian,
					cmdenv.HumanBytes(r.PeakRSS), r.PeakPerBlob, cmdenv.HumanBytes(r.PeakHeap))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().IntVar(&nShards, "n-shards", cmdenv.DefaultShards, "number of shards")
	cmd.Flags().StringSliceVar(&sizes, "size", []string{"1B", "1MiB", "32MiB", "256MiB"}, "blob sizes (B, KiB, MiB, GiB, KB, MB, GB); repeat or separate with commas")
	cmd.Flags().IntVar(&runs, "runs", 3, "runs per size")
	cmd.Flags().IntVar(&workers, "workers", 0, "goroutines per encode or decode (default GOMAXPROCS)")
	cmd.Flags().StringVar(&cpuProf, "cpuprofile", "", "write a CPU profile of all runs to this file")
	return cmd
}

func benchOne(e *env, enc *redstuff.Encoder, op string, size int64, runs int) (benchResult, error) {
	p := enc.Params()
	data := make([]byte, size)
	rng := rand.New(rand.NewPCG(uint64(size), 7))
	for i := 0; i+8 <= len(data); i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			data[i+j] = byte(v >> (8 * j))
		}
	}
	s, _ := p.SymbolSize(uint64(size))
	res := benchResult{Op: op, NShards: p.N(), Size: size, SymbolSize: s, Runs: runs}

	var md blob.MetadataWithID
	var slivers []redstuff.Sliver
	if op == "decode" {
		x, err := enc.Encode(data)
		if err != nil {
			return res, err
		}
		md = x.Metadata
		// The worst case: k_p primary slivers, none of them systematic.
		kp := p.PrimarySymbols()
		for i := p.N() - kp; i < p.N(); i++ {
			sl := x.Primary(i)
			sl.Data = slices.Clone(sl.Data)
			slivers = append(slivers, sl)
		}
		x = nil
		res.BlobID = md.ID.String()
	}
	// Decode checks its output against a digest, so the original is not kept.
	var want [32]byte
	if op == "decode" {
		want = blake2b.Sum256(data)
		data = nil
	}
	// once runs the timed operation; check verifies its result afterwards.
	var out []byte
	once := func() error {
		var err error
		switch op {
		case "encode":
			var m blob.MetadataWithID
			m, err = enc.Metadata(data)
			res.BlobID = m.ID.String()
		case "decode":
			out, err = enc.Decode(&md, slivers, redstuff.ConsistencyDefault)
		}
		return err
	}
	check := func() error {
		if op == "decode" && (int64(len(out)) != size || blake2b.Sum256(out) != want) {
			return errors.New("decode returned the wrong bytes")
		}
		out = nil
		return nil
	}
	// Run 0 is cold: memory handed back to the OS first, peak RSS measured.
	for run := 0; run <= runs; run++ {
		runtime.GC()
		if run == 0 {
			debug.FreeOSMemory()
			resetPeakRSS()
		}
		stop := sampleHeap(&res.PeakHeap)
		start := time.Now()
		err := once()
		d := time.Since(start).Seconds()
		stop()
		if err == nil {
			err = check()
		}
		if err != nil {
			return res, err
		}
		label := "cold"
		if run == 0 {
			res.ColdSeconds = d
			res.PeakRSS = peakRSS()
		} else {
			res.Seconds = append(res.Seconds, d)
			label = fmt.Sprintf("%d/%d", run, runs)
		}
		fmt.Fprintf(e.Stderr, "%s %s run %s: %s\n", op, cmdenv.HumanBytes(size), label, cmdenv.Seconds(d))
	}
	sorted := slices.Clone(res.Seconds)
	slices.Sort(sorted)
	res.SecondsMin = sorted[0]
	res.SecondsMed = sorted[len(sorted)/2]
	if len(sorted)%2 == 0 {
		res.SecondsMed = (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
	}
	if res.SecondsMed > 0 {
		res.MBpsMedian = float64(size) / 1e6 / res.SecondsMed
	}
	if size > 0 {
		res.PeakPerBlob = float64(res.PeakRSS) / float64(size)
	}
	return res, nil
}

// sampleHeap records the largest Go heap (objects, live or not yet swept)
// seen every millisecond into *peak until the returned stop function is
// called. runtime/metrics does not stop the world.
func sampleHeap(peak *int64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 {
				*peak = max(*peak, int64(sample[0].Value.Uint64()))
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// resetPeakRSS resets the kernel's peak-RSS counter of this process (Linux).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS reads VmHWM (peak resident set) from /proc/self/status, in bytes.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
