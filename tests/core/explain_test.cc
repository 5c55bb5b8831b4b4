// Every refusal code the rules can return and every red flag has a plain explanation in
// Spanish and English (the list is the proto enums' own: a code added without an explanation
// fails here), and the departments are data/peru_departments.geojson's.
#include "core/read/explain.h"

#include <cstdlib>
#include <string>

#include "core/base/strings.h"
#include "core/rules/geo.h"
#include "core/verify/keys.h"
#include "gtest/gtest.h"

namespace veta {
namespace {

void ExpectComplete(const Explanation& e) {
  EXPECT_GT(e.title_es.size(), 5u) << e.code;
  EXPECT_GT(e.title_en.size(), 5u) << e.code;
  EXPECT_GT(e.text_es.size(), 30u) << e.code;
  EXPECT_GT(e.text_en.size(), 30u) << e.code;
  EXPECT_NE(e.text_es, e.text_en) << e.code << ": the Spanish text is the English one";
}

TEST(ExplainTest, EveryRefusalCodeHasAnExplanationInBothLanguages) {
  const auto* d = veta::v1::Refusal_descriptor();
  for (int i = 0; i < d->value_count(); ++i) {
    const auto code = static_cast<veta::v1::Refusal>(d->value(i)->number());
    if (code == veta::v1::REFUSAL_UNSPECIFIED) continue;
    const Explanation* e = Explain(code);
    ASSERT_NE(e, nullptr) << d->value(i)->name() << " has no explanation in core/read/explain.cc";
    EXPECT_EQ(e->code, d->value(i)->name());
    ExpectComplete(*e);
  }
  // No explanation of a code that does not exist (a renamed or removed one).
  for (const auto& e : RefusalExplanations()) {
    veta::v1::Refusal r;
    EXPECT_TRUE(veta::v1::Refusal_Parse(std::string(e.code), &r)) << e.code << " is no refusal";
  }
  EXPECT_EQ(RefusalExplanations().size(), static_cast<size_t>(d->value_count() - 1));
  EXPECT_EQ(Explain(veta::v1::REFUSAL_UNSPECIFIED), nullptr);
  EXPECT_EQ(Explain(static_cast<veta::v1::Refusal>(9999)), nullptr);
}

TEST(ExplainTest, EveryRedFlagHasAnExplanationInBothLanguages) {
  const auto* d = veta::v1::RedFlag_descriptor();
  for (int i = 0; i < d->value_count(); ++i) {
    const auto flag = static_cast<veta::v1::RedFlag>(d->value(i)->number());
    if (flag == veta::v1::RED_FLAG_UNSPECIFIED) continue;
    const Explanation* e = Explain(flag);
    ASSERT_NE(e, nullptr) << d->value(i)->name() << " has no explanation in core/read/explain.cc";
    EXPECT_EQ(e->code, d->value(i)->name());
    ExpectComplete(*e);
  }
  for (const auto& e : FlagExplanations()) {
    veta::v1::RedFlag f;
    EXPECT_TRUE(veta::v1::RedFlag_Parse(std::string(e.code), &f)) << e.code << " is no flag";
  }
  EXPECT_EQ(FlagExplanations().size(), static_cast<size_t>(d->value_count() - 1));
}

TEST(ExplainTest, CodesAreFoundByNameAndInARefusalMessage) {
  ASSERT_NE(ExplainCode("self_sale"), nullptr);
  EXPECT_EQ(ExplainCode("self_sale")->code, "SELF_SALE");
  ASSERT_NE(ExplainCode("CASH_STRUCTURING"), nullptr);
  EXPECT_EQ(ExplainCode("NO_SUCH_CODE"), nullptr);
  EXPECT_EQ(ExplainCode(""), nullptr);
  EXPECT_EQ(RefusalCodeOf("[UNIT_OVERLAPS] unit X overlaps Y"), "UNIT_OVERLAPS");
  EXPECT_EQ(RefusalCodeOf("no code here"), "");
  EXPECT_EQ(RefusalCodeOf("[unterminated"), "");
}

TEST(ExplainTest, ExplainedTextIsWrappedInTheChosenLanguage) {
  const std::string es = ExplainedText("POINT_IN_PROHIBITED_ZONE", Lang::kEs, "  ", 60);
  EXPECT_EQ(es.rfind("  Extracción en zona prohibida. ", 0), 0u) << es;
  const std::string en = ExplainedText("POINT_IN_PROHIBITED_ZONE", Lang::kEn, "  ", 60);
  EXPECT_EQ(en.rfind("  Extraction in a prohibited zone. ", 0), 0u) << en;
  for (const std::string* text : {&es, &en}) {
    ASSERT_EQ(text->back(), '\n');
    size_t start = 0, lines = 0;
    for (size_t end; (end = text->find('\n', start)) != std::string::npos; start = end + 1) {
      ++lines;
      size_t chars = 0;  // UTF-8 characters
      for (size_t i = start; i < end; ++i) chars += ((*text)[i] & 0xC0) != 0x80;
      EXPECT_LE(chars, 60u) << *text;
      if (lines > 1) {
        EXPECT_EQ(text->substr(start, 4), "    ") << *text;
      }
    }
    EXPECT_GT(lines, 2u);
  }
  EXPECT_EQ(ExplainedText("NO_SUCH_CODE", Lang::kEs), "");
}

TEST(ExplainTest, LanguagesParseAndTheEnvironmentDecides) {
  EXPECT_EQ(*ParseLang("es"), Lang::kEs);
  EXPECT_EQ(*ParseLang("es_PE.UTF-8"), Lang::kEs);
  EXPECT_EQ(*ParseLang("EN"), Lang::kEn);
  EXPECT_EQ(*ParseLang("en_US.UTF-8"), Lang::kEn);
  EXPECT_FALSE(ParseLang("fr").ok());
  EXPECT_FALSE(ParseLang("").ok());
  EXPECT_FALSE(ParseLang("eno").ok());
  // Restore the environment afterwards.
  struct Saved {
    const char* name;
    std::string value;
    bool set;
  } saved[] = {{"VETA_LANG", "", false},
               {"LC_ALL", "", false},
               {"LC_MESSAGES", "", false},
               {"LANG", "", false}};
  for (auto& s : saved) {
    if (const char* v = std::getenv(s.name)) s.value = v, s.set = true;
    unsetenv(s.name);
  }
  EXPECT_EQ(*LangFromEnvironment(), Lang::kEs);  // nothing set: Spanish
  setenv("LANG", "C.UTF-8", 1);
  EXPECT_EQ(*LangFromEnvironment(), Lang::kEs);
  setenv("LANG", "en_GB.UTF-8", 1);
  EXPECT_EQ(*LangFromEnvironment(), Lang::kEn);
  setenv("LC_ALL", "es_PE.UTF-8", 1);  // LC_ALL before LANG
  EXPECT_EQ(*LangFromEnvironment(), Lang::kEs);
  setenv("VETA_LANG", "en", 1);  // VETA_LANG before the locale
  EXPECT_EQ(*LangFromEnvironment(), Lang::kEn);
  setenv("VETA_LANG", "qu", 1);
  EXPECT_FALSE(LangFromEnvironment().ok());
  for (auto& s : saved) {
    if (s.set) {
      setenv(s.name, s.value.c_str(), 1);
    } else {
      unsetenv(s.name);
    }
  }
}

// "Áncash" -> "ANCASH", as the geojson writes names.
std::string AsGeoJsonName(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c == 0xC3 && i + 1 < name.size()) {
      const auto n = static_cast<unsigned char>(name[++i]);
      const char base[] = "AAAAAAACEEEEIIIIDNOOOOO*OUUUUY";  // U+00C0..U+00DD, U+00E0..U+00FD
      const int index = (n & 0x1F);
      out += index < 30 ? base[index] : '?';
      continue;
    }
    out += static_cast<char>(std::toupper(c));
  }
  return out;
}

TEST(ExplainTest, DepartmentsAreTheGeodatasOnes) {
  auto text = ReadFile(std::string(VETA_SHARED_DATA) + "/peru_departments.geojson", 64 << 20);
  ASSERT_TRUE(text.ok()) << text.status();
  auto features = geo::ParseFeatureCollection(*text);
  ASSERT_TRUE(features.ok()) << features.status();
  ASSERT_EQ(features->size(), Departments().size());
  for (const auto& f : *features) {
    const std::string& code = f.properties.at("FIRST_IDDP");
    EXPECT_EQ(AsGeoJsonName(DepartmentName(code)), f.properties.at("NOMBDEP")) << code;
  }
  EXPECT_EQ(DepartmentName("170101"), "Madre de Dios");
  EXPECT_EQ(DepartmentName("02"), "Áncash");
  EXPECT_EQ(DepartmentName("99"), "");
  EXPECT_EQ(DepartmentName("1"), "");
}

TEST(ExplainTest, TheJsonHoldsEveryCodeAndDepartment) {
  const std::string json = ExplanationsJson();
  for (const auto& e : RefusalExplanations()) {
    EXPECT_NE(json.find(JsonQuote(e.code)), std::string::npos) << e.code;
    EXPECT_NE(json.find(JsonQuote(e.text_es)), std::string::npos) << e.code;
  }
  for (const auto& e : FlagExplanations()) {
    EXPECT_NE(json.find(JsonQuote(e.code)), std::string::npos) << e.code;
  }
  EXPECT_NE(json.find("\"17\": \"Madre de Dios\""), std::string::npos);
}

}  // namespace
}  // namespace veta
