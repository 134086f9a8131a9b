package fakeorg

import "fmt"

// acceptsSecret tells whether secret is the app's consumer secret or its
// staged one.
func (a *app) acceptsSecret(secret string) bool {
	return secretMatches(a.consumerSecret, secret) || secretMatches(a.stagedSecret, secret)
}

// StageSecret gives the app named name a second consumer secret, accepted
// alongside the current one until ApplySecret or DiscardSecret, as an
// administrator does when rotating an app's credentials without downtime.
// Staging again replaces the staged secret.
func (s *Server) StageSecret(name, secret string) error {
	if secret == "" {
		return fmt.Errorf("stage a secret for app %s: the secret is empty", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.org.byName[name]
	if a == nil {
		return fmt.Errorf("stage a secret: no app named %s", name)
	}
	a.stagedSecret = secret
	return nil
}

// ApplySecret makes the app's staged secret its consumer secret: from then
// on the old secret is refused. Sessions already issued stay valid until
// they expire or are revoked.
func (s *Server) ApplySecret(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.org.byName[name]
	if a == nil {
		return fmt.Errorf("apply the staged secret: no app named %s", name)
	}
	if a.stagedSecret == "" {
		return fmt.Errorf("apply the staged secret: app %s has none staged", name)
	}
	a.consumerSecret, a.stagedSecret = a.stagedSecret, ""
	return nil
}

// DiscardSecret drops the app's staged secret; the current one is kept.
func (s *Server) DiscardSecret(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.org.byName[name]
	if a == nil {
		return fmt.Errorf("discard the staged secret: no app named %s", name)
	}
	a.stagedSecret = ""
	return nil
}
