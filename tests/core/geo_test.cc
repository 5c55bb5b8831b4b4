// Tests of core/rules/geo.h: point-in-polygon with the boundary counted as inside, holes,
// MultiPolygons, bounding boxes, FeatureCollections and the grid index.
//
// Synthetic shapes have exact expectations. The real-data tests use the public GeoJSON files of
// VETA_SHARED_DATA (see its README.md); a missing file is a failure, not a skip. Every expected
// answer on real data (which department or district holds a point, how many gold-mining sites
// lie in an indigenous territory) was computed independently in Python (json module only) with
// an exact even-odd ray casting over fractions.Fraction coordinates, the boundary counting as
// inside, and every chosen city point is at least 4e-4 degrees (about 50 m) from any department
// or district boundary, so floating-point rounding cannot change the answer.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/base/strings.h"
#include "core/rules/geo.h"
#include "core/verify/keys.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#ifndef VETA_SHARED_DATA
#error "VETA_SHARED_DATA (the folder of the shared GeoJSON files) must be defined by CMake"
#endif

namespace veta {
namespace {

using geo::BBox;
using geo::CheckPoint;
using geo::Feature;
using geo::Geometry;
using geo::GeometryIndex;
using geo::ParseFeatureCollection;
using geo::Point;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// ---------------------------------------------------------------------------------------------
// Helpers

Geometry MustParse(std::string_view json) {
  auto g = Geometry::FromGeoJson(json);
  EXPECT_TRUE(g.ok()) << g.status() << " for " << json;
  return g.ok() ? *std::move(g) : Geometry();
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

std::string DataPath(std::string_view name) { return StrCat(VETA_SHARED_DATA, "/", name); }

// The text of a shared data file; an error naming the file when it is missing or unreadable.
absl::StatusOr<std::string> ReadData(std::string_view name) {
  const std::string path = DataPath(name);
  auto text = ReadFile(path, 8 << 20);
  if (!text.ok()) {
    return absl::Status(
        text.status().code(),
        StrCat("shared data file ", path,
               " is missing or unreadable (see the README.md of VETA_SHARED_DATA): ",
               text.status().message()));
  }
  return text;
}

absl::StatusOr<std::vector<Feature>> LoadFeatures(std::string_view name) {
  auto text = ReadData(name);
  if (!text.ok()) return text.status();
  auto features = ParseFeatureCollection(*text);
  if (!features.ok()) {
    return absl::Status(features.status().code(), StrCat(name, ": ", features.status().message()));
  }
  return features;
}

// The raw coordinates of every feature's geometry (polygons -> rings -> positions), read with
// protobuf's JSON parser independently of core/rules/geo.cc. Empty for a null or Point geometry.
using RawPolygons = std::vector<std::vector<std::vector<Point>>>;

std::vector<RawPolygons> RawGeometries(const std::string& text) {
  google::protobuf::Value root;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text, &root).ok());
  std::vector<RawPolygons> out;
  auto position = [](const google::protobuf::Value& v) {
    return Point{v.list_value().values(0).number_value(), v.list_value().values(1).number_value()};
  };
  auto polygon = [&](const google::protobuf::Value& rings) {
    std::vector<std::vector<Point>> out_rings;
    for (const auto& ring : rings.list_value().values()) {
      std::vector<Point> points;
      for (const auto& pos : ring.list_value().values()) points.push_back(position(pos));
      out_rings.push_back(std::move(points));
    }
    return out_rings;
  };
  for (const auto& f : root.struct_value().fields().at("features").list_value().values()) {
    RawPolygons polygons;
    const auto& g = f.struct_value().fields().at("geometry");
    if (g.kind_case() == google::protobuf::Value::kStructValue) {
      const std::string& type = g.struct_value().fields().at("type").string_value();
      const auto& coordinates = g.struct_value().fields().at("coordinates");
      if (type == "Polygon") {
        polygons.push_back(polygon(coordinates));
      } else if (type == "MultiPolygon") {
        for (const auto& p : coordinates.list_value().values()) polygons.push_back(polygon(p));
      }
    }
    out.push_back(std::move(polygons));
  }
  return out;
}

std::string Where(Point p) { return StrCat("(", p.lon, ", ", p.lat, ")"); }

// ---------------------------------------------------------------------------------------------
// CheckPoint

TEST(GeoCheckPointTest, AcceptsTheWholeRangeAndNothingElse) {
  EXPECT_TRUE(CheckPoint({0, 0}).ok());
  EXPECT_TRUE(CheckPoint({-180, -90}).ok());
  EXPECT_TRUE(CheckPoint({180, 90}).ok());
  EXPECT_TRUE(CheckPoint({-69.19, -12.59}).ok());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (Point p : {Point{180.000001, 0}, Point{-180.5, 0}, Point{0, 90.000001}, Point{0, -95},
                  Point{nan, 0}, Point{0, nan}, Point{inf, 0}, Point{0, -inf}}) {
    absl::Status s = CheckPoint(p);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << Where(p);
  }
}

// ---------------------------------------------------------------------------------------------
// Synthetic geometries

constexpr char kSquare[] =
    R"({"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]]]})";

TEST(GeoGeometryTest, Square) {
  Geometry g = MustParse(kSquare);
  EXPECT_EQ(g.polygon_count(), 1u);
  EXPECT_EQ(g.vertex_count(), 5u);
  EXPECT_TRUE(g.Contains({5, 5}));
  EXPECT_TRUE(g.Contains({0.001, 9.999}));
  // Edges and vertices are inside.
  for (Point p : {Point{0, 5}, Point{10, 5}, Point{5, 0}, Point{5, 10}, Point{0, 0}, Point{10, 0},
                  Point{10, 10}, Point{0, 10}, Point{2.5, 10}, Point{10, 7.25}}) {
    EXPECT_TRUE(g.Contains(p)) << Where(p);
  }
  // Just outside each edge and corner, and far away.
  for (Point p : {Point{-1e-6, 5}, Point{10 + 1e-6, 5}, Point{5, -1e-6}, Point{5, 10 + 1e-6},
                  Point{-1e-6, -1e-6}, Point{10 + 1e-6, 10 + 1e-6}, Point{-5, 5}, Point{15, 5},
                  Point{5, 15}, Point{5, -5}, Point{-70, -12}, Point{20, 0}, Point{-20, 10}}) {
    EXPECT_FALSE(g.Contains(p)) << Where(p);
  }
}

TEST(GeoGeometryTest, RoundingErrorOffAnEdgeIsOnIt) {
  // Decimal coordinates are rounded to binary: a point a rounding error (1e-13 degrees, about
  // 10 nanometres) off an edge is on it, also where that puts it outside the bounding box.
  Geometry g = MustParse(R"({"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]})");
  for (Point p : {Point{1 + 1e-13, 0.5}, Point{-1e-13, 0.5}, Point{0.5, 1 + 1e-13},
                  Point{0.5, -1e-13}, Point{1 + 1e-13, 1 + 1e-13}}) {
    EXPECT_TRUE(g.Contains(p)) << Where(p);
  }
  // A micrometre is not a rounding error.
  EXPECT_FALSE(g.Contains({1 + 1e-8, 0.5}));
  EXPECT_FALSE(g.Contains({0.5, -1e-8}));
}

TEST(GeoGeometryTest, BoundingBox) {
  Geometry g = MustParse(kSquare);
  const BBox& b = g.bbox();
  EXPECT_FALSE(b.empty());
  // The box may be widened by a hair so that points on the edges reach the exact test.
  EXPECT_NEAR(b.min_lon, 0, 1e-6);
  EXPECT_NEAR(b.min_lat, 0, 1e-6);
  EXPECT_NEAR(b.max_lon, 10, 1e-6);
  EXPECT_NEAR(b.max_lat, 10, 1e-6);
  EXPECT_LE(b.min_lon, 0);
  EXPECT_LE(b.min_lat, 0);
  EXPECT_GE(b.max_lon, 10);
  EXPECT_GE(b.max_lat, 10);
  EXPECT_TRUE(b.Contains({0, 0}));
  EXPECT_TRUE(b.Contains({10, 10}));
  EXPECT_FALSE(b.Contains({10.001, 5}));

  BBox empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_FALSE(empty.Contains({0, 0}));
  BBox grown;
  grown.Extend(Point{1, 2});
  grown.Extend(Point{-3, 4});
  EXPECT_FALSE(grown.empty());
  EXPECT_EQ(grown.min_lon, -3);
  EXPECT_EQ(grown.max_lon, 1);
  EXPECT_EQ(grown.min_lat, 2);
  EXPECT_EQ(grown.max_lat, 4);
  grown.Extend(empty);  // an empty box changes nothing
  EXPECT_EQ(grown.min_lon, -3);
  EXPECT_EQ(grown.max_lat, 4);
  EXPECT_TRUE(grown.Intersects(b));
  BBox far;
  far.Extend(Point{20, 20});
  far.Extend(Point{21, 21});
  EXPECT_FALSE(far.Intersects(b));
  EXPECT_FALSE(b.Intersects(far));
}

TEST(GeoGeometryTest, PolygonWithHole) {
  // Outer 0..10, hole 4..6 (wound clockwise, as RFC 7946 asks; the test must not depend on it).
  Geometry g = MustParse(R"({"type":"Polygon","coordinates":[
      [[0,0],[10,0],[10,10],[0,10],[0,0]],
      [[4,4],[4,6],[6,6],[6,4],[4,4]]]})");
  EXPECT_EQ(g.polygon_count(), 1u);
  EXPECT_EQ(g.vertex_count(), 10u);
  EXPECT_TRUE(g.Contains({2, 2}));
  EXPECT_TRUE(g.Contains({8, 5}));
  EXPECT_TRUE(g.Contains({5, 3.9}));
  // In the hole: outside.
  EXPECT_FALSE(g.Contains({5, 5}));
  EXPECT_FALSE(g.Contains({4.5, 5.5}));
  EXPECT_FALSE(g.Contains({4 + 1e-6, 5}));
  // On the hole's edges and vertices: on the boundary, so inside.
  for (Point p : {Point{4, 5}, Point{6, 5}, Point{5, 4}, Point{5, 6}, Point{4, 4}, Point{6, 6},
                  Point{4, 6}, Point{6, 4}}) {
    EXPECT_TRUE(g.Contains(p)) << Where(p);
  }
  // On the outer boundary: inside.
  EXPECT_TRUE(g.Contains({0, 5}));
  EXPECT_TRUE(g.Contains({10, 10}));
  EXPECT_FALSE(g.Contains({11, 5}));
}

TEST(GeoGeometryTest, PolygonWithTwoHoles) {
  Geometry g = MustParse(R"({"type":"Polygon","coordinates":[
      [[0,0],[10,0],[10,10],[0,10],[0,0]],
      [[1,1],[1,3],[3,3],[3,1],[1,1]],
      [[6,6],[6,9],[9,9],[9,6],[6,6]]]})");
  EXPECT_FALSE(g.Contains({2, 2}));
  EXPECT_FALSE(g.Contains({7.5, 7.5}));
  EXPECT_TRUE(g.Contains({5, 5}));
  EXPECT_TRUE(g.Contains({3, 2}));  // first hole's edge
  EXPECT_TRUE(g.Contains({9, 9}));  // second hole's vertex
}

TEST(GeoGeometryTest, MultiPolygonOfTwoDisjointSquares) {
  Geometry g = MustParse(R"({"type":"MultiPolygon","coordinates":[
      [[[0,0],[1,0],[1,1],[0,1],[0,0]]],
      [[[2,0],[3,0],[3,1],[2,1],[2,0]]]]})");
  EXPECT_EQ(g.polygon_count(), 2u);
  EXPECT_EQ(g.vertex_count(), 10u);
  EXPECT_TRUE(g.Contains({0.5, 0.5}));
  EXPECT_TRUE(g.Contains({2.5, 0.5}));
  // Between them: outside, although inside the bounding box of the whole.
  EXPECT_TRUE(g.bbox().Contains({1.5, 0.5}));
  EXPECT_FALSE(g.Contains({1.5, 0.5}));
  EXPECT_FALSE(g.Contains({1.000001, 0.5}));
  EXPECT_FALSE(g.Contains({1.999999, 0.5}));
  // Edges and vertices of both.
  for (Point p : {Point{1, 0.5}, Point{2, 0.5}, Point{0, 0}, Point{3, 1}, Point{2, 1}, Point{1, 0},
                  Point{2.5, 0}, Point{0.5, 1}}) {
    EXPECT_TRUE(g.Contains(p)) << Where(p);
  }
  EXPECT_FALSE(g.Contains({3.5, 0.5}));
  EXPECT_FALSE(g.Contains({0.5, 1.5}));
  EXPECT_NEAR(g.bbox().min_lon, 0, 1e-6);
  EXPECT_NEAR(g.bbox().max_lon, 3, 1e-6);
}

TEST(GeoGeometryTest, MultiPolygonWithHoleAndIslandInTheHole) {
  // A square with a hole, and a second polygon (an island) inside the hole.
  Geometry g = MustParse(R"({"type":"MultiPolygon","coordinates":[
      [[[0,0],[10,0],[10,10],[0,10],[0,0]],[[2,2],[2,8],[8,8],[8,2],[2,2]]],
      [[[4,4],[6,4],[6,6],[4,6],[4,4]]]]})");
  EXPECT_TRUE(g.Contains({1, 1}));
  EXPECT_FALSE(g.Contains({3, 3}));  // in the hole, not in the island
  EXPECT_TRUE(g.Contains({5, 5}));   // in the island
  EXPECT_TRUE(g.Contains({2, 5}));   // on the hole's edge
  EXPECT_TRUE(g.Contains({6, 5}));   // on the island's edge
}

TEST(GeoGeometryTest, ConcaveLShape) {
  // An L: the notch is the square (1..4, 1..4).
  Geometry g = MustParse(
      R"({"type":"Polygon","coordinates":[[[0,0],[4,0],[4,1],[1,1],[1,4],[0,4],[0,0]]]})");
  for (Point p : {Point{0.5, 0.5}, Point{0.5, 3}, Point{3, 0.5}, Point{0.5, 3.999}}) {
    EXPECT_TRUE(g.Contains(p)) << Where(p);
  }
  // In the notch: outside, though inside the bounding box.
  for (Point p : {Point{2, 2}, Point{3, 3}, Point{1.5, 1.5}, Point{3.9, 3.9}, Point{1.000001, 2},
                  Point{2, 1.000001}}) {
    EXPECT_TRUE(g.bbox().Contains(p)) << Where(p);
    EXPECT_FALSE(g.Contains(p)) << Where(p);
  }
  // The notch's edges and the reflex vertex are boundary: inside.
  for (Point p : {Point{1, 1}, Point{2, 1}, Point{1, 2}, Point{4, 1}, Point{1, 4}, Point{4, 0.5},
                  Point{0.5, 4}}) {
    EXPECT_TRUE(g.Contains(p)) << Where(p);
  }
  // Rays through vertices (the degenerate cases of crossing-number tests): points at a vertex's
  // latitude.
  EXPECT_TRUE(g.Contains({0.5, 1}));  // at the latitude of (4,1) and (1,1), left of the notch
  EXPECT_FALSE(g.Contains({-1, 1}));
  EXPECT_FALSE(g.Contains({5, 1}));
  EXPECT_FALSE(g.Contains({2, 4}));  // at the latitude of the top vertices, in the notch
  EXPECT_FALSE(g.Contains({-1, 4}));
  EXPECT_FALSE(g.Contains({-1, 0}));
  EXPECT_FALSE(g.Contains({5, 0}));
  EXPECT_TRUE(g.Contains({3, 0}));
}

TEST(GeoGeometryTest, TriangleAndSlantedEdges) {
  Geometry g = MustParse(R"({"type":"Polygon","coordinates":[[[0,0],[4,0],[0,4],[0,0]]]})");
  EXPECT_EQ(g.vertex_count(), 4u);
  EXPECT_TRUE(g.Contains({1, 1}));
  EXPECT_TRUE(g.Contains({2, 2}));  // on the hypotenuse
  EXPECT_TRUE(g.Contains({1, 3}));  // on the hypotenuse
  EXPECT_FALSE(g.Contains({2.01, 2}));
  EXPECT_FALSE(g.Contains({3, 3}));
}

TEST(GeoGeometryTest, RealisticCoordinatesInPeru) {
  // A small concession near Puerto Maldonado (negative longitudes and latitudes).
  Geometry g = MustParse(R"({"type":"Polygon","coordinates":[[
      [-69.20,-12.60],[-69.18,-12.60],[-69.18,-12.58],[-69.20,-12.58],[-69.20,-12.60]]]})");
  EXPECT_TRUE(g.Contains({-69.19, -12.59}));
  EXPECT_TRUE(g.Contains({-69.18, -12.59}));  // on the east edge
  EXPECT_TRUE(g.Contains({-69.20, -12.58}));  // on a vertex
  EXPECT_FALSE(g.Contains({-69.179, -12.59}));
  EXPECT_FALSE(g.Contains({-69.19, -12.601}));
  EXPECT_FALSE(g.Contains({69.19, 12.59}));
}

TEST(GeoGeometryTest, ToGeoJsonRoundTrips) {
  for (std::string_view json :
       {std::string_view(kSquare), std::string_view(R"({"type":"MultiPolygon","coordinates":[
            [[[0,0],[1,0],[1,1],[0,1],[0,0]]],
            [[[2,0],[3,0],[3,1],[2,1],[2,0]],[[2.25,0.25],[2.25,0.75],[2.75,0.75],[2.75,0.25],[2.25,0.25]]]]})")}) {
    Geometry g = MustParse(json);
    const std::string out = g.ToGeoJson();
    Geometry back = MustParse(out);
    EXPECT_EQ(back.polygon_count(), g.polygon_count()) << out;
    EXPECT_EQ(back.vertex_count(), g.vertex_count()) << out;
    EXPECT_EQ(back.ToGeoJson(), out);
    for (Point p : {Point{0.5, 0.5}, Point{1.5, 0.5}, Point{2.5, 0.5}, Point{2.1, 0.5}, Point{5, 5},
                    Point{11, 5}}) {
      EXPECT_EQ(back.Contains(p), g.Contains(p)) << Where(p) << " " << out;
    }
  }
}

TEST(GeoGeometryTest, RejectsMalformedGeometries) {
  struct Case {
    const char* name;
    const char* json;
    const char* message;  // a part of the message naming the defect
  };
  const Case cases[] = {
      {"unclosed ring", R"({"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]})",
       "not closed"},
      {"unclosed hole",
       R"({"type":"Polygon","coordinates":[[[0,0],[9,0],[9,9],[0,9],[0,0]],
                                           [[1,1],[2,1],[2,2],[1,2]]]})",
       "ring 1 is not closed"},
      {"ring with 3 positions", R"({"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]})",
       "needs 4"},
      {"ring with 1 position", R"({"type":"Polygon","coordinates":[[[0,0]]]})", "needs 4"},
      {"empty ring", R"({"type":"Polygon","coordinates":[[]]})", "needs 4"},
      {"no rings", R"({"type":"Polygon","coordinates":[]})", "no rings"},
      {"latitude 95", R"({"type":"Polygon","coordinates":[[[0,0],[1,0],[1,95],[0,0]]]})",
       "not a longitude/latitude"},
      {"longitude 181", R"({"type":"Polygon","coordinates":[[[0,0],[181,0],[1,1],[0,0]]]})",
       "not a longitude/latitude"},
      {"position of one number", R"({"type":"Polygon","coordinates":[[[0,0],[1],[1,1],[0,0]]]})",
       "[longitude, latitude]"},
      {"position of strings", R"({"type":"Polygon","coordinates":[[[0,0],["1","0"],[1,1],[0,0]]]})",
       "[longitude, latitude]"},
      {"Point", R"({"type":"Point","coordinates":[-69.19,-12.59]})", "Point"},
      {"LineString", R"({"type":"LineString","coordinates":[[0,0],[1,1]]})", "LineString"},
      {"no type", R"({"coordinates":[[[0,0],[1,0],[1,1],[0,0]]]})", "type"},
      {"no coordinates", R"({"type":"Polygon"})", "coordinates"},
      {"empty MultiPolygon", R"({"type":"MultiPolygon","coordinates":[]})", "no polygon"},
      {"bad second polygon",
       R"({"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],
                                                [[[2,0],[3,0],[3,1],[2,1]]]]})",
       "polygon 1"},
      {"malformed JSON", R"({"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]])", "JSON"},
      {"not JSON", "POLYGON((0 0, 1 0, 1 1, 0 0))", "JSON"},
      {"empty", "", ""},
      {"a number", "42", ""},
  };
  for (const Case& c : cases) {
    auto g = Geometry::FromGeoJson(c.json);
    ASSERT_FALSE(g.ok()) << c.name;
    EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument)
        << c.name << ": " << g.status();
    EXPECT_THAT(Message(g.status()), HasSubstr(c.message)) << c.name;
  }
}

// ---------------------------------------------------------------------------------------------
// ParseFeatureCollection (synthetic)

TEST(GeoFeatureCollectionTest, PolygonsPointsNullGeometriesAndProperties) {
  auto features = ParseFeatureCollection(R"({"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"name":"A","n":42,"x":-69.5,"ok":true,"none":null,
                                      "list":[1,2]},
       "geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}},
      {"type":"Feature","properties":{"name":"site"},
       "geometry":{"type":"Point","coordinates":[-69.19,-12.59]}},
      {"type":"Feature","properties":{"name":"lost"},"geometry":null},
      {"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[
          [[[0,0],[1,0],[1,1],[0,0]]],[[[2,0],[3,0],[3,1],[2,0]]]]}}]})");
  ASSERT_TRUE(features.ok()) << features.status();
  ASSERT_EQ(features->size(), 4u);

  const Feature& a = (*features)[0];
  ASSERT_TRUE(a.geometry.has_value());
  EXPECT_FALSE(a.point.has_value());
  EXPECT_TRUE(a.geometry->Contains({0.5, 0.5}));
  EXPECT_EQ(a.properties.at("name"), "A");
  EXPECT_EQ(a.properties.at("n"), "42");
  EXPECT_EQ(a.properties.at("x"), "-69.5");
  EXPECT_EQ(a.properties.at("ok"), "true");
  EXPECT_EQ(a.properties.count("none"), 0u);  // null and lists are not text
  EXPECT_EQ(a.properties.count("list"), 0u);

  const Feature& site = (*features)[1];
  EXPECT_FALSE(site.geometry.has_value());
  ASSERT_TRUE(site.point.has_value());
  EXPECT_EQ(site.point->lon, -69.19);
  EXPECT_EQ(site.point->lat, -12.59);

  const Feature& lost = (*features)[2];
  EXPECT_FALSE(lost.geometry.has_value());
  EXPECT_FALSE(lost.point.has_value());
  EXPECT_EQ(lost.properties.at("name"), "lost");

  const Feature& multi = (*features)[3];
  ASSERT_TRUE(multi.geometry.has_value());
  EXPECT_EQ(multi.geometry->polygon_count(), 2u);
  EXPECT_TRUE(multi.properties.empty());
}

TEST(GeoFeatureCollectionTest, ErrorsNameTheFeature) {
  auto bad_polygon = ParseFeatureCollection(R"({"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{},"geometry":null},
      {"type":"Feature","properties":{},
       "geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}}]})");
  ASSERT_FALSE(bad_polygon.ok());
  EXPECT_EQ(bad_polygon.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(bad_polygon.status()), HasSubstr("feature 1"));
  EXPECT_THAT(Message(bad_polygon.status()), HasSubstr("not closed"));

  auto bad_point = ParseFeatureCollection(R"({"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[0,0]}},
      {"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[0,0]}},
      {"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[-69,95]}}]})");
  ASSERT_FALSE(bad_point.ok());
  EXPECT_EQ(bad_point.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(bad_point.status()), HasSubstr("feature 2"));

  for (const char* json : {R"({"type":"FeatureCollection"})", R"({"features":{}})", "[]",
                           R"({"type":"FeatureCollection","features":[)"}) {
    auto r = ParseFeatureCollection(json);
    ASSERT_FALSE(r.ok()) << json;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << json;
  }

  auto empty = ParseFeatureCollection(R"({"type":"FeatureCollection","features":[]})");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());
}

// ---------------------------------------------------------------------------------------------
// GeometryIndex (synthetic)

Geometry Square(double lon0, double lat0, double lon1, double lat1) {
  return MustParse(StrCat(R"({"type":"Polygon","coordinates":[[[)", lon0, ",", lat0, "],[", lon1,
                          ",", lat0, "],[", lon1, ",", lat1, "],[", lon0, ",", lat1, "],[", lon0,
                          ",", lat0, "]]]}"));
}

TEST(GeoIndexTest, OverlappingSquaresAddRemoveContaining) {
  for (double cell : {0.25, 0.5, 1.0, 10.0}) {
    SCOPED_TRACE(StrCat("cell ", cell));
    const Geometry a = Square(0, 0, 2, 2);      // id 7
    const Geometry b = Square(1, 1, 3, 3);      // id 3
    const Geometry c = Square(1.5, 0, 2.5, 4);  // id 5
    GeometryIndex index(cell);
    EXPECT_EQ(index.size(), 0u);
    EXPECT_THAT(index.Containing({1, 1}), IsEmpty());
    // Added out of order: answers are ascending all the same.
    index.Add(7, &a);
    index.Add(3, &b);
    index.Add(5, &c);
    EXPECT_EQ(index.size(), 3u);
    EXPECT_THAT(index.Containing({1.75, 1.75}), ElementsAre(3u, 5u, 7u));
    EXPECT_THAT(index.Containing({0.5, 0.5}), ElementsAre(7u));
    EXPECT_THAT(index.Containing({2.75, 2.75}), ElementsAre(3u));
    EXPECT_THAT(index.Containing({2, 3.5}), ElementsAre(5u));
    EXPECT_THAT(index.Containing({1.25, 1.25}), ElementsAre(3u, 7u));
    EXPECT_THAT(index.Containing({2.25, 1.5}), ElementsAre(3u, 5u));
    // Boundaries count, including on cell boundaries: (2, 1) is on a's edge, b's edge, in c.
    EXPECT_THAT(index.Containing({2, 1}), ElementsAre(3u, 5u, 7u));
    EXPECT_THAT(index.Containing({0, 0}), ElementsAre(7u));
    EXPECT_THAT(index.Containing({3, 3}), ElementsAre(3u));
    EXPECT_THAT(index.Containing({2.5, 4}), ElementsAre(5u));
    // Outside all.
    EXPECT_THAT(index.Containing({5, 5}), IsEmpty());
    EXPECT_THAT(index.Containing({0.5, 2.5}), IsEmpty());
    EXPECT_THAT(index.Containing({-0.5, -0.5}), IsEmpty());
    EXPECT_THAT(index.Containing({-69.19, -12.59}), IsEmpty());

    index.Remove(3);
    EXPECT_EQ(index.size(), 2u);
    EXPECT_THAT(index.Containing({1.75, 1.75}), ElementsAre(5u, 7u));
    EXPECT_THAT(index.Containing({2.75, 2.75}), IsEmpty());
    index.Remove(42);  // unknown: nothing happens
    index.Remove(3);   // twice: nothing happens
    EXPECT_EQ(index.size(), 2u);
    EXPECT_THAT(index.Containing({1.75, 1.75}), ElementsAre(5u, 7u));

    // Adding an id again replaces its geometry.
    const Geometry far = Square(10, 10, 11, 11);
    index.Add(7, &far);
    EXPECT_EQ(index.size(), 2u);
    EXPECT_THAT(index.Containing({0.5, 0.5}), IsEmpty());
    EXPECT_THAT(index.Containing({1.75, 1.75}), ElementsAre(5u));
    EXPECT_THAT(index.Containing({10.5, 10.5}), ElementsAre(7u));

    index.Add(3, &b);
    EXPECT_THAT(index.Containing({1.75, 1.75}), ElementsAre(3u, 5u));
    index.Remove(5);
    index.Remove(7);
    index.Remove(3);
    EXPECT_EQ(index.size(), 0u);
    EXPECT_THAT(index.Containing({1.75, 1.75}), IsEmpty());
    EXPECT_THAT(index.Containing({10.5, 10.5}), IsEmpty());
  }
}

TEST(GeoIndexTest, NegativeCoordinatesAndLargeIds) {
  // Peru is south and west: cells of negative coordinates must round down, not toward zero.
  const Geometry a = Square(-70, -13, -69, -12);
  const Geometry b = Square(-69.5, -12.5, -68.75, -11.75);
  GeometryIndex index;
  const uint64_t big = std::numeric_limits<uint64_t>::max();
  index.Add(big, &a);
  index.Add(1, &b);
  EXPECT_THAT(index.Containing({-69.9, -12.9}), ElementsAre(big));
  EXPECT_THAT(index.Containing({-69.25, -12.25}), ElementsAre(1u, big));
  EXPECT_THAT(index.Containing({-69, -12}), ElementsAre(1u, big));  // a's corner, in b
  EXPECT_THAT(index.Containing({-68.8, -11.8}), ElementsAre(1u));
  EXPECT_THAT(index.Containing({-68.74, -11.8}), IsEmpty());
  EXPECT_THAT(index.Containing({-70.0001, -12.5}), IsEmpty());
  EXPECT_THAT(index.Containing({70, 12.5}), IsEmpty());
  EXPECT_THAT(index.Containing({-70, -12.5}), ElementsAre(big));  // on a's west edge
}

// A geometry whose box spans most of the world (a unit with a sliver at the other end) is kept
// apart from the cells, not in millions of them, and still found.
TEST(GeoIndexTest, AGeometrySpanningTheWorldIsFoundWithoutFillingItsCells) {
  const Geometry world = Square(-179, -89, 179, 89);
  const Geometry small = Square(-70, -13, -69.9, -12.9);
  GeometryIndex index(0.1);
  index.Add(7, &world);
  index.Add(3, &small);
  EXPECT_THAT(index.Containing({-69.95, -12.95}), ElementsAre(3u, 7u));
  EXPECT_THAT(index.Containing({100, 45}), ElementsAre(7u));
  geo::BBox b;
  b.Extend(geo::Point{-69.99, -12.99});
  b.Extend(geo::Point{-69.98, -12.98});
  EXPECT_THAT(index.Intersecting(b), ElementsAre(3u, 7u));
  index.Remove(7);
  EXPECT_THAT(index.Containing({100, 45}), IsEmpty());
  EXPECT_THAT(index.Intersecting(b), ElementsAre(3u));
  EXPECT_EQ(index.size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// Real data: indigenous territories with mining (Amazon Mining Watch, filtered to Peru)

constexpr char kTerritories[] = "peru_indigenous_territories_mining.geojson";
constexpr char kDepartments[] = "peru_departments.geojson";
constexpr char kDistricts[] = "peru_districts.geojson";
constexpr char kSites[] = "peru_gold_mining_sites.geojson";

const Feature* FindBy(const std::vector<Feature>& features, const std::string& key,
                      const std::string& value) {
  for (const Feature& f : features) {
    auto it = f.properties.find(key);
    if (it != f.properties.end() && it->second == value) return &f;
  }
  return nullptr;
}

TEST(GeoRealDataTest, IndigenousTerritoriesParse) {
  auto text = ReadData(kTerritories);
  ASSERT_TRUE(text.ok()) << text.status();
  auto features = ParseFeatureCollection(*text);
  ASSERT_TRUE(features.ok()) << features.status();
  ASSERT_EQ(features->size(), 21u);
  const std::vector<RawPolygons> raw = RawGeometries(*text);
  ASSERT_EQ(raw.size(), 21u);

  // 11 Polygons and 10 MultiPolygons; each MultiPolygon of this file has at least 2 polygons.
  int polygons = 0, multipolygons = 0;
  for (size_t i = 0; i < features->size(); ++i) {
    const Feature& f = (*features)[i];
    SCOPED_TRACE(
        StrCat("feature ", i, " ",
               f.properties.count("name_field") ? f.properties.at("name_field") : std::string()));
    ASSERT_TRUE(f.geometry.has_value());
    EXPECT_FALSE(f.point.has_value());
    EXPECT_EQ(f.geometry->polygon_count(), raw[i].size());
    (f.geometry->polygon_count() == 1 ? polygons : multipolygons)++;
    size_t vertices = 0;
    for (const auto& polygon : raw[i]) {
      for (const auto& ring : polygon) vertices += ring.size();
    }
    EXPECT_EQ(f.geometry->vertex_count(), vertices);

    // Far outside: the Gulf of Guinea, the other hemispheres.
    for (Point p : {Point{0, 0}, Point{69, 12}, Point{-69, 12}, Point{-120, -12}}) {
      EXPECT_FALSE(f.geometry->Contains(p)) << Where(p);
    }
    // Every vertex of every ring, and every edge's midpoint, is on the boundary: inside.
    // The bounding box holds them all.
    for (const auto& polygon : raw[i]) {
      for (const auto& ring : polygon) {
        for (size_t k = 0; k < ring.size(); ++k) {
          EXPECT_TRUE(f.geometry->Contains(ring[k])) << "vertex " << k << " " << Where(ring[k]);
          EXPECT_TRUE(f.geometry->bbox().Contains(ring[k])) << Where(ring[k]);
          if (k + 1 < ring.size()) {
            const Point mid{(ring[k].lon + ring[k + 1].lon) / 2,
                            (ring[k].lat + ring[k + 1].lat) / 2};
            EXPECT_TRUE(f.geometry->Contains(mid)) << "midpoint " << k << " " << Where(mid);
          }
        }
      }
    }
    // A MultiPolygon holds its second polygon as well as its first.
    if (raw[i].size() >= 2) {
      const Point second = raw[i][1][0][0];
      EXPECT_TRUE(f.geometry->Contains(second)) << Where(second);
    }
  }
  EXPECT_EQ(polygons, 11);
  EXPECT_EQ(multipolygons, 10);
}

TEST(GeoRealDataTest, IndigenousTerritoryHole) {
  // BOCA DEL INAMBARI (PE3280_0) is a Polygon with one hole, a small quadrilateral:
  // [[-69.734677,-12.720456],[-69.734838,-12.720235],[-69.735375,-12.720364],
  //  [-69.735214,-12.720585],[-69.734677,-12.720456]].
  auto features = LoadFeatures(kTerritories);
  ASSERT_TRUE(features.ok()) << features.status();
  const Feature* f = FindBy(*features, "id", "PE3280_0");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->properties.at("name_field"), "BOCA DEL INAMBARI");
  ASSERT_TRUE(f->geometry.has_value());
  EXPECT_EQ(f->geometry->polygon_count(), 1u);
  EXPECT_FALSE(f->geometry->Contains({-69.735026, -12.72041}));  // the hole's centre
  EXPECT_TRUE(f->geometry->Contains({-69.7345, -12.72041}));     // beside the hole
  EXPECT_TRUE(f->geometry->Contains({-69.734677, -12.720456}));  // the hole's vertex
  EXPECT_TRUE(f->geometry->Contains(
      {(-69.734677 + -69.734838) / 2, (-12.720456 + -12.720235) / 2}));  // the hole's edge
}

// ---------------------------------------------------------------------------------------------
// Real data: departments (INEI boundaries)

struct Place {
  const char* name;
  Point point;
  const char* department;  // FIRST_IDDP; "" for none
  const char* district;    // IDDIST; "" for none
};

// Expected department and district of each point: from the Python cross-check described at
// the top of this file.
const Place kPlaces[] = {
    {"Lima", {-77.03, -12.05}, "15", "150101"},
    {"Puerto Maldonado", {-69.19, -12.59}, "17", "170101"},  // TAMBOPATA, Tambopata province
    {"Cusco", {-71.97, -13.53}, "08", "080106"},             // SANTIAGO
    {"Iquitos", {-73.25, -3.75}, "16", "160101"},
    {"Arequipa", {-71.537, -16.409}, "04", "040101"},
    {"Puno", {-70.02, -15.84}, "21", "210101"},
    {"Trujillo", {-79.03, -8.11}, "13", "130101"},
    {"Piura", {-80.63, -5.19}, "20", "200104"},  // CASTILLA
    {"Tacna", {-70.25, -18.01}, "23", "230101"},
    {"Huancayo", {-75.21, -12.07}, "12", "120101"},
    {"Pucallpa", {-74.55, -8.38}, "25", "250101"},  // CALLERIA
    {"Callao", {-77.12, -12.05}, "07", "070101"},
    {"Pacific Ocean", {-80, -10}, "", ""},
    // The centre of the hole (inner ring) of AREQUIPA's polygon, a gap in the INEI boundaries
    // that no department or district covers.
    {"hole in AREQUIPA", {-71.14565469945975, -16.375342827618603}, "", ""},
};

TEST(GeoRealDataTest, DepartmentsContainTheirCities) {
  auto features = LoadFeatures(kDepartments);
  ASSERT_TRUE(features.ok()) << features.status();
  ASSERT_EQ(features->size(), 25u);
  GeometryIndex index;
  std::map<std::string, int> codes;
  for (size_t i = 0; i < features->size(); ++i) {
    const Feature& f = (*features)[i];
    ASSERT_TRUE(f.geometry.has_value()) << i;
    ASSERT_EQ(f.properties.count("FIRST_IDDP"), 1u) << i;
    codes[f.properties.at("FIRST_IDDP")]++;
    index.Add(i, &*f.geometry);
  }
  // The codes are 01..25, once each.
  ASSERT_EQ(codes.size(), 25u);
  EXPECT_EQ(codes.begin()->first, "01");
  EXPECT_EQ(codes.rbegin()->first, "25");
  EXPECT_EQ(FindBy(*features, "FIRST_IDDP", "15")->properties.at("NOMBDEP"), "LIMA");
  EXPECT_EQ(FindBy(*features, "FIRST_IDDP", "17")->properties.at("NOMBDEP"), "MADRE DE DIOS");
  EXPECT_EQ(FindBy(*features, "FIRST_IDDP", "08")->properties.at("NOMBDEP"), "CUSCO");
  EXPECT_EQ(FindBy(*features, "FIRST_IDDP", "16")->properties.at("NOMBDEP"), "LORETO");
  // PUNO is the one MultiPolygon.
  EXPECT_EQ(FindBy(*features, "FIRST_IDDP", "21")->geometry->polygon_count(), 2u);

  for (const Place& place : kPlaces) {
    SCOPED_TRACE(place.name);
    std::vector<std::string> found;
    std::vector<uint64_t> brute;
    for (size_t i = 0; i < features->size(); ++i) {
      if ((*features)[i].geometry->Contains(place.point)) {
        found.push_back((*features)[i].properties.at("FIRST_IDDP"));
        brute.push_back(i);
      }
    }
    if (*place.department == '\0') {
      EXPECT_THAT(found, IsEmpty());
    } else {
      EXPECT_THAT(found, ElementsAre(place.department));
    }
    EXPECT_EQ(index.Containing(place.point), brute);
  }
}

// ---------------------------------------------------------------------------------------------
// Real data: districts

TEST(GeoRealDataTest, DistrictsParseAndLocateCities) {
  auto text = ReadData(kDistricts);
  ASSERT_TRUE(text.ok()) << text.status();
  // 1.9 MB of GeoJSON: well under a second in a release build (measured, not asserted).
  auto features = ParseFeatureCollection(*text);
  ASSERT_TRUE(features.ok()) << features.status();
  ASSERT_EQ(features->size(), 1834u);

  size_t nulls = 0;
  for (const Feature& f : *features) {
    EXPECT_FALSE(f.point.has_value());
    if (!f.geometry.has_value()) ++nulls;
    EXPECT_EQ(f.properties.count("IDDIST"), 1u);
  }
  // Eight districts have a null geometry (AMANTANI, EL PARCO, LA PUNTA, SANTA ANITA, ...):
  // kept, with neither geometry nor point.
  EXPECT_EQ(nulls, 8u);
  const Feature* amantani = FindBy(*features, "IDDIST", "210103");
  ASSERT_NE(amantani, nullptr);
  EXPECT_EQ(amantani->properties.at("NOMBDIST"), "AMANTANI");
  EXPECT_FALSE(amantani->geometry.has_value());
  EXPECT_FALSE(amantani->point.has_value());

  GeometryIndex index(0.1);
  for (size_t i = 0; i < features->size(); ++i) {
    if ((*features)[i].geometry) index.Add(i, &*(*features)[i].geometry);
  }
  EXPECT_EQ(index.size(), 1834u - 8u);
  for (const Place& place : kPlaces) {
    SCOPED_TRACE(place.name);
    std::vector<std::string> found;
    std::vector<uint64_t> brute;
    for (size_t i = 0; i < features->size(); ++i) {
      const Feature& f = (*features)[i];
      if (f.geometry && f.geometry->Contains(place.point)) {
        found.push_back(f.properties.at("IDDIST"));
        brute.push_back(i);
      }
    }
    if (*place.district == '\0') {
      EXPECT_THAT(found, IsEmpty());
    } else {
      ASSERT_THAT(found, ElementsAre(place.district));
      // The district's department is the department found above.
      EXPECT_EQ(found[0].substr(0, 2), place.department);
    }
    EXPECT_EQ(index.Containing(place.point), brute);
  }
  // Puerto Maldonado is in the province of Tambopata (1701), district TAMBOPATA.
  const Point puerto_maldonado{-69.19, -12.59};
  std::vector<uint64_t> ids = index.Containing(puerto_maldonado);
  ASSERT_EQ(ids.size(), 1u);
  const Feature& district = (*features)[ids[0]];
  EXPECT_THAT(district.properties.at("IDDIST"), ::testing::StartsWith("1701"));
  EXPECT_EQ(district.properties.at("IDPROV"), "1701");
  EXPECT_EQ(district.properties.at("NOMBDIST"), "TAMBOPATA");
  EXPECT_EQ(district.properties.at("NOMBDEP"), "MADRE DE DIOS");
}

// ---------------------------------------------------------------------------------------------
// Real data: gold-mining sites inside indigenous territories

TEST(GeoRealDataTest, GoldMiningSitesInIndigenousTerritories) {
  auto territories = LoadFeatures(kTerritories);
  ASSERT_TRUE(territories.ok()) << territories.status();
  ASSERT_EQ(territories->size(), 21u);
  auto sites = LoadFeatures(kSites);
  ASSERT_TRUE(sites.ok()) << sites.status();
  ASSERT_EQ(sites->size(), 1024u);
  for (size_t i = 0; i < sites->size(); ++i) {
    ASSERT_TRUE((*sites)[i].point.has_value()) << "site " << i;
    ASSERT_FALSE((*sites)[i].geometry.has_value()) << "site " << i;
    EXPECT_TRUE(CheckPoint(*(*sites)[i].point).ok()) << "site " << i;
  }

  // Cell sizes from much smaller to much larger than the territories: the same answers.
  for (double cell : {0.25, 0.02, 1.0, 20.0}) {
    SCOPED_TRACE(StrCat("cell ", cell));
    GeometryIndex index(cell);
    for (size_t t = 0; t < territories->size(); ++t) index.Add(t, &*(*territories)[t].geometry);
    ASSERT_EQ(index.size(), 21u);

    size_t inside = 0, in_several = 0;
    std::map<std::string, int> per_territory;
    for (size_t i = 0; i < sites->size(); ++i) {
      const Point p = *(*sites)[i].point;
      std::vector<uint64_t> brute;
      for (size_t t = 0; t < territories->size(); ++t) {
        if ((*territories)[t].geometry->Contains(p)) brute.push_back(t);
      }
      const std::vector<uint64_t> indexed = index.Containing(p);
      ASSERT_EQ(indexed, brute) << "site " << i << " " << Where(p);
      if (!indexed.empty()) ++inside;
      if (indexed.size() > 1) ++in_several;
      for (uint64_t t : indexed) per_territory[(*territories)[t].properties.at("id")]++;
    }
    // Computed once with the exact Python ray casting described at the top of this file, over
    // all 1024 sites and the 21 territories (holes honoured, boundary inside): 91 sites lie in
    // some territory, none in two, 33 in NUEVO UNIDOS TAHUANTINSUYO (PE609_0) and 58 in
    // TSIROTZIRE (PE512_0). The site nearest to any territory boundary is 1.2e-5 degrees
    // (about 1.3 m) from it (site id 793, by TSIROTZIRE), far beyond rounding.
    EXPECT_EQ(inside, 91u);
    EXPECT_EQ(in_several, 0u);
    EXPECT_EQ(per_territory, (std::map<std::string, int>{{"PE512_0", 58}, {"PE609_0", 33}}));
  }
}

// ---------------------------------------------------------------------------------------------
// Areas and overlaps (AreaM2, OverlapAreaM2)

namespace area {

constexpr double kLat = 110574.0;  // metres per degree of latitude on the local plane
constexpr double kPi = 3.14159265358979323846;

// Square metres of a box of dlon x dlat degrees on the plane centred at latitude lat0.
double BoxM2(double dlon, double dlat, double lat0) {
  return dlon * std::cos(lat0 * kPi / 180) * 111320.0 * dlat * kLat;
}

std::string Ring(const std::vector<Point>& points) {
  std::string out = "[";
  for (size_t i = 0; i <= points.size(); ++i) {
    const Point p = points[i % points.size()];
    out += StrCat(i ? "," : "", "[", p.lon, ",", p.lat, "]");
  }
  return out + "]";
}
// A box [lon0, lon1] x [lat0, lat1]: counter-clockwise, or clockwise with `cw`.
std::vector<Point> BoxRing(double lon0, double lat0, double lon1, double lat1, bool cw = false) {
  std::vector<Point> r = {{lon0, lat0}, {lon1, lat0}, {lon1, lat1}, {lon0, lat1}};
  if (cw) std::reverse(r.begin(), r.end());
  return r;
}
std::string Polygon(const std::vector<std::vector<Point>>& rings) {
  std::string out = "{\"type\":\"Polygon\",\"coordinates\":[";
  for (size_t i = 0; i < rings.size(); ++i) out += StrCat(i ? "," : "", Ring(rings[i]));
  return out + "]}";
}
Geometry Box(double lon0, double lat0, double lon1, double lat1, bool cw = false) {
  return MustParse(Polygon({BoxRing(lon0, lat0, lon1, lat1, cw)}));
}

// Within a millionth (the plane's centre moves by the boxes' 1e-9 degree slack).
void ExpectM2(double got, double want) { EXPECT_NEAR(got, want, 1e-6 * want + 1e-3); }

constexpr double kLon0 = -69.90, kLat0 = -12.60;

TEST(GeoAreaTest, SquaresOverlapByWhatTheyShare) {
  const Geometry a = Box(kLon0, kLat0, kLon0 + 0.02, kLat0 + 0.02);
  const double lat0 = kLat0 + 0.01;
  ExpectM2(geo::AreaM2(a), BoxM2(0.02, 0.02, lat0));  // about 4.8 km2
  // Shifted by half its side: half of it.
  const Geometry b = Box(kLon0 + 0.01, kLat0, kLon0 + 0.03, kLat0 + 0.02);
  ExpectM2(geo::OverlapAreaM2(a, b), BoxM2(0.01, 0.02, lat0));
  ExpectM2(geo::OverlapAreaM2(b, a), BoxM2(0.01, 0.02, lat0));
  // Shifted diagonally by a quarter: three quarters squared.
  const Geometry c = Box(kLon0 + 0.005, kLat0 + 0.005, kLon0 + 0.025, kLat0 + 0.025);
  ExpectM2(geo::OverlapAreaM2(a, c), BoxM2(0.015, 0.015, kLat0 + 0.0125));
  // A cross: two bars overlap in the square they share.
  const Geometry h = Box(kLon0, kLat0 + 0.008, kLon0 + 0.02, kLat0 + 0.012);
  const Geometry v = Box(kLon0 + 0.008, kLat0, kLon0 + 0.012, kLat0 + 0.02);
  ExpectM2(geo::OverlapAreaM2(h, v), BoxM2(0.004, 0.004, kLat0 + 0.01));
  // Apart: nothing.
  EXPECT_EQ(geo::OverlapAreaM2(a, Box(kLon0 + 0.05, kLat0, kLon0 + 0.07, kLat0 + 0.02)), 0);
}

TEST(GeoAreaTest, IdenticalAdjacentAndNested) {
  const Geometry a = Box(kLon0, kLat0, kLon0 + 0.02, kLat0 + 0.02);
  ExpectM2(geo::OverlapAreaM2(a, a), geo::AreaM2(a));
  ExpectM2(geo::OverlapAreaM2(a, Box(kLon0, kLat0, kLon0 + 0.02, kLat0 + 0.02)), geo::AreaM2(a));
  // Sharing an edge, whole or in part, or a corner: nothing.
  EXPECT_NEAR(geo::OverlapAreaM2(a, Box(kLon0 + 0.02, kLat0, kLon0 + 0.04, kLat0 + 0.02)), 0, 1e-3);
  EXPECT_NEAR(geo::OverlapAreaM2(a, Box(kLon0 + 0.02, kLat0 + 0.01, kLon0 + 0.03, kLat0 + 0.05)), 0,
              1e-3);
  EXPECT_NEAR(geo::OverlapAreaM2(a, Box(kLon0 - 0.01, kLat0 + 0.02, kLon0, kLat0 + 0.03)), 0, 1e-3);
  // One inside the other, touching its edge or not: the smaller one's area, both ways round.
  const Geometry in = Box(kLon0 + 0.005, kLat0 + 0.005, kLon0 + 0.01, kLat0 + 0.01);
  ExpectM2(geo::OverlapAreaM2(a, in), geo::AreaM2(in));
  ExpectM2(geo::OverlapAreaM2(in, a), geo::AreaM2(in));
  const Geometry edge = Box(kLon0, kLat0 + 0.005, kLon0 + 0.01, kLat0 + 0.01);
  ExpectM2(geo::OverlapAreaM2(a, edge), geo::AreaM2(edge));
  ExpectM2(geo::OverlapAreaM2(edge, a), geo::AreaM2(edge));
}

TEST(GeoAreaTest, HolesMultiPolygonsAndWinding) {
  const double lat0 = kLat0 + 0.01;
  // A 0.02 square with a 0.01 hole in its middle.
  const Geometry holed = MustParse(
      Polygon({BoxRing(kLon0, kLat0, kLon0 + 0.02, kLat0 + 0.02),
               BoxRing(kLon0 + 0.005, kLat0 + 0.005, kLon0 + 0.015, kLat0 + 0.015, true)}));
  ExpectM2(geo::AreaM2(holed), BoxM2(0.02, 0.02, lat0) - BoxM2(0.01, 0.01, lat0));
  const Geometry outer = Box(kLon0, kLat0, kLon0 + 0.02, kLat0 + 0.02);
  ExpectM2(geo::OverlapAreaM2(holed, outer), geo::AreaM2(holed));
  ExpectM2(geo::OverlapAreaM2(outer, holed), geo::AreaM2(holed));
  // The hole itself: nothing; a square across the hole's west edge: its part outside the hole.
  EXPECT_NEAR(
      geo::OverlapAreaM2(holed, Box(kLon0 + 0.006, kLat0 + 0.006, kLon0 + 0.014, kLat0 + 0.014)), 0,
      1e-3);
  ExpectM2(
      geo::OverlapAreaM2(holed, Box(kLon0 + 0.003, kLat0 + 0.008, kLon0 + 0.007, kLat0 + 0.012)),
      BoxM2(0.002, 0.004, kLat0 + 0.01));
  // The same rings wound the other way (outer clockwise, hole counter-clockwise): the same.
  const Geometry reversed =
      MustParse(Polygon({BoxRing(kLon0, kLat0, kLon0 + 0.02, kLat0 + 0.02, true),
                         BoxRing(kLon0 + 0.005, kLat0 + 0.005, kLon0 + 0.015, kLat0 + 0.015)}));
  ExpectM2(geo::AreaM2(reversed), geo::AreaM2(holed));
  ExpectM2(geo::OverlapAreaM2(reversed, holed), geo::AreaM2(holed));
  ExpectM2(geo::OverlapAreaM2(Box(kLon0, kLat0, kLon0 + 0.02, kLat0 + 0.02, true), outer),
           geo::AreaM2(outer));
  // A MultiPolygon of two squares apart, against a bar across the right half of both: half of
  // each.
  const Geometry two = MustParse(
      StrCat("{\"type\":\"MultiPolygon\",\"coordinates\":[[",
             Ring(BoxRing(kLon0, kLat0, kLon0 + 0.02, kLat0 + 0.02)), "],[",
             Ring(BoxRing(kLon0, kLat0 + 0.04, kLon0 + 0.02, kLat0 + 0.06, true)), "]]}"));
  const Geometry bar = Box(kLon0 + 0.01, kLat0 - 0.01, kLon0 + 0.03, kLat0 + 0.07);
  ExpectM2(geo::AreaM2(two), BoxM2(0.02, 0.02, kLat0 + 0.03) * 2);
  ExpectM2(geo::OverlapAreaM2(two, bar), BoxM2(0.01, 0.02, kLat0 + 0.03) * 2);
  ExpectM2(geo::OverlapAreaM2(bar, two), BoxM2(0.01, 0.02, kLat0 + 0.03) * 2);
  // One part hidden on another square: that part.
  ExpectM2(geo::OverlapAreaM2(two, Box(kLon0, kLat0 + 0.04, kLon0 + 0.02, kLat0 + 0.06)),
           BoxM2(0.02, 0.02, kLat0 + 0.05));
}

TEST(GeoAreaTest, SlantedEdges) {
  // A diamond centred on a square's corner covers a quarter of itself in the square; a
  // triangle, half a square.
  const double r = 0.01;
  const Geometry diamond = MustParse(Polygon({{{kLon0 + 0.02 - r, kLat0 + 0.02},
                                               {kLon0 + 0.02, kLat0 + 0.02 - r},
                                               {kLon0 + 0.02 + r, kLat0 + 0.02},
                                               {kLon0 + 0.02, kLat0 + 0.02 + r}}}));
  const Geometry square = Box(kLon0, kLat0, kLon0 + 0.02, kLat0 + 0.02);
  ExpectM2(geo::OverlapAreaM2(diamond, square), BoxM2(r, r, kLat0 + 0.02 - r / 2) / 2);
  const Geometry triangle =
      MustParse(Polygon({{{kLon0, kLat0}, {kLon0 + 0.02, kLat0}, {kLon0 + 0.02, kLat0 + 0.02}}}));
  ExpectM2(geo::OverlapAreaM2(triangle, square), geo::AreaM2(square) / 2);
  ExpectM2(geo::OverlapAreaM2(square, triangle), geo::AreaM2(square) / 2);
}

// Tambopata (ubigeo 170101, Madre de Dios), as the repository ships it: its area, its overlap
// with itself, with a unit inside it, with the west of a meridian (computed apart in Python by
// clipping the ring with Sutherland-Hodgman on the same plane), and with its neighbours.
TEST(GeoAreaTest, RealDistricts) {
  auto text = ReadData(kDistricts);
  ASSERT_TRUE(text.ok()) << text.status();
  auto features = ParseFeatureCollection(*text);
  ASSERT_TRUE(features.ok()) << features.status();
  const Feature* tambopata = FindBy(*features, "IDDIST", "170101");
  ASSERT_NE(tambopata, nullptr);
  ASSERT_TRUE(tambopata->geometry.has_value());
  const Geometry& t = *tambopata->geometry;
  // 2,062,534 ha on the plane; MINAM's figure is 2,081,882 ha (the shipped ring is simplified).
  EXPECT_NEAR(geo::AreaM2(t), 20625340303.688, 1e-6 * 20625340303.688);
  ExpectM2(geo::OverlapAreaM2(t, t), geo::AreaM2(t));
  const Geometry unit = Box(-69.21, -12.61, -69.19, -12.59);  // near Puerto Maldonado
  ExpectM2(geo::OverlapAreaM2(unit, t), geo::AreaM2(unit));
  ExpectM2(geo::OverlapAreaM2(t, unit), geo::AreaM2(unit));
  const Geometry west = Box(-73.0, -14.0, -69.8, -10.5);
  EXPECT_NEAR(geo::OverlapAreaM2(t, west), 12497480260.08, 1e-6 * 12497480260.08);
  EXPECT_NEAR(geo::OverlapAreaM2(west, t), 12497480260.08, 1e-6 * 12497480260.08);
  // Its neighbours in Madre de Dios touch it but hardly overlap it (the simplified rings leave
  // slivers): under a thousandth of the smaller one. (Every district of the department against
  // Tambopata takes well under a second here; speed is measured by tools, not asserted.)
  int neighbours = 0;
  for (const Feature& f : *features) {
    if (!f.geometry || f.properties.at("IDDIST") == "170101" ||
        f.properties.at("IDDIST").substr(0, 2) != "17") {
      continue;
    }
    const double overlap = geo::OverlapAreaM2(t, *f.geometry);
    EXPECT_LT(overlap, 1e-3 * std::min(geo::AreaM2(t), geo::AreaM2(*f.geometry)))
        << f.properties.at("NOMBDIST");
    if (t.bbox().Intersects(f.geometry->bbox())) ++neighbours;
  }
  EXPECT_GE(neighbours, 3);
}

// A bowtie's two lobes wind opposite ways: its signed area cancels, and so would its overlap
// with a unit under one lobe. CheckSimple refuses it, and holes outside their polygon.
TEST(GeoAreaTest, CheckSimpleRefusesCrossingRingsAndStrayHoles) {
  const double s = 0.02;
  EXPECT_TRUE(geo::CheckSimple(Box(kLon0, kLat0, kLon0 + s, kLat0 + s)).ok());
  const Geometry bowtie = MustParse(
      Polygon({{{kLon0, kLat0}, {kLon0 + s, kLat0 + s}, {kLon0 + s, kLat0}, {kLon0, kLat0 + s}}}));
  EXPECT_NEAR(geo::AreaM2(bowtie), 0, 1);
  const absl::Status crossing = geo::CheckSimple(bowtie);
  EXPECT_THAT(Message(crossing), HasSubstr("its rings cross at (-69.890000, -12.590000)"));
  const Geometry holed = MustParse(
      Polygon({BoxRing(kLon0, kLat0, kLon0 + s, kLat0 + s),
               BoxRing(kLon0 + 0.005, kLat0 + 0.005, kLon0 + 0.015, kLat0 + 0.015, true)}));
  EXPECT_TRUE(geo::CheckSimple(holed).ok());
  // A hole touching its outer ring is inside; one beside it is not; one across it crosses.
  EXPECT_TRUE(geo::CheckSimple(
                  MustParse(Polygon({BoxRing(kLon0, kLat0, kLon0 + s, kLat0 + s),
                                     BoxRing(kLon0, kLat0 + 0.005, kLon0 + 0.01, kLat0 + 0.015)})))
                  .ok());
  EXPECT_THAT(Message(geo::CheckSimple(
                  MustParse(Polygon({BoxRing(kLon0, kLat0, kLon0 + s, kLat0 + s),
                                     BoxRing(kLon0 + 0.03, kLat0, kLon0 + 0.04, kLat0 + 0.01)})))),
              HasSubstr("lies outside its polygon"));
  EXPECT_THAT(Message(geo::CheckSimple(MustParse(
                  Polygon({BoxRing(kLon0, kLat0, kLon0 + s, kLat0 + s),
                           BoxRing(kLon0 + 0.01, kLat0 + 0.005, kLon0 + 0.03, kLat0 + 0.015)})))),
              HasSubstr("its rings cross"));
  // Two polygons side by side, sharing an edge: fine; overlapping across edges: crossing.
  auto multi = [&](double dx, double dy) {
    return MustParse(StrCat("{\"type\":\"MultiPolygon\",\"coordinates\":[[",
                            Ring(BoxRing(kLon0, kLat0, kLon0 + s, kLat0 + s)), "],[",
                            Ring(BoxRing(kLon0 + dx, kLat0 + dy, kLon0 + dx + s, kLat0 + dy + s)),
                            "]]}"));
  };
  EXPECT_TRUE(geo::CheckSimple(multi(s, 0)).ok());
  EXPECT_FALSE(geo::CheckSimple(multi(0.01, 0.01)).ok());
}

}  // namespace area

}  // namespace
}  // namespace veta
