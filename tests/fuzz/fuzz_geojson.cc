// GeoJSON geometries and feature collections from arbitrary text.
//
// Input: GeoJSON text, then optionally a NUL byte and bytes that choose points to test. A
// geometry that parses: Contains() of any point does not crash; every vertex of an outer ring
// is contained (a boundary point is inside); a grid index finds exactly the geometries that
// contain a point; ToGeoJson() parses back with the same polygons and vertex count, and is a
// fixed point from then on (coordinates print with 9 significant digits; -0 reads back as 0).
#include <fuzzer/FuzzedDataProvider.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/rules/geo.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using google::protobuf::Value;
using veta::geo::Geometry;
using veta::geo::Point;

const Value* Field(const Value& v, const char* name) {
  if (v.kind_case() != Value::kStructValue) return nullptr;
  auto it = v.struct_value().fields().find(name);
  return it == v.struct_value().fields().end() ? nullptr : &it->second;
}

// The vertices of the outer ring of each polygon of a geometry (already known to be valid).
std::vector<Point> OuterVertices(const Value& geometry) {
  std::vector<Point> out;
  const Value* type = Field(geometry, "type");
  const Value* coordinates = Field(geometry, "coordinates");
  if (type == nullptr || coordinates == nullptr) return out;
  std::vector<const Value*> polygons;
  if (type->string_value() == "Polygon") {
    polygons.push_back(coordinates);
  } else {
    for (const Value& p : coordinates->list_value().values()) polygons.push_back(&p);
  }
  for (const Value* polygon : polygons) {
    if (polygon->list_value().values_size() == 0) continue;
    for (const Value& pos : polygon->list_value().values(0).list_value().values()) {
      out.push_back(
          {pos.list_value().values(0).number_value(), pos.list_value().values(1).number_value()});
    }
  }
  return out;
}

std::vector<Point> OuterVertices(std::string_view json) {
  Value value;
  if (!google::protobuf::util::JsonStringToMessage(
           google::protobuf::StringPiece(json.data(), json.size()), &value)
           .ok()) {
    return {};
  }
  return OuterVertices(value);
}

// Points chosen by the input: raw doubles (NaN, infinities, anything), points in or near the
// bounding box, and vertices nudged by a tiny amount.
std::vector<Point> ProbePoints(FuzzedDataProvider& in, const Geometry& g,
                               const std::vector<Point>& vertices) {
  std::vector<Point> out;
  const auto& b = g.bbox();
  for (int i = 0; i < 8 && in.remaining_bytes() > 0; ++i) {
    switch (in.ConsumeIntegralInRange<int>(0, 2)) {
      case 0: {
        double lon, lat;
        const auto bytes = in.ConsumeBytes<uint8_t>(2 * sizeof(double));
        uint8_t raw[2 * sizeof(double)] = {};
        if (!bytes.empty()) std::memcpy(raw, bytes.data(), bytes.size());
        std::memcpy(&lon, raw, sizeof(double));
        std::memcpy(&lat, raw + sizeof(double), sizeof(double));
        out.push_back({lon, lat});
        break;
      }
      case 1: {
        const double fx = in.ConsumeFloatingPointInRange<double>(-0.1, 1.1);
        const double fy = in.ConsumeFloatingPointInRange<double>(-0.1, 1.1);
        out.push_back(
            {b.min_lon + fx * (b.max_lon - b.min_lon), b.min_lat + fy * (b.max_lat - b.min_lat)});
        break;
      }
      default: {
        if (vertices.empty()) break;
        const Point v = vertices[in.ConsumeIntegralInRange<size_t>(0, vertices.size() - 1)];
        const double d = std::ldexp(1.0, -in.ConsumeIntegralInRange<int>(10, 60));
        out.push_back({v.lon + d * in.ConsumeIntegralInRange<int>(-1, 1),
                       v.lat + d * in.ConsumeIntegralInRange<int>(-1, 1)});
      }
    }
  }
  return out;
}

// -0 prints as "-0", which the JSON parser reads as 0: the same coordinate.
std::string WithoutNegativeZero(std::string json) {
  for (const char* from : {"[-0,", ",-0]"}) {
    for (size_t at = json.find(from); at != std::string::npos; at = json.find(from, at)) {
      json.erase(at + 1, 1);
    }
  }
  return json;
}

void CheckGeometry(const Geometry& g, std::string_view source, FuzzedDataProvider& in) {
  VETA_FUZZ_CHECK(g.polygon_count() >= 1);
  VETA_FUZZ_CHECK(g.vertex_count() >= 4 * g.polygon_count());
  VETA_FUZZ_CHECK(!g.bbox().empty());

  const std::vector<Point> vertices = OuterVertices(source);
  for (const Point& v : vertices) {
    VETA_FUZZ_CHECK(veta::geo::CheckPoint(v).ok());
    VETA_FUZZ_CHECK(g.bbox().Contains(v));
    VETA_FUZZ_CHECK(g.Contains(v));  // on the boundary counts as inside
  }

  // The grid index visits every 0.25-degree cell of the bounding box (a million for the
  // whole globe): only index geometries of up to 20 x 20 degrees, as registry zones are.
  const auto& b = g.bbox();
  const bool indexed = b.max_lon - b.min_lon <= 20 && b.max_lat - b.min_lat <= 20;
  veta::geo::GeometryIndex index;
  if (indexed) index.Add(7, &g);
  for (const Point& p : ProbePoints(in, g, vertices)) {
    const bool inside = g.Contains(p);  // any point at all: must not crash
    if (inside) VETA_FUZZ_CHECK(g.bbox().Contains(p));
    if (!indexed || !veta::geo::CheckPoint(p).ok()) continue;  // the index takes checked points
    const std::vector<uint64_t> found = index.Containing(p);
    VETA_FUZZ_CHECK(found == (inside ? std::vector<uint64_t>{7} : std::vector<uint64_t>{}));
  }
  index.Remove(7);
  VETA_FUZZ_CHECK(index.size() == 0);

  const std::string json = g.ToGeoJson();
  auto back = Geometry::FromGeoJson(json);
  VETA_FUZZ_CHECK_MSG(back.ok(), std::string(back.status().message()) + " in " + json);
  VETA_FUZZ_CHECK(back->vertex_count() == g.vertex_count());
  VETA_FUZZ_CHECK(back->polygon_count() == g.polygon_count());
  VETA_FUZZ_CHECK_MSG(WithoutNegativeZero(back->ToGeoJson()) == WithoutNegativeZero(json),
                      json + " then " + back->ToGeoJson());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  std::string_view text = veta::fuzz::AsText(data, size);
  std::string_view probe;
  if (const size_t nul = text.find('\0'); nul != std::string_view::npos) {
    probe = text.substr(nul + 1);
    text = text.substr(0, nul);
  }
  FuzzedDataProvider in(reinterpret_cast<const uint8_t*>(probe.data()), probe.size());

  auto geometry = Geometry::FromGeoJson(text);
  if (geometry.ok()) {
    CheckGeometry(*geometry, text, in);
  } else {
    VETA_FUZZ_CHECK(geometry.status().code() == absl::StatusCode::kInvalidArgument);
  }

  auto features = veta::geo::ParseFeatureCollection(text);
  if (!features.ok()) {
    VETA_FUZZ_CHECK(features.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  size_t geometries = 0;
  for (const veta::geo::Feature& f : *features) {
    VETA_FUZZ_CHECK(!(f.geometry && f.point));
    if (f.point) VETA_FUZZ_CHECK(veta::geo::CheckPoint(*f.point).ok());
    if (!f.geometry || ++geometries > 16) continue;
    const std::string json = f.geometry->ToGeoJson();
    auto back = Geometry::FromGeoJson(json);
    VETA_FUZZ_CHECK_MSG(back.ok(), std::string(back.status().message()) + " in " + json);
    VETA_FUZZ_CHECK(back->vertex_count() == f.geometry->vertex_count());
    for (const veta::geo::Feature& other : *features) {
      if (other.point) (void)f.geometry->Contains(*other.point);
    }
  }
  return 0;
}
