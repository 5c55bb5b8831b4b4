// Certificates under a witness policy carry the cosigned checkpoint (Ledger::
// PublishedCheckpoint), so a buyer holding the policy checks the witnesses' quorum offline.
#include <string>
#include <vector>

#include "core/base/strings.h"
#include "core/read/certificate.h"
#include "core/verify/certificate_verify.h"
#include "core/verify/cosignature.h"
#include "core/verify/note.h"
#include "tests/core/custody_fixture.h"

namespace veta {
namespace {

class WitnessedCertificateTest : public testing::CustodyFixture {
 protected:
  void SetUp() override {
    CustodyFixture::SetUp();
    BlendTwoUnits();
    ledger_.reset();
    LedgerOptions options = BaseOptions();
    options.witnessed = true;
    auto opened = Ledger::Open(options, authority_);
    ASSERT_TRUE(opened.ok()) << opened.status();
    ledger_ = std::move(*opened);
    for (int i = 0; i < 3; ++i) {
      witnesses_.push_back(*PrivateKey::Generate(KeyAlgorithm::kEd25519));
    }
  }
  std::string Policy(const std::string& k) const {
    std::string p;
    for (int i = 0; i < 3; ++i) {
      p += StrCat("witness W", i, " ",
                  *cosig::VerifierKey(StrCat("w", i, ".test"), witnesses_[i].public_key()), "\n");
    }
    return p + StrCat("group G ", k, " W0 W1 W2\nquorum G\n");
  }
  std::vector<PrivateKey> witnesses_;
};

TEST_F(WitnessedCertificateTest, CarriesTheCosignedCheckpoint) {
  // Witnesses W0 and W1 cosign the newest checkpoint; the ledger publishes it.
  const std::string note = ledger_->LatestCheckpoint().note();
  const std::string text = note.substr(0, note.find("\n\n") + 1);
  std::vector<std::string> lines;
  for (int i : {0, 1}) {
    lines.push_back(*cosig::Sign(text, StrCat("w", i, ".test"), witnesses_[i], 1700000000));
  }
  ASSERT_TRUE(ledger_->PublishCosignedCheckpoint(*cosig::AddSignatureLines(note, lines)).ok());

  auto cert = IssueCertificate(*ledger_, "E1");
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_EQ(cert->checkpoint().note(), ledger_->PublishedCheckpointNote());
  // The authority's key alone still verifies it (cosignature lines are ignored)...
  ASSERT_TRUE(VerifyCertificate(*cert, authority_.public_key()).ok());
  // ...and a holder of the policy checks the quorum on the same checkpoint.
  const std::string log_key = *note::VerifierKey(ledger_->origin(), authority_.public_key());
  auto two = cosig::Policy::Parse(Policy("2"))->Verify(cert->checkpoint().note(), log_key);
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(two->cosigned_by, (std::vector<std::string>{"W0", "W1"}));
  auto all = cosig::Policy::Parse(Policy("all"))->Verify(cert->checkpoint().note(), log_key);
  EXPECT_EQ(all.status().code(), absl::StatusCode::kFailedPrecondition) << all.status();
}

}  // namespace
}  // namespace veta
