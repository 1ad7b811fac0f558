package topology

import (
	"errors"
	"fmt"
	"math"
)

// EarthRadiusKm is the mean Earth radius (IUGG mean radius R1 of the WGS 84
// ellipsoid, 6371.0088 km).
const EarthRadiusKm = 6371.0088

// GreatCircleKm returns the great-circle distance in km between two points
// given in degrees, by the haversine formula on a sphere of radius
// EarthRadiusKm. The result is in [0, pi*EarthRadiusKm].
func GreatCircleKm(aLat, aLon, bLat, bLon float64) float64 {
	const rad = math.Pi / 180
	φ1, φ2 := aLat*rad, bLat*rad
	sinDφ := math.Sin((φ2 - φ1) / 2)
	sinDλ := math.Sin((bLon - aLon) * rad / 2)
	h := sinDφ*sinDφ + math.Cos(φ1)*math.Cos(φ2)*sinDλ*sinDλ
	h = math.Min(1, math.Max(0, h)) // rounding can push h just outside [0, 1]
	return 2 * EarthRadiusKm * math.Asin(math.Sqrt(h))
}

// The fitted defaults. docs/network.md describes the data and the fit;
// TestDefaultModelMatchesFit re-runs Fit on testdata and fails when these
// drift from it, and TestDefaultModelError pins the error they give.
const (
	// DefaultBaseRTTMs is the fitted fixed part of an RTT, in ms.
	DefaultBaseRTTMs = 8.6
	// DefaultPathInflation is the fitted ratio of route length to
	// great-circle length.
	DefaultPathInflation = 1.62
	// DefaultFiberKmPerMs is the one-way speed of light in optical fiber:
	// c / n with the group index n ≈ 1.468 of standard single-mode fiber at
	// 1550 nm (Corning SMF-28 datasheet) is about 204 km/ms, conventionally
	// rounded to 200 km/ms (docs/network.md).
	DefaultFiberKmPerMs = 200.0
	// DefaultSameSiteRTTMs is the RTT between two endpoints at one place:
	// the median avg RTT of WonderProxy server pairs less than 50 km apart
	// (2.09 ms, testdata/wonderproxy_metro_pairs.csv), rounded. IBM Cloud's
	// published inter-zone RTT within one region (median 1.59 ms) is of the
	// same size.
	DefaultSameSiteRTTMs = 2.0
)

// Model is the RTT model: for two distinct places distKm apart,
//
//	rtt = BaseRTTMs + 2*distKm*PathInflation/FiberKmPerMs
//
// and SameSiteRTTMs for endpoints at one place (distance 0).
type Model struct {
	// BaseRTTMs is the fixed part of the RTT between two distinct places, in
	// ms: switching, queueing and the detour to the nearest interconnect.
	BaseRTTMs float64
	// PathInflation is route length over great-circle length, >= 1.
	PathInflation float64
	// FiberKmPerMs is the one-way speed of light in fiber, in km/ms (200).
	FiberKmPerMs float64
	// SameSiteRTTMs is the RTT between two endpoints at one place, in ms.
	SameSiteRTTMs float64
}

// DefaultModel returns the model with the fitted defaults (see
// docs/network.md).
func DefaultModel() Model {
	return Model{
		BaseRTTMs:     DefaultBaseRTTMs,
		PathInflation: DefaultPathInflation,
		FiberKmPerMs:  DefaultFiberKmPerMs,
		SameSiteRTTMs: DefaultSameSiteRTTMs,
	}
}

// Validate reports every invalid parameter, joined with errors.Join, each
// named by its scenario field name (baseRttMs, pathInflation, fiberKmPerMs,
// sameSiteRttMs). It returns nil for a valid model.
func (m Model) Validate() error {
	var errs []error
	check := func(field string, v float64, ok bool, want string) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			errs = append(errs, fmt.Errorf("%s: must be finite, got %v", field, v))
		} else if !ok {
			errs = append(errs, fmt.Errorf("%s: must be %s, got %v", field, want, v))
		}
	}
	check("baseRttMs", m.BaseRTTMs, m.BaseRTTMs >= 0, ">= 0")
	check("pathInflation", m.PathInflation, m.PathInflation >= 1, ">= 1")
	check("fiberKmPerMs", m.FiberKmPerMs, m.FiberKmPerMs > 0, "> 0")
	check("sameSiteRttMs", m.SameSiteRTTMs, m.SameSiteRTTMs >= 0, ">= 0")
	return errors.Join(errs...)
}

// RTTMs returns the round-trip time in ms between two places distKm apart:
// SameSiteRTTMs when distKm is 0, else the linear model. It panics when
// distKm is negative or NaN, a programmer error (distances come from
// GreatCircleKm). The model is not validated here; call Validate first.
func (m Model) RTTMs(distKm float64) float64 {
	if !(distKm >= 0) {
		panic(fmt.Sprintf("topology: RTTMs of distance %v km", distKm))
	}
	if distKm == 0 {
		return m.SameSiteRTTMs
	}
	return m.BaseRTTMs + 2*distKm*m.PathInflation/m.FiberKmPerMs
}

// Between returns the RTT in ms between two places: SameSiteRTTMs when they
// have the same coordinates, else RTTMs of their great-circle distance.
// It is symmetric in a and b.
func (m Model) Between(a, b Place) float64 {
	if a.Lat == b.Lat && a.Lon == b.Lon {
		return m.SameSiteRTTMs
	}
	return m.RTTMs(GreatCircleKm(a.Lat, a.Lon, b.Lat, b.Lon))
}
