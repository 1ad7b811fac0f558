package controlplane

import (
	"crypto/tls"
	"net/http"
	"strings"
	"time"
)

// insecureClient reaches a component's own health endpoint on loopback; its
// serving certificate is self-signed by the component.
func insecureClient() *http.Client {
	return &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback health check of a self-signed component
	}}
}

func splitLines(s string) []string {
	return strings.Split(strings.TrimRight(s, "\n"), "\n")
}
