// Geometry for origin checks: WGS84 longitude/latitude points, GeoJSON Polygon and
// MultiPolygon (with holes), point-in-polygon, bounding boxes and a grid index of zones.
//
// Coordinates are degrees, as GeoJSON (RFC 7946) gives them: [longitude, latitude]. A point on
// a polygon's boundary counts as inside, for units (a miner on the boundary is in the
// concession) and for prohibited zones (a point on a territory's boundary is refused): the
// conservative answer in both cases. Planar tests on degrees are exact enough at the scale of
// concessions (hundreds of metres) away from the poles and the antimeridian, which Peru is.
//
// Thread-safety: immutable after construction.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace google::protobuf {
class Value;
}

namespace veta::geo {

struct Point {
  double lon = 0, lat = 0;
};

struct BBox {
  double min_lon = 1e300, min_lat = 1e300, max_lon = -1e300, max_lat = -1e300;
  void Extend(Point p);
  void Extend(const BBox& b);
  bool Contains(Point p) const {
    return p.lon >= min_lon && p.lon <= max_lon && p.lat >= min_lat && p.lat <= max_lat;
  }
  bool Intersects(const BBox& b) const {
    return min_lon <= b.max_lon && b.min_lon <= max_lon && min_lat <= b.max_lat &&
           b.min_lat <= max_lat;
  }
  bool empty() const { return min_lon > max_lon; }
};

// Checks a point's range: longitude in [-180, 180], latitude in [-90, 90], both finite.
[[nodiscard]] absl::Status CheckPoint(Point p);

// A Polygon or MultiPolygon. Rings are closed (first point == last point), the first ring of
// each polygon is its outer boundary and the others its holes.
class Geometry {
 public:
  Geometry() = default;
  // From a GeoJSON geometry object ({"type": "Polygon" | "MultiPolygon", "coordinates": ...}).
  // InvalidArgument naming the defect: unclosed ring, too few points, bad coordinates.
  static absl::StatusOr<Geometry> FromGeoJson(std::string_view json);
  static absl::StatusOr<Geometry> FromValue(const google::protobuf::Value& geometry);

  // Inside, or on the boundary. Cost: the bounding box first, then O(vertices).
  bool Contains(Point p) const;
  const BBox& bbox() const { return bbox_; }
  size_t vertex_count() const;
  size_t polygon_count() const { return polygons_.size(); }
  // Compact GeoJSON of the geometry (what registry records store).
  std::string ToGeoJson() const;
  // Calls f(ring, outer) for every ring: each polygon's outer ring (outer true), then its holes.
  template <typename F>
  void ForEachRing(F&& f) const {
    for (const Polygon& p : polygons_) {
      for (size_t r = 0; r < p.rings.size(); ++r) f(p.rings[r], r == 0);
    }
  }

 private:
  using Ring = std::vector<Point>;
  struct Polygon {
    std::vector<Ring> rings;
    BBox bbox;
  };
  static absl::StatusOr<Polygon> ParsePolygon(const google::protobuf::Value& rings, size_t index);
  std::vector<Polygon> polygons_;
  BBox bbox_;
};

// Areas in square metres, on a local plane: longitude and latitude scaled to metres around the
// latitude of the geometries (x = lon * cos(lat0) * 111,320 m, y = lat * 110,574 m). Exact for
// the polygons as drawn on that plane; the plane's error is well under 1% for shapes of a few
// hundred kilometres away from the poles (concessions, Peru's districts). The geometries are
// taken as valid (rings that do not cross themselves or each other, holes inside their outer
// ring, polygons of a MultiPolygon apart): whatever the rings' winding, outer rings count as
// counter-clockwise and holes as clockwise.
double AreaM2(const Geometry& g);
// The area of the intersection of a and b, exactly, with no clipping: by Green's theorem it is
// the sum of x dy over the boundary of the intersection, which is made of the parts of a's
// edges inside b and of b's edges inside a (each edge split where the other's edges cross or
// touch it); where the two boundaries run along each other, the shared part bounds the
// intersection only when both run the same way (identical polygons give their area, units that
// share an edge 0). Cost: the bounding boxes first (apart: 0 at once); then each edge meets
// only the other's edges in the same horizontal bands (an index of bands sized to the edges),
// and only edges that can reach the other's bounding box take part, so a unit of n vertices
// against a district of m costs about (n + m') log, m' the district's edges near the unit's
// latitudes, never n * m in practice. Geometries hold at most 200,000 positions (FromValue).
double OverlapAreaM2(const Geometry& a, const Geometry& b);
// What areas take for granted, checked: no two edges of the geometry cross (a ring crossing
// itself, a "bowtie", winds part of it the wrong way, and its area there counts negative: a
// twin could hide behind it), and each hole starts inside its polygon's outer ring. Edges that
// touch (a shared vertex, a vertex on another edge) are no crossing. InvalidArgument naming the
// place. Cost as OverlapAreaM2's, of the geometry against itself.
[[nodiscard]] absl::Status CheckSimple(const Geometry& g);

// One feature of a FeatureCollection: its geometry (Polygon/MultiPolygon), or its point
// (Point), and its properties as text.
struct Feature {
  std::optional<Geometry> geometry;
  std::optional<Point> point;
  std::map<std::string, std::string> properties;
};

// Parses a GeoJSON FeatureCollection. Features with a null geometry are kept (both empty);
// a malformed geometry is an error naming the feature's index.
absl::StatusOr<std::vector<Feature>> ParseFeatureCollection(std::string_view json);

// Finds which of many geometries contain a point: a uniform grid of cells maps each cell to
// the geometries whose bounding box overlaps it, so a lookup tests only a few bounding boxes.
class GeometryIndex {
 public:
  explicit GeometryIndex(double cell_degrees = 0.25) : cell_(cell_degrees) {}
  void Add(uint64_t id, const Geometry* geometry);  // not owned; must outlive the index
  void Remove(uint64_t id);
  // Ids of the geometries containing p, ascending.
  std::vector<uint64_t> Containing(Point p) const;
  // Ids of the geometries whose bounding box meets b, ascending.
  std::vector<uint64_t> Intersecting(const BBox& b) const;
  size_t size() const { return items_.size(); }

 private:
  int64_t Cell(double degrees) const;
  double cell_;
  // Whether a box spans more than kCellsMax cells: such a geometry is kept in `large_`,
  // tested by every lookup, rather than in millions of cells (a hostile record's sliver at the
  // other end of the world would otherwise cost the sequencer, every start-up and every audit).
  static constexpr double kCellsMax = 4096;
  bool Large(const BBox& b) const;
  std::map<uint64_t, const Geometry*> items_;
  std::map<std::pair<int64_t, int64_t>, std::vector<uint64_t>> grid_;
  std::vector<uint64_t> large_;
};

}  // namespace veta::geo
