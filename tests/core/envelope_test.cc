// DSSE's pre-authentication encoding, and the statement an envelope names: what is signed,
// and what a replay is recognised by.
#include <string>

#include "core/verify/envelope.h"
#include "gtest/gtest.h"
#include "tests/support/payloads.h"

namespace veta {
namespace {

namespace pl = veta::payloads;

// The DSSE specification's own example (secure-systems-lab/dsse, protocol.md).
TEST(EnvelopeTest, PaeIsTheDsseEncoding) {
  EXPECT_EQ(Pae("http://example.com/HelloWorld", "hello world"),
            "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  EXPECT_EQ(Pae("", ""), "DSSEv1 0  0 ");
}

// The statement hash is SHA-256 of the PAE of the payload, whoever signed it: an envelope with
// another signature added names the same statement.
TEST(EnvelopeTest, TheStatementIsTheHashOfThePaeWhoeverSigned) {
  auto a = PrivateKey::Generate(KeyAlgorithm::kEd25519);
  auto b = PrivateKey::Generate(KeyAlgorithm::kEd25519);
  ASSERT_TRUE(a.ok() && b.ok());
  veta::v1::Memo memo;
  memo.set_text("oro de Madre de Dios, lote 7");
  const std::string once = pl::Sign(kMemoType, memo, {*a});
  const std::string twice = pl::Sign(kMemoType, memo, {*a, *b});
  auto d1 = DecodeEnvelope(once, {});
  auto d2 = DecodeEnvelope(twice, {});
  ASSERT_TRUE(d1.ok()) << d1.status();
  ASSERT_TRUE(d2.ok()) << d2.status();
  EXPECT_EQ(d1->statement_hash, Sha256Of(Pae(kMemoType, memo.SerializeAsString())));
  EXPECT_EQ(d1->statement_hash, d2->statement_hash);
  EXPECT_NE(d1->bytes, d2->bytes);

  // Decoding into a caller's DecodedEnvelope gives the same result, and the same refusal.
  DecodedEnvelope in_place;
  ASSERT_TRUE(DecodeEnvelopeInto(once, {}, &in_place).ok());
  EXPECT_EQ(in_place.statement_hash, d1->statement_hash);
  EXPECT_EQ(in_place.kind, PayloadKind::kMemo);
  EXPECT_EQ(in_place.memo.text(), memo.text());
  DecodedEnvelope bad;
  const absl::Status s = DecodeEnvelopeInto("not an envelope", {}, &bad);
  EXPECT_EQ(s, DecodeEnvelope("not an envelope", {}).status());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace veta
