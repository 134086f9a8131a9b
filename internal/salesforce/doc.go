// Package salesforce is Steward's Salesforce API client: the OAuth 2.0
// client-credentials token exchange (with revocation and introspection),
// REST and Tooling SOQL queries with paging, the composite resource, the
// limits resource and the Metadata API's listMetadata and readMetadata calls
// over SOAP.
//
// A Client mints its access token lazily and shares it between concurrent
// callers; when Salesforce reports INVALID_SESSION_ID it mints a new one and
// retries the call once. Server errors, timeouts and REQUEST_LIMIT_EXCEEDED
// are retried with exponential backoff and jitter. Every call that counts
// against the org's daily API limit is counted (Calls), and the client stops
// with ErrBudget before a call would use more than Config.MaxAPIShare of that
// limit.
//
// The consumer secret and access tokens never appear in an error, a log
// record or the printed form of a Config, Client or Token.
//
// golang.org/x/oauth2/clientcredentials is not used: Salesforce's token
// response has no expires_in (its tokens live as long as the session, which
// only an INVALID_SESSION_ID answer reveals), the token source cannot be told
// to drop a token the API rejected, and its error type does not carry the
// error codes this package maps to typed errors and user hints. The exchange
// itself is one form POST, so the package does it directly.
package salesforce
