package certs

// InspectDecoder reports which reader produced the Bundle of Inspect(data, password):
// "go-pkcs12", "internal/pfx", or "" when Inspect fails.
func InspectDecoder(data []byte, password string) (string, error) {
	_, by, err := Inspector{}.inspect(data, password)
	return string(by), err
}
