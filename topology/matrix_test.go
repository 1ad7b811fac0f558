package topology

import (
	"math"
	"strings"
	"testing"
)

// testPlaces returns a few catalog places and one "lat,lon" place.
func testPlaces(t *testing.T) []Place {
	t.Helper()
	var out []Place
	for _, n := range []string{"eu-west", "us-east", "tokyo", "52.37,4.90"} {
		p, err := ParsePlace(n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func TestNewMatrixModelled(t *testing.T) {
	places := testPlaces(t)
	m := DefaultModel()
	x, err := NewMatrix(places, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if x.Len() != len(places) {
		t.Fatalf("Len() = %d, want %d", x.Len(), len(places))
	}
	for i := range places {
		for j := range places {
			want := m.Between(places[i], places[j])
			if i == j {
				want = m.SameSiteRTTMs
			}
			if got := x.RTTMs(i, j); got != want {
				t.Errorf("RTTMs(%d, %d) = %v, want %v", i, j, got, want)
			}
			if x.Measured(i, j) {
				t.Errorf("Measured(%d, %d) = true, want false", i, j)
			}
		}
	}
}

func TestNewMatrixOverrides(t *testing.T) {
	places := testPlaces(t)
	m := DefaultModel()
	measured := []Measurement{
		{From: "EU-WEST", To: "us-east", RTTMs: 88}, // names matched ignoring case
		{From: "tokyo", To: "tokyo", RTTMs: 0.3},
		{From: "52.37,4.90", To: "eu-west", RTTMs: 1.1},
	}
	x, err := NewMatrix(places, m, measured)
	if err != nil {
		t.Fatal(err)
	}
	want := map[[2]int]float64{{0, 1}: 88, {1, 0}: 88, {2, 2}: 0.3, {3, 0}: 1.1, {0, 3}: 1.1}
	for i := range places {
		for j := range places {
			w, measured := want[[2]int{i, j}]
			if !measured {
				w = m.Between(places[i], places[j])
				if i == j {
					w = m.SameSiteRTTMs
				}
			}
			if got := x.RTTMs(i, j); got != w {
				t.Errorf("RTTMs(%d, %d) = %v, want %v", i, j, got, w)
			}
			if got := x.Measured(i, j); got != measured {
				t.Errorf("Measured(%d, %d) = %v, want %v", i, j, got, measured)
			}
		}
	}
}

func TestNewMatrixErrors(t *testing.T) {
	good := testPlaces(t)
	tests := []struct {
		name     string
		places   []Place
		model    Model
		measured []Measurement
		want     string
	}{
		{"unknown from", good, DefaultModel(), []Measurement{{"atlantis", "eu-west", 5}}, `measured[0]: unknown place "atlantis"`},
		{"unknown to", good, DefaultModel(), []Measurement{{"eu-west", "us-east", 80}, {"eu-west", "mars", 5}}, `measured[1]: unknown place "mars"`},
		{"same pair twice", good, DefaultModel(), []Measurement{{"eu-west", "us-east", 80}, {"US-EAST", "eu-west", 81}}, "measured[1] (US-EAST, eu-west): same pair as measured[0]"},
		{"negative rtt", good, DefaultModel(), []Measurement{{"eu-west", "us-east", -1}}, "measured[0] (eu-west, us-east): rtt must be finite and >= 0"},
		{"NaN rtt", good, DefaultModel(), []Measurement{{"eu-west", "us-east", math.NaN()}}, "rtt must be finite"},
		{"bad model", good, Model{}, nil, "rtt model: pathInflation"},
		{"repeated name", append(testPlaces(t), Place{Name: "EU-West"}), DefaultModel(), nil, `places[4]: name "EU-West" repeats places[0]`},
		{"empty name", []Place{{Name: ""}}, DefaultModel(), nil, "places[0]: empty name"},
		{"bad lat", []Place{{Name: "x", Lat: 91}}, DefaultModel(), nil, "places[0] (x): lat 91 outside [-90, 90]"},
		{"bad lon", []Place{{Name: "x", Lon: math.NaN()}}, DefaultModel(), nil, "places[0] (x): lon NaN outside [-180, 180]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewMatrix(tt.places, tt.model, tt.measured)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewMatrix() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestMatrixIndexPanics(t *testing.T) {
	x, err := NewMatrix(testPlaces(t), DefaultModel(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// (0, 4) would land inside the backing slice; it must still panic.
	for _, ij := range [][2]int{{0, 4}, {4, 0}, {-1, 0}, {0, -1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("RTTMs(%d, %d) did not panic", ij[0], ij[1])
				}
			}()
			x.RTTMs(ij[0], ij[1])
		}()
	}
}

func TestNewMatrixEmpty(t *testing.T) {
	x, err := NewMatrix(nil, DefaultModel(), nil)
	if err != nil || x.Len() != 0 {
		t.Errorf("NewMatrix(nil) = %v, %v; want an empty matrix", x, err)
	}
}

func TestReadMeasurementsCSV(t *testing.T) {
	tests := []struct {
		name, in string
		want     []Measurement
		err      string
	}{
		{"ok", "src,dst,rtt_ms\neu-west,us-east,88\n tokyo , osaka , 9.5 \n",
			[]Measurement{{"eu-west", "us-east", 88}, {"tokyo", "osaka", 9.5}}, ""},
		{"header case and spaces", "\ufeff SRC , Dst,RTT_MS\r\na,b,0\r\n", []Measurement{{"a", "b", 0}}, ""},
		{"header only", "src,dst,rtt_ms\n", nil, ""},
		{"empty", "", nil, "line 1: missing header"},
		{"wrong header", "from,to,rtt\n", nil, "line 1: header: want src,dst,rtt_ms"},
		{"columns", "src,dst,rtt_ms\na,b,1\na,b\n", nil, "line 3: want 3 columns"},
		{"not a number", "src,dst,rtt_ms\na,b,1\n\na,b,fast\n", nil, `line 4: rtt_ms: not a number "fast"`},
		{"negative", "src,dst,rtt_ms\na,b,-3\n", nil, "line 2: rtt_ms: must be finite and >= 0, got -3"},
		{"infinite", "src,dst,rtt_ms\na,b,Inf\n", nil, "line 2: rtt_ms: must be finite"},
		{"empty src", "src,dst,rtt_ms\n ,b,3\n", nil, "line 2: src: empty"},
		{"empty dst", "src,dst,rtt_ms\na,,3\n", nil, "line 2: dst: empty"},
		{"bad quote", "src,dst,rtt_ms\na,b\"x,3\n", nil, "line 2:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadMeasurementsCSV(strings.NewReader(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ReadMeasurementsCSV() error = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("row %d: got %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}
