package topology

import (
	"bytes"
	"encoding/csv"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestParsePlace(t *testing.T) {
	tests := []struct {
		in       string
		want     Place
		wantName string // catalog name, or "" to compare want exactly
		err      string
	}{
		{in: "eu-west", wantName: "eu-west"},
		{in: "WestEurope", wantName: "eu-west"},
		{in: "Sao Paulo", wantName: "sao-paulo"},
		{in: "52.37,4.9", want: Place{Name: "52.37,4.9", Lat: 52.37, Lon: 4.9}},
		{in: " -33.87 , 151.21 ", want: Place{Name: " -33.87 , 151.21 ", Lat: -33.87, Lon: 151.21}},
		{in: "90,-180", want: Place{Name: "90,-180", Lat: 90, Lon: -180}},
		{in: "atlantis", err: `place "atlantis": not in the catalog`},
		{in: "", err: "not in the catalog"},
		{in: "91,0", err: `place "91,0": lat: 91 outside [-90, 90]`},
		{in: "0,180.5", err: `place "0,180.5": lon: 180.5 outside [-180, 180]`},
		{in: "north,0", err: `lat: not a number "north"`},
		{in: "0,", err: `lon: not a number ""`},
		{in: "1,2,3", err: `lon: not a number "2,3"`},
		{in: "NaN,0", err: "lat: NaN outside"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePlace(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParsePlace(%q) error = %v, want one containing %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if tt.wantName != "" {
				want, _ = Lookup(tt.wantName)
			}
			if got != want {
				t.Errorf("ParsePlace(%q) = %+v, want %+v", tt.in, got, want)
			}
		})
	}
}

func TestWriteRTTCSV(t *testing.T) {
	m := Model{BaseRTTMs: 10, PathInflation: 1.5, FiberKmPerMs: 200, SameSiteRTTMs: 0.5}
	// Hand-checkable rows: one degree of the equator is pi*R/180 km, so its
	// RTT is 10 + 2*111.19508*1.5/200 = 11.668 ms; a quarter meridian is
	// pi*R/2 = 10007.557 km, so 10 + 150.113 = 160.113 ms; a point to itself
	// is SameSiteRTTMs. The rows are out of distance order to check that
	// input order is kept.
	in := " src_lat , src_lon,dst_lat ,dst_lon\n" +
		"0,90, 90 ,0\n" +
		" 0 ,10,0,11\n" +
		"52.37,4.9,52.37,4.9\n" +
		"-0.0,1e1,0,11.0\n"
	want := "src_lat,src_lon,dst_lat,dst_lon,rtt_ms\n" +
		"0,90,90,0,160.113\n" +
		"0,10,0,11,11.668\n" +
		"52.37,4.9,52.37,4.9,0.500\n" +
		"-0.0,1e1,0,11.0,11.668\n"
	var out bytes.Buffer
	if err := WriteRTTCSV(strings.NewReader(in), &out, m); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != want {
		t.Errorf("WriteRTTCSV output:\n%s\nwant:\n%s", got, want)
	}
}

func TestWriteRTTCSVRoundTrip(t *testing.T) {
	// Every catalog pair through the CSV path must equal Model.Between (to
	// the printed precision) and keep its row order.
	m := DefaultModel()
	places := Catalog()
	var in strings.Builder
	in.WriteString("src_lat,src_lon,dst_lat,dst_lon\n")
	type pair struct{ a, b Place }
	var pairs []pair
	for i, a := range places {
		b := places[(i*13+5)%len(places)]
		pairs = append(pairs, pair{a, b})
		in.WriteString(strconv.FormatFloat(a.Lat, 'g', -1, 64) + "," + strconv.FormatFloat(a.Lon, 'g', -1, 64) + "," +
			strconv.FormatFloat(b.Lat, 'g', -1, 64) + "," + strconv.FormatFloat(b.Lon, 'g', -1, 64) + "\n")
	}
	var out bytes.Buffer
	if err := WriteRTTCSV(strings.NewReader(in.String()), &out, m); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(pairs)+1 {
		t.Fatalf("got %d rows, want %d", len(rows), len(pairs)+1)
	}
	for i, p := range pairs {
		row := rows[i+1]
		if lat, _ := strconv.ParseFloat(row[0], 64); lat != p.a.Lat {
			t.Errorf("row %d: src_lat %s, want %v (order lost?)", i+1, row[0], p.a.Lat)
		}
		got, err := strconv.ParseFloat(row[4], 64)
		if err != nil {
			t.Fatalf("row %d: rtt_ms %q: %v", i+1, row[4], err)
		}
		if want := m.Between(p.a, p.b); math.Abs(got-want) > 0.0005 {
			t.Errorf("row %d (%s-%s): rtt_ms %v, want %v", i+1, p.a.Name, p.b.Name, got, want)
		}
	}
}

func TestWriteRTTCSVErrors(t *testing.T) {
	const h = "src_lat,src_lon,dst_lat,dst_lon\n"
	tests := []struct {
		name, in string
		model    Model
		want     string
	}{
		{"empty input", "", DefaultModel(), "line 1: missing header"},
		{"wrong header", "lat1,lon1,lat2,lon2\n1,2,3,4\n", DefaultModel(), "line 1: header: want src_lat,src_lon,dst_lat,dst_lon"},
		{"extra header column", "src_lat,src_lon,dst_lat,dst_lon,x\n", DefaultModel(), "line 1: header"},
		{"reordered header", "src_lon,src_lat,dst_lat,dst_lon\n", DefaultModel(), "line 1: header"},
		{"too few columns", h + "1,2,3,4\n1,2,3\n", DefaultModel(), "line 3: want 4 columns"},
		{"too many columns", h + "1,2,3,4,5\n", DefaultModel(), "line 2: want 4 columns"},
		{"not a number", h + "1,2,3,4\n1,2,3,4\n\n1,2,x,4\n", DefaultModel(), `line 5: dst_lat: not a number "x"`},
		{"lat out of range", h + "90.5,0,0,0\n", DefaultModel(), "line 2: src_lat: 90.5 outside [-90, 90]"},
		{"lon out of range", h + "0,0,0,-181\n", DefaultModel(), "line 2: dst_lon: -181 outside [-180, 180]"},
		{"NaN", h + "0,NaN,0,0\n", DefaultModel(), "line 2: src_lon: NaN outside"},
		{"empty value", h + "0,0,,0\n", DefaultModel(), `line 2: dst_lat: not a number ""`},
		{"bad quote", h + "0,0,0\"1,0\n", DefaultModel(), "line 2:"},
		{"bad model", h + "0,0,0,0\n", Model{}, "rtt model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := WriteRTTCSV(strings.NewReader(tt.in), &out, tt.model)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("WriteRTTCSV() error = %v, want one containing %q", err, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("WriteRTTCSV() wrote %q before failing, want nothing", out.String())
			}
		})
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteRTTCSVWriteError(t *testing.T) {
	err := WriteRTTCSV(strings.NewReader("src_lat,src_lon,dst_lat,dst_lon\n0,0,1,1\n"), failingWriter{}, DefaultModel())
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("WriteRTTCSV() error = %v, want the write error", err)
	}
}

func FuzzWriteRTTCSV(f *testing.F) {
	for _, s := range []string{
		"src_lat,src_lon,dst_lat,dst_lon\n0,0,1,1\n",
		"src_lat,src_lon,dst_lat,dst_lon\n90,180,-90,-180\n52.37,4.9,52.37,4.9\n",
		" src_lat , src_lon , dst_lat , dst_lon \r\n\"1\",2,3,4\r\n",
		"src_lat,src_lon,dst_lat,dst_lon\n0x1p-2,1e1,-0,+5\n",
		"src_lat,src_lon,dst_lat,dst_lon\n1,2,3\n",
		"",
		"\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var out bytes.Buffer
		err := WriteRTTCSV(strings.NewReader(in), &out, DefaultModel())
		if err != nil {
			if out.Len() != 0 {
				t.Fatalf("error %v after writing %q", err, out.String())
			}
			return
		}
		rows, err := csv.NewReader(&out).ReadAll()
		if err != nil {
			t.Fatalf("output is not CSV: %v", err)
		}
		if len(rows) == 0 || strings.Join(rows[0], ",") != "src_lat,src_lon,dst_lat,dst_lon,rtt_ms" {
			t.Fatalf("bad output header: %v", rows)
		}
		for i, r := range rows[1:] {
			if len(r) != 5 {
				t.Fatalf("row %d: %d columns", i+1, len(r))
			}
			for c := 0; c < 4; c++ {
				limit := 90.0
				if c%2 == 1 {
					limit = 180
				}
				v, err := strconv.ParseFloat(r[c], 64)
				if err != nil || !(v >= -limit && v <= limit) || r[c] != strings.TrimSpace(r[c]) {
					t.Fatalf("row %d column %d: %q not a trimmed coordinate", i+1, c, r[c])
				}
			}
			rtt, err := strconv.ParseFloat(r[4], 64)
			// The longest RTT is half the Earth's circumference at the model's speed.
			maxRTT := DefaultBaseRTTMs + 2*math.Pi*EarthRadiusKm*DefaultPathInflation/DefaultFiberKmPerMs
			if err != nil || !(rtt >= DefaultSameSiteRTTMs-0.0005 && rtt <= maxRTT+0.0005) {
				t.Fatalf("row %d: rtt_ms %q outside [%v, %v]", i+1, r[4], DefaultSameSiteRTTMs, maxRTT)
			}
		}
	})
}
