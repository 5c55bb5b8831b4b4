#include "core/read/epcis.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/read/queries.h"
#include "core/verify/envelope.h"

namespace veta {
namespace {

using google::protobuf::util::TimeUtil;

constexpr std::string_view kTimeZoneOffset = "-05:00";  // Peru: UTC-5, no daylight saving

// Members of a JSON object, in the order they are added.
class JsonObject {
 public:
  JsonObject& Raw(std::string_view key, std::string_view json) {
    if (!body_.empty()) body_.push_back(',');
    body_ += JsonQuote(key);
    body_.push_back(':');
    body_.append(json);
    return *this;
  }
  JsonObject& String(std::string_view key, std::string_view value) {
    return Raw(key, JsonQuote(value));
  }
  JsonObject& Unsigned(std::string_view key, uint64_t value) {
    return Raw(key, std::to_string(value));
  }
  JsonObject& Integer(std::string_view key, int64_t value) {
    return Raw(key, std::to_string(value));
  }
  // Appends another object's members.
  JsonObject& Merge(const JsonObject& other) {
    if (other.body_.empty()) return *this;
    if (!body_.empty()) body_.push_back(',');
    body_ += other.body_;
    return *this;
  }
  std::string Json() const { return StrCat("{", body_, "}"); }

 private:
  std::string body_;
};

std::string JsonArray(const std::vector<std::string>& items) {
  return StrCat("[", StrJoin(items, ","), "]");
}

// RFC 3986 percent-encoding of everything but the unreserved characters.
std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0F]);
    }
  }
  return out;
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// An http(s) URI without query or fragment, in URI characters only; trailing slashes dropped.
absl::StatusOr<std::string> CheckBaseUri(std::string_view uri) {
  while (!uri.empty() && uri.back() == '/') uri.remove_suffix(1);
  const std::string_view scheme = uri.starts_with("https://") ? "https://" : "http://";
  const auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        StrCat("base URI '", uri.substr(0, 200), "' ", why,
               " (it must be http:// or https://, a host, an optional path)"));
  };
  if (!uri.starts_with(scheme) || uri.size() == scheme.size() || uri[scheme.size()] == '/') {
    return bad("has no http(s) scheme or no host");
  }
  static constexpr std::string_view kAllowed = "-._~:/@!$&'()*+,;=";
  for (size_t i = 0; i < uri.size(); ++i) {
    const char c = uri[i];
    if (c == '%') {
      if (i + 2 >= uri.size() || !IsHex(uri[i + 1]) || !IsHex(uri[i + 2])) {
        return bad("has a malformed percent-escape");
      }
      continue;
    }
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && kAllowed.find(c) == std::string_view::npos) {
      return bad("has a character that a base URI may not hold");
    }
  }
  return std::string(uri);
}

struct Uris {
  std::string base;
  std::string Lot(std::string_view id) const { return StrCat(base, "/lot/", PercentEncode(id)); }
  std::string Party(std::string_view id) const {
    return StrCat(base, "/party/", PercentEncode(id));
  }
  std::string Unit(std::string_view code) const {
    return StrCat(base, "/unit/", PercentEncode(code));
  }
  std::string Country(std::string_view code) const {
    return StrCat(base, "/country/", PercentEncode(code));
  }
  std::string Customs(std::string_view declaration) const {
    return StrCat(base, "/customs/", PercentEncode(declaration));
  }
  std::string Entry(uint64_t sequence) const { return StrCat(base, "/entry/", sequence); }
  std::string Vocabulary() const { return StrCat(base, "/ns/epcis#"); }
};

// RFC 3339 in UTC, the time clamped to what a Timestamp may hold (years 1 to 9999).
std::string Rfc3339(const google::protobuf::Timestamp& t) {
  google::protobuf::Timestamp c;
  c.set_seconds(std::clamp<int64_t>(t.seconds(), TimeUtil::kTimestampMinSeconds,
                                    TimeUtil::kTimestampMaxSeconds));
  c.set_nanos(std::clamp<int32_t>(t.nanos(), 0, 999999999));
  return TimeUtil::ToString(c);
}

std::string Now() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  google::protobuf::Timestamp t;
  t.set_seconds(micros / 1000000);
  t.set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  return Rfc3339(t);
}

// A coordinate in fixed notation, to 1e-9 degree, without trailing zeros.
std::string Degrees(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 9);
  std::string s(buf, r.ptr);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

// RFC 5870 "geo:lat,lon" (WGS84), when the point is one.
std::optional<std::string> GeoUri(const veta::v1::GeoPoint& p) {
  if (!std::isfinite(p.latitude()) || !std::isfinite(p.longitude()) ||
      std::abs(p.latitude()) > 90 || std::abs(p.longitude()) > 180) {
    return std::nullopt;
  }
  return StrCat("geo:", Degrees(p.latitude()), ",", Degrees(p.longitude()));
}

std::string IdObject(std::string_view uri) { return JsonObject().String("id", uri).Json(); }

// A quantityElement; the quantity and its unit are left out when the quantity is unknown.
// Quantities are integers in the ledger's units: grams of ore (UN/CEFACT GRM), milligrams of
// gold (MGM).
constexpr std::string_view kOreUom = "GRM";
constexpr std::string_view kGoldUom = "MGM";

std::string Quantity(const Uris& u, std::string_view lot, std::optional<int64_t> quantity,
                     std::string_view uom) {
  JsonObject o;
  o.String("epcClass", u.Lot(lot));
  if (quantity) o.Integer("quantity", *quantity).String("uom", uom);
  return o.Json();
}

std::string BizTransactions(std::string_view type, std::string_view uri) {
  return JsonArray({JsonObject().String("type", type).String("bizTransaction", uri).Json()});
}

// A sourceList or destinationList of one element; `field` is "source" or "destination".
std::string Ends(std::string_view field, std::string_view type, std::string_view uri) {
  return JsonArray({JsonObject().String("type", type).String(field, uri).Json()});
}

struct Event {
  std::string type;
  std::string event_time;
  std::string record_time;
  std::string event_id;
  JsonObject body;  // what follows the common fields: action, what, why, where
  uint64_t sequence = 0;
  std::string error_declaration;  // a JSON object, or empty
  std::optional<uint64_t> corrected_entry;
};

std::string Render(const Event& e) {
  JsonObject o;
  o.String("type", e.type)
      .String("eventTime", e.event_time)
      .String("recordTime", e.record_time)
      .String("eventTimeZoneOffset", kTimeZoneOffset)
      .String("eventID", e.event_id);
  if (!e.error_declaration.empty()) o.Raw("errorDeclaration", e.error_declaration);
  o.Merge(e.body).Unsigned("veta:sequence", e.sequence);
  if (e.corrected_entry) o.Unsigned("veta:correctedEntry", *e.corrected_entry);
  return o.Json();
}

// Whether a transaction creates, consumes or exports the lot.
bool Touches(const DecodedEnvelope& d, std::string_view lot) {
  switch (d.kind) {
    case PayloadKind::kExtraction:
      return d.extraction.lot_id() == lot;
    case PayloadKind::kSale:
      return d.sale.lot_id() == lot || d.sale.buyer_lot_id() == lot;
    case PayloadKind::kProcessing:
      for (const auto& in : d.processing.inputs()) {
        if (in.lot_id() == lot) return true;
      }
      for (const auto& out : d.processing.outputs()) {
        if (out.lot_id() == lot) return true;
      }
      return false;
    case PayloadKind::kExport:
      return d.export_.lot_id() == lot;
    default:
      return false;
  }
}

class Mapper {
 public:
  Mapper(const Reader& store, Uris uris) : store_(store), u_(std::move(uris)) {}

  // The events of an entry, restricted to those that touch `lot` when it is not empty.
  absl::StatusOr<std::vector<Event>> EventsOf(const veta::v1::Entry& entry, std::string_view lot) {
    ASSIGN_OR_RETURN(DecodedEnvelope d, Decode(entry));
    if (d.kind == PayloadKind::kCorrection) return CorrectionEvents(entry, d.correction, lot);
    if (!lot.empty() && !Touches(d, lot)) return std::vector<Event>{};
    return TransactionEvents(entry, d);
  }

 private:
  absl::StatusOr<DecodedEnvelope> Decode(const veta::v1::Entry& entry) const {
    // The entry was accepted under the ledger's limits, whatever they were then.
    EnvelopeLimits limits;
    limits.envelope_bytes_max = std::numeric_limits<size_t>::max();
    limits.signatures_max = std::numeric_limits<size_t>::max();
    auto d = DecodeEnvelope(entry.envelope(), limits);
    if (!d.ok()) {
      return absl::DataLossError(
          StrCat("entry ", entry.sequence(), " does not decode: ", d.status().message()));
    }
    return d;
  }

  Event Base(std::string_view type, const veta::v1::Entry& entry,
             const google::protobuf::Timestamp& event_time, std::string_view suffix = "") const {
    Event e;
    e.type = std::string(type);
    e.event_time = Rfc3339(event_time);
    e.record_time = Rfc3339(entry.time());
    e.event_id = StrCat(u_.Entry(entry.sequence()), suffix);
    e.sequence = entry.sequence();
    return e;
  }

  absl::StatusOr<std::vector<Event>> TransactionEvents(const veta::v1::Entry& entry,
                                                       const DecodedEnvelope& d) const {
    switch (d.kind) {
      case PayloadKind::kExtraction:
        return std::vector<Event>{Extraction(entry, d.extraction)};
      case PayloadKind::kSale:
        return Sale(entry, d.sale);
      case PayloadKind::kProcessing:
        return std::vector<Event>{Processing(entry, d.processing)};
      case PayloadKind::kExport: {
        ASSIGN_OR_RETURN(Event e, Export(entry, d.export_));
        return std::vector<Event>{std::move(e)};
      }
      default:
        return std::vector<Event>{};
    }
  }

  Event Extraction(const veta::v1::Entry& entry, const veta::v1::Extraction& x) const {
    Event e = Base("ObjectEvent", entry, x.time());
    e.body.String("action", "ADD")
        .Raw("quantityList", JsonArray({Quantity(u_, x.lot_id(), x.ore_g(), kOreUom)}))
        .String("bizStep", "commissioning")
        .String("disposition", "active");
    if (x.has_point()) {
      if (auto geo = GeoUri(x.point())) e.body.Raw("readPoint", IdObject(*geo));
    }
    e.body.Raw("bizLocation", IdObject(u_.Unit(x.unit_code())));
    e.body.Raw("ilmd", JsonObject()
                           .String("veta:extractor", u_.Party(x.extractor_id()))
                           .Integer("veta:gradePpb", x.grade_ppb())
                           .Json());
    return e;
  }

  std::vector<Event> Sale(const veta::v1::Entry& entry, const veta::v1::Sale& s) const {
    const bool gold = s.quantity_mg() != 0;
    const int64_t quantity = gold ? s.quantity_mg() : s.quantity_ore_g();
    const std::string_view uom = gold ? kGoldUom : kOreUom;
    const std::string transactions = BizTransactions("inv", u_.Entry(entry.sequence()));
    const std::string sources = Ends("source", "owning_party", u_.Party(s.seller_id()));
    const std::string destinations = Ends("destination", "owning_party", u_.Party(s.buyer_ruc()));
    std::vector<Event> events;
    Event ship = Base("ObjectEvent", entry, s.time(), "#ship");
    ship.body.String("action", "OBSERVE")
        .Raw("quantityList", JsonArray({Quantity(u_, s.lot_id(), quantity, uom)}))
        .String("bizStep", "shipping")
        .String("disposition", "in_transit")
        .Raw("bizTransactionList", transactions)
        .Raw("sourceList", sources)
        .Raw("destinationList", destinations);
    events.push_back(std::move(ship));
    Event receive = Base("ObjectEvent", entry, s.time(), "#receive");
    receive.body.String("action", "OBSERVE")
        .Raw("quantityList", JsonArray({Quantity(u_, s.buyer_lot_id(), quantity, uom)}))
        .String("bizStep", "receiving")
        .String("disposition", "in_progress")
        .Raw("bizTransactionList", transactions)
        .Raw("sourceList", sources)
        .Raw("destinationList", destinations)
        .String("veta:fromLot", u_.Lot(s.lot_id()));
    events.push_back(std::move(receive));
    return events;
  }

  Event Processing(const veta::v1::Entry& entry, const veta::v1::Processing& p) const {
    std::vector<std::string> inputs, outputs, fineness;
    for (const auto& in : p.inputs()) {
      const bool gold = in.gold_mg() != 0;
      inputs.push_back(
          Quantity(u_, in.lot_id(), gold ? in.gold_mg() : in.ore_g(), gold ? kGoldUom : kOreUom));
    }
    for (const auto& out : p.outputs()) {
      outputs.push_back(Quantity(u_, out.lot_id(), out.gold_mg(), kGoldUom));
      fineness.push_back(JsonObject()
                             .String("veta:lot", u_.Lot(out.lot_id()))
                             .Integer("veta:finenessPpb", out.fineness_ppb())
                             .Json());
    }
    Event e = Base("TransformationEvent", entry, p.time());
    e.body.Raw("inputQuantityList", JsonArray(inputs))
        .Raw("outputQuantityList", JsonArray(outputs))
        .String("bizStep", "commissioning")
        .String("disposition", "active")
        .Raw("bizLocation", IdObject(u_.Party(p.plant_ruc())))
        .Raw("ilmd", JsonObject().Raw("veta:outputs", JsonArray(fineness)).Json());
    return e;
  }

  absl::StatusOr<Event> Export(const veta::v1::Entry& entry, const veta::v1::Export& x) const {
    // The payload names the lot, not the milligrams: the whole lot leaves, and the lot's state
    // keeps how much that was while this export is its latest.
    std::optional<int64_t> mg;
    auto lot = GetLot(store_, x.lot_id());
    if (lot.ok() && lot->exported_at() == entry.sequence()) {
      mg = lot->exported_gold_mg();
    } else if (!lot.ok() && !absl::IsNotFound(lot.status())) {
      return lot.status();
    }
    Event e = Base("ObjectEvent", entry, x.time());
    e.body.String("action", "OBSERVE")
        .Raw("quantityList", JsonArray({Quantity(u_, x.lot_id(), mg, kGoldUom)}))
        .String("bizStep", "departing")
        .String("disposition", "in_transit")
        .Raw("bizTransactionList", BizTransactions("desadv", u_.Customs(x.customs_declaration())))
        .Raw("sourceList", Ends("source", "owning_party", u_.Party(x.exporter_ruc())))
        .Raw("destinationList",
             Ends("destination", "location", u_.Country(x.destination_country())));
    return e;
  }

  // EPCIS's error declaration: the corrected entry's events as they were, with the
  // correction's recordTime and an errorDeclaration.
  absl::StatusOr<std::vector<Event>> CorrectionEvents(const veta::v1::Entry& entry,
                                                      const veta::v1::Correction& c,
                                                      std::string_view lot) const {
    const uint64_t target = c.corrected_sequence();
    if (target >= entry.sequence()) return std::vector<Event>{};  // never accepted
    auto bytes = store_.Get(Family::kEntries, EncodeU64(target));
    if (absl::IsNotFound(bytes.status())) {
      return absl::DataLossError(
          StrCat("entry ", target, ", corrected by entry ", entry.sequence(), ", is missing"));
    }
    if (!bytes.ok()) return bytes.status();
    veta::v1::Entry corrected;
    if (!corrected.ParseFromString(*bytes) || corrected.sequence() != target) {
      return absl::DataLossError(StrCat("entry ", target, " is malformed"));
    }
    ASSIGN_OR_RETURN(DecodedEnvelope d, Decode(corrected));
    if (!lot.empty() && !Touches(d, lot)) return std::vector<Event>{};
    ASSIGN_OR_RETURN(std::vector<Event> events, TransactionEvents(corrected, d));
    const std::string declaration =
        JsonObject()
            .String("declarationTime", Rfc3339(c.has_time() ? c.time() : entry.time()))
            .String("reason", "did_not_occur")
            .String("veta:reason", c.reason())
            .Json();
    for (Event& e : events) {
      e.record_time = Rfc3339(entry.time());
      e.sequence = entry.sequence();
      e.error_declaration = declaration;
      e.corrected_entry = target;
    }
    return events;
  }

  const Reader& store_;
  const Uris u_;
};

}  // namespace

absl::StatusOr<EpcisResult> EpcisDocument(const Reader& store, uint64_t visible,
                                          const EpcisOptions& options) {
  if (options.limit > kEpcisEntriesMax) {
    return absl::InvalidArgumentError(StrCat("an EPCIS document reads at most ", kEpcisEntriesMax,
                                             " entries; ", options.limit, " were asked for"));
  }
  const uint64_t limit = options.limit == 0 ? kEpcisEntriesMax : options.limit;
  ASSIGN_OR_RETURN(std::string base, CheckBaseUri(options.base_uri));
  Mapper mapper(store, Uris{base});
  const uint64_t start = options.start;
  const uint64_t end = start >= visible ? start : start + std::min(limit, visible - start);

  EpcisResult result;
  result.next_start = end;
  std::string events;
  if (start < end) {
    const std::string upper = EncodeU64(end);
    std::unique_ptr<Cursor> it = store.NewCursor(Family::kEntries);
    uint64_t expect = start;
    bool stopped = false;
    for (it->Seek(EncodeU64(start)); it->Valid() && it->key() < upper; it->Next(), ++expect) {
      uint64_t seq = 0;
      if (!DecodeU64(it->key(), &seq) || seq != expect) {
        return absl::DataLossError(StrCat("entry ", expect, " is missing"));
      }
      veta::v1::Entry entry;
      if (!entry.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())) ||
          entry.sequence() != seq) {
        return absl::DataLossError(StrCat("entry ", seq, " is malformed"));
      }
      ASSIGN_OR_RETURN(std::vector<Event> mapped, mapper.EventsOf(entry, options.lot_id));
      std::string rendered;
      for (size_t i = 0; i < mapped.size(); ++i) {
        rendered += (result.events + i == 0) ? "\n" : ",\n";
        rendered += Render(mapped[i]);
      }
      if (result.events > 0 && events.size() + rendered.size() > options.bytes_max) {
        result.next_start = seq;
        stopped = true;
        break;
      }
      events += rendered;
      result.events += mapped.size();
    }
    if (!stopped) {
      RETURN_IF_ERROR(Annotate(it->status(), "read entries"));
      if (expect != end) return absl::DataLossError(StrCat("entry ", expect, " is missing"));
    }
  }
  if (result.events > 0) events += "\n";

  const std::string context = JsonArray(
      {JsonQuote(kEpcisContextUrl), JsonObject().String("veta", Uris{base}.Vocabulary()).Json()});
  JsonObject document;
  document.Raw("@context", context)
      .String("type", "EPCISDocument")
      .String("schemaVersion", "2.0")
      .String("creationDate", Now())
      .Unsigned("veta:start", start)
      .Unsigned("veta:nextStart", result.next_start)
      .Raw("epcisBody", StrCat("{\"eventList\":[", events, "]}"));
  result.json = document.Json();
  result.json.push_back('\n');
  return result;
}

}  // namespace veta
