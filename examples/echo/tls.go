package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// tlsFlags are the -tls flags: -tls-cert and -tls-key for the server,
// -tls, -tls-ca and -tls-insecure for the client.
type tlsFlags struct {
	cert, key string // server: serve TLS with this certificate and key
	client    bool   // client: speak TLS
	ca        string // client: trust this PEM file's CAs, not the system's
	insecure  bool   // client: skip verifying the server's certificate
}

// check refuses the flags that do not fit together or do not fit the
// side that runs.
func (f tlsFlags) check(client bool) error {
	switch {
	case (f.cert == "") != (f.key == ""):
		return errors.New("-tls-cert and -tls-key go together")
	case client && f.cert != "":
		return errors.New("-tls-cert and -tls-key are for the server; the client takes -tls")
	case !client && (f.client || f.ca != "" || f.insecure):
		return errors.New("-tls, -tls-ca and -tls-insecure are for the client; the server takes -tls-cert and -tls-key")
	case !f.client && (f.ca != "" || f.insecure):
		return errors.New("-tls-ca and -tls-insecure need -tls")
	}
	return nil
}

// serverConfig is the server's TLS configuration, nil without -tls-cert.
func (f tlsFlags) serverConfig() (*tls.Config, error) {
	if f.cert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(f.cert, f.key)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}}, nil
}

// clientConfig is the client's TLS configuration for a server named host,
// nil without -tls. The server's certificate is verified for host against
// the system's CAs, or those of -tls-ca; -tls-insecure alone skips that.
func (f tlsFlags) clientConfig(host string) (*tls.Config, error) {
	if !f.client {
		return nil, nil
	}
	cfg := &tls.Config{ServerName: host, InsecureSkipVerify: f.insecure}
	if f.ca != "" {
		pem, err := os.ReadFile(f.ca)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("-tls-ca %s: no PEM certificate in it", f.ca)
		}
	}
	return cfg, nil
}
