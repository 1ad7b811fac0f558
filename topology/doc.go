// Package topology holds places and the network round-trip-time model.
//
// A Place is a point on Earth with a time zone and a data-residency zone.
// The built-in catalog (Lookup, Catalog, Aliases) lists real cloud regions,
// under provider-neutral names such as "eu-west" with the provider's names
// as aliases, and major user metros as edge places.
//
// Model turns a great-circle distance into a round-trip time:
//
//	rtt = BaseRTTMs + 2 * distKm * PathInflation / FiberKmPerMs
//
// for two distinct places, and SameSiteRTTMs for endpoints at one place.
// DefaultModel holds parameters fitted by Fit to measured inter-region and
// city-to-city RTTs; docs/network.md gives the data, the fit and its error.
// Matrix precomputes the RTT between every pair of a fixed list of places,
// with measured values overriding the model where given.
//
// ParsePlace and WriteRTTCSV serve the command line. The package does no I/O
// of its own beyond the readers and writers it is handed.
package topology
