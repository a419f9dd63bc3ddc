package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/cmd/walrus/cli/cmdenv"
	"github.com/walrus-go/walrus/ids"
)

func newGetBlobAttributeCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "get-blob-attribute BLOB_OBJ_ID",
		Short: "Show a blob's attributes",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseObjectID("blob object ID", args[0])
			if err != nil {
				return err
			}
			var attrs []client.Attribute
			return cmdenv.Do(cmd, e, cmdenv.ReadOnly, func(ctx context.Context, s *cmdenv.Session) (attributeOutput, error) {
				var err error
				attrs, err = s.Client.BlobAttributes(ctx, id)
				var out attributeOutput
				for _, a := range attrs {
					if out.Attribute == nil {
						out.Attribute = map[string]string{}
					}
					out.Attribute[a.Key] = a.Value
				}
				return out, err
			}, func(w io.Writer, _ attributeOutput) error {
				if len(attrs) == 0 {
					e.Say("No attribute found for blob %s.", id)
				}
				for _, a := range attrs {
					fmt.Fprintf(w, "%s: %s\n", a.Key, a.Value)
				}
				return nil
			})
		},
	}
}

func newSetBlobAttributeCmd(e *env) *cobra.Command {
	var keys []string
	cmd := &cobra.Command{
		Use:   "set-blob-attribute BLOB_OBJ_ID --attr KEY VALUE [--attr KEY VALUE]...",
		Short: "Set attributes of an owned blob",
		Long: `Inserts or updates key/value attributes of an owned Blob, in one transaction. Give each pair as
--attr KEY VALUE (or --attr KEY=VALUE). Aggregators return allow-listed attributes (such as
content-type) as HTTP headers.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseObjectID("blob object ID", args[0])
			if err != nil {
				return err
			}
			attrs, err := pairAttributes(keys, args[1:])
			if err != nil {
				return err
			}
			return cmdenv.Do(cmd, e, cmdenv.NeedsWallet, func(ctx context.Context, s *cmdenv.Session) (setAttributesOutput, error) {
				return setAttributesOutput{BlobObjectID: id, Set: len(attrs)}, s.Client.SetBlobAttributes(ctx, id, attrs)
			}, func(w io.Writer, o setAttributesOutput) error {
				_, err := fmt.Fprintf(w, "Success: %s set on blob %s\n", cmdenv.Count(o.Set, "attribute", "attributes"), o.BlobObjectID)
				return err
			})
		},
	}
	cmd.Flags().StringArrayVar(&keys, "attr", nil, "an attribute: --attr KEY VALUE (repeat for more)")
	return cmd
}

// pairAttributes pairs the --attr keys with the values cobra left among the
// positional arguments (--attr K V parses as --attr K plus an argument V),
// or splits KEY=VALUE when no value follows.
func pairAttributes(keys, values []string) ([]client.Attribute, error) {
	if len(keys) == 0 {
		return nil, errors.New("give at least one --attr KEY VALUE")
	}
	var out []client.Attribute
	if len(values) == len(keys) {
		for i := range keys {
			out = append(out, client.Attribute{Key: keys[i], Value: values[i]})
		}
		return out, nil
	}
	if len(values) == 0 {
		for _, k := range keys {
			key, val, ok := strings.Cut(k, "=")
			if !ok {
				return nil, fmt.Errorf("attribute %q has no value: use --attr KEY VALUE", k)
			}
			out = append(out, client.Attribute{Key: key, Value: val})
		}
		return out, nil
	}
	return nil, fmt.Errorf("%d attribute keys but %d values: use --attr KEY VALUE for each", len(keys), len(values))
}

func newRemoveBlobAttributeFieldsCmd(e *env) *cobra.Command {
	var keys []string
	cmd := &cobra.Command{
		Use:   "remove-blob-attribute-fields BLOB_OBJ_ID --keys KEY...",
		Short: "Remove attributes of an owned blob by key",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseObjectID("blob object ID", args[0])
			if err != nil {
				return err
			}
			keys = append(keys, args[1:]...)
			if len(keys) == 0 {
				return errors.New("give the keys to remove with --keys")
			}
			return removeAttributes(e, cmd, id, keys)
		},
	}
	cmd.Flags().StringSliceVar(&keys, "keys", nil, "keys to remove")
	return cmd
}

func newRemoveBlobAttributeCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "remove-blob-attribute BLOB_OBJ_ID",
		Short: "Remove every attribute of an owned blob",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseObjectID("blob object ID", args[0])
			if err != nil {
				return err
			}
			return removeAttributes(e, cmd, id, nil)
		},
	}
}

func removeAttributes(e *env, cmd *cobra.Command, id ids.ObjectID, keys []string) error {
	return cmdenv.Do(cmd, e, cmdenv.NeedsWallet, func(ctx context.Context, s *cmdenv.Session) (removeAttributesOutput, error) {
		return removeAttributesOutput{BlobObjectID: id, Removed: keys}, s.Client.RemoveBlobAttributes(ctx, id, keys)
	}, func(w io.Writer, o removeAttributesOutput) error {
		_, err := fmt.Fprintf(w, "Success: attributes removed from blob %s\n", o.BlobObjectID)
		return err
	})
}
