// Tests of core/base/ids.h: RUC (with SUNAT's modulo-11 check digit), DNI and ubigeo.
//
// The check digit of a RUC: weights 5,4,3,2,7,6,5,4,3,2 over its first 10 digits; check =
// 11 - sum % 11, where 10 becomes 0 and 11 becomes 1. The expected digits below were computed
// by hand with that rule (and re-checked with a few lines of Python).
#include <string>

#include "absl/status/status.h"
#include "core/base/ids.h"
#include "gtest/gtest.h"

namespace veta {
namespace {

TEST(IdsTest, RucValid) {
  for (const char* ruc : {
           // Real company RUCs as published by SUNAT; their check digits agree with the rule.
           "20100070970",
           "20100047218",
           "20131312955",
           // Synthetic: 2,0,6,0,... -> sum 10+0+18 = 28, 28 % 11 = 6, check 5.
           "20600000005",
           // 1,0,4,0,... -> sum 5+0+12 = 17, 17 % 11 = 6, check 5.
           "10400000005",
           // 2,0,0,...,0,1 -> sum 10+2 = 12, 12 % 11 = 1, check 10 -> 0.
           "20000000010",
           // 1,0,1,2,3,4,5,6,7,8 -> sum 5+0+3+4+21+24+25+24+21+16 = 143 = 13 * 11, check 11 -> 1.
           "10123456781",
           // 2,0,0,...,0 -> sum 10, check 1.
           "20000000001",
           // The other natural-person prefixes: 15 (sum 25, check 8), 16 (sum 29, check 4),
           // 17 (sum 33 = 3 * 11, check 11 -> 1).
           "15000000008",
           "16000000004",
           "17000000001",
       }) {
    absl::Status s = CheckRuc(ruc);
    EXPECT_TRUE(s.ok()) << ruc << ": " << s;
    EXPECT_TRUE(LooksLikeRuc(ruc)) << ruc;
  }
}

TEST(IdsTest, RucWrongCheckDigit) {
  // Each valid RUC above with every other last digit is refused.
  for (std::string ruc :
       {"20100070970", "20100047218", "20600000005", "20000000010", "10123456781", "17000000001"}) {
    const char good = ruc.back();
    for (char d = '0'; d <= '9'; ++d) {
      if (d == good) continue;
      ruc.back() = d;
      absl::Status s = CheckRuc(ruc);
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << ruc;
    }
  }
  // Two digits swapped (a typical typing error) changes the weighted sum.
  EXPECT_EQ(CheckRuc("20100007970").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckRuc("20010070970").code(), absl::StatusCode::kInvalidArgument);
}

TEST(IdsTest, RucWrongPrefix) {
  // Check digits are right for each of these (computed with the rule); only the prefix is wrong.
  for (const char* ruc : {
           "30000000007",  // 3 * 5 = 15, 15 % 11 = 4 -> check 7
           "11000000002",  // 5 + 4 = 9 -> check 2
           "21000000008",  // 10 + 4 = 14, 14 % 11 = 3 -> check 8
           "00000000001",  // sum 0 -> check 11 -> 1
           "99999999995",  // 9 * 41 = 369, 369 % 11 = 6 -> check 5
       }) {
    absl::Status s = CheckRuc(ruc);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << ruc;
    EXPECT_TRUE(LooksLikeRuc(ruc)) << ruc;
  }
}

TEST(IdsTest, RucWrongShape) {
  for (const char* ruc : {
           "2010007097",    // 10 digits
           "201000709701",  // 12 digits
           "",              // empty
           "2010007097A",   // a letter
           "A0100070970",
           "20100O70970",  // letter O for zero
           "20-10007097",
           " 20100070970",
           "20100070970 ",
           "2010007097\n",
       }) {
    absl::Status s = CheckRuc(ruc);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << "'" << ruc << "'";
    EXPECT_FALSE(LooksLikeRuc(ruc)) << "'" << ruc << "'";
  }
  // An embedded NUL is not a digit.
  const std::string with_nul("2010007097\0", 11);
  EXPECT_EQ(CheckRuc(with_nul).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(LooksLikeRuc(with_nul));
}

TEST(IdsTest, Dni) {
  for (const char* dni : {"12345678", "00000000", "99999999", "40123456"}) {
    EXPECT_TRUE(CheckDni(dni).ok()) << dni;
    EXPECT_TRUE(LooksLikeDni(dni)) << dni;
  }
  for (const char* dni : {"1234567", "123456789", "", "1234567A", "A2345678", "1234 567",
                          "-1234567", "20100070970"}) {
    EXPECT_EQ(CheckDni(dni).code(), absl::StatusCode::kInvalidArgument) << "'" << dni << "'";
    EXPECT_FALSE(LooksLikeDni(dni)) << "'" << dni << "'";
  }
  // A RUC is not a DNI and a DNI not a RUC.
  EXPECT_FALSE(LooksLikeDni("10123456781"));
  EXPECT_FALSE(LooksLikeRuc("12345678"));
}

TEST(IdsTest, Ubigeo) {
  for (const char* ubigeo : {"170101", "150101", "010101", "250101", "080106", "210103"}) {
    absl::Status s = CheckUbigeo(ubigeo);
    EXPECT_TRUE(s.ok()) << ubigeo << ": " << s;
  }
  for (const char* ubigeo : {
           "260101",  // department 26 does not exist
           "001010",  // department 00 does not exist
           "990101",
           "17010",    // 5 digits
           "1701011",  // 7 digits
           "",
           "17O101",  // a letter
           "17-101",
           "1701 1",
       }) {
    EXPECT_EQ(CheckUbigeo(ubigeo).code(), absl::StatusCode::kInvalidArgument)
        << "'" << ubigeo << "'";
  }
}

}  // namespace
}  // namespace veta
