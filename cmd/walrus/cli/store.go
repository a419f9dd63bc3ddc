package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/cmd/walrus/cli/cmdenv"
)

// epochFlags are Walrus's three ways of saying how long to store.
type epochFlags struct {
	epochs   string // N or max
	expiry   string // RFC3339
	endEpoch uint32
	cmd      *cobra.Command // to tell --end-epoch 0 from no --end-epoch
}

// lifetimeHelp documents the lifetime flags in --help of store and store-quilt.
const lifetimeHelp = `How long to store is one of --epochs N (counting the current epoch; max: as long as the
system allows), --earliest-expiry-time (a future RFC3339 time) or --end-epoch (an epoch after
the current one). Walrus's CLI requires one; without any, the configuration's default_epochs
is used (the devnet writes default_epochs: 1), and a note on stderr says so (not with --json).`

func (f *epochFlags) add(cmd *cobra.Command) {
	f.cmd = cmd
	cmd.Flags().StringVar(&f.epochs, "epochs", "", "number of epochs to store for (counting the current one), or max")
	cmd.Flags().StringVar(&f.expiry, "earliest-expiry-time", "", "store until at least this future time (RFC3339, e.g. 2026-03-20T15:00:00Z)")
	cmd.Flags().Uint32Var(&f.endEpoch, "end-epoch", 0, "store until this epoch (exclusive), after the current one")
}

// lifetime returns the epochs ahead to store for: from the flags, else the
// configuration's default_epochs, which it then names on stderr (unless
// --json), since Walrus's CLI would require a flag.
func (f *epochFlags) lifetime(ctx context.Context, e *env, s *cmdenv.Session) (uint32, error) {
	clk, err := s.Client.EpochClock(ctx)
	if err != nil {
		return 0, err
	}
	epochs, fromDefault, err := f.resolve(clk, s.Cfg.DefaultEpochs, time.Now())
	if err == nil && fromDefault && !e.JSON {
		e.Say("using default_epochs %d from the configuration (give --epochs, --earliest-expiry-time or --end-epoch to choose)", epochs)
	}
	return epochs, err
}

// resolve returns the epochs ahead, given the system state, the
// configuration's default (0: none) and the time now; fromDefault says
// that no flag was given and the default applies.
func (f *epochFlags) resolve(clk client.EpochClock, def uint32, now time.Time) (epochs uint32, fromDefault bool, err error) {
	endSet := f.cmd != nil && f.cmd.Flags().Changed("end-epoch")
	set := 0
	for _, b := range []bool{f.epochs != "", f.expiry != "", endSet} {
		if b {
			set++
		}
	}
	switch {
	case set > 1:
		return 0, false, errors.New("give only one of --epochs, --earliest-expiry-time and --end-epoch")
	case set == 0 && def == 0:
		return 0, false, errors.New("give one of --epochs, --earliest-expiry-time or --end-epoch (or default_epochs in the configuration)")
	case set == 0:
		return def, true, nil
	}
	switch {
	case f.epochs == "max":
		return clk.MaxEpochsAhead, false, nil
	case f.epochs != "":
		v, err := strconv.ParseUint(f.epochs, 10, 32)
		if err != nil || v == 0 {
			return 0, false, fmt.Errorf("invalid --epochs %q: want a number > 0 or max", f.epochs)
		}
		epochs = uint32(v)
	case endSet:
		if f.endEpoch <= clk.Epoch {
			return 0, false, fmt.Errorf("--end-epoch must be after the current epoch %d; %d is not", clk.Epoch, f.endEpoch)
		}
		epochs = f.endEpoch - clk.Epoch
	default:
		t, err := time.Parse(time.RFC3339, f.expiry)
		if err != nil {
			return 0, false, fmt.Errorf("invalid --earliest-expiry-time: %w", err)
		}
		if !t.After(now) {
			return 0, false, fmt.Errorf("--earliest-expiry-time %s is in the past (now %s)", f.expiry, now.UTC().Format(time.RFC3339))
		}
		epochs = clk.EpochsToCover(t)
	}
	if epochs > clk.MaxEpochsAhead {
		return 0, false, fmt.Errorf("blobs can be stored for at most %d epochs ahead; %d requested", clk.MaxEpochsAhead, epochs)
	}
	return epochs, false, nil
}

// dryRunOutput is Walrus's DryRunOutput.
type dryRunOutput struct {
	Path          string  `json:"path"`
	BlobID        blob.ID `json:"blobId"`
	UnencodedSize uint64  `json:"unencodedSize"`
	EncodedSize   uint64  `json:"encodedSize"`
	StorageCost   uint64  `json:"storageCost"`
	EncodingType  string  `json:"encodingType"`
}

func newStoreCmd(e *env) *cobra.Command {
	var (
		ef                                 epochFlags
		dryRun, force, ignore, perm, share bool
		deletable                          bool
		budget                             string
	)
	cmd := &cobra.Command{
		Use:     "store FILES...",
		Aliases: []string{"write"},
		Short:   "Store files as blobs",
		Long: `Stores each file as a blob. First the blob's status is checked: a permanent store of a
blob already certified as permanent for long enough costs nothing (alreadyCertified) unless
--force. Otherwise the wallet's own Blob and Storage objects are reused when they fit (a
registration of the same blob, else a Storage resource large and long enough), and new
storage is bought only when none does (--ignore-resources always buys).

Blobs are deletable unless --permanent (Walrus's default since v1.33). With --json the output
is a list of {blobStoreResult, path}. After printing the results, the command waits for the
uploads to the nodes that had not confirmed when the blob was certified.

` + lifetimeHelp,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if perm && deletable {
				return errors.New("--permanent and --deletable are exclusive")
			}
			mem, err := parseBudget(budget)
			if err != nil {
				return err
			}
			if err := checkFiles(args); err != nil {
				return err
			}
			ctx := cmd.Context()
			s, err := e.Connect(ctx, !dryRun)
			if err != nil {
				return err
			}
			defer s.Close()
			epochs, err := ef.lifetime(ctx, e, s)
			if err != nil {
				return err
			}
			if dryRun {
				return storeDryRun(ctx, e, s.Client, args, epochs, mem)
			}
			opts := client.StoreOptions{Epochs: epochs, Deletable: !perm, Force: force, IgnoreResources: ignore, Share: share,
				MemoryBudget: mem}
			return storeFiles(ctx, e, s.Client, args, opts)
		},
	}
	ef.add(cmd)
	fl := cmd.Flags()
	fl.BoolVar(&dryRun, "dry-run", false, "encode and show the cost without storing")
	fl.BoolVar(&force, "force", false, "store even if the blob is already certified for long enough")
	fl.BoolVar(&ignore, "ignore-resources", false, "buy new storage instead of reusing the wallet's")
	fl.BoolVar(&perm, "permanent", false, "store a permanent blob (cannot be deleted before it expires)")
	fl.BoolVar(&deletable, "deletable", false, "store a deletable blob (the default)")
	fl.BoolVar(&share, "share", false, "wrap the blob into a shared blob that anyone can fund and extend")
	fl.StringVar(&budget, "memory-budget", "", "memory the store aims to stay within, e.g. 256MiB (default: the configuration's memory_budget, else 512MiB)")
	_ = fl.MarkHidden("deletable")
	return cmd
}

// checkFiles refuses, before connecting, paths that are missing or directories.
func checkFiles(paths []string) error {
	for _, path := range paths {
		if st, err := os.Stat(path); err != nil {
			return err
		} else if st.IsDir() {
			return fmt.Errorf("%s is a directory", path)
		}
	}
	return nil
}

// storeFiles stores each file, prints the results, and waits (bounded) for
// the tail uploads. One failed file is its one-line error; of several, the
// count of failures.
func storeFiles(ctx context.Context, e *env, c *client.Client, paths []string, opts client.StoreOptions) error {
	var results []client.BlobStoreResultWithPath
	var errs []error
	for _, path := range paths {
		r, err := storeFile(ctx, e, c, path, opts)
		if err != nil {
			errs = append(errs, err)
		}
		results = append(results, client.BlobStoreResultWithPath{BlobStoreResult: r, Path: path})
	}
	if len(errs) == 1 && len(paths) == 1 && !e.JSON {
		return errs[0] // one file: its error is the one line
	}
	if e.JSON {
		if err := e.PrintJSON(results); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			printStoreResult(e, r)
		}
	}
	waitTail(ctx, e, c)
	if len(errs) > 0 {
		return &storesFailed{errs: errs, of: len(paths)}
	}
	return nil
}

// storesFailed is the error of a store of several files (or with --json)
// of which some failed: its message counts them, and errors.Is sees each
// failure (for the faucet hint of a lack of WAL).
type storesFailed struct {
	errs []error
	of   int
}

func (e *storesFailed) Error() string {
	return fmt.Sprintf("%d of %d stores failed", len(e.errs), e.of)
}
func (e *storesFailed) Unwrap() []error { return e.errs }

// parseBudget parses a --memory-budget ("" is 0: the default).
func parseBudget(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	v, err := cmdenv.ParseSize(s)
	if err != nil {
		return 0, fmt.Errorf("invalid --memory-budget: %w", err)
	}
	if v < 64<<20 {
		return 0, fmt.Errorf("--memory-budget %s is below the 64MiB minimum", s)
	}
	return v, nil
}

// storeFile stores one file and returns its Walrus result (an error
// result when it failed) and the error.
func storeFile(ctx context.Context, e *env, c *client.Client, path string, opts client.StoreOptions) (client.BlobStoreResult, error) {
	bar := e.NewProgress(path)
	opts.Progress = bar.Callback()
	res, err := c.StoreFile(ctx, path, opts)
	bar.Done()
	if res == nil {
		return client.BlobStoreResult{Error: &client.StoreError{FailurePhase: "encode", ErrorMsg: err.Error()}}, err
	}
	return res.Result, err
}

// waitTail waits (bounded) for the background uploads before exiting.
func waitTail(ctx context.Context, e *env, c *client.Client) {
	done := make(chan struct{})
	go func() {
		wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		_ = c.WaitUploads(wctx)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(300 * time.Millisecond):
		if !e.JSON {
			e.Say("finishing the uploads to the remaining storage nodes…")
		}
		<-done
	}
}

func storeDryRun(ctx context.Context, e *env, c *client.Client, paths []string, epochs uint32, budget int64) error {
	var out []dryRunOutput
	for _, path := range paths {
		md, err := c.ComputeFileMetadata(path, budget)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		cost, err := c.EstimateCost(ctx, md.UnencodedLength, epochs)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, dryRunOutput{Path: path, BlobID: md.ID, UnencodedSize: md.UnencodedLength, EncodedSize: cost.EncodedSize,
			StorageCost: cost.Total, EncodingType: md.EncodingType.String()})
	}
	if e.JSON {
		return e.PrintJSON(out)
	}
	for _, o := range out {
		fmt.Fprintf(e.Stdout, "Dry run: %s\nBlob ID: %s\nUnencoded size: %s\nEncoded size (including replicated metadata): %s\nCost (excluding fees): %s\n\n",
			o.Path, o.BlobID, cmdenv.HumanBytes(int64(o.UnencodedSize)), cmdenv.HumanBytes(int64(o.EncodedSize)), cmdenv.Frost(o.StorageCost))
	}
	return nil
}

// printStoreResult writes the human form of one result on stdout.
func printStoreResult(e *env, r client.BlobStoreResultWithPath) {
	w := e.Stdout
	res := r.BlobStoreResult
	switch {
	case res.NewlyCreated != nil:
		n := res.NewlyCreated
		b := n.BlobObject
		kind := "Permanent"
		if b.Deletable {
			kind = "Deletable"
		}
		fmt.Fprintf(w, "Success: %s blob stored successfully.\nPath: %s\nBlob ID: %s\nObject ID: %s\n", kind, r.Path, b.BlobID, b.ID)
		if n.SharedBlobObject != nil {
			fmt.Fprintf(w, "Shared blob object ID: %s\n", n.SharedBlobObject)
		}
		fmt.Fprintf(w, "Unencoded size: %s\nEncoded size (including replicated metadata): %s\nCost (excluding fees): %s (%s)\nExpiry epoch (exclusive): %d\nEncoding type: %s\n\n",
			cmdenv.HumanBytes(int64(b.Size)), cmdenv.HumanBytes(int64(b.Storage.StorageSize)), cmdenv.Frost(n.Cost), describeOp(&n.ResourceOperation), b.Storage.EndEpoch, b.EncodingType)
	case res.AlreadyCertified != nil:
		a := res.AlreadyCertified
		fmt.Fprintf(w, "Success: Blob was already available and certified within Walrus, for a sufficient number of epochs.\nPath: %s\nBlob ID: %s\n", r.Path, a.BlobID)
		if a.Event != nil {
			ev, _ := a.Event.MarshalJSON()
			fmt.Fprintf(w, "Certification event ID: %s\n", ev)
		}
		if a.Object != nil {
			fmt.Fprintf(w, "Owned Blob registration object ID: %s\n", a.Object)
		}
		fmt.Fprintf(w, "Expiry epoch (exclusive): %d\n\n", a.EndEpoch)
	case res.MarkedInvalid != nil:
		fmt.Fprintf(w, "Error: Blob was marked as invalid.\nPath: %s\nBlob ID: %s\n\n", r.Path, res.MarkedInvalid.BlobID)
	case res.Error != nil:
		fmt.Fprintf(w, "Error storing %s (%s): %s\n\n", r.Path, res.Error.FailurePhase, res.Error.ErrorMsg)
	}
}

func describeOp(o *client.ResourceOperation) string {
	switch {
	case o.RegisterFromScratch != nil:
		return "storage was purchased, and a new blob object was registered"
	case o.ReuseStorage != nil:
		return "reused storage, and a new blob object was registered"
	case o.ReuseRegistration != nil:
		return "reused an owned registration of this blob"
	case o.ReuseAndExtend != nil:
		return "extended an owned certified blob by " + cmdenv.Count(o.ReuseAndExtend.EpochsExtended, "epoch", "epochs")
	case o.ReuseAndExtendNonCertified != nil:
		return "reused an owned registration, extended by " + cmdenv.Count(o.ReuseAndExtendNonCertified.EpochsExtended, "epoch", "epochs")
	}
	return ""
}
