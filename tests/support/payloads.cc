#include "tests/support/payloads.h"

#include <google/protobuf/util/time_util.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "core/base/ids.h"
#include "core/base/strings.h"
#include "core/base/timestamp.h"
#include "core/verify/envelope.h"

namespace veta::payloads {
namespace {

using google::protobuf::util::TimeUtil;

[[noreturn]] void Fail(std::string_view what, std::string_view detail) {
  std::fprintf(stderr, "payloads: %.*s: %.*s\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

std::string Str(std::string_view s) { return std::string(s); }

}  // namespace

std::string Ruc(std::string_view first10) { return RucWithCheckDigit(first10); }

google::protobuf::Timestamp Time(std::string_view rfc3339) {
  google::protobuf::Timestamp t;
  if (!TimeUtil::FromString(Str(rfc3339), &t)) Fail("malformed time", rfc3339);
  return t;
}

google::protobuf::Timestamp Now() { return NowTimestamp(); }

std::string Square(double lon, double lat, double d) {
  return StrCat("{\"type\":\"Polygon\",\"coordinates\":[[[", lon - d, ",", lat - d, "],[", lon + d,
                ",", lat - d, "],[", lon + d, ",", lat + d, "],[", lon - d, ",", lat + d, "],[",
                lon - d, ",", lat - d, "]]]}");
}

std::string Sign(std::string_view type, const google::protobuf::Message& payload,
                 const std::vector<PrivateKey>& keys) {
  return SignBytes(type, payload.SerializeAsString(), keys);
}

std::string SignBytes(std::string_view type, std::string payload,
                      const std::vector<PrivateKey>& keys) {
  auto envelope = SignEnvelope(type, std::move(payload), keys);
  if (!envelope.ok()) Fail("signing an envelope", envelope.status().ToString());
  return envelope->SerializeAsString();
}

veta::v1::RegistryRecord RegistrarRecord(std::string_view id, const PublicKey& key,
                                         std::string_view name) {
  veta::v1::RegistryRecord r;
  auto* g = r.mutable_registrar();
  g->set_registrar_id(Str(id));
  g->set_name(Str(name));
  *g->add_keys() = key.ToProto();
  g->set_status(veta::v1::VIGENTE);
  return r;
}

veta::v1::RegistryRecord Miner(std::string_view ruc, const PublicKey& key,
                               veta::v1::RegistryStatus status, veta::v1::SizeClass size_class) {
  veta::v1::RegistryRecord r;
  auto* m = r.mutable_miner();
  m->set_ruc(Str(ruc));
  m->set_name(StrCat("Minera Test ", ruc));
  m->set_person_type(ruc.substr(0, 2) == "20" ? veta::v1::COMPANY : veta::v1::NATURAL_PERSON);
  m->set_size_class(size_class);
  m->set_category(veta::v1::CATEGORY_II);
  m->mutable_status()->set_status(status);
  *m->mutable_status()->mutable_since() = Time(kValidFrom);
  if (status != veta::v1::VIGENTE) m->mutable_status()->set_reason("test");
  *m->mutable_valid_from() = Time(kValidFrom);
  *m->mutable_valid_until() = Time(kValidUntil);
  *m->add_keys() = key.ToProto();
  return r;
}

veta::v1::RegistryRecord Unit(std::string_view code, std::string_view holder, double lon,
                              double lat, int64_t capacity, double half_side) {
  veta::v1::RegistryRecord r;
  auto* u = r.mutable_unit();
  u->set_concession_code(Str(code));
  u->set_name(StrCat("Concesion ", code));
  u->set_holder_ruc(Str(holder));
  u->set_ubigeo("170101");  // Tambopata, Madre de Dios
  u->set_geometry_geojson(Square(lon, lat, half_side));
  u->set_activity(veta::v1::EXTRACTION);
  u->set_capacity_ore_g_per_day(capacity);
  u->mutable_status()->set_status(veta::v1::VIGENTE);
  return r;
}

veta::v1::RegistryRecord PartyRecord(std::string_view ruc, veta::v1::PartyKind kind,
                                     const PublicKey& key) {
  veta::v1::RegistryRecord r;
  auto* p = r.mutable_party();
  p->set_ruc(Str(ruc));
  p->set_name(StrCat("Empresa ", ruc));
  p->set_kind(kind);
  p->mutable_status()->set_status(veta::v1::VIGENTE);
  *p->mutable_valid_from() = Time(kValidFrom);
  *p->mutable_valid_until() = Time(kValidUntil);
  *p->add_keys() = key.ToProto();
  if (kind == veta::v1::PLANT) {
    p->set_processing_capacity_ore_g_per_day(100 * units::kGramsPerTonne);
  }
  return r;
}

veta::v1::RegistryRecord SelectorRecord(std::string_view dni, const PublicKey& key,
                                        const std::vector<std::string>& allowed_units) {
  veta::v1::RegistryRecord r;
  auto* s = r.mutable_selector();
  s->set_dni(Str(dni));
  s->set_name("Maria Quispe");
  s->set_association("Asociacion de Pallaqueras");
  s->mutable_status()->set_status(veta::v1::VIGENTE);
  *s->mutable_valid_from() = Time(kValidFrom);
  *s->mutable_valid_until() = Time(kValidUntil);
  *s->add_keys() = key.ToProto();
  for (const auto& unit : allowed_units) s->add_allowed_units(unit);
  return r;
}

veta::v1::RegistryRecord ZoneRecord(std::string_view id, veta::v1::ZoneKind kind,
                                    std::string_view geojson) {
  veta::v1::RegistryRecord r;
  auto* z = r.mutable_zone();
  z->set_zone_id(Str(id));
  z->set_kind(kind);
  z->set_name(StrCat("Zona ", id));
  z->set_legal_reference("Ley 28736");
  z->set_geometry_geojson(Str(geojson));
  z->set_in_force(true);
  return r;
}

veta::v1::RegistryRecord ParametersRecord() {
  veta::v1::RegistryRecord r;
  auto* p = r.mutable_parameters();
  p->mutable_grade_ppb_default()->set_min(units::kPpbPerGramPerTonne / 2);  // 0.5 g/t
  p->mutable_grade_ppb_default()->set_max(60 * units::kPpbPerGramPerTonne);
  p->mutable_recovery_ppm()->set_min(300000);  // 30%
  p->mutable_recovery_ppm()->set_max(950000);  // 95%
  p->set_selector_daily_limit_g(200000);       // 200 kg
  p->set_cash_flag_threshold_cents(3000000);   // S/ 30,000
  p->set_volume_jump_percent(500);
  return r;
}

veta::v1::RegistryRecord ParametersRecordV3() {
  veta::v1::RegistryRecord r = ParametersRecord();
  auto* p = r.mutable_parameters();
  p->set_rules_version(3);
  p->set_reference_price_cents_per_fine_g(kReferencePriceCentsPerFineG);
  *p->mutable_reference_price_date() = Now();
  p->set_reference_price_source("test: BCRP gold price in soles");
  return r;
}

veta::v1::Extraction ExtractionOf(std::string_view lot, std::string_view extractor,
                                  std::string_view unit, double lon, double lat, int64_t ore_g,
                                  int64_t grade_ppb, uint64_t nonce) {
  veta::v1::Extraction x;
  x.set_lot_id(Str(lot));
  x.set_extractor_id(Str(extractor));
  x.set_unit_code(Str(unit));
  x.mutable_point()->set_longitude(lon);
  x.mutable_point()->set_latitude(lat);
  *x.mutable_time() = Now();
  x.set_ore_g(ore_g);
  x.set_grade_ppb(grade_ppb);
  x.set_nonce(nonce);
  return x;
}

veta::v1::Sale SaleOf(std::string_view lot, std::string_view seller, std::string_view buyer,
                      std::string_view buyer_lot, int64_t ore_g, uint64_t nonce) {
  veta::v1::Sale s;
  s.set_lot_id(Str(lot));
  s.set_seller_id(Str(seller));
  s.set_buyer_ruc(Str(buyer));
  s.set_buyer_lot_id(Str(buyer_lot));
  s.set_quantity_ore_g(ore_g);
  s.set_price_cents(ore_g * 2);  // S/ 20 a kg
  s.set_payment(veta::v1::BANK_TRANSFER);
  *s.mutable_time() = Now();
  s.set_nonce(nonce);
  return s;
}

veta::v1::Sale GoldSaleOf(std::string_view lot, std::string_view seller, std::string_view buyer,
                          std::string_view buyer_lot, int64_t gold_mg, uint64_t nonce) {
  veta::v1::Sale s = SaleOf(lot, seller, buyer, buyer_lot, 0, nonce);
  s.set_quantity_mg(gold_mg);
  s.set_price_cents(gold_mg * 30);  // S/ 300 a gram
  return s;
}

veta::v1::Processing ProcessingOf(std::string_view plant_ruc,
                                  const std::vector<ProcessingIn>& inputs,
                                  const std::vector<ProcessingOut>& outputs, uint64_t nonce) {
  veta::v1::Processing p;
  p.set_plant_ruc(Str(plant_ruc));
  for (const auto& in : inputs) {
    auto* i = p.add_inputs();
    i->set_lot_id(in.lot);
    i->set_ore_g(in.ore_g);
    i->set_gold_mg(in.gold_mg);
  }
  for (const auto& out : outputs) {
    auto* o = p.add_outputs();
    o->set_lot_id(out.lot);
    o->set_gold_mg(out.gold_mg);
    o->set_fineness_ppb(out.fineness_ppb);
  }
  *p.mutable_time() = Now();
  p.set_nonce(nonce);
  return p;
}

veta::v1::Export ExportOf(std::string_view lot, std::string_view exporter_ruc,
                          std::string_view country, std::string_view customs_declaration,
                          uint64_t nonce) {
  veta::v1::Export e;
  e.set_lot_id(Str(lot));
  e.set_exporter_ruc(Str(exporter_ruc));
  e.set_destination_country(Str(country));
  e.set_customs_declaration(Str(customs_declaration));
  *e.mutable_time() = Now();
  e.set_nonce(nonce);
  return e;
}

veta::v1::Correction CorrectionOf(uint64_t sequence, std::string_view reason, uint64_t nonce) {
  veta::v1::Correction c;
  c.set_corrected_sequence(sequence);
  c.set_reason(Str(reason));
  *c.mutable_time() = Now();
  c.set_nonce(nonce);
  return c;
}

veta::v1::KeyRegistration KeyRegistrationOf(const PublicKey& key, std::string_view holder) {
  veta::v1::KeyRegistration reg;
  *reg.mutable_key() = key.ToProto();
  reg.set_holder(Str(holder));
  return reg;
}

veta::v1::Memo MemoOf(std::string_view text, std::string_view subject, uint64_t nonce) {
  veta::v1::Memo memo;
  memo.set_subject(Str(subject));
  memo.set_text(Str(text));
  memo.set_nonce(nonce);
  return memo;
}

}  // namespace veta::payloads
