package topology

import (
	"slices"
	"strings"
)

// entry is one canonical catalog place with its aliases.
type entry struct {
	place   Place
	aliases []string
}

// core builds a core-region entry. arm is the Azure Resource Manager name and
// display the display name lower-cased with hyphens; both become aliases
// unless equal to the canonical name.
func core(name, arm, display string, lat, lon float64, tz, zone string) entry {
	e := entry{place: Place{Name: name, Lat: lat, Lon: lon, Kind: Core, TimeZone: tz, Zone: zone}}
	for _, a := range []string{arm, display} {
		if a != name && !slices.Contains(e.aliases, a) {
			e.aliases = append(e.aliases, a)
		}
	}
	return e
}

// edge builds an edge-metro entry.
func edge(name string, lat, lon float64, tz, zone string, aliases ...string) entry {
	return entry{place: Place{Name: name, Lat: lat, Lon: lon, Kind: Edge, TimeZone: tz, Zone: zone}, aliases: aliases}
}

// Residency zones: "eu" covers the EU member states and the other EEA states
// (Norway, Iceland, Liechtenstein), where the GDPR applies through the EEA
// agreement. Every other country is its ISO 3166-1 alpha-2 code in lower case
// ("uk" rather than "gb" for the United Kingdom, "ch" for Switzerland).

// coreEntries are the Azure regions that have coordinates in
// testdata/azure_region_coords.csv. Coordinates are copied unchanged from that
// file: Azure Resource Manager location metadata (`az account list-locations`),
// transcribed in /work/shared/data/azure_region_rtt (CC-BY 4.0, Microsoft Docs,
// see testdata/README.md). TestCatalogMatchesAzureCoords keeps them in step.
var coreEntries = []entry{
	core("us-east", "eastus", "east-us", 37.3719, -79.8164, "America/New_York", "us"),
	core("us-east-2", "eastus2", "east-us-2", 36.6681, -78.3889, "America/New_York", "us"),
	core("us-central", "centralus", "central-us", 41.5908, -93.6208, "America/Chicago", "us"),
	core("us-north-central", "northcentralus", "north-central-us", 41.8819, -87.6278, "America/Chicago", "us"),
	core("us-south-central", "southcentralus", "south-central-us", 29.4167, -98.5, "America/Chicago", "us"),
	core("us-west", "westus", "west-us", 37.783, -122.417, "America/Los_Angeles", "us"),
	core("us-west-2", "westus2", "west-us-2", 47.233, -119.852, "America/Los_Angeles", "us"),
	core("us-west-central", "westcentralus", "west-central-us", 40.890, -110.234, "America/Denver", "us"),
	core("ca-central", "canadacentral", "canada-central", 43.653, -79.383, "America/Toronto", "ca"),
	core("ca-east", "canadaeast", "canada-east", 46.817, -71.217, "America/Toronto", "ca"),
	core("br-south", "brazilsouth", "brazil-south", -23.55, -46.633, "America/Sao_Paulo", "br"),
	core("eu-west", "westeurope", "west-europe", 52.3667, 4.9, "Europe/Amsterdam", "eu"),
	core("eu-north", "northeurope", "north-europe", 53.3478, -6.2597, "Europe/Dublin", "eu"),
	core("uk-south", "uksouth", "uk-south", 50.941, -0.799, "Europe/London", "uk"),
	core("uk-west", "ukwest", "uk-west", 53.427, -3.084, "Europe/London", "uk"),
	core("fr-central", "francecentral", "france-central", 46.3772, 2.3730, "Europe/Paris", "eu"),
	core("fr-south", "francesouth", "france-south", 43.8345, 2.1972, "Europe/Paris", "eu"),
	core("de-north", "germanynorth", "germany-north", 53.073635, 8.806422, "Europe/Berlin", "eu"),
	core("de-west-central", "germanywestcentral", "germany-west-central", 50.110924, 8.682127, "Europe/Berlin", "eu"),
	core("ch-north", "switzerlandnorth", "switzerland-north", 47.451542, 8.564572, "Europe/Zurich", "ch"),
	core("ch-west", "switzerlandwest", "switzerland-west", 46.204391, 6.143158, "Europe/Zurich", "ch"),
	core("no-east", "norwayeast", "norway-east", 59.913868, 10.752245, "Europe/Oslo", "eu"),
	core("no-west", "norwaywest", "norway-west", 58.969975, 5.733107, "Europe/Oslo", "eu"),
	core("ap-southeast", "southeastasia", "southeast-asia", 1.283, 103.833, "Asia/Singapore", "sg"),
	core("ap-east", "eastasia", "east-asia", 22.267, 114.188, "Asia/Hong_Kong", "hk"),
	core("jp-east", "japaneast", "japan-east", 35.68, 139.77, "Asia/Tokyo", "jp"),
	core("jp-west", "japanwest", "japan-west", 34.6939, 135.5022, "Asia/Tokyo", "jp"),
	core("kr-central", "koreacentral", "korea-central", 37.5665, 126.9780, "Asia/Seoul", "kr"),
	core("kr-south", "koreasouth", "korea-south", 35.1796, 129.0756, "Asia/Seoul", "kr"),
	core("au-east", "australiaeast", "australia-east", -33.86, 151.2094, "Australia/Sydney", "au"),
	core("au-southeast", "australiasoutheast", "australia-southeast", -37.8136, 144.9631, "Australia/Melbourne", "au"),
	core("au-central", "australiacentral", "australia-central", -35.3075, 149.1244, "Australia/Sydney", "au"),
	core("au-central-2", "australiacentral2", "australia-central-2", -35.3075, 149.1244, "Australia/Sydney", "au"),
	core("in-central", "centralindia", "central-india", 18.5822, 73.9197, "Asia/Kolkata", "in"),
	core("in-south", "southindia", "south-india", 12.9822, 80.1636, "Asia/Kolkata", "in"),
	core("in-west", "westindia", "west-india", 19.088, 72.868, "Asia/Kolkata", "in"),
	core("za-north", "southafricanorth", "south-africa-north", -25.731340, 28.218370, "Africa/Johannesburg", "za"),
	core("za-west", "southafricawest", "south-africa-west", -34.075691, 18.843266, "Africa/Johannesburg", "za"),
	core("uae-north", "uaenorth", "uae-north", 25.266666, 55.316666, "Asia/Dubai", "ae"),
	core("uae-central", "uaecentral", "uae-central", 24.466667, 54.366669, "Asia/Dubai", "ae"),
}

// edgeEntries are major user metros. Coordinates are city centres rounded to
// 0.01 degree, public geographic facts (any atlas or gazetteer gives them to
// this precision); TestEdgeNearWonderProxyServers checks them against the
// independently geolocated WonderProxy servers in testdata.
var edgeEntries = []entry{
	// North America.
	edge("new-york", 40.71, -74.01, "America/New_York", "us", "nyc"),
	edge("washington-dc", 38.91, -77.04, "America/New_York", "us"),
	edge("atlanta", 33.75, -84.39, "America/New_York", "us"),
	edge("miami", 25.76, -80.19, "America/New_York", "us"),
	edge("chicago", 41.88, -87.63, "America/Chicago", "us"),
	edge("dallas", 32.78, -96.80, "America/Chicago", "us"),
	edge("denver", 39.74, -104.99, "America/Denver", "us"),
	edge("los-angeles", 34.05, -118.24, "America/Los_Angeles", "us", "la"),
	edge("san-francisco", 37.77, -122.42, "America/Los_Angeles", "us", "sf"),
	edge("seattle", 47.61, -122.33, "America/Los_Angeles", "us"),
	edge("toronto", 43.65, -79.38, "America/Toronto", "ca"),
	edge("montreal", 45.50, -73.57, "America/Toronto", "ca"),
	edge("mexico-city", 19.43, -99.13, "America/Mexico_City", "mx"),
	// South America.
	edge("sao-paulo", -23.55, -46.63, "America/Sao_Paulo", "br"),
	edge("buenos-aires", -34.60, -58.38, "America/Argentina/Buenos_Aires", "ar"),
	edge("bogota", 4.71, -74.07, "America/Bogota", "co"),
	edge("santiago", -33.45, -70.67, "America/Santiago", "cl"),
	edge("lima", -12.05, -77.04, "America/Lima", "pe"),
	// Europe.
	edge("london", 51.51, -0.13, "Europe/London", "uk"),
	edge("paris", 48.86, 2.35, "Europe/Paris", "eu"),
	edge("frankfurt", 50.11, 8.68, "Europe/Berlin", "eu"),
	edge("amsterdam", 52.37, 4.90, "Europe/Amsterdam", "eu"),
	edge("madrid", 40.42, -3.70, "Europe/Madrid", "eu"),
	edge("milan", 45.46, 9.19, "Europe/Rome", "eu"),
	edge("stockholm", 59.33, 18.07, "Europe/Stockholm", "eu"),
	edge("warsaw", 52.23, 21.01, "Europe/Warsaw", "eu"),
	edge("istanbul", 41.01, 28.98, "Europe/Istanbul", "tr"),
	// Middle East and Africa.
	edge("dubai", 25.20, 55.27, "Asia/Dubai", "ae"),
	edge("johannesburg", -26.20, 28.05, "Africa/Johannesburg", "za"),
	edge("lagos", 6.52, 3.38, "Africa/Lagos", "ng"),
	edge("nairobi", -1.29, 36.82, "Africa/Nairobi", "ke"),
	edge("cairo", 30.04, 31.24, "Africa/Cairo", "eg"),
	// Asia.
	edge("mumbai", 19.08, 72.88, "Asia/Kolkata", "in"),
	edge("delhi", 28.61, 77.21, "Asia/Kolkata", "in", "new-delhi"),
	edge("bangalore", 12.97, 77.59, "Asia/Kolkata", "in", "bengaluru"),
	edge("chennai", 13.08, 80.27, "Asia/Kolkata", "in"),
	edge("singapore", 1.29, 103.85, "Asia/Singapore", "sg"),
	edge("jakarta", -6.21, 106.85, "Asia/Jakarta", "id"),
	edge("bangkok", 13.76, 100.50, "Asia/Bangkok", "th"),
	edge("manila", 14.60, 120.98, "Asia/Manila", "ph"),
	edge("hong-kong", 22.32, 114.17, "Asia/Hong_Kong", "hk"),
	edge("taipei", 25.03, 121.57, "Asia/Taipei", "tw"),
	edge("seoul", 37.57, 126.98, "Asia/Seoul", "kr"),
	edge("tokyo", 35.68, 139.69, "Asia/Tokyo", "jp"),
	edge("osaka", 34.69, 135.50, "Asia/Tokyo", "jp"),
	// Oceania.
	edge("sydney", -33.87, 151.21, "Australia/Sydney", "au"),
	edge("melbourne", -37.81, 144.96, "Australia/Melbourne", "au"),
	edge("auckland", -36.85, 174.76, "Pacific/Auckland", "nz"),
}

// catalog is every entry sorted by canonical name; byName maps each
// normalized canonical name and alias to its index in catalog.
var catalog, byName = buildCatalog()

// buildCatalog sorts the entries and indexes names and aliases. It panics on
// a name used twice, a programmer error in the tables above.
func buildCatalog() ([]entry, map[string]int) {
	all := slices.Concat(coreEntries, edgeEntries)
	slices.SortFunc(all, func(a, b entry) int { return strings.Compare(a.place.Name, b.place.Name) })
	idx := make(map[string]int, 3*len(all))
	for i, e := range all {
		slices.Sort(e.aliases)
		for _, n := range append([]string{e.place.Name}, e.aliases...) {
			if n != normalizeName(n) {
				panic("topology: catalog name not in normal form: " + n)
			}
			if _, dup := idx[n]; dup {
				panic("topology: catalog name used twice: " + n)
			}
			idx[n] = i
		}
	}
	return all, idx
}

// normalizeName lower-cases s, trims it and turns spaces and underscores into
// hyphens, so that "West Europe" and "west_europe" find "west-europe".
func normalizeName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '_' || r == '\t' }), "-")
}

// Lookup finds a place in the built-in catalog by canonical name or alias,
// ignoring case, surrounding space, and the difference between spaces,
// underscores and hyphens. The returned Place always carries the canonical
// name.
func Lookup(name string) (Place, bool) {
	i, ok := byName[normalizeName(name)]
	if !ok {
		return Place{}, false
	}
	return catalog[i].place, true
}

// Catalog returns the canonical catalog places sorted by Name. The slice is
// a fresh copy.
func Catalog() []Place {
	out := make([]Place, len(catalog))
	for i, e := range catalog {
		out[i] = e.place
	}
	return out
}

// Aliases returns the aliases of the canonical name (matched as by Lookup),
// sorted, as a fresh slice. It returns nil when name is not a canonical name
// or the place has no aliases.
func Aliases(name string) []string {
	n := normalizeName(name)
	i, ok := byName[n]
	if !ok || catalog[i].place.Name != n || len(catalog[i].aliases) == 0 {
		return nil
	}
	return slices.Clone(catalog[i].aliases)
}
