package topology

import (
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // so that TimeZone checks do not depend on the host's zoneinfo
)

func TestCatalogNamesUnique(t *testing.T) {
	// Walk the raw tables, not the index, so that a duplicate cannot hide.
	seen := map[string]string{}
	for _, e := range slices.Concat(coreEntries, edgeEntries) {
		for _, n := range append([]string{e.place.Name}, e.aliases...) {
			if owner, dup := seen[n]; dup {
				t.Errorf("name %q used by both %s and %s", n, owner, e.place.Name)
			}
			seen[n] = e.place.Name
			if n != normalizeName(n) || n == "" {
				t.Errorf("name %q of %s: not lower-case hyphenated", n, e.place.Name)
			}
		}
	}
	if got, want := len(Catalog()), len(coreEntries)+len(edgeEntries); got != want {
		t.Errorf("len(Catalog()) = %d, want %d", got, want)
	}
}

func TestCatalogSortedAndCopied(t *testing.T) {
	c := Catalog()
	if !slices.IsSortedFunc(c, func(a, b Place) int { return strings.Compare(a.Name, b.Name) }) {
		t.Errorf("Catalog() not sorted by name")
	}
	c[0].Name = "changed"
	if got := Catalog()[0].Name; got == "changed" {
		t.Errorf("Catalog() shares its backing array with the package")
	}
	a := Aliases("eu-west")
	a[0] = "changed"
	if got := Aliases("eu-west")[0]; got == "changed" {
		t.Errorf("Aliases() shares its backing array with the package")
	}
}

func TestCatalogPlaces(t *testing.T) {
	for _, p := range Catalog() {
		t.Run(p.Name, func(t *testing.T) {
			if p.Kind != Core && p.Kind != Edge {
				t.Errorf("Kind = %q, want core or edge", p.Kind)
			}
			if !(p.Lat >= -90 && p.Lat <= 90 && p.Lon >= -180 && p.Lon <= 180) {
				t.Errorf("coordinates (%v, %v) out of range", p.Lat, p.Lon)
			}
			if _, err := time.LoadLocation(p.TimeZone); err != nil || p.TimeZone == "" || p.TimeZone == "UTC" {
				t.Errorf("TimeZone %q: not an IANA zone name (%v)", p.TimeZone, err)
			}
			if len(p.Zone) != 2 || strings.ToLower(p.Zone) != p.Zone {
				t.Errorf("Zone = %q, want a two-letter lower-case code", p.Zone)
			}
			got, ok := Lookup(p.Name)
			if !ok || got != p {
				t.Errorf("Lookup(%q) = %+v, %v; want %+v, true", p.Name, got, ok, p)
			}
			for _, a := range Aliases(p.Name) {
				if got, ok := Lookup(strings.ToUpper(a)); !ok || got.Name != p.Name {
					t.Errorf("Lookup(%q) = %q, %v; want %q", strings.ToUpper(a), got.Name, ok, p.Name)
				}
			}
		})
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		in       string
		want     string // canonical name; "" when not found
		zone, tz string
	}{
		{"eu-west", "eu-west", "eu", "Europe/Amsterdam"},
		{"westeurope", "eu-west", "eu", "Europe/Amsterdam"},
		{"West Europe", "eu-west", "eu", "Europe/Amsterdam"},
		{"  WEST_EUROPE ", "eu-west", "eu", "Europe/Amsterdam"},
		{"northeurope", "eu-north", "eu", "Europe/Dublin"},
		{"eastus", "us-east", "us", "America/New_York"},
		{"US-EAST-2", "us-east-2", "us", "America/New_York"},
		{"southeastasia", "ap-southeast", "sg", "Asia/Singapore"},
		{"eastasia", "ap-east", "hk", "Asia/Hong_Kong"},
		{"uksouth", "uk-south", "uk", "Europe/London"},
		{"switzerlandnorth", "ch-north", "ch", "Europe/Zurich"},
		{"norwayeast", "no-east", "eu", "Europe/Oslo"}, // Norway: EEA, so "eu"
		{"uaenorth", "uae-north", "ae", "Asia/Dubai"},
		{"Tokyo", "tokyo", "jp", "Asia/Tokyo"},
		{"new york", "new-york", "us", "America/New_York"},
		{"bengaluru", "bangalore", "in", "Asia/Kolkata"},
		{"atlantis", "", "", ""},
		{"", "", "", ""},
		{"eu--west", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := Lookup(tt.in)
			if ok != (tt.want != "") || got.Name != tt.want {
				t.Fatalf("Lookup(%q) = %q, %v; want %q", tt.in, got.Name, ok, tt.want)
			}
			if got.Zone != tt.zone || got.TimeZone != tt.tz {
				t.Errorf("Lookup(%q) zone, tz = %q, %q; want %q, %q", tt.in, got.Zone, got.TimeZone, tt.zone, tt.tz)
			}
		})
	}
}

func TestRequiredCoreRegions(t *testing.T) {
	// The canonical names and the ARM names they stand for, as the project
	// agreed them; each must be a core place with the ARM name and the
	// hyphenated display name as aliases.
	want := map[string]string{
		"us-east": "eastus", "us-east-2": "eastus2", "us-central": "centralus",
		"us-north-central": "northcentralus", "us-south-central": "southcentralus",
		"us-west": "westus", "us-west-2": "westus2", "us-west-central": "westcentralus",
		"ca-central": "canadacentral", "ca-east": "canadaeast", "br-south": "brazilsouth",
		"eu-west": "westeurope", "eu-north": "northeurope", "uk-south": "uksouth",
		"uk-west": "ukwest", "fr-central": "francecentral", "de-west-central": "germanywestcentral",
		"ch-north": "switzerlandnorth", "no-east": "norwayeast", "ap-southeast": "southeastasia",
		"ap-east": "eastasia", "jp-east": "japaneast", "jp-west": "japanwest",
		"kr-central": "koreacentral", "kr-south": "koreasouth", "au-east": "australiaeast",
		"au-southeast": "australiasoutheast", "au-central": "australiacentral",
		"in-central": "centralindia", "in-south": "southindia", "in-west": "westindia",
		"za-north": "southafricanorth", "uae-north": "uaenorth",
	}
	_, displayOf := azureCoords(t)
	for name, arm := range want {
		t.Run(name, func(t *testing.T) {
			p, ok := Lookup(name)
			if !ok || p.Kind != Core {
				t.Fatalf("Lookup(%q) = %+v, %v; want a core place", name, p, ok)
			}
			aliases := Aliases(name)
			if !slices.Contains(aliases, arm) {
				t.Errorf("Aliases(%q) = %v, want it to contain %q", name, aliases, arm)
			}
			display := strings.ReplaceAll(strings.ToLower(displayOf[arm]), " ", "-")
			if display != name && !slices.Contains(aliases, display) {
				t.Errorf("Aliases(%q) = %v, want it to contain %q", name, aliases, display)
			}
			if !slices.IsSorted(aliases) {
				t.Errorf("Aliases(%q) = %v, not sorted", name, aliases)
			}
		})
	}
}

func TestAliasesOfNonCanonical(t *testing.T) {
	for _, name := range []string{"westeurope", "atlantis", "", "tokyo"} {
		if got := Aliases(name); got != nil {
			t.Errorf("Aliases(%q) = %v, want nil", name, got)
		}
	}
}

func TestCatalogMatchesAzureCoords(t *testing.T) {
	// Every Azure region with coordinates in the source file is in the
	// catalog under its ARM name, at exactly the source coordinates.
	coords, displayOf := azureCoords(t)
	if len(displayOf) != len(coreEntries) {
		t.Errorf("source has %d regions with coordinates, catalog has %d core places", len(displayOf), len(coreEntries))
	}
	for arm, display := range displayOf {
		p, ok := Lookup(arm)
		if !ok {
			t.Errorf("Azure region %s not in the catalog", arm)
			continue
		}
		if c := coords[display]; p.Lat != c[0] || p.Lon != c[1] || p.Kind != Core {
			t.Errorf("%s: got (%v, %v, %s), want (%v, %v, core)", arm, p.Lat, p.Lon, p.Kind, c[0], c[1])
		}
	}
}

func TestEdgeNearWonderProxyServers(t *testing.T) {
	// WonderProxy geolocates its servers independently of the catalog; a
	// metro centre more than maxKm from the server in that city points to a
	// typo in the catalog. Servers sit in data centres, often outside the
	// centre, hence the tolerance.
	const maxKm = 40.0
	wp := map[string]string{ // catalog metro -> WonderProxy server name
		"new-york": "Manhattan", "washington-dc": "Washington", "atlanta": "Atlanta", "miami": "Miami",
		"chicago": "Chicago", "dallas": "Dallas", "denver": "Denver", "los-angeles": "LosAngeles",
		"san-francisco": "SanFrancisco", "seattle": "Seattle", "toronto": "Toronto", "montreal": "Montreal",
		"mexico-city": "Mexico", "sao-paulo": "SaoPaulo", "buenos-aires": "BuenosAires", "bogota": "Bogota",
		"lima": "Lima", "london": "London", "paris": "Paris", "frankfurt": "Frankfurt",
		"amsterdam": "Amsterdam", "madrid": "Madrid", "milan": "Milan", "stockholm": "Stockholm",
		"warsaw": "Warsaw", "istanbul": "Istanbul", "dubai": "Dubai", "johannesburg": "Johannesburg",
		"lagos": "Lagos", "nairobi": "Nairobi", "cairo": "Cairo", "delhi": "NewDelhi",
		"bangalore": "Bangalore", "chennai": "Chennai", "singapore": "Singapore", "jakarta": "Jakarta",
		"bangkok": "Bangkok", "manila": "Manila", "hong-kong": "HongKong", "taipei": "Taipei",
		"seoul": "Seoul", "tokyo": "Tokyo", "osaka": "Osaka", "sydney": "Sydney",
		"melbourne": "Melbourne", "auckland": "Auckland",
	}
	byName := map[string]map[string]string{}
	for _, s := range wonderProxyServers(t) {
		byName[s["name"]] = s
	}
	checked := 0
	for metro, name := range wp {
		s, ok := byName[name]
		if !ok {
			continue // server not in the testdata subset
		}
		p, ok := Lookup(metro)
		if !ok || p.Kind != Edge {
			t.Errorf("Lookup(%q) = %+v, %v; want an edge place", metro, p, ok)
			continue
		}
		d := GreatCircleKm(p.Lat, p.Lon, parseF(t, "latitude", s["latitude"]), parseF(t, "longitude", s["longitude"]))
		if d > maxKm {
			t.Errorf("%s is %.0f km from WonderProxy %s, want <= %.0f", metro, d, name, maxKm)
		}
		checked++
	}
	t.Logf("checked %d metros", checked)
	if checked < 40 {
		t.Errorf("checked %d metros against WonderProxy servers, want >= 40", checked)
	}
}
