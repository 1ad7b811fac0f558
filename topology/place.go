package topology

// Kind says whether a place is a core cloud region or an edge site.
type Kind string

// The kinds of place.
const (
	Core Kind = "core"
	Edge Kind = "edge"
)

// Place is a point on Earth where users, tools or sites are.
type Place struct {
	// Name is the canonical name (lower case, for example "eu-west").
	Name string
	// Lat and Lon are in degrees.
	Lat, Lon float64
	// Kind is Core or Edge.
	Kind Kind
	// TimeZone is an IANA time zone name.
	TimeZone string
	// Zone is the data-residency zone ("eu", "us", ...); may be empty.
	Zone string
}
