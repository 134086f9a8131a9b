package server

import "testing"

// FuzzParseConfig: any file content gives a configuration or an error
// naming the file, never a panic.
func FuzzParseConfig(f *testing.F) {
	f.Add("listen: 127.0.0.1:8443\ndev: true\ninventory: [inv]\nsessionTimeout: 30m\n")
	f.Add("tls: {certFile: a, keyFile: b}\ninventory: [x]\noperators: [{role: admin, tokenEnv: T}]\n")
	f.Add("issuers:\n  - {issuer: https://i, jwksURL: https://i/jwks, audiences: [s]}\n")
	f.Add("sessionTimeout: -5m\n")
	f.Add(": : :\n\t- [")
	f.Fuzz(func(t *testing.T, data string) {
		c, err := ParseConfig("steward.yaml", []byte(data), func(string) string { return "" })
		if err != nil {
			if c != nil || err.Error() == "" {
				t.Fatalf("error %q with configuration %+v", err, c)
			}
			return
		}
		if c.Listen == "" || c.LogLevel == "" || len(c.Inventory) == 0 {
			t.Fatalf("accepted configuration without defaults or inventory: %+v", c)
		}
	})
}
