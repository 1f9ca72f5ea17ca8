package certs

import "context"

// InspectDecoder reports which reader produced the Bundle of Inspect(data, password):
// "go-pkcs12", "internal/pfx", or "" when Inspect fails.
func InspectDecoder(data []byte, password string) (string, error) {
	_, by, err := Inspector{}.inspect(context.Background(), data, password)
	return string(by), err
}

// InspectWork is the key-derivation work Inspect spent on a file it opened, in work units.
func InspectWork(data []byte, password string) (int64, error) {
	b, _, err := Inspector{}.inspect(context.Background(), data, password)
	if err != nil {
		return 0, err
	}
	return b.work, nil
}
