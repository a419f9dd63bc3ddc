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
	s, _ := p.SymbolSize(uint64(size))
	res := benchResult{Op: op, NShards: p.N(), Size: size, SymbolSize: s, Runs: runs}
	w, err := newBenchWork(enc, op, randomBlob(size), &res)
	if err != nil {
		return res, err
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
		err := w.once()
		d := time.Since(start).Seconds()
		stop()
		if err == nil {
			err = w.check()
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
	res.summarize()
	return res, nil
}

// randomBlob is size bytes of a fixed pseudo-random sequence.
func randomBlob(size int64) []byte {
	data := make([]byte, size)
	rng := rand.New(rand.NewPCG(uint64(size), 7))
	for i := 0; i+8 <= len(data); i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			data[i+j] = byte(v >> (8 * j))
		}
	}
	return data
}

// benchWork is one timed operation on a blob and the check of its result.
type benchWork struct {
	enc     *redstuff.Encoder
	op      string
	res     *benchResult
	data    []byte // encode's input
	md      blob.MetadataWithID
	slivers []redstuff.Sliver // decode's input
	want    [32]byte          // the digest decode must reproduce
	out     []byte
}

// newBenchWork prepares op on data. For decode it encodes first and keeps
// the worst case, k_p primary slivers none of them systematic, and only the
// digest of the original.
func newBenchWork(enc *redstuff.Encoder, op string, data []byte, res *benchResult) (*benchWork, error) {
	w := &benchWork{enc: enc, op: op, res: res, data: data}
	if op != "decode" {
		return w, nil
	}
	x, err := enc.Encode(data)
	if err != nil {
		return nil, err
	}
	p := enc.Params()
	w.md = x.Metadata
	for i := p.N() - p.PrimarySymbols(); i < p.N(); i++ {
		sl := x.Primary(i)
		sl.Data = slices.Clone(sl.Data)
		w.slivers = append(w.slivers, sl)
	}
	res.BlobID = w.md.ID.String()
	w.want = blake2b.Sum256(data)
	w.data = nil
	return w, nil
}

// once runs the timed operation.
func (w *benchWork) once() error {
	var err error
	switch w.op {
	case "encode":
		var m blob.MetadataWithID
		m, err = w.enc.Metadata(w.data)
		w.res.BlobID = m.ID.String()
	case "decode":
		w.out, err = w.enc.Decode(&w.md, w.slivers, redstuff.ConsistencyDefault)
	}
	return err
}

// check verifies a decode's bytes against the original's digest.
func (w *benchWork) check() error {
	if w.op == "decode" && (int64(len(w.out)) != w.res.Size || blake2b.Sum256(w.out) != w.want) {
		return errors.New("decode returned the wrong bytes")
	}
	w.out = nil
	return nil
}

// summarize fills the minimum, median and rates from the warm runs.
func (res *benchResult) summarize() {
	sorted := slices.Clone(res.Seconds)
	slices.Sort(sorted)
	res.SecondsMin = sorted[0]
	res.SecondsMed = sorted[len(sorted)/2]
	if len(sorted)%2 == 0 {
		res.SecondsMed = (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
	}
	if res.SecondsMed > 0 {
		res.MBpsMedian = float64(res.Size) / 1e6 / res.SecondsMed
	}
	if res.Size > 0 {
		res.PeakPerBlob = float64(res.PeakRSS) / float64(res.Size)
	}
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
