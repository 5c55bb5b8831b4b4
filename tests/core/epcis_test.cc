// The EPCIS 2.0 export: a custody chain (extraction, sale to a plant, processing, sale of the
// gold to an exporter, export, correction) as one document, validated by GS1's JSON schema
// (with Python's jsonschema, formats checked); broken documents must fail the same validator.
#include "core/read/epcis.h"
#include "core/base/strings.h"

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/core/registry_fixture.h"

namespace veta {
namespace {

using testing::Ruc;

constexpr double kLon = -69.9, kLat = -12.6;
constexpr std::string_view kBase = "https://veta.gob.pe";

// Validates argv[2] against the schema argv[1]. Exit 0: valid, and one "EVENT ..." line per
// event; 1: invalid, with the errors; 77: the validator cannot run here (a failure: the
// schema check is what these tests are for; tools/install-deps.sh --tests installs it).
constexpr std::string_view kValidator = R"PY(
import json, re, sys
try:
    import jsonschema
except ImportError:
    print("/usr/bin/python3 has no jsonschema: apt-get install python3-jsonschema")
    sys.exit(77)
try:
    import rfc3987  # noqa: F401 -- jsonschema checks the "uri" format with it
except ImportError:
    print("/usr/bin/python3 has no rfc3987, so jsonschema would not check URIs: "
          "apt-get install python3-rfc3987")
    sys.exit(77)
from datetime import datetime

with open(sys.argv[1], encoding="utf-8") as f:
    schema = json.load(f)
with open(sys.argv[2], encoding="utf-8") as f:
    doc = json.load(f)
cls = jsonschema.validators.validator_for(schema)
if cls is not jsonschema.Draft7Validator:
    print("the schema is not draft-07 but", cls.__name__)
    sys.exit(2)
cls.check_schema(schema)

checker = jsonschema.FormatChecker()
RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")

# jsonschema 4.10 checks "date-time" only with rfc3339-validator, which Debian 12 lacks.
@checker.checks("date-time", raises=ValueError)
def date_time(value):
    if not isinstance(value, str):
        return True
    m = RFC3339.match(value)
    if not m:
        raise ValueError("not an RFC 3339 date-time")
    zone = "+00:00" if m.group(4).upper() == "Z" else m.group(4)
    datetime.fromisoformat(m.group(1) + "T" + m.group(2) + zone)
    return True

for fmt in ("uri", "date-time"):
    if fmt not in checker.checkers:
        print("jsonschema would not check the format", fmt)
        sys.exit(77)

errors = list(cls(schema, format_checker=checker).iter_errors(doc))
if errors:
    for e in errors[:10]:
        print("INVALID at /" + "/".join(map(str, e.absolute_path)) + ":", e.message)
        leaf = jsonschema.exceptions.best_match([e])
        if leaf is not e:
            print("  best match at /" + "/".join(map(str, leaf.absolute_path)) + ":", leaf.message)
    sys.exit(1)
for e in doc["epcisBody"]["eventList"]:
    print("EVENT", e["type"], e.get("bizStep", "-"), e["eventID"], e["veta:sequence"],
          "error" if "errorDeclaration" in e else "-")
print("VALID")
)PY";

struct Validation {
  int status = -1;  // the validator's exit status
  std::string output;
};

class EpcisTest : public testing::RegistryFixture {
 protected:
  void SetUp() override {
    RegistryFixture::SetUp();
    ExpectAccepted(Registry(Miner(miner_, miner_key_)));
    ExpectAccepted(Registry(Unit("MD-0001", miner_, kLon, kLat)));
    ExpectAccepted(Registry(PartyRecord(plant_, veta::v1::PLANT, plant_key_)));
    ExpectAccepted(Registry(PartyRecord(exporter_, veta::v1::EXPORTER, exporter_key_)));
  }

  // extraction -> sale to the plant -> processing -> sale of the gold to the exporter -> export
  // -> an unrelated extraction -> correction of the export.
  void BuildChain() {
    extraction_ = ExpectAccepted(Extraction(std::string(kOreLot), miner_, "MD-0001", kLon, kLat,
                                            1000_kg, miner_key_))
                      .sequence;
    veta::v1::Sale ore = SaleOf(std::string(kOreLot), miner_, plant_, "P-ORE-1", 1000_kg);
    ore_sale_ = ExpectAccepted(Sign(kSaleType, ore, {miner_key_, plant_key_})).sequence;

    veta::v1::Processing p;
    p.set_plant_ruc(plant_);
    auto* in = p.add_inputs();
    in->set_lot_id("P-ORE-1");
    in->set_ore_g(1000_kg);
    auto* out = p.add_outputs();
    out->set_lot_id("GOLD-1");
    out->set_gold_mg(8_g);  // 7.2 g fine: within 1000 kg * 8 g/t * 0.95 * 1.02
    out->set_fineness_ppb(900_permille);
    *p.mutable_time() = testing::Now();
    p.set_nonce(++nonce_);
    processing_ = ExpectAccepted(Sign(kProcessingType, p, {plant_key_})).sequence;

    veta::v1::Sale gold = SaleOf("GOLD-1", plant_, exporter_, "X-1", 0_kg);
    gold.set_quantity_mg(8_g);
    gold.set_price_cents(2000_soles);
    gold_sale_ = ExpectAccepted(Sign(kSaleType, gold, {plant_key_, exporter_key_})).sequence;

    veta::v1::Export e;
    e.set_lot_id("X-1");
    e.set_exporter_ruc(exporter_);
    e.set_destination_country("CH");
    e.set_customs_declaration("DAM-1");
    *e.mutable_time() = testing::Now();
    e.set_nonce(++nonce_);
    export_ = ExpectAccepted(Sign(kExportType, e, {exporter_key_})).sequence;

    other_ = ExpectAccepted(Extraction("ORE-2", miner_, "MD-0001", kLon, kLat, 200_kg, miner_key_))
                 .sequence;

    veta::v1::Correction c;
    c.set_corrected_sequence(export_);
    c.set_reason("declared \"in error\"\nby the exporter");
    *c.mutable_time() = testing::Now();
    c.set_nonce(++nonce_);
    correction_ = ExpectAccepted(Sign(kCorrectionType, c, {registrar_})).sequence;
  }

  absl::StatusOr<EpcisResult> Document(EpcisOptions options = {}) {
    return EpcisDocument(ledger_->store(), ledger_->size(), options);
  }

  Validation Validate(const std::string& json) {
    const std::string doc = files_.Sub(StrCat("doc-", ++documents_, ".json"));
    const std::string script = files_.Sub("validate.py");
    std::ofstream(doc, std::ios::binary) << json;
    std::ofstream(script, std::ios::binary) << kValidator;
    Validation v;
    if (!std::filesystem::exists("/usr/bin/python3")) {
      v.status = 77;
      v.output = "/usr/bin/python3 is not installed";
      return v;
    }
    const std::string command = StrCat("/usr/bin/python3 '", script, "' '", VETA_SHARED_DATA,
                                       "/epcis/EPCIS-JSON-Schema.json' '", doc, "' 2>&1");
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return v;
    char buf[4096];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) v.output.append(buf, n);
    const int status = ::pclose(pipe);
    v.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return v;
  }

  std::string EventLine(std::string_view type, std::string_view step, uint64_t seq,
                        std::string_view suffix = "", uint64_t recorded = 0,
                        bool error = false) const {
    return StrCat("EVENT ", type, " ", step, " ", kBase, "/entry/", seq, suffix, " ",
                  recorded == 0 ? seq : recorded, " ", error ? "error" : "-");
  }

  // The "EVENT" lines the validator printed.
  static std::vector<std::string> Events(const std::string& output) {
    std::vector<std::string> lines;
    std::istringstream in(output);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("EVENT ", 0) == 0) lines.push_back(line);
    }
    return lines;
  }

  static std::string ReplaceFirst(std::string s, std::string_view from, std::string_view to) {
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) s.replace(at, from.size(), to);
    return s;
  }

  static constexpr std::string_view kOreLot = "ORE:1/a#b";  // colon, slash and hash: encoded
  static constexpr std::string_view kOreLotUri = "https://veta.gob.pe/lot/ORE%3A1%2Fa%23b";

  testing::TempDir files_;
  int documents_ = 0;
  const std::string miner_ = Ruc("2060000001");
  const std::string plant_ = Ruc("2070000003");
  const std::string exporter_ = Ruc("2070000005");
  PrivateKey miner_key_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  PrivateKey plant_key_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  PrivateKey exporter_key_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  uint64_t extraction_ = 0, ore_sale_ = 0, processing_ = 0, gold_sale_ = 0, export_ = 0, other_ = 0,
           correction_ = 0;
};

#define VALIDATE(var, json)        \
  Validation var = Validate(json); \
  ASSERT_NE(var.status, 77) << var.output << " (run tools/install-deps.sh --tests)"

TEST_F(EpcisTest, ChainValidatesAgainstGs1Schema) {
  BuildChain();
  auto doc = Document();
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->next_start, ledger_->size());
  EXPECT_EQ(doc->events, 9u);
  VALIDATE(v, doc->json);
  ASSERT_EQ(v.status, 0) << v.output << "\n" << doc->json;
  const std::vector<std::string> expected = {
      EventLine("ObjectEvent", "commissioning", extraction_),
      EventLine("ObjectEvent", "shipping", ore_sale_, "#ship"),
      EventLine("ObjectEvent", "receiving", ore_sale_, "#receive"),
      EventLine("TransformationEvent", "commissioning", processing_),
      EventLine("ObjectEvent", "shipping", gold_sale_, "#ship"),
      EventLine("ObjectEvent", "receiving", gold_sale_, "#receive"),
      EventLine("ObjectEvent", "departing", export_),
      EventLine("ObjectEvent", "commissioning", other_),
      EventLine("ObjectEvent", "departing", export_, "", correction_, true),
  };
  EXPECT_EQ(Events(v.output), expected) << v.output;

  const std::string& j = doc->json;
  for (std::string_view want : {
           std::string_view("\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/"
                            "epcis-context.jsonld\",{\"veta\":\"https://veta.gob.pe/ns/epcis#\"}]"),
           std::string_view("\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\""),
           std::string_view("\"eventTimeZoneOffset\":\"-05:00\""),
           std::string_view("\"readPoint\":{\"id\":\"geo:-12.6,-69.9\"}"),
           std::string_view("\"bizLocation\":{\"id\":\"https://veta.gob.pe/unit/MD-0001\"}"),
           std::string_view("\"quantity\":1000000,\"uom\":\"GRM\""),  // 1,000 kg of ore
           std::string_view("\"epcClass\":\"https://veta.gob.pe/lot/GOLD-1\",\"quantity\":8000,"
                            "\"uom\":\"MGM\""),  // 8 g of gold
           std::string_view("\"destinationList\":[{\"type\":\"location\",\"destination\":"
                            "\"https://veta.gob.pe/country/CH\"}]"),
           std::string_view("{\"type\":\"desadv\",\"bizTransaction\":"
                            "\"https://veta.gob.pe/customs/DAM-1\"}"),
           std::string_view("\"reason\":\"did_not_occur\",\"veta:reason\":\"declared "
                            "\\\"in error\\\"\\nby the exporter\""),
           std::string_view("\"veta:finenessPpb\":900000000"),
       }) {
    EXPECT_NE(j.find(want), std::string::npos) << want << "\n" << j;
  }
  EXPECT_NE(j.find(StrCat("\"epcClass\":\"", kOreLotUri, "\"")), std::string::npos) << j;
  EXPECT_NE(j.find(StrCat("\"type\":\"owning_party\",\"source\":\"https://veta.gob.pe/party/",
                          miner_, "\"")),
            std::string::npos)
      << j;
  EXPECT_NE(j.find(StrCat("\"veta:correctedEntry\":", export_)), std::string::npos) << j;
}

TEST_F(EpcisTest, BrokenDocumentsFailTheSchema) {
  BuildChain();
  auto doc = Document();
  ASSERT_TRUE(doc.ok()) << doc.status();
  VALIDATE(ok, doc->json);
  ASSERT_EQ(ok.status, 0) << ok.output;
  const std::string& j = doc->json;
  const std::string creation = j.substr(j.find("\"creationDate\":\""), 16 + 30);
  const struct {
    std::string what, json, says;
  } broken[] = {
      {"a bizStep outside CBV that is not a URI",
       ReplaceFirst(j, "\"bizStep\":\"commissioning\"", "\"bizStep\":\"transforming\""),
       "transforming"},
      {"an eventID that is not a URI",
       ReplaceFirst(j, StrCat("\"eventID\":\"", kBase, "/entry/", extraction_, "\""),
                    "\"eventID\":\"entry 6\""),
       "entry 6"},
      {"no eventTimeZoneOffset", ReplaceFirst(j, "\"eventTimeZoneOffset\":\"-05:00\",", ""),
       "eventTimeZoneOffset"},
      {"a quantity as a string",
       ReplaceFirst(j, "\"quantity\":1000000,", "\"quantity\":\"1000000\","), "1000000"},
      {"a date that is no date",
       ReplaceFirst(j, creation.substr(0, creation.find('"', 16) + 1),
                    "\"creationDate\":\"2026-13-45T00:00:00Z\""),
       "2026-13-45"},
      {"an extension key that is not a URI", ReplaceFirst(j, "\"veta:sequence\"", "\"sequence\""),
       "sequence"},
      {"an unknown disposition", ReplaceFirst(j, "\"in_transit\"", "\"in transit\""), "in transit"},
  };
  for (const auto& b : broken) {
    Validation v = Validate(b.json);
    EXPECT_EQ(v.status, 1) << b.what << ": " << v.output;
    EXPECT_NE(v.output.find(b.says), std::string::npos) << b.what << ": " << v.output;
  }
}

TEST_F(EpcisTest, LimitsAndBaseUri) {
  BuildChain();
  EpcisOptions o;
  o.limit = kEpcisEntriesMax + 1;
  EXPECT_EQ(Document(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.limit = kEpcisEntriesMax;
  EXPECT_TRUE(Document(o).ok());

  for (std::string bad :
       {"", "veta.gob.pe", "ftp://veta.gob.pe", "https://", "https:///x", "https://veta.gob.pe/a b",
        "https://veta.gob.pe/?q", "https://x/#f", "https://x/%zz", "https://x/\"y"}) {
    EpcisOptions b;
    b.base_uri = bad;
    EXPECT_EQ(Document(b).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EpcisOptions other;
  other.base_uri = "https://example.org/veta/";  // the trailing slash is dropped
  auto doc = Document(other);
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_NE(
      doc->json.find(StrCat("\"eventID\":\"https://example.org/veta/entry/", extraction_, "\"")),
      std::string::npos);
  EXPECT_NE(doc->json.find("{\"veta\":\"https://example.org/veta/ns/epcis#\"}"), std::string::npos);
  VALIDATE(v, doc->json);
  EXPECT_EQ(v.status, 0) << v.output;

  // Entries that the store does not hold are lost, not skipped.
  auto missing = EpcisDocument(ledger_->store(), ledger_->size() + 3, {});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kDataLoss) << missing.status();
}

TEST_F(EpcisTest, PagesFollowNextStart) {
  BuildChain();
  const uint64_t visible = ledger_->size();
  std::vector<std::string> lines;
  size_t events = 0;
  EpcisOptions o;
  o.limit = 2;
  for (uint64_t start = 0; start < visible;) {
    o.start = start;
    auto page = Document(o);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_EQ(page->next_start, std::min(start + 2, visible));
    EXPECT_NE(
        page->json.find(StrCat("\"veta:start\":", start, ",\"veta:nextStart\":", page->next_start)),
        std::string::npos);
    events += page->events;
    VALIDATE(v, page->json);
    ASSERT_EQ(v.status, 0) << v.output;
    for (auto& l : Events(v.output)) lines.push_back(l);
    start = page->next_start;
  }
  EXPECT_EQ(events, 9u);
  EXPECT_EQ(lines.size(), 9u);
  // The same events as one document, in the same order.
  auto whole = Document();
  ASSERT_TRUE(whole.ok());
  Validation all = Validate(whole->json);
  EXPECT_EQ(Events(all.output), lines);

  // At the end: nothing, and the same start again.
  o.start = visible;
  auto end = Document(o);
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(end->events, 0u);
  EXPECT_EQ(end->next_start, visible);
  EXPECT_NE(end->json.find("\"eventList\":[]"), std::string::npos) << end->json;
  Validation empty = Validate(end->json);
  EXPECT_EQ(empty.status, 0) << empty.output;
  o.start = visible + 5;
  auto past = Document(o);
  ASSERT_TRUE(past.ok());
  EXPECT_EQ(past->events, 0u);
  EXPECT_EQ(past->next_start, visible + 5);
}

TEST_F(EpcisTest, ByteCapEndsAPageEarly) {
  BuildChain();
  const uint64_t visible = ledger_->size();
  EpcisOptions o;
  o.bytes_max = 1;  // each page: the events of one entry
  size_t events = 0, pages_with_events = 0;
  for (uint64_t start = 0; start < visible;) {
    o.start = start;
    auto page = Document(o);
    ASSERT_TRUE(page.ok()) << page.status();
    ASSERT_GT(page->next_start, start);
    events += page->events;
    if (page->events > 0) ++pages_with_events;
    if (page->next_start < visible) {
      // Stopped at the next entry with events, which is left for the next page.
      EXPECT_TRUE(page->next_start == ore_sale_ || page->next_start == processing_ ||
                  page->next_start == gold_sale_ || page->next_start == export_ ||
                  page->next_start == other_ || page->next_start == correction_)
          << page->next_start;
    }
    start = page->next_start;
  }
  EXPECT_EQ(events, 9u);
  EXPECT_EQ(pages_with_events, 7u);  // seven transaction entries
}

TEST_F(EpcisTest, LotFilter) {
  BuildChain();
  const struct {
    std::string lot;
    std::vector<std::string> lines;
  } cases[] = {
      {std::string(kOreLot),
       {EventLine("ObjectEvent", "commissioning", extraction_),
        EventLine("ObjectEvent", "shipping", ore_sale_, "#ship"),
        EventLine("ObjectEvent", "receiving", ore_sale_, "#receive")}},
      {"GOLD-1",
       {EventLine("TransformationEvent", "commissioning", processing_),
        EventLine("ObjectEvent", "shipping", gold_sale_, "#ship"),
        EventLine("ObjectEvent", "receiving", gold_sale_, "#receive")}},
      {"X-1",
       {EventLine("ObjectEvent", "shipping", gold_sale_, "#ship"),
        EventLine("ObjectEvent", "receiving", gold_sale_, "#receive"),
        EventLine("ObjectEvent", "departing", export_),
        EventLine("ObjectEvent", "departing", export_, "", correction_, true)}},
      {"ORE-2", {EventLine("ObjectEvent", "commissioning", other_)}},
      {"NO-SUCH-LOT", {}},
  };
  for (const auto& c : cases) {
    EpcisOptions o;
    o.lot_id = c.lot;
    auto doc = Document(o);
    ASSERT_TRUE(doc.ok()) << doc.status();
    EXPECT_EQ(doc->events, c.lines.size()) << c.lot;
    EXPECT_EQ(doc->next_start, ledger_->size());
    VALIDATE(v, doc->json);
    ASSERT_EQ(v.status, 0) << v.output;
    EXPECT_EQ(Events(v.output), c.lines) << c.lot;
  }
}

TEST(EpcisJsonTest, QuoteEscapesAndRepairsUtf8) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\t\x01\x1f"), "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f\"");
  EXPECT_EQ(JsonQuote("Cusco \xC3\xB1 \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "\"Cusco \xC3\xB1 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(JsonQuote("\xFF"), StrCat("\"", fffd, "\""));
  EXPECT_EQ(JsonQuote("\xC0\xAF"), StrCat("\"", fffd, fffd, "\""));            // overlong
  EXPECT_EQ(JsonQuote("\xED\xA0\x80"), StrCat("\"", fffd, fffd, fffd, "\""));  // surrogate
  EXPECT_EQ(JsonQuote("\xE2\x82"), StrCat("\"", fffd, fffd, "\""));            // truncated
  EXPECT_EQ(JsonQuote(std::string_view("\0", 1)), "\"\\u0000\"");
}

}  // namespace
}  // namespace veta
