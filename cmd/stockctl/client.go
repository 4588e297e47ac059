package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxReplyBytes bounds how much of a reply stockctl reads.
const maxReplyBytes = 16 << 20

// client is a small HTTP client for stockd's API.
type client struct {
	opts options
	http *http.Client
}

// do sends a request and returns the status and the body.
func (c *client) do(ctx context.Context, method, path string, body io.Reader) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.opts.baseURL, "/")+path, body)
	if err != nil {
		return 0, nil, err
	}
	if c.opts.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.opts.apiKey)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes))
	return resp.StatusCode, data, err
}

func (c *client) health(ctx context.Context, out io.Writer) error {
	for _, path := range []string{"/healthz", "/readyz"} {
		status, body, err := c.do(ctx, http.MethodGet, path, nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%-8s %d %s", path, status, body)
		if status != http.StatusOK {
			return fmt.Errorf("%s answered %d", path, status)
		}
	}
	return nil
}
