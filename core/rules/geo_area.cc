// Areas of geometries and of their overlap, in square metres (geo.h: AreaM2, OverlapAreaM2).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "core/rules/geo.h"

namespace veta::geo {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kMetresPerDegreeLat = 110574.0;
constexpr double kMetresPerDegreeLonAtEquator = 111320.0;
// Two points closer than this (metres) are one: a vertex this close to an edge lies on it.
// Far below any surveyed boundary's precision, far above the rounding of the projection.
constexpr double kEps = 1e-4;

struct XY {
  double x = 0, y = 0;
};
XY operator-(XY a, XY b) { return {a.x - b.x, a.y - b.y}; }
double Cross(XY a, XY b) { return a.x * b.y - a.y * b.x; }
double Dot(XY a, XY b) { return a.x * b.x + a.y * b.y; }
double Length(XY a) { return std::hypot(a.x, a.y); }

struct Seg {
  XY p, q;
  double min_x, max_x, min_y, max_y;
};

// Longitude and latitude to metres around (lon0, lat0).
class Plane {
 public:
  Plane(double lon0, double lat0)
      : lon0_(lon0), lat0_(lat0), kx_(std::cos(lat0 * kPi / 180) * kMetresPerDegreeLonAtEquator) {}
  XY operator()(Point p) const {
    return {(p.lon - lon0_) * kx_, (p.lat - lat0_) * kMetresPerDegreeLat};
  }

 private:
  double lon0_, lat0_, kx_;
};

// Twice the signed area of a projected ring (positive: counter-clockwise).
double SignedArea2(const std::vector<XY>& ring) {
  double s = 0;
  for (size_t i = 0; i + 1 < ring.size(); ++i) s += Cross(ring[i], ring[i + 1]);
  return s;
}

// The geometry's rings projected, outer rings counter-clockwise and holes clockwise (each ring
// closed: its last point is its first).
std::vector<std::vector<XY>> OrientedRings(const Geometry& g, const Plane& plane) {
  std::vector<std::vector<XY>> out;
  g.ForEachRing([&](const std::vector<Point>& ring, bool outer) {
    std::vector<XY> r;
    r.reserve(ring.size());
    for (Point p : ring) r.push_back(plane(p));
    if ((SignedArea2(r) < 0) == outer) std::reverse(r.begin(), r.end());
    out.push_back(std::move(r));
  });
  return out;
}

// The edges of oriented rings, with an index of horizontal bands: each band lists the edges
// whose y range meets it, so that a point or a segment meets only the edges of its bands.
class Edges {
 public:
  // The rings' edges whose bounding box meets `keep` (min_x, min_y, max_x, max_y); zero-length
  // edges dropped.
  Edges(const std::vector<std::vector<XY>>& rings, const double keep[4]) {
    for (const auto& ring : rings) {
      for (size_t i = 0; i + 1 < ring.size(); ++i) {
        const XY p = ring[i], q = ring[i + 1];
        if (Length(q - p) <= kEps / 4) continue;
        Seg s{p, q, std::min(p.x, q.x), std::max(p.x, q.x), std::min(p.y, q.y), std::max(p.y, q.y)};
        if (s.max_x < keep[0] || s.min_y > keep[3] || s.max_y < keep[1] || s.min_x > keep[2]) {
          continue;
        }
        segs_.push_back(s);
      }
    }
    if (segs_.empty()) return;
    y0_ = segs_[0].min_y;
    double y1 = segs_[0].max_y;
    for (const Seg& s : segs_) {
      y0_ = std::min(y0_, s.min_y);
      y1 = std::max(y1, s.max_y);
    }
    // About 4 edges a band, fewer bands when edges span many (at most 8 rows an edge on
    // average): the index stays linear in the edges whatever their shape.
    bands_ = static_cast<int>(std::clamp<size_t>(segs_.size() / 4, 1, 4096));
    for (;; bands_ /= 2) {
      h_ = std::max((y1 - y0_) / bands_, kEps);
      size_t rows = 0;
      for (const Seg& s : segs_) rows += static_cast<size_t>(Band(s.max_y) - Band(s.min_y) + 1);
      if (rows <= 8 * segs_.size() + 64 || bands_ == 1) break;
    }
    band_.resize(static_cast<size_t>(bands_));
    for (uint32_t i = 0; i < segs_.size(); ++i) {
      for (int b = Band(segs_[i].min_y); b <= Band(segs_[i].max_y); ++b) {
        band_[static_cast<size_t>(b)].push_back(i);
      }
    }
  }

  const std::vector<Seg>& segs() const { return segs_; }

  // f(seg) for each edge whose bounding box meets [min_x, max_x] x [min_y, max_y], once each.
  template <typename F>
  void ForEachNear(double min_x, double min_y, double max_x, double max_y, F&& f) const {
    if (segs_.empty()) return;
    const int first = Band(min_y), last = Band(max_y);
    for (int b = first; b <= last; ++b) {
      for (uint32_t i : band_[static_cast<size_t>(b)]) {
        const Seg& s = segs_[i];
        // Seen in the first band both share.
        if (std::max(first, Band(s.min_y)) != b) continue;
        if (s.max_x < min_x || s.min_x > max_x || s.max_y < min_y || s.min_y > max_y) continue;
        f(s);
      }
    }
  }

  // 1 strictly inside the rings (even-odd), 0 outside, -1 on an edge (within kEps). Valid only
  // for points whose rightward ray meets no dropped edge (the constructor's `keep` box holds
  // the point, and keep's max_x is unbounded).
  int Side(XY p) const {
    bool inside = false, on_edge = false;
    ForEachNear(p.x - kEps, p.y - kEps, INFINITY, p.y + kEps, [&](const Seg& s) {
      if (DistanceTo(p, s) <= kEps) on_edge = true;
      if ((s.p.y > p.y) != (s.q.y > p.y) &&
          p.x < (s.q.x - s.p.x) * (p.y - s.p.y) / (s.q.y - s.p.y) + s.p.x) {
        inside = !inside;
      }
    });
    if (on_edge) return -1;
    return inside ? 1 : 0;
  }

  // An edge through p (within kEps) that runs the way d does.
  bool RunsAlong(XY p, XY d) const {
    bool found = false;
    ForEachNear(p.x - kEps, p.y - kEps, p.x + kEps, p.y + kEps, [&](const Seg& s) {
      if (DistanceTo(p, s) <= kEps && Dot(s.q - s.p, d) > 0 &&
          std::fabs(Cross(s.q - s.p, d)) <= 1e-6 * Length(s.q - s.p) * Length(d)) {
        found = true;
      }
    });
    return found;
  }

  static double DistanceTo(XY p, const Seg& s) {
    const XY d = s.q - s.p;
    const double len2 = Dot(d, d);
    double t = len2 > 0 ? Dot(p - s.p, d) / len2 : 0;
    t = std::clamp(t, 0.0, 1.0);
    return Length(p - XY{s.p.x + t * d.x, s.p.y + t * d.y});
  }

 private:
  int Band(double y) const {
    const double b = std::floor((y - y0_) / h_);
    return static_cast<int>(std::clamp(b, 0.0, static_cast<double>(bands_ - 1)));
  }

  std::vector<Seg> segs_;
  double y0_ = 0, h_ = 1;
  int bands_ = 0;
  std::vector<std::vector<uint32_t>> band_;
};

// The sum of x dy (as cross(p, q) / 2) over the parts of `mine`'s edges inside `other`: strictly
// inside, or, with `keep_shared`, along an edge of `other` running the same way.
double InsideSum(const Edges& mine, const Edges& other, const double other_box[4],
                 bool keep_shared) {
  double sum = 0;
  std::vector<double> ts, cuts;
  for (const Seg& e : mine.segs()) {
    if (e.max_x < other_box[0] - kEps || e.min_x > other_box[2] + kEps ||
        e.max_y < other_box[1] - kEps || e.min_y > other_box[3] + kEps) {
      continue;  // outside the other's box: outside it
    }
    const XY d = e.q - e.p;
    const double len = Length(d);
    ts.assign({0.0, 1.0});
    other.ForEachNear(e.min_x - kEps, e.min_y - kEps, e.max_x + kEps, e.max_y + kEps,
                      [&](const Seg& f) {
                        const XY g = f.q - f.p;
                        const double denom = Cross(d, g);
                        if (std::fabs(denom) > 1e-12 * len * Length(g)) {
                          const double t = Cross(f.p - e.p, g) / denom;
                          const double u = Cross(f.p - e.p, d) / denom;
                          const double te = kEps / len, ue = kEps / Length(g);
                          if (t >= -te && t <= 1 + te && u >= -ue && u <= 1 + ue) {
                            ts.push_back(std::clamp(t, 0.0, 1.0));
                          }
                        }
                        // The other's vertices on this edge (touching, or running along it).
                        for (XY v : {f.p, f.q}) {
                          if (Edges::DistanceTo(v, e) <= kEps) {
                            ts.push_back(std::clamp(Dot(v - e.p, d) / (len * len), 0.0, 1.0));
                          }
                        }
                      });
    std::sort(ts.begin(), ts.end());
    // The cuts, points closer than kEps taken as one; the edge's ends stay its ends.
    cuts.assign({0.0});
    for (double t : ts) {
      if ((t - cuts.back()) * len > kEps) cuts.push_back(t);
    }
    if (cuts.size() < 2) continue;  // an edge shorter than kEps bounds nothing
    cuts.back() = 1.0;
    for (size_t i = 1; i < cuts.size(); ++i) {
      const XY a{e.p.x + cuts[i - 1] * d.x, e.p.y + cuts[i - 1] * d.y};
      const XY b{e.p.x + cuts[i] * d.x, e.p.y + cuts[i] * d.y};
      const XY mid{(a.x + b.x) / 2, (a.y + b.y) / 2};
      const int side = other.Side(mid);
      if (side == 1 || (side == -1 && keep_shared && other.RunsAlong(mid, d))) {
        sum += Cross(a, b) / 2;
      }
    }
  }
  return sum;
}

}  // namespace

double AreaM2(const Geometry& g) {
  const BBox& b = g.bbox();
  if (b.empty()) return 0;
  const Plane plane((b.min_lon + b.max_lon) / 2, (b.min_lat + b.max_lat) / 2);
  double twice = 0;
  for (const auto& ring : OrientedRings(g, plane)) twice += SignedArea2(ring);
  return std::max(0.0, twice / 2);
}

absl::Status CheckSimple(const Geometry& g) {
  const BBox& b = g.bbox();
  if (b.empty()) return absl::OkStatus();
  const double lon0 = (b.min_lon + b.max_lon) / 2, lat0 = (b.min_lat + b.max_lat) / 2;
  const Plane plane(lon0, lat0);
  const auto rings = OrientedRings(g, plane);
  const double all[4] = {-INFINITY, -INFINITY, INFINITY, INFINITY};
  const Edges edges(rings, all);
  auto where = [&](XY p) {
    const double lon = lon0 + p.x / (std::cos(lat0 * kPi / 180) * kMetresPerDegreeLonAtEquator);
    const double lat = lat0 + p.y / kMetresPerDegreeLat;
    char buf[64];
    std::snprintf(buf, sizeof(buf), "(%.6f, %.6f)", lon, lat);
    return std::string(buf);
  };
  // Strictly on either side of a line, beyond kEps.
  auto side = [](XY a, XY d, double len, XY p) {
    const double c = Cross(d, p - a) / len;
    return c > kEps ? 1 : c < -kEps ? -1 : 0;
  };
  std::string crossing;
  for (const Seg& e : edges.segs()) {
    const XY d = e.q - e.p;
    const double len = Length(d);
    edges.ForEachNear(e.min_x, e.min_y, e.max_x, e.max_y, [&](const Seg& f) {
      if (!crossing.empty() || &f == &e) return;
      const XY gd = f.q - f.p;
      const double glen = Length(gd);
      if (side(e.p, d, len, f.p) * side(e.p, d, len, f.q) < 0 &&
          side(f.p, gd, glen, e.p) * side(f.p, gd, glen, e.q) < 0) {
        const double t = Cross(f.p - e.p, gd) / Cross(d, gd);
        crossing = where({e.p.x + t * d.x, e.p.y + t * d.y});
      }
    });
    if (!crossing.empty()) {
      return absl::InvalidArgumentError("its rings cross at " + crossing +
                                        " (a ring crossing itself or another ring)");
    }
  }
  // Each hole inside its outer ring: with no crossing, one vertex off the outer ring tells.
  std::vector<XY> outer_ring;
  std::optional<Edges> outer;
  size_t ring = 0;
  absl::Status status;
  g.ForEachRing([&](const std::vector<Point>&, bool is_outer) {
    const auto& r = rings[ring++];
    if (!status.ok()) return;
    if (is_outer) {
      outer.emplace(std::vector<std::vector<XY>>{r}, all);
      return;
    }
    for (const XY& p : r) {
      const int s = outer->Side(p);
      if (s == -1) continue;  // on the outer ring: try the next vertex
      if (s == 0) {
        status = absl::InvalidArgumentError("a hole at " + where(p) + " lies outside its polygon");
      }
      return;
    }
  });
  return status;
}

double OverlapAreaM2(const Geometry& a, const Geometry& b) {
  if (a.bbox().empty() || b.bbox().empty() || !a.bbox().Intersects(b.bbox())) return 0;
  // The plane is centred on where the two can overlap: the intersection of their boxes.
  const double min_lon = std::max(a.bbox().min_lon, b.bbox().min_lon);
  const double max_lon = std::min(a.bbox().max_lon, b.bbox().max_lon);
  const double min_lat = std::max(a.bbox().min_lat, b.bbox().min_lat);
  const double max_lat = std::min(a.bbox().max_lat, b.bbox().max_lat);
  const Plane plane((min_lon + max_lon) / 2, (min_lat + max_lat) / 2);
  const auto ra = OrientedRings(a, plane);
  const auto rb = OrientedRings(b, plane);
  auto box = [&](const BBox& x, double out[4]) {
    const XY lo = plane({x.min_lon, x.min_lat}), hi = plane({x.max_lon, x.max_lat});
    out[0] = lo.x;
    out[1] = lo.y;
    out[2] = hi.x;
    out[3] = hi.y;
  };
  double box_a[4], box_b[4];
  box(a.bbox(), box_a);
  box(b.bbox(), box_b);
  // Each side keeps the edges that a point of the other's box can meet: in its latitudes and
  // not wholly to its left (the inside test casts its ray to the right).
  const double keep_a[4] = {box_b[0] - 1, box_b[1] - 1, INFINITY, box_b[3] + 1};
  const double keep_b[4] = {box_a[0] - 1, box_a[1] - 1, INFINITY, box_a[3] + 1};
  const Edges ea(ra, keep_a), eb(rb, keep_b);
  const double area = InsideSum(ea, eb, box_b, true) + InsideSum(eb, ea, box_a, false);
  return std::max(0.0, area);
}

}  // namespace veta::geo
