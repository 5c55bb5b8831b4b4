// Every red flag has a meaning for people, and the guide's table (docs/GUIDE.md) lists every one.
#include "core/read/red_flags.h"

#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace veta {
namespace {

TEST(RedFlagsTest, EveryCodeHasAPlainMeaningAndAnAnnexIIRisk) {
  const auto* d = veta::v1::RedFlag_descriptor();
  for (int i = 0; i < d->value_count(); ++i) {
    const auto flag = static_cast<veta::v1::RedFlag>(d->value(i)->number());
    if (flag == veta::v1::RED_FLAG_UNSPECIFIED) continue;
    const RedFlagMeaning* m = MeaningOf(flag);
    ASSERT_NE(m, nullptr) << d->value(i)->name() << " has no meaning in core/read/red_flags.cc";
    EXPECT_EQ(m->code, d->value(i)->name());
    EXPECT_GT(m->plain.size(), 40u) << m->code;
    EXPECT_NE(m->annex2.find("paragraph"), std::string_view::npos) << m->code;
    EXPECT_FALSE(m->rules.empty()) << m->code;
  }
  EXPECT_EQ(RedFlagMeanings().size(), static_cast<size_t>(d->value_count() - 1));
  EXPECT_EQ(MeaningOf(static_cast<veta::v1::RedFlag>(9999)), nullptr);
}

TEST(RedFlagsTest, TheGuideListsEveryRedFlag) {
  std::ifstream in(std::string(VETA_SHARED_DATA) + "/../docs/GUIDE.md");
  ASSERT_TRUE(in) << "docs/GUIDE.md not found";
  std::stringstream text;
  text << in.rdbuf();
  for (const auto& m : RedFlagMeanings()) {
    EXPECT_NE(text.str().find("`" + std::string(m.code) + "`"), std::string::npos)
        << m.code << " is missing from docs/GUIDE.md's red flags";
  }
}

}  // namespace
}  // namespace veta
