package cli

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/client"
)

// benchNetResult is one size's end-to-end figures (the --json form):
// medians over the runs, in seconds.
type benchNetResult struct {
	Op        string    `json:"op"`
	NShards   int       `json:"nShards"`
	Size      int64     `json:"size"`
	Runs      int       `json:"runs"`
	Total     float64   `json:"secondsMedian"`
	MBps      float64   `json:"mbPerSecondMedian"`
	Encode    float64   `json:"encodeSecondsMedian,omitempty"`
	Status    float64   `json:"statusSecondsMedian,omitempty"`
	Register  float64   `json:"registerSecondsMedian,omitempty"`
	Upload    float64   `json:"uploadSecondsMedian,omitempty"`
	Certify   float64   `json:"certifySecondsMedian,omitempty"`
	TailWait  float64   `json:"tailSecondsMedian,omitempty"`
	TotalRuns []float64 `json:"seconds"`
}

func newBenchNetCmd(e *env, op string) *cobra.Command {
	var (
		sizes []string
		runs  int
	)
	short := "Time storing random blobs end to end on the configured network (a devnet)"
	if op == "read" {
		short = "Time reading blobs end to end on the configured network (a devnet)"
	}
	cmd := &cobra.Command{
		Use:   op,
		Short: short,
		Long: short + `.
store: each run stores new random bytes (permanent, 1 epoch, --force) and reports the median of
the total and of each phase: encode, status check, register (the transaction; it overlaps the
upload, which starts at once with pending uploads), upload (until confirmations of n−f shards),
certify (the transaction); tail is the time after certification until the remaining nodes have
their slivers (not part of the store's latency).
read: one blob per size is stored first; each run reads it (Default consistency check).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runs < 1 {
				return errors.New("--runs must be at least 1")
			}
			ctx := cmd.Context()
			s, err := e.connect(ctx, true)
			if err != nil {
				return err
			}
			defer s.Close()
			c := s.client
			var results []benchNetResult
			for _, sz := range sizes {
				size, err := parseSize(sz)
				if err != nil {
					return err
				}
				r := benchNetResult{Op: op, NShards: c.Params().N(), Size: size, Runs: runs}
				var enc, st, reg, up, cert, tail []float64
				var id *client.StoreResult
				if op == "read" {
					data := make([]byte, size)
					_, _ = rand.Read(data)
					if id, err = c.Store(ctx, data, client.StoreOptions{Epochs: 1, Force: true}); err != nil {
						return err
					}
					_ = c.WaitUploads(ctx)
				}
				for run := range runs {
					var d time.Duration
					if op == "store" {
						data := make([]byte, size)
						_, _ = rand.Read(data)
						t := time.Now()
						res, err := c.Store(ctx, data, client.StoreOptions{Epochs: 1, Force: true})
						d = time.Since(t)
						if err != nil {
							return err
						}
						t = time.Now()
						if res.Tail != nil {
							_ = res.Tail.Wait(ctx)
						}
						tail = append(tail, time.Since(t).Seconds())
						enc, st, reg = append(enc, res.Encode.Seconds()), append(st, res.Status.Seconds()), append(reg, res.Register.Seconds())
						up, cert = append(up, res.Upload.Seconds()), append(cert, res.Certify.Seconds())
					} else {
						t := time.Now()
						got, err := c.Read(ctx, id.BlobID)
						d = time.Since(t)
						if err != nil {
							return err
						}
						if int64(len(got)) != size {
							return fmt.Errorf("read %d bytes, stored %d", len(got), size)
						}
					}
					r.TotalRuns = append(r.TotalRuns, d.Seconds())
					e.say("%s %s run %d/%d: %s", op, humanBytes(size), run+1, runs, fmtSeconds(d.Seconds()))
				}
				r.Total = median(r.TotalRuns)
				if r.Total > 0 {
					r.MBps = float64(size) / 1e6 / r.Total
				}
				r.Encode, r.Status, r.Register, r.Upload, r.Certify, r.TailWait = median(enc), median(st), median(reg), median(up), median(cert), median(tail)
				results = append(results, r)
			}
			if e.json {
				return e.printJSON(results)
			}
			tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
			if op == "store" {
				fmt.Fprintf(tw, "op\tn\tsize\truns\tmedian\tMB/s\tencode\tstatus\tregister\tupload\tcertify\ttail\t\n")
				for _, r := range results {
					fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Op, r.NShards, humanBytes(r.Size), r.Runs, fmtSeconds(r.Total), r.MBps,
						fmtSeconds(r.Encode), fmtSeconds(r.Status), fmtSeconds(r.Register), fmtSeconds(r.Upload), fmtSeconds(r.Certify), fmtSeconds(r.TailWait))
				}
			} else {
				fmt.Fprintf(tw, "op\tn\tsize\truns\tmedian\tMB/s\t\n")
				for _, r := range results {
					fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\t%.1f\t\n", r.Op, r.NShards, humanBytes(r.Size), r.Runs, fmtSeconds(r.Total), r.MBps)
				}
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringSliceVar(&sizes, "size", []string{"1MiB", "64MiB"}, "blob sizes (B, KiB, MiB, GiB, KB, MB, GB)")
	cmd.Flags().IntVar(&runs, "runs", 3, "runs per size")
	return cmd
}

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
