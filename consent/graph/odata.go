package graph

import (
	"net/url"
	"strings"

	abstractions "github.com/microsoft/kiota-abstractions-go"
)

// odataEscape percent-encodes an OData query option value for a URL the driver builds by hand:
// spaces go out as %20, not "+" (concepts/query-parameters.md, "Encoding query parameters":
// values must be percent-encoded, a space as %20; "+" is a literal plus sign in OData).
func odataEscape(v string) string {
	return strings.ReplaceAll(url.QueryEscape(v), "+", "%20")
}

// castMemberOf is the query of a memberOf request with an OData cast: $count=true, and the
// request must carry "ConsistencyLevel: eventual" (advancedQuery). Both are required by
// api-reference/v1.0/api/serviceprincipal-list-memberof.md and user-list-memberof.md ("This
// header and $count are required when using ... OData cast"); one example on the user page
// omits them, so the docs contradict each other — sending both satisfies either reading.
const castMemberOf = "$count=true"

// advancedQuery marks a Graph request as an advanced query ("ConsistencyLevel: eventual",
// concepts/aad-advanced-queries.md). Inside a $batch the header travels with the item.
func advancedQuery(info *abstractions.RequestInformation, err error) (*abstractions.RequestInformation, error) {
	if err != nil {
		return nil, err
	}
	info.Headers.TryAdd("ConsistencyLevel", "eventual")
	return info, nil
}
