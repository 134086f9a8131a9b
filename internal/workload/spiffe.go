package workload

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/spiffebundle"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
)

// TrustDomainConfig is one trusted SPIFFE trust domain.
type TrustDomainConfig struct {
	// TrustDomain is the trust domain name, e.g. acme.org.
	TrustDomain string `json:"trustDomain" yaml:"trustDomain"`
	// BundleFile holds the trust domain's X.509 authorities: PEM
	// certificates, or a SPIFFE bundle (JWK Set JSON, as `spire-server
	// bundle show -format spiffe` prints it) when the name ends in .json.
	BundleFile string `json:"bundleFile" yaml:"bundleFile"`
	// Environment is the environment every workload of this trust domain
	// runs in.
	Environment string `json:"environment,omitempty" yaml:"environment,omitempty"`
}

// SPIFFEVerifier verifies X.509 SVIDs against the configured trust
// bundles. It is safe for concurrent use; Reload rereads the bundle files.
type SPIFFEVerifier struct {
	cfgs    []TrustDomainConfig
	bundles *x509bundle.Set
	env     map[spiffeid.TrustDomain]string
	now     func() time.Time
}

// NewSPIFFEVerifier reads the trust bundles. now is the clock used to check
// certificate validity (nil for time.Now).
func NewSPIFFEVerifier(cfgs []TrustDomainConfig, now func() time.Time) (*SPIFFEVerifier, error) {
	if now == nil {
		now = time.Now
	}
	v := &SPIFFEVerifier{cfgs: cfgs, bundles: x509bundle.NewSet(), env: map[spiffeid.TrustDomain]string{}, now: now}
	var errs []error
	for i, c := range cfgs {
		td, err := spiffeid.TrustDomainFromString(c.TrustDomain)
		if err != nil {
			errs = append(errs, fmt.Errorf("trust domain %d (%s): %w", i+1, c.TrustDomain, err))
			continue
		}
		if _, dup := v.env[td]; dup {
			errs = append(errs, fmt.Errorf("trust domain %d (%s): configured twice", i+1, c.TrustDomain))
			continue
		}
		v.env[td] = c.Environment
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := v.Reload(); err != nil {
		return nil, err
	}
	return v, nil
}

// Reload rereads every bundle file, e.g. after the SPIFFE CA rotated. On an
// error no bundle is replaced.
func (v *SPIFFEVerifier) Reload() error {
	var loaded []*x509bundle.Bundle
	var errs []error
	for _, c := range v.cfgs {
		b, err := loadBundle(spiffeid.RequireTrustDomainFromString(c.TrustDomain), c.BundleFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("trust domain %s: %w", c.TrustDomain, err))
			continue
		}
		loaded = append(loaded, b)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, b := range loaded {
		v.bundles.Add(b)
	}
	return nil
}

// loadBundle reads one trust bundle file.
func loadBundle(td spiffeid.TrustDomain, path string) (*x509bundle.Bundle, error) {
	if path == "" {
		return nil, errors.New("bundleFile is empty")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	var b *x509bundle.Bundle
	if strings.HasSuffix(path, ".json") {
		sb, perr := spiffebundle.Parse(td, data)
		if perr != nil {
			return nil, fmt.Errorf("%s: %w", path, perr)
		}
		b = sb.X509Bundle()
	} else if b, err = x509bundle.Parse(td, data); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if b.Empty() {
		return nil, fmt.Errorf("%s: no X.509 authority in the bundle", path)
	}
	return b, nil
}

// VerifyPeer verifies a peer's certificate chain (leaf first) as an X.509
// SVID of a configured trust domain and returns the workload it names.
func (v *SPIFFEVerifier) VerifyPeer(certs []*x509.Certificate) (*Workload, error) {
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: no client certificate", ErrInvalidCredential)
	}
	id, _, err := x509svid.Verify(certs, v.bundles, x509svid.WithTime(v.now()))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidCredential, err)
	}
	return &Workload{
		Method:      MethodSPIFFE,
		SPIFFEID:    id.String(),
		Environment: v.env[id.TrustDomain()],
		ExpiresAt:   certs[0].NotAfter,
		Credential:  sha256.Sum256(certs[0].Raw),
	}, nil
}

// ServerTLSConfig returns a copy of base for the broker's listener that asks
// clients for a certificate without requiring one (workloads may use a JWT
// instead) and refuses, during the handshake, a certificate that is not a
// valid SVID of a configured trust domain. Authenticate verifies it again,
// so a misconfigured listener cannot let an unverified certificate through.
func (v *SPIFFEVerifier) ServerTLSConfig(base *tls.Config) *tls.Config {
	cfg := base.Clone()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	cfg.ClientAuth = tls.RequestClientCert
	cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return nil
		}
		certs := make([]*x509.Certificate, 0, len(raw))
		for _, r := range raw {
			c, err := x509.ParseCertificate(r)
			if err != nil {
				return fmt.Errorf("client certificate: %w", err)
			}
			certs = append(certs, c)
		}
		_, err := v.VerifyPeer(certs)
		return err
	}
	return cfg
}
