package broker

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/steward-dev/steward/internal/salesforce"
	"github.com/steward-dev/steward/internal/secrets"
)

// ErrUnproven means a staged secret could not be proven at its org: the
// org refused it or could not be reached. The rotation stays unfinished and
// the active version is unchanged.
var ErrUnproven = errors.New("the staged secret was not proven at the org")

// Prove returns the check a rotation runs before it promotes a staged
// secret: a real client-credentials exchange with the staged bundle at its
// org, through hc (nil: the salesforce package's default client). The token
// it gets is revoked at once; it is only proof. An error says why the org
// refused or could not be reached, and holds no secret.
func Prove(hc *http.Client) secrets.Check {
	return func(ctx context.Context, b secrets.Bundle) error {
		client, err := salesforce.New(salesforce.Config{
			URL:          orgBase(b.URL),
			ClientID:     b.ConsumerKey,
			ClientSecret: b.ConsumerSecret,
			HTTPClient:   hc,
			MaxRetries:   DefaultMaxRetries,
		})
		if err != nil {
			return fmt.Errorf("%w: %w", ErrUnproven, err)
		}
		tok, err := client.Token(ctx)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrUnproven, err)
		}
		// The proof token is not needed; a failed revocation leaves it to
		// expire on its own and does not undo the proof.
		_ = client.Revoke(ctx, tok.AccessToken)
		return nil
	}
}
