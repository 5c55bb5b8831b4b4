#include "core/rules/geo.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>

#include "core/base/status_macros.h"
#include "core/base/strings.h"

namespace veta::geo {
namespace {

using google::protobuf::Value;

// Bounds on what one geometry may hold, checked before or while it is parsed, so that a hostile
// record costs little to refuse. Peru's largest shipped shapes are far below them (an indigenous
// territory: 5 polygons, 2 rings, 2,420 positions).
constexpr size_t kVerticesMax = 200'000;
constexpr int kPolygonsMax = 1'000;
constexpr int kRingsMax = 1'000;  // per polygon: its outer ring and holes
// JSON nesting: a MultiPolygon is 5 levels deep ({ [ [ [ [ ]), a FeatureCollection 8; 16 leaves
// room and stops a document of thousands of nested lists (whose parse costs seconds) at once.
constexpr int kJsonDepthMax = 16;

// The deepest nesting of objects and lists in a JSON text, strings skipped; stops counting past
// `limit`. Linear in the text.
int JsonDepth(std::string_view json, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

absl::StatusOr<Value> ParseJson(std::string_view json) {
  if (JsonDepth(json, kJsonDepthMax) > kJsonDepthMax) {
    return absl::InvalidArgumentError(
        StrCat("JSON nested more than ", kJsonDepthMax, " levels deep: not a GeoJSON geometry"));
  }
  Value value;
  auto s = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &value);
  if (!s.ok()) {
    return absl::InvalidArgumentError(
        StrCat("not valid JSON: ", std::string(s.message().data(), s.message().size())));
  }
  return value;
}

const Value* Field(const Value& v, const std::string& name) {
  if (v.kind_case() != Value::kStructValue) return nullptr;
  auto it = v.struct_value().fields().find(name);
  return it == v.struct_value().fields().end() ? nullptr : &it->second;
}

absl::StatusOr<Point> ParsePosition(const Value& v) {
  if (v.kind_case() != Value::kListValue || v.list_value().values_size() < 2 ||
      v.list_value().values(0).kind_case() != Value::kNumberValue ||
      v.list_value().values(1).kind_case() != Value::kNumberValue) {
    return absl::InvalidArgumentError("a position must be [longitude, latitude]");
  }
  Point p{v.list_value().values(0).number_value(), v.list_value().values(1).number_value()};
  RETURN_IF_ERROR(CheckPoint(p));
  return p;
}

// Is p on the segment a-b (within a tolerance of about a millimetre)?
bool OnSegment(Point p, Point a, Point b) {
  constexpr double kEps = 1e-11;
  const double cross = (b.lon - a.lon) * (p.lat - a.lat) - (b.lat - a.lat) * (p.lon - a.lon);
  if (std::fabs(cross) > kEps) return false;
  return p.lon >= std::min(a.lon, b.lon) - kEps && p.lon <= std::max(a.lon, b.lon) + kEps &&
         p.lat >= std::min(a.lat, b.lat) - kEps && p.lat <= std::max(a.lat, b.lat) + kEps;
}

// 1 inside, 0 outside, -1 on the boundary (crossing number, W. R. Franklin's PNPOLY).
int RingSide(const std::vector<Point>& ring, Point p) {
  bool inside = false;
  for (size_t i = 0, j = ring.size() - 1; i < ring.size(); j = i++) {
    const Point a = ring[i], b = ring[j];
    if (OnSegment(p, a, b)) return -1;
    if ((a.lat > p.lat) != (b.lat > p.lat) &&
        p.lon < (b.lon - a.lon) * (p.lat - a.lat) / (b.lat - a.lat) + a.lon) {
      inside = !inside;
    }
  }
  return inside ? 1 : 0;
}

std::string Number(double d) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", d);
  return buf;
}

}  // namespace

void BBox::Extend(Point p) {
  min_lon = std::min(min_lon, p.lon);
  min_lat = std::min(min_lat, p.lat);
  max_lon = std::max(max_lon, p.lon);
  max_lat = std::max(max_lat, p.lat);
}

void BBox::Extend(const BBox& b) {
  if (b.empty()) return;
  Extend(Point{b.min_lon, b.min_lat});
  Extend(Point{b.max_lon, b.max_lat});
}

absl::Status CheckPoint(Point p) {
  if (!std::isfinite(p.lon) || !std::isfinite(p.lat) || p.lon < -180 || p.lon > 180 ||
      p.lat < -90 || p.lat > 90) {
    return absl::InvalidArgumentError(
        StrCat("(", Number(p.lon), ", ", Number(p.lat), ") is not a longitude/latitude position"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Geometry::Polygon> Geometry::ParsePolygon(const Value& rings, size_t index) {
  if (rings.kind_case() != Value::kListValue || rings.list_value().values_size() == 0) {
    return absl::InvalidArgumentError(StrCat("polygon ", index, " has no rings"));
  }
  if (rings.list_value().values_size() > kRingsMax) {
    return absl::InvalidArgumentError(StrCat("polygon ", index, " has ",
                                             rings.list_value().values_size(),
                                             " rings; the limit is ", kRingsMax));
  }
  Polygon polygon;
  for (int r = 0; r < rings.list_value().values_size(); ++r) {
    const Value& ring_value = rings.list_value().values(r);
    if (ring_value.kind_case() != Value::kListValue) {
      return absl::InvalidArgumentError(StrCat("polygon ", index, " ring ", r, " is not a list"));
    }
    Ring ring;
    for (const Value& pos : ring_value.list_value().values()) {
      auto p = ParsePosition(pos);
      if (!p.ok()) {
        return absl::InvalidArgumentError(
            StrCat("polygon ", index, " ring ", r, ": ", p.status().message()));
      }
      ring.push_back(*p);
    }
    if (ring.size() < 4) {
      return absl::InvalidArgumentError(StrCat("polygon ", index, " ring ", r, " has ", ring.size(),
                                               " positions; a ring needs 4"));
    }
    if (ring.front().lon != ring.back().lon || ring.front().lat != ring.back().lat) {
      return absl::InvalidArgumentError(
          StrCat("polygon ", index, " ring ", r, " is not closed (first position != last)"));
    }
    if (r == 0) {
      for (Point p : ring) polygon.bbox.Extend(p);
    }
    polygon.rings.push_back(std::move(ring));
  }
  return polygon;
}

absl::StatusOr<Geometry> Geometry::FromValue(const Value& geometry) {
  const Value* type = Field(geometry, "type");
  const Value* coordinates = Field(geometry, "coordinates");
  if (type == nullptr || type->kind_case() != Value::kStringValue || coordinates == nullptr ||
      coordinates->kind_case() != Value::kListValue) {
    return absl::InvalidArgumentError("a geometry needs \"type\" and \"coordinates\"");
  }
  Geometry g;
  if (type->string_value() == "Polygon") {
    ASSIGN_OR_RETURN(Polygon p, ParsePolygon(*coordinates, 0));
    g.polygons_.push_back(std::move(p));
  } else if (type->string_value() == "MultiPolygon") {
    if (coordinates->list_value().values_size() > kPolygonsMax) {
      return absl::InvalidArgumentError(StrCat("MultiPolygon has ",
                                               coordinates->list_value().values_size(),
                                               " polygons; the limit is ", kPolygonsMax));
    }
    for (int i = 0; i < coordinates->list_value().values_size(); ++i) {
      ASSIGN_OR_RETURN(Polygon p,
                       ParsePolygon(coordinates->list_value().values(i), static_cast<size_t>(i)));
      g.polygons_.push_back(std::move(p));
    }
    if (g.polygons_.empty()) return absl::InvalidArgumentError("MultiPolygon with no polygon");
  } else {
    return absl::InvalidArgumentError(
        StrCat("geometry type '", type->string_value(), "' is not Polygon or MultiPolygon"));
  }
  // Bounding boxes are only a first filter: widen them by a hair so that a point on an edge,
  // a rounding error away from it, still reaches the exact test.
  constexpr double kBoxSlack = 1e-9;
  for (auto& p : g.polygons_) {
    p.bbox.Extend(Point{p.bbox.min_lon - kBoxSlack, p.bbox.min_lat - kBoxSlack});
    p.bbox.Extend(Point{p.bbox.max_lon + kBoxSlack, p.bbox.max_lat + kBoxSlack});
    g.bbox_.Extend(p.bbox);
  }
  if (g.vertex_count() > kVerticesMax) {
    return absl::InvalidArgumentError(
        StrCat("geometry has ", g.vertex_count(), " positions; the limit is ", kVerticesMax));
  }
  return g;
}

absl::StatusOr<Geometry> Geometry::FromGeoJson(std::string_view json) {
  ASSIGN_OR_RETURN(Value value, ParseJson(json));
  return FromValue(value);
}

bool Geometry::Contains(Point p) const {
  if (!bbox_.Contains(p)) return false;
  for (const Polygon& polygon : polygons_) {
    if (!polygon.bbox.Contains(p)) continue;
    const int outer = RingSide(polygon.rings[0], p);
    if (outer == -1) return true;
    if (outer == 0) continue;
    bool in_hole = false;
    for (size_t h = 1; h < polygon.rings.size() && !in_hole; ++h) {
      const int side = RingSide(polygon.rings[h], p);
      if (side == -1) return true;  // on a hole's edge: on the boundary
      in_hole = side == 1;
    }
    if (!in_hole) return true;
  }
  return false;
}

size_t Geometry::vertex_count() const {
  size_t n = 0;
  for (const auto& p : polygons_) {
    for (const auto& r : p.rings) n += r.size();
  }
  return n;
}

std::string Geometry::ToGeoJson() const {
  auto polygon_json = [](const Polygon& p) {
    std::string out = "[";
    for (size_t r = 0; r < p.rings.size(); ++r) {
      out += r ? ",[" : "[";
      for (size_t i = 0; i < p.rings[r].size(); ++i) {
        out += StrCat(i ? "," : "", "[", Number(p.rings[r][i].lon), ",", Number(p.rings[r][i].lat),
                      "]");
      }
      out += "]";
    }
    return out + "]";
  };
  if (polygons_.size() == 1) {
    return StrCat("{\"type\":\"Polygon\",\"coordinates\":", polygon_json(polygons_[0]), "}");
  }
  std::string out = "{\"type\":\"MultiPolygon\",\"coordinates\":[";
  for (size_t i = 0; i < polygons_.size(); ++i) {
    if (i > 0) out += ",";
    out += polygon_json(polygons_[i]);
  }
  return out + "]}";
}

absl::StatusOr<std::vector<Feature>> ParseFeatureCollection(std::string_view json) {
  ASSIGN_OR_RETURN(Value root, ParseJson(json));
  const Value* features = Field(root, "features");
  if (features == nullptr || features->kind_case() != Value::kListValue) {
    return absl::InvalidArgumentError("not a GeoJSON FeatureCollection (no \"features\" list)");
  }
  std::vector<Feature> out;
  for (int i = 0; i < features->list_value().values_size(); ++i) {
    const Value& f = features->list_value().values(i);
    Feature feature;
    if (const Value* props = Field(f, "properties");
        props != nullptr && props->kind_case() == Value::kStructValue) {
      for (const auto& [key, value] : props->struct_value().fields()) {
        switch (value.kind_case()) {
          case Value::kStringValue:
            feature.properties[key] = value.string_value();
            break;
          case Value::kNumberValue:
            feature.properties[key] = Number(value.number_value());
            break;
          case Value::kBoolValue:
            feature.properties[key] = value.bool_value() ? "true" : "false";
            break;
          default:
            break;
        }
      }
    }
    const Value* geometry = Field(f, "geometry");
    if (geometry != nullptr && geometry->kind_case() == Value::kStructValue) {
      const Value* type = Field(*geometry, "type");
      if (type != nullptr && type->string_value() == "Point") {
        const Value* coordinates = Field(*geometry, "coordinates");
        auto p = coordinates ? ParsePosition(*coordinates)
                             : absl::StatusOr<Point>(absl::InvalidArgumentError("no coordinates"));
        if (!p.ok())
          return absl::InvalidArgumentError(StrCat("feature ", i, ": ", p.status().message()));
        feature.point = *p;
      } else {
        auto g = Geometry::FromValue(*geometry);
        if (!g.ok())
          return absl::InvalidArgumentError(StrCat("feature ", i, ": ", g.status().message()));
        feature.geometry = std::move(*g);
      }
    }
    out.push_back(std::move(feature));
  }
  return out;
}

int64_t GeometryIndex::Cell(double degrees) const {
  return static_cast<int64_t>(std::floor(degrees / cell_));
}

bool GeometryIndex::Large(const BBox& b) const {
  return (std::floor(b.max_lon / cell_) - std::floor(b.min_lon / cell_) + 1) *
             (std::floor(b.max_lat / cell_) - std::floor(b.min_lat / cell_) + 1) >
         kCellsMax;
}

void GeometryIndex::Add(uint64_t id, const Geometry* geometry) {
  Remove(id);
  items_[id] = geometry;
  const BBox& b = geometry->bbox();
  if (Large(b)) {
    large_.push_back(id);
    return;
  }
  for (int64_t x = Cell(b.min_lon); x <= Cell(b.max_lon); ++x) {
    for (int64_t y = Cell(b.min_lat); y <= Cell(b.max_lat); ++y) grid_[{x, y}].push_back(id);
  }
}

void GeometryIndex::Remove(uint64_t id) {
  auto it = items_.find(id);
  if (it == items_.end()) return;
  const BBox& b = it->second->bbox();
  if (Large(b)) {
    large_.erase(std::remove(large_.begin(), large_.end(), id), large_.end());
    items_.erase(it);
    return;
  }
  for (int64_t x = Cell(b.min_lon); x <= Cell(b.max_lon); ++x) {
    for (int64_t y = Cell(b.min_lat); y <= Cell(b.max_lat); ++y) {
      auto& ids = grid_[{x, y}];
      ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
    }
  }
  items_.erase(it);
}

std::vector<uint64_t> GeometryIndex::Containing(Point p) const {
  std::vector<uint64_t> out;
  for (uint64_t id : large_) {
    if (items_.at(id)->Contains(p)) out.push_back(id);
  }
  if (auto cell = grid_.find({Cell(p.lon), Cell(p.lat)}); cell != grid_.end()) {
    for (uint64_t id : cell->second) {
      if (items_.at(id)->Contains(p)) out.push_back(id);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<uint64_t> GeometryIndex::Intersecting(const BBox& b) const {
  std::vector<uint64_t> out;
  if (b.empty()) return out;
  auto visit = [&](const std::vector<uint64_t>& ids) {
    for (uint64_t id : ids) {
      if (items_.at(id)->bbox().Intersects(b)) out.push_back(id);
    }
  };
  visit(large_);
  const int64_t x0 = Cell(b.min_lon), x1 = Cell(b.max_lon), y0 = Cell(b.min_lat),
                y1 = Cell(b.max_lat);
  // A box larger than the grid's occupied cells walks those cells instead.
  if (static_cast<double>(x1 - x0 + 1) * static_cast<double>(y1 - y0 + 1) >
      static_cast<double>(grid_.size())) {
    for (const auto& [cell, ids] : grid_) {
      if (cell.first >= x0 && cell.first <= x1 && cell.second >= y0 && cell.second <= y1) {
        visit(ids);
      }
    }
  } else {
    for (int64_t x = x0; x <= x1; ++x) {
      for (int64_t y = y0; y <= y1; ++y) {
        if (auto cell = grid_.find({x, y}); cell != grid_.end()) visit(cell->second);
      }
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace veta::geo
